"""Scoring's Prometheus metrics: the current month as the bulletin counts it, refreshed by a
timer (labels are rule codes, categories, handling modes: bounded sets)."""

from prometheus_client import Gauge

FINDINGS = Gauge(
    "hotline_scoring_findings",
    "Findings this month, by rule",
    ["code"],
    multiprocess_mode="mostrecent",
)
PREDICTED_SCORE = Gauge(
    "hotline_scoring_predicted_normative_points",
    "This month's normative points (at most 20) if the province counted the records as they are",
    multiprocess_mode="mostrecent",
)
SATISFACTION_RATE = Gauge(
    "hotline_scoring_satisfaction_ratio",
    "This month's satisfied callbacks / callbacks (0–1)",
    multiprocess_mode="mostrecent",
)
OVERDUE = Gauge(
    "hotline_scoring_overdue_tickets",
    "This month's overdue tickets",
    multiprocess_mode="mostrecent",
)
TICKETS = Gauge(
    "hotline_scoring_tickets",
    "This month's tickets, by category and handling mode",
    ["category", "handling_mode"],
    multiprocess_mode="mostrecent",
)
REOPENED = Gauge(
    "hotline_scoring_reopened_tickets",
    "This month's tickets reopened by a survey",
    multiprocess_mode="mostrecent",
)
