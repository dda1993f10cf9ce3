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
    kind: Literal["ticket"] = "ticket"
    document: TicketBundle


class CallCheck(Check):
    kind: Literal["call"]
    document: CallDocument


class SeatsCheck(Check):
    kind: Literal["seats"]
    document: SeatReport


class VideoCheck(Check):
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
