"""Callback's Prometheus metrics, labelled by unit id (a bounded set) and never by ticket."""

from prometheus_client import Counter, Gauge

SURVEYS_DUE = Gauge(
    "hotline_callback_surveys_due",
    "Surveys due now, not yet done",
    ["method"],
    multiprocess_mode="mostrecent",
)
SURVEYS_DONE = Counter(
    "hotline_callback_surveys_completed_total", "Surveys answered", ["method", "satisfaction"]
)
UNREACHABLE = Counter(
    "hotline_callback_unreachable_total", "Citizens unreachable after every attempt", ["method"]
)
SATISFACTION = Counter(
    "hotline_callback_satisfaction_total", "Survey verdicts by unit", ["unit_id", "satisfaction"]
)
CONTRADICTED = Counter(
    "hotline_callback_contradicted_replies_total",
    "Replies claiming the citizen was contacted, which the citizen denied",
    ["unit_id"],
)
REOPENED = Counter("hotline_callback_reopened_total", "Tickets reopened by a survey", ["reason"])
SPOT_CHECKS = Counter(
    "hotline_callback_spot_checks_total", "Provincial spot checks", ["unit_id", "satisfaction"]
)
SURVEY_REQUEST_FAILURES = Counter(
    "hotline_callback_survey_request_failures_total",
    "Survey requests the call-centre software did not accept",
)
