"""Satisfaction surveys (回访) of closed tickets."""
