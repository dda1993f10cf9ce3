"""Intake's Prometheus metrics. Webhook latency is `hotline_http_request_duration_seconds` and
rejections by reason `hotline_problems_total{service="intake"}`, both from the shared library."""

from prometheus_client import Counter

CALLS = Counter(
    "hotline_intake_calls_total", "Call records accepted", ["line", "direction", "outcome"]
)
TICKETS = Counter(
    "hotline_intake_tickets_total",
    "Tickets accepted, by the handling mode finally decided",
    ["channel", "request_type", "handling_mode"],
)
REPEAT_DECISIONS = Counter(
    "hotline_intake_repeat_decisions_total", "Repeat calls, by Attachment 5 table row", ["rule"]
)
REPEAT_CANDIDATES_SHOWN = Counter(
    "hotline_intake_repeat_candidates_shown_total",
    "Tickets taken as new with earlier tickets shown to the agent as possible repeats",
)
MERGES = Counter(
    "hotline_intake_merges_total", "Tickets merged (并单) by a person, by table row", ["rule"]
)
NOTICE_ANSWERS = Counter(
    "hotline_intake_notice_answers_total", "Tickets answered directly from an outage notice"
)
BURST_ALERTS = Counter(
    "hotline_intake_burst_alerts_total",
    "Bursts of similar tickets in one district with no outage notice",
    ["area_code", "category"],
)
