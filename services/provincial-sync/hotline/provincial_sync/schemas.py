"""What provincial-sync's API takes and answers."""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from hotline.shared.messaging.events import RecordKind
from hotline.shared.web.schemas import InputModel


class GateFinding(BaseModel):
    code: str
    field: str
    message: str
    mode: Literal["block", "warn"]


class WorkItem(BaseModel):
    kind: RecordKind
    record_id: str
    version: int
    unit_name: str | None
    changed_at: datetime
    findings: list[GateFinding]


class Worklist(BaseModel):
    total: int = Field(description="Blocked documents matching the filters")
    by_rule: dict[str, int] = Field(description="Blocked documents per rule code (all filters)")
    by_unit: dict[str, int] = Field(description="Blocked documents per unit (all filters)")
    items: list[WorkItem]
    next_after: str | None = Field(description="Pass as `after` for the next page")


class AttemptOut(BaseModel):
    batch_id: str
    version: int
    attempted_at: datetime
    outcome: str
    http_status: int | None
    code: str | None
    message: str | None
    latency_ms: float


class DocumentOut(BaseModel):
    kind: RecordKind
    record_id: str
    version: int
    status: Literal["pending", "blocked", "parked", "synced"]
    uploaded_version: int
    changed_at: datetime
    accepted_at: datetime | None
    unit_name: str | None
    findings: list[GateFinding]
    refusals: int
    next_attempt_at: datetime
    last_code: str | None
    last_message: str | None
    released_version: int | None
    released_by: str | None
    release_reason: str | None
    content: dict[str, Any]
    attempts: list[AttemptOut] = Field(description="The latest attempts, newest first")


class ParkedItem(BaseModel):
    kind: RecordKind
    record_id: str
    version: int
    unit_name: str | None
    refusals: int
    last_code: str | None
    last_message: str | None = Field(description="The province's reason")
    changed_at: datetime


class ParkedPage(BaseModel):
    total: int
    items: list[ParkedItem]
    next_after: str | None = Field(description="Pass as `after` for the next page")


class ReleaseIn(InputModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"version": 3, "reason": "称呼经核实为来电人本名"}]},
    )

    version: int = Field(ge=1, description="The version the supervisor looked at")
    reason: str = Field(min_length=4, max_length=1000, examples=["称呼经核实为来电人本名"])


class RequeueIn(InputModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"note": "省平台已修复接口，重新上报"}]}
    )

    note: str | None = Field(default=None, max_length=1000)


class DocumentState(BaseModel):
    kind: RecordKind
    record_id: str
    version: int
    status: str


class Backlog(BaseModel):
    pending: int = Field(description="Waiting to go up (or going)")
    blocked: int = Field(description="On the worklist")
    parked: int = Field(description="Refused by the province until re-queued")


class SyncStatus(BaseModel):
    backlog: dict[str, Backlog] = Field(description="What waits, per record kind")
    oldest_pending_seconds: float | None = Field(
        description="Age of the oldest change waiting to go up (pending only)"
    )
    last_success_at: datetime | None
    failures_last_24h: dict[str, int] = Field(description="Failed attempts by reason or code")
    breaker: Literal["closed", "half-open", "open"] = Field(
        description="This process's circuit breaker on the province"
    )
    province_url: str


class ReleaseAllIn(InputModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "code": "T17",
                    "unit": "市燃气总公司",
                    "kind": "ticket",
                    "reason": "省平台确认该规则本月不扣分",
                }
            ]
        },
    )

    code: str = Field(pattern=r"^[A-Z]\d{2}$", description="The rule whose documents go up")
    unit: str | None = Field(default=None, max_length=100)
    kind: RecordKind | None = None
    reason: str = Field(min_length=4, max_length=1000, examples=["省平台确认该规则本月不扣分"])


class RequeueAllIn(InputModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "code": "2003",
                    "unit": "市燃气总公司",
                    "kind": "ticket",
                    "note": "省平台已修复地址校验",
                }
            ]
        },
    )

    code: str | None = Field(default=None, max_length=32, description="The province's code")
    unit: str | None = Field(default=None, max_length=100)
    kind: RecordKind | None = None
    note: str | None = Field(default=None, max_length=1000)


class Count(BaseModel):
    documents: int
