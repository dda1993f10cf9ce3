"""Per-unit statistics, the bulletin's tables and the provincial data-quality rules."""
