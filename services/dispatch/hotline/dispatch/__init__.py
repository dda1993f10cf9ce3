"""Forwards tickets to handling units (承办单位) and tracks their deadlines."""
