"""The bodies of scoring's API beyond the reports: what the rule engine is asked to check, and
what it finds."""

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from hotline.shared.domain.quality import CallDocument, SeatReport, TicketBundle, VideoStream
from hotline.shared.web.schemas import LocalDatetime


class Check(BaseModel):
    """A document to check: nothing of it is stored, so it is not an `InputModel` (whose NUL
    check cannot sit on a discriminator)."""

    model_config = ConfigDict(extra="forbid")


class TicketCheck(Check):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "kind": "ticket",
                    "document": {
                        "ticket": {
                            "ticket_no": "SY20261130000042",
                            "channel": "phone",
                            "caller_salutation": "张先生",
                            "request_type": "complaint",
                            "category": "生活服务类",
                            "content": "市民反映大祥区翠园小区从昨天起停气，燃气公司没有提前通知",
                            "handling_mode": "answered",
                            "status": "closed",
                            "resolution": "已告知",
                            "accepted_at": "2026-11-30T09:27:10+08:00",
                        }
                    },
                }
            ]
        }
    )

    kind: Literal["ticket"] = "ticket"
    document: TicketBundle


class CallCheck(Check):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "kind": "call",
                    "document": {
                        "call_id": "call-20261130-000123",
                        "started_at": "2026-11-30T09:21:00+08:00",
                        "ended_at": "2026-11-30T09:26:45+08:00",
                        "talk_seconds": 300,
                    },
                }
            ]
        }
    )

    kind: Literal["call"]
    document: CallDocument


class SeatsCheck(Check):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"kind": "seats", "document": {"reported_seats": 40, "agents_at_once": 46}}
            ]
        }
    )

    kind: Literal["seats"]
    document: SeatReport


class VideoCheck(Check):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "kind": "video",
                    "document": {
                        "width": 1280,
                        "height": 720,
                        "frames_per_second": 25,
                        "bitrate_kbps": 900,
                    },
                }
            ]
        }
    )

    kind: Literal["video"]
    document: VideoStream


CheckIn = Annotated[TicketCheck | CallCheck | SeatsCheck | VideoCheck, Field(discriminator="kind")]


class FindingOut(BaseModel):
    code: str
    rule: str
    field: str
    message: str


class Checked(BaseModel):
    findings: list[FindingOut]


class StoredFinding(FindingOut):
    subject_kind: Literal["ticket", "call"]
    subject: str
    period: date | None
    unit: str | None
    found_at: LocalDatetime


class FindingPage(BaseModel):
    items: list[StoredFinding]
    total: int
    page: int
    page_size: int
