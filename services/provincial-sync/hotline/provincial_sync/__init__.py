"""Uploads tickets, call records and callbacks to the provincial platform, checked first."""
