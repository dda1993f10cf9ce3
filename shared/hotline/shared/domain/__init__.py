"""Domain rules several services share: text matching, text rules, working days."""
