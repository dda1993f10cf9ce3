"""How provincial-sync speaks to one province's platform.

The real wire format of a provincial 12345 platform is not public, so everything that depends on
it lives in one adapter module: how an upload batch is written and signed, how the platform's
answer is read, and how its callbacks (spot checks, findings) are verified and read. Another
province's format is one new module with the same functions (`ProvinceAdapter`), named in
`HOTLINE_SYNC_PROVINCE_FORMAT`.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

from hotline.shared.messaging.events import RecordKind, Satisfaction


@dataclass(frozen=True)
class OutgoingRecord:
    """One version of one of our records, ready to go up."""

    kind: RecordKind
    record_id: str
    version: int
    changed_at: datetime
    payload: Mapping[str, Any]
    content_hash: str

    @property
    def idempotency_key(self) -> str:
        """One per version and content: a version number reused for other content (a rebuilt
        store numbering again from 1) is a new key, never "already received"."""
        return f"{self.kind}:{self.record_id}:{self.version}:{self.content_hash[:12]}"


@dataclass(frozen=True)
class PreparedRequest:
    path: str
    headers: dict[str, str]
    content: bytes


RecordOutcome = Literal["accepted", "duplicate", "superseded", "refused"]


@dataclass(frozen=True)
class RecordResult:
    outcome: RecordOutcome
    code: str
    message: str


@dataclass(frozen=True)
class BatchAnswer:
    """What the platform said about a batch: per-record results (keyed by idempotency key), or
    why the whole batch failed (`failure`: a short reason from a bounded set, for metrics and
    the status page; `outage`: the platform is away or failing, not refusing this request)."""

    results: dict[str, RecordResult]
    failure: str | None = None
    retry_after_seconds: float | None = None
    detail: str = ""
    outage: bool = False


@dataclass(frozen=True)
class SpotCheckReport:
    ticket_no: str
    satisfaction: Satisfaction
    comment: str | None
    checked_at: datetime


@dataclass(frozen=True)
class FindingReport:
    kind: RecordKind
    record_id: str
    version: int | None
    code: str
    field: str | None
    message: str
    found_at: datetime


class SignatureError(Exception):
    """A callback whose signature, key, timestamp or nonce is not what the platform's are."""


class ReportError(ValueError):
    """A callback body that is not what the format says: `field` names where."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class ProvinceAdapter(Protocol):
    def upload_request(self, batch_id: str, records: list[OutgoingRecord]) -> PreparedRequest: ...

    def read_upload_answer(
        self, status_code: int, headers: Mapping[str, str], body: bytes, sent: int
    ) -> BatchAnswer: ...

    def verify_callback(self, headers: Mapping[str, str], body: bytes) -> str:
        """Check a callback's signature; returns its nonce, to remember once it is applied."""
        ...

    def remember_nonce(self, nonce: str) -> None: ...

    def read_spot_checks(self, body: bytes) -> list[SpotCheckReport]: ...

    def read_findings(self, body: bytes) -> list[FindingReport]: ...

    def callback_answer(self, results: list[dict[str, Any]]) -> dict[str, Any]: ...
