"""Domain rules several services share: text rules, working days."""
