"""Dispatch's Prometheus metrics, labelled by unit id (a bounded set) and never by ticket."""

from prometheus_client import Counter, Gauge, Histogram

HOURS = 3600.0
DURATION_BUCKETS = tuple(h * HOURS for h in (0.25, 1, 2, 4, 8, 24, 48, 72, 120, 240, 480))

OPEN_TICKETS = Gauge(
    "hotline_dispatch_open_tickets",
    "Tickets not closed",
    ["unit_id", "state"],
    multiprocess_mode="mostrecent",
)
DISPATCHED = Counter(
    "hotline_dispatch_dispatched_total", "Tickets sent to a unit, by how", ["unit_id", "how"]
)
TIME_TO_SIGN = Histogram(
    "hotline_dispatch_time_to_sign_seconds",
    "Dispatch to signature",
    ["unit_id"],
    buckets=DURATION_BUCKETS,
)
TIME_TO_REPLY = Histogram(
    "hotline_dispatch_time_to_reply_seconds",
    "Dispatch to reply",
    ["unit_id"],
    buckets=DURATION_BUCKETS,
)
OVERDUE = Counter(
    "hotline_dispatch_overdue_total", "Tickets that passed their deadline", ["unit_id"]
)
RETURNS = Counter("hotline_dispatch_returns_total", "Returns (退单) units asked for", ["unit_id"])
RETURNS_REJECTED = Counter(
    "hotline_dispatch_returns_rejected_total",
    "Returns the hotline rejected: the ticket was the unit's after all",
    ["unit_id"],
)
REPLIES_REFUSED = Counter(
    "hotline_dispatch_replies_refused_total",
    "Replies refused by a quality rule",
    ["unit_id", "rule"],
)
TWO_ANSWERS = Counter(
    "hotline_dispatch_two_answers_total",
    "Replies held because they contradict the unit's earlier answers to the same question",
    ["unit_id"],
)
