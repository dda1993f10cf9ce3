"""Prometheus metrics the shared library records, and the `/metrics` route.

Labels are bounded sets (service, route template, event type, outcome): never a ticket id or a
phone number.
"""

import os
import time
from collections.abc import Mapping
from typing import TypeVar

from fastapi import APIRouter, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HTTP_REQUESTS = Counter(
    "hotline_http_requests_total",
    "HTTP requests answered",
    ["service", "method", "route", "status"],
)
HTTP_LATENCY = Histogram(
    "hotline_http_request_duration_seconds",
    "Time to answer an HTTP request",
    ["service", "method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
OUTBOX_PUBLISHED = Counter(
    "hotline_outbox_published_total", "Events the relay published", ["service", "type"]
)
OUTBOX_PENDING = Gauge(
    "hotline_outbox_pending_events",
    "Events written but not yet published",
    ["service"],
    multiprocess_mode="mostrecent",
)
OUTBOX_OLDEST_UNPUBLISHED = Gauge(
    "hotline_outbox_oldest_unpublished_age_seconds",
    "Age of the oldest event written but not yet published (0 when none waits)",
    ["service"],
    multiprocess_mode="mostrecent",
)
OUTBOX_REPLAYED_EVENTS = Counter(
    "hotline_outbox_replayed_events_total",
    "Events published again to a broker that lost its log",
    ["service"],
)
OUTBOX_RELAY_FAILURES = Counter(
    "hotline_outbox_relay_failures_total", "Relay batches that failed to publish", ["service"]
)
OUTBOX_REPLAYS = Counter(
    "hotline_outbox_replays_total",
    "Times the relay replayed its retention window to a broker that lost its log",
    ["service"],
)
EVENTS_CONSUMED = Counter(
    "hotline_events_consumed_total",
    "Events a consumer finished with, by outcome (applied, duplicate, ignored, skipped_unknown, "
    "dead_lettered)",
    ["consumer", "type", "outcome"],
)
CONSUMER_HANDLER_FAILURES = Counter(
    "hotline_consumer_handler_failures_total",
    "Attempts of a handler that raised",
    ["consumer", "type"],
)

CONSUMER_LAG = Gauge(
    "hotline_consumer_lag_messages",
    "Records on a partition a consumer group holds that it has not processed yet (the broker's "
    "highwater at the last fetch minus the next offset to process)",
    ["group", "topic", "partition"],
    # Each partition is held by one worker at a time, which sets it after every fetch.
    multiprocess_mode="mostrecent",
)

PARKED_EVENTS = Gauge(
    "hotline_parked_events",
    "Events a consumer could not apply, waiting for an operator to replay or discard them",
    ["service", "consumer", "topic"],
    multiprocess_mode="mostrecent",
)

WEBHOOKS_REFUSED = Counter(
    "hotline_webhook_deliveries_refused_total",
    "Webhooks answered with a problem instead of being taken: refused (4xx: signature, scope, "
    "body) or failed (5xx), by endpoint (the sender's scope) and problem code",
    ["service", "endpoint", "reason"],
)
# Where a webhook route notes its endpoint in the ASGI scope, for the problem handlers to count.
WEBHOOK_ENDPOINT_KEY = "hotline.webhook_endpoint"

# The label sets each gauge was given by `set_gauge_values` in this process.
_GAUGE_LABELS: dict[Gauge, set[tuple[str, ...]]] = {}
LabelValues = TypeVar("LabelValues", bound=tuple[str, ...])


def set_gauge_values(gauge: Gauge, values: Mapping[LabelValues, float]) -> None:
    """Make a labelled gauge read `values`, and 0 for the label sets it had and has no longer
    (a unit with no open ticket left). Not `clear()`: in multiprocess mode the workers' files
    keep every value once written, so a cleared label set would go on showing its last count."""
    known = _GAUGE_LABELS.setdefault(gauge, set())
    for labels in known - values.keys():
        gauge.labels(*labels).set(0)
    for labels, value in values.items():
        gauge.labels(*labels).set(value)
    known.update(values.keys())


router = APIRouter(tags=["operations"])


@router.get("/metrics", include_in_schema=False)
async def metrics() -> Response:
    """Prometheus exposition of this service's metrics: this process's, or, when the service
    runs several worker processes (`HOTLINE_WORKERS`), all of theirs together (counters and
    histograms summed, each gauge the value set last)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


def route_template(scope: Scope) -> str:
    """The matched route's path template (`/v1/tickets/{ticket_no}`): a bounded label."""
    route = scope.get("route")
    return str(getattr(route, "path", "unmatched"))


class HttpMetricsMiddleware:
    """Counts and times every request by route template (pure ASGI: no body buffering)."""

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_note_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note_status)
        finally:
            route = route_template(scope)
            method = scope["method"]
            HTTP_LATENCY.labels(self.service, method, route).observe(time.perf_counter() - started)
            HTTP_REQUESTS.labels(self.service, method, route, str(status)).inc()
