"""What the simulated province holds and how it decides on each uploaded record.

Everything is in memory and lost when the process stops: the highest accepted version of each
record (with its payload), the idempotency keys received, the arrival log, the misbehaviour an
operator asked for, and the spot checks and findings waiting to be pushed.
"""

import random
from collections import Counter, deque
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hotline.provincial_sync.adapters.generic_v1 import (
    DUPLICATE,
    INVALID_RECORD,
    OK,
    REFUSED_RECORD,
    SUPERSEDED,
    UPLOAD_RECORD,
    CallRecord,
    ProvinceFinding,
    RecordAnswer,
    SpotCheck,
    TicketRecord,
)
from hotline.shared.domain import quality
from hotline.shared.domain.units import seed_units
from hotline.shared.messaging.events import RecordKind

SPOT_CHECKS_PATH = "/v1/province/spot-checks"
FINDINGS_PATH = "/v1/province/findings"
MESSAGES = {OK: "成功", DUPLICATE: "重复上报 (already received)"}
FIELD_ERRORS_NAMED = 3


class Behaviour(BaseModel):
    """How the province misbehaves, as an operator or a test asks (`PUT /admin/behaviour`)."""

    model_config = ConfigDict(extra="forbid")

    # down: every upload is answered `down_status`; timeout: answered 504 after
    # `timeout_seconds` (the client gave up long before); rate_limit: 429 with Retry-After.
    mode: Literal["normal", "down", "timeout", "rate_limit"] = "normal"
    down_status: int = Field(default=503, ge=500, le=599)
    timeout_seconds: float = Field(default=30.0, ge=0, le=3600)
    retry_after_seconds: float = Field(default=1.0, ge=0, le=3600)
    # A random share of uploads answered as if down, and latency added to every upload.
    error_rate: float = Field(default=0.0, ge=0, le=1)
    delay_seconds: float = Field(default=0.0, ge=0, le=600)
    # Records refused (REFUSED_RECORD) by id, and a random share of the others.
    refuse_record_ids: list[str] = Field(default_factory=list)
    refuse_message: str = "省平台拒收: 测试"
    refuse_rate: float = Field(default=0.0, ge=0, le=1)
    # Each result twice, and one earlier key's result besides: noise a client must tolerate.
    duplicate_acks: bool = False
    # Run-time overrides of the settings of the same names.
    spot_check_share: float | None = Field(default=None, ge=0, le=1)
    audit: bool | None = None


@dataclass
class HeldRecord:
    record_type: RecordKind
    record_id: str
    version: int
    changed_at: datetime
    received_at: datetime
    payload: Any
    keys: int = 1  # idempotency keys received for this record (accepted or superseded)


@dataclass(frozen=True)
class Arrival:
    record_type: RecordKind
    record_id: str
    version: int
    idempotency_key: str
    code: str
    received_at: datetime


class Province:
    """The province's memory and its decisions; one per app."""

    def __init__(
        self,
        *,
        audit: bool,
        spot_check_share: float,
        rng: random.Random | None = None,
    ) -> None:
        self.audit = audit
        self.spot_check_share = spot_check_share
        self.random = rng or random.Random()
        self.known_units = frozenset(unit.name for unit in seed_units())
        self.generation = 0
        self.reset()

    def reset(self) -> None:
        self.generation += 1
        self.behaviour = Behaviour()
        self.records: dict[tuple[RecordKind, str], HeldRecord] = {}
        self.received: dict[str, RecordAnswer] = {}  # idempotency key → the answer it got
        self.arrivals: list[Arrival] = []
        self.spot_checks: deque[SpotCheck] = deque()
        self.findings: deque[ProvinceFinding] = deque()
        self.uploads_by_code: Counter[str] = Counter()
        self.results_by_code: Counter[str] = Counter()
        self.pushed: Counter[str] = Counter()  # items delivered, by callback path
        self.push_failures = 0

    def receive(self, raw: dict[str, Any], now: datetime) -> RecordAnswer:
        """Decide on one record of a batch: refused, duplicate, superseded or accepted."""
        try:
            record = UPLOAD_RECORD.validate_python(raw)
        except ValidationError as error:
            key = raw.get("idempotency_key")
            answer = RecordAnswer(
                idempotency_key=key if isinstance(key, str) else "",
                code=INVALID_RECORD,
                message=field_errors(error, raw.get("record_type")),
            )
            self.results_by_code[answer.code] += 1
            return answer
        answer = self._decide(record, raw.get("payload"), now)
        self.arrivals.append(
            Arrival(
                record.record_type,
                record.record_id,
                record.version,
                record.idempotency_key,
                answer.code,
                now,
            )
        )
        self.results_by_code[answer.code] += 1
        return answer

    def _decide(
        self, record: TicketRecord | CallRecord, payload: Any, now: datetime
    ) -> RecordAnswer:
        key = record.idempotency_key
        if key in self.received:
            return RecordAnswer(idempotency_key=key, code=DUPLICATE, message=MESSAGES[DUPLICATE])
        behaviour = self.behaviour
        if record.record_id in behaviour.refuse_record_ids or (
            behaviour.refuse_rate and self.random.random() < behaviour.refuse_rate
        ):
            return RecordAnswer(
                idempotency_key=key, code=REFUSED_RECORD, message=behaviour.refuse_message
            )
        held = self.records.get((record.record_type, record.record_id))
        if held is not None and record.version <= held.version:
            answer = RecordAnswer(
                idempotency_key=key,
                code=SUPERSEDED,
                message=f"已有更新版本 (version {held.version} is already here)",
            )
            held.keys += 1
        else:
            answer = RecordAnswer(idempotency_key=key, code=OK, message=MESSAGES[OK])
            self.records[(record.record_type, record.record_id)] = HeldRecord(
                record.record_type,
                record.record_id,
                record.version,
                record.changed_at,
                now,
                payload,
                keys=held.keys + 1 if held else 1,
            )
            self._accepted(record, now)
        self.received[key] = answer
        return answer

    def _accepted(self, record: TicketRecord | CallRecord, now: datetime) -> None:
        audit = self.behaviour.audit if self.behaviour.audit is not None else self.audit
        share = self.behaviour.spot_check_share
        share = share if share is not None else self.spot_check_share
        context = quality.RuleContext(now=now, known_units=self.known_units)
        if isinstance(record, TicketRecord):
            # The call record comes up on its own, and is checked then.
            found = quality.check_ticket(record.payload, context, with_call=False) if audit else []
            ticket, survey = record.payload.ticket, record.payload.survey
            if ticket.status == "closed" and share and self.random.random() < share:
                satisfaction = survey.satisfaction if survey and survey.satisfaction else None
                self.spot_checks.append(
                    SpotCheck(
                        ticket_no=ticket.ticket_no,
                        satisfaction=satisfaction or "satisfied",
                        comment="省平台抽查 (simulated spot check)",
                        checked_at=now,
                    )
                )
        else:
            found = quality.check_call(record.payload, context) if audit else []
        self.findings.extend(
            ProvinceFinding(
                record_type=record.record_type,
                record_id=record.record_id,
                version=record.version,
                code=finding.code,
                field=finding.field,
                message=finding.message,
                found_at=now,
            )
            for finding in found
        )

    def receive_batch(self, records: list[dict[str, Any]], now: datetime) -> list[RecordAnswer]:
        """Each record decided on its own; the answers as `duplicate_acks` lists them, if on:
        each twice, and the answer of one key from an earlier batch besides."""
        earlier = len(self.arrivals)
        answers = [self.receive(raw, now) for raw in records]
        if not self.behaviour.duplicate_acks:
            return answers
        noisy = [answer for answer in answers for _ in range(2)]
        in_batch = {answer.idempotency_key for answer in answers}
        for _ in range(3 if earlier else 0):  # a few tries at a key this batch does not carry
            before = self.received.get(
                self.arrivals[self.random.randrange(earlier)].idempotency_key
            )
            if before is not None and before.idempotency_key not in in_batch:
                noisy.append(before)
                break
        return noisy

    def summary(self) -> dict[str, Any]:
        held = Counter(record_type for record_type, _ in self.records)
        return {
            "records": {"ticket": held["ticket"], "call": held["call"]},
            "keys_received": len(self.received),
            "arrivals": len(self.arrivals),
            "uploads_by_code": dict(self.uploads_by_code),
            "results_by_code": dict(self.results_by_code),
            "pushes": {
                "pending": {"spot_checks": len(self.spot_checks), "findings": len(self.findings)},
                "sent": {
                    "spot_checks": self.pushed[SPOT_CHECKS_PATH],
                    "findings": self.pushed[FINDINGS_PATH],
                },
                "failed": self.push_failures,
            },
            "behaviour": self.behaviour.mode,
        }


def field_errors(error: ValidationError, record_type: object) -> str:
    """`payload.ticket.caller_salutation: Field required; …` (the union's tag left out)."""
    named = []
    for problem in error.errors()[:FIELD_ERRORS_NAMED]:
        location = list(problem["loc"])
        if location and location[0] in ("ticket", "call") and location[0] == record_type:
            location = location[1:]
        field = ".".join(map(str, location)) or "record_type"
        named.append(f"{field}: {problem['msg']}")
    more = error.error_count() - FIELD_ERRORS_NAMED
    return "; ".join(named) + (f" (and {more} more)" if more > 0 else "")
