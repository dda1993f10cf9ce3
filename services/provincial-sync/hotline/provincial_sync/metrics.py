"""Provincial-sync's Prometheus metrics (labels are record kinds, statuses, outcomes, rule codes
and short failure reasons: bounded sets)."""

from prometheus_client import Counter, Gauge, Histogram

DOCUMENT_VERSIONS = Counter(
    "hotline_sync_document_versions_total",
    "New document versions, by kind and the gate's verdict (pending or blocked)",
    ["kind", "status"],
)
GATE_FINDINGS = Counter(
    "hotline_sync_gate_findings_total",
    "Findings of the gate on new document versions, by rule and mode",
    ["code", "mode"],
)
UPLOADED = Counter(
    "hotline_sync_records_total",
    "Document versions sent to the province, by outcome",
    ["kind", "outcome"],
)
REQUESTS = Histogram(
    "hotline_sync_request_seconds",
    "Upload requests to the province, by result (ok, or why the request failed)",
    ["result"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
FAILURES = Counter(
    "hotline_sync_failures_total",
    "Upload requests that failed as a whole, and records refused, by reason",
    ["reason"],
)
UPLOAD_DELAY = Histogram(
    "hotline_sync_upload_delay_seconds",
    "From a record's change to the province accepting that version",
    ["kind"],
    buckets=(1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 12 * 3600, 24 * 3600, 72 * 3600),
)
BREAKER_STATE = Gauge(
    "hotline_sync_breaker_state",
    "The province circuit breaker: 0 closed, 1 half-open, 2 open",
    multiprocess_mode="mostrecent",
)
BACKLOG = Gauge(
    "hotline_sync_documents",
    "Documents by kind and status (pending, blocked, parked)",
    ["kind", "status"],
    multiprocess_mode="mostrecent",
)
OLDEST_PENDING = Gauge(
    "hotline_sync_oldest_pending_seconds",
    "Age of the oldest change not yet accepted upstream",
    multiprocess_mode="mostrecent",
)
LAST_SUCCESS = Gauge(
    "hotline_sync_last_success_timestamp_seconds",
    "When the province last accepted a record",
    multiprocess_mode="mostrecent",
)
PROVINCE_REPORTS = Counter(
    "hotline_sync_province_reports_total",
    "Items the province sent back, by kind and what became of them",
    ["kind", "status"],
)
