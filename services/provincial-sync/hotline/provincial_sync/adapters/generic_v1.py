"""`generic-v1`: a JSON-over-HTTPS exchange in the shape Chinese government data-exchange
specifications use (DB36/T 1180-2019 and its kind): an app key, a timestamp, a nonce and an
HMAC signature on every request, and a `{code, message, data}` envelope on every answer.

Upload: `POST {province_url}/api/v1/records` with an `UploadBatch`; the answer's
`data.results` says, per record (by idempotency key), `0` accepted, `1001` already received
(the same idempotency key), `1002` a newer version of the record is already there, or a refusal
(`2xxx`, with the field at fault in the message). Envelope codes other than `0` fail the whole
batch: `4001` signature, `4002` timestamp or nonce, `4291` rate limit (`Retry-After`), `5000`
the platform's own error.

Callbacks from the platform — `POST /v1/province/spot-checks` (`SpotCheckBatch`) and
`POST /v1/province/findings` (`FindingBatch`) on provincial-sync — are signed the same way with
the same key pair.

Signature: `X-Signature` = hex HMAC-SHA256(app secret,
`"{X-App-Key}\\n{X-Timestamp}\\n{X-Nonce}\\n{hex SHA-256 of the body}"`); `X-Timestamp` is Unix
milliseconds and must be within `SIGNATURE_WINDOW` of the receiver's clock; a nonce is used once.

The JSON Schema of all four bodies is `services/provincial-sync/province-api.schema.json`
(`python -m hotline.provincial_sync.adapters.generic_v1 > …` writes it; a test keeps it true).
"""

import hashlib
import hmac
import json
import math
import re
import secrets
import sys
import time
from collections import OrderedDict
from collections.abc import Mapping
from datetime import timedelta
from email.utils import parsedate_to_datetime
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
)

from hotline.provincial_sync.adapters import (
    BatchAnswer,
    FindingReport,
    OutgoingRecord,
    PreparedRequest,
    RecordOutcome,
    RecordResult,
    ReportError,
    SignatureError,
    SpotCheckReport,
)
from hotline.shared.domain.quality import CallDocument, TicketBundle
from hotline.shared.messaging.events import Satisfaction

UPLOAD_PATH = "/api/v1/records"
TIMESTAMP = re.compile(r"[0-9]{10,16}")  # ASCII digits only (headers are read as latin-1)
SIGNATURE_WINDOW = timedelta(minutes=5)

OK = "0"
DUPLICATE = "1001"
SUPERSEDED = "1002"
INVALID_RECORD = "2001"
REFUSED_RECORD = "2002"
BAD_SIGNATURE = "4001"
STALE_REQUEST = "4002"
BAD_REQUEST = "4000"
RATE_LIMITED = "4291"
PLATFORM_ERROR = "5000"


class Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class TicketRecord(Wire):
    record_type: Literal["ticket"]
    record_id: str = Field(min_length=1, max_length=64)
    version: int = Field(ge=1)
    idempotency_key: str = Field(min_length=1, max_length=128)
    changed_at: AwareDatetime
    payload: TicketBundle


class CallRecord(Wire):
    record_type: Literal["call"]
    record_id: str = Field(min_length=1, max_length=64)
    version: int = Field(ge=1)
    idempotency_key: str = Field(min_length=1, max_length=128)
    changed_at: AwareDatetime
    payload: CallDocument


UploadRecord = Annotated[TicketRecord | CallRecord, Field(discriminator="record_type")]


class UploadBatch(Wire):
    """What the city sends: records of either kind; each record checked on its own."""

    batch_id: str = Field(min_length=1, max_length=64)
    city_code: str = Field(pattern=r"^\d{4,6}$")
    records: list[dict[str, Any]] = Field(
        min_length=1, max_length=1000, description="Each an UploadRecord"
    )


class RecordAnswer(Wire):
    idempotency_key: str
    code: str
    message: str = ""


class UploadAnswerData(Wire):
    results: list[RecordAnswer] = Field(default_factory=list)


def _code_as_text(value: Any) -> Any:
    return str(value) if isinstance(value, int) else value  # some platforms send 0, not "0"


class Envelope(Wire):
    code: Annotated[str, BeforeValidator(_code_as_text)]
    message: str = ""
    data: Any = None


class Callback(Wire):
    """What the platform posts to us: a NUL in any of its strings is refused, naming the field,
    where PostgreSQL's refusal of it was a 500."""

    @field_validator("*")
    @classmethod
    def _refuse_nul(cls, value: Any) -> Any:
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("contains a NUL character (U+0000)")
        return value


class SpotCheck(Callback):
    ticket_no: str = Field(min_length=1, max_length=64)
    satisfaction: Satisfaction
    comment: str | None = Field(default=None, max_length=2000)
    checked_at: AwareDatetime


class SpotCheckBatch(Callback):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "batch_id": "SC-20220131-0001",
                    "checks": [
                        {
                            "ticket_no": "SY2022013100017",
                            "satisfaction": "basically_satisfied",
                            "comment": "路灯已修复，但等了三天",
                            "checked_at": "2022-01-31T10:15:00+08:00",
                        }
                    ],
                }
            ]
        }
    )

    batch_id: str = Field(min_length=1, max_length=64)
    checks: list[SpotCheck] = Field(min_length=1, max_length=1000)


class ProvinceFinding(Callback):
    record_type: Literal["ticket", "call"]
    record_id: str = Field(min_length=1, max_length=64)
    version: int | None = Field(default=None, ge=1)
    code: str = Field(pattern=r"^[A-Z]\d{2}$", examples=["T07"])
    field: str | None = Field(default=None, max_length=64)
    message: str = Field(min_length=1, max_length=2000)
    found_at: AwareDatetime


class FindingBatch(Callback):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "batch_id": "FD-20220131-0001",
                    "findings": [
                        {
                            "record_type": "ticket",
                            "record_id": "SY2022013100017",
                            "version": 3,
                            "code": "T07",
                            "field": "caller_salutation",
                            "message": "称呼不能为数字或符号",
                            "found_at": "2022-01-31T10:20:00+08:00",
                        }
                    ],
                }
            ]
        }
    )

    batch_id: str = Field(min_length=1, max_length=64)
    findings: list[ProvinceFinding] = Field(min_length=1, max_length=1000)


UPLOAD_RECORD: TypeAdapter[TicketRecord | CallRecord] = TypeAdapter(UploadRecord)


# --- signatures ---------------------------------------------------------------------------------


def signature(secret: str, app_key: str, timestamp: str, nonce: str, body: bytes) -> str:
    digest = hashlib.sha256(body).hexdigest()
    message = f"{app_key}\n{timestamp}\n{nonce}\n{digest}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signed_headers(app_key: str, secret: str, body: bytes) -> dict[str, str]:
    timestamp = str(int(time.time() * 1000))
    nonce = secrets.token_hex(16)
    return {
        "Content-Type": "application/json; charset=utf-8",
        "X-App-Key": app_key,
        "X-Timestamp": timestamp,
        "X-Nonce": nonce,
        "X-Signature": signature(secret, app_key, timestamp, nonce, body),
    }


class SeenNonces:
    """Nonces seen within the signature window (a replayed request is refused)."""

    def __init__(self, limit: int = 100_000) -> None:
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._limit = limit

    def first_use(self, nonce: str, now: float) -> bool:
        if self.seen(nonce, now):
            return False
        self.remember(nonce, now)
        return True

    def seen(self, nonce: str, now: float) -> bool:
        horizon = now - SIGNATURE_WINDOW.total_seconds()
        while self._seen:
            oldest = next(iter(self._seen.values()))
            if oldest >= horizon and len(self._seen) <= self._limit:
                break
            self._seen.popitem(last=False)
        return nonce in self._seen

    def remember(self, nonce: str, now: float) -> None:
        self._seen[nonce] = now


def verify(
    headers: Mapping[str, str],
    body: bytes,
    keys: Mapping[str, str],
    nonces: SeenNonces,
    *,
    use_nonce: bool = True,
) -> str:
    """The app key a request was signed with; raises `SignatureError` naming what is wrong.
    With `use_nonce=False` the nonce is checked but not used up: the caller remembers it once
    the request's effects are committed (a request that failed may be sent again as it was)."""
    app_key = headers.get("x-app-key", "")
    timestamp = headers.get("x-timestamp", "")
    nonce = headers.get("x-nonce", "")
    given = headers.get("x-signature", "")
    secret = keys.get(app_key)
    if secret is None:
        raise SignatureError("X-App-Key: unknown app key")
    if not TIMESTAMP.fullmatch(timestamp):
        raise SignatureError("X-Timestamp: Unix milliseconds required")
    now = time.time()
    if abs(now - int(timestamp) / 1000) > SIGNATURE_WINDOW.total_seconds():
        raise SignatureError("X-Timestamp: outside the signature window")
    if not 8 <= len(nonce) <= 64:
        raise SignatureError("X-Nonce: 8 to 64 characters required")
    expected = signature(secret, app_key, timestamp, nonce, body)
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise SignatureError("X-Signature: does not match the body")
    if nonces.seen(nonce, now):
        raise SignatureError("X-Nonce: already used")
    if use_nonce:
        nonces.remember(nonce, now)
    return app_key


# --- the adapter provincial-sync uses -----------------------------------------------------------


class GenericV1:
    def __init__(self, *, city_code: str, app_key: str, app_secret: str) -> None:
        self.city_code = city_code
        self.app_key = app_key
        self._secret = app_secret
        self._nonces = SeenNonces()

    def upload_request(self, batch_id: str, records: list[OutgoingRecord]) -> PreparedRequest:
        body = {
            "batch_id": batch_id,
            "city_code": self.city_code,
            "records": [
                {
                    "record_type": record.kind,
                    "record_id": record.record_id,
                    "version": record.version,
                    "idempotency_key": record.idempotency_key,
                    "changed_at": record.changed_at.isoformat(),
                    "payload": record.payload,
                }
                for record in records
            ],
        }
        content = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        headers = signed_headers(self.app_key, self._secret, content)
        return PreparedRequest(UPLOAD_PATH, headers, content)

    def read_upload_answer(
        self, status_code: int, headers: Mapping[str, str], body: bytes, sent: int
    ) -> BatchAnswer:
        retry_after = _seconds(headers.get("retry-after"))
        if status_code == 429:
            return BatchAnswer({}, "rate-limited", retry_after, _text(body))
        try:
            envelope = Envelope.model_validate_json(body)
        except ValidationError:
            failure, outage = _http_failure(status_code), status_code >= 500
            return BatchAnswer({}, failure, None, _text(body), outage)
        if envelope.code == RATE_LIMITED:
            return BatchAnswer({}, "rate-limited", retry_after, envelope.message)
        if envelope.code != OK or status_code >= 300:
            outage = status_code >= 500 or envelope.code == PLATFORM_ERROR
            return BatchAnswer({}, _code_failure(envelope.code), None, envelope.message, outage)
        try:
            data = UploadAnswerData.model_validate(envelope.data or {})
        except ValidationError as error:
            return BatchAnswer({}, "unreadable-answer", None, str(error)[:200])
        if sent and not data.results:
            return BatchAnswer({}, "unanswered", None, "the answer lists no record")
        results = {
            answer.idempotency_key: RecordResult(_outcome(answer.code), answer.code, answer.message)
            for answer in data.results
        }
        return BatchAnswer(results)

    def verify_callback(self, headers: Mapping[str, str], body: bytes) -> str:
        verify(headers, body, {self.app_key: self._secret}, self._nonces, use_nonce=False)
        return headers.get("x-nonce", "")

    def remember_nonce(self, nonce: str) -> None:
        self._nonces.remember(nonce, time.time())

    def read_spot_checks(self, body: bytes) -> list[SpotCheckReport]:
        batch = _read(SpotCheckBatch, body)
        return [
            SpotCheckReport(check.ticket_no, check.satisfaction, check.comment, check.checked_at)
            for check in batch.checks
        ]

    def read_findings(self, body: bytes) -> list[FindingReport]:
        batch = _read(FindingBatch, body)
        return [
            FindingReport(
                f.record_type, f.record_id, f.version, f.code, f.field, f.message, f.found_at
            )
            for f in batch.findings
        ]

    def callback_answer(self, results: list[dict[str, Any]]) -> dict[str, Any]:
        return {"code": OK, "message": "成功", "data": {"results": results}}


def _outcome(code: str) -> RecordOutcome:
    if code == OK:
        return "accepted"
    if code == DUPLICATE:
        return "duplicate"
    if code == SUPERSEDED:
        return "superseded"
    return "refused"


KNOWN_CODES = frozenset({BAD_REQUEST, BAD_SIGNATURE, STALE_REQUEST, RATE_LIMITED, PLATFORM_ERROR})


def _code_failure(code: str) -> str:
    """A bounded reason (it labels metrics): the codes the format names, else `code-other`."""
    return f"code-{code}" if code in KNOWN_CODES else "code-other"


def _http_failure(status: int) -> str:
    return (
        f"http-{status}"
        if status in (400, 401, 403, 404, 413, 500, 502, 503, 504)
        else (f"http-{status // 100}xx")
    )


def _text(body: bytes) -> str:
    return body[:200].decode(errors="replace")


def _seconds(value: str | None) -> float | None:
    """`Retry-After` as seconds (a number or an HTTP date); None when absent or unusable."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            moment = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if moment.tzinfo is None:
            return None
        seconds = moment.timestamp() - time.time()
    return max(0.0, seconds) if math.isfinite(seconds) else None


W = TypeVar("W", bound=Wire)


def _read(model: type[W], body: bytes) -> W:
    try:
        return model.model_validate_json(body)
    except ValidationError as error:
        first = error.errors()[0]
        field = "body" if first["type"] == "json_invalid" else ".".join(map(str, first["loc"]))
        raise ReportError(field or "body", first["msg"]) from None


def json_schema() -> dict[str, Any]:
    """The four bodies of the exchange, as one JSON Schema document."""
    definitions: dict[str, Any] = {}
    for name, model in (
        ("UploadBatch", UploadBatch),
        ("TicketRecord", TicketRecord),
        ("CallRecord", CallRecord),
        ("Envelope", Envelope),
        ("UploadAnswerData", UploadAnswerData),
        ("SpotCheckBatch", SpotCheckBatch),
        ("FindingBatch", FindingBatch),
    ):
        schema = model.model_json_schema(ref_template="#/$defs/{model}")
        definitions.update(schema.pop("$defs", {}))
        definitions[name] = schema
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "12345 hotline provincial exchange, generic-v1",
        "description": (__doc__ or "").strip(),
        "$defs": definitions,
    }


if __name__ == "__main__":
    json.dump(json_schema(), sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")
