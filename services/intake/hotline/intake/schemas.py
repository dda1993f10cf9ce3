"""The bodies of intake's API: what the call centre posts, and what it gets back."""

from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, Field, StringConstraints, field_validator

from hotline.shared.messaging.events import Channel, HandlingMode, Line, RequestType, TicketStatus
from hotline.shared.web.schemas import IDENTIFIER_PATTERN, InputModel, LocalDatetime

Category = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
Identifier = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
TicketNumber = Annotated[str, StringConstraints(pattern=IDENTIFIER_PATTERN, max_length=64)]
RawPhone = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=24)]
LocationCode = Annotated[str, StringConstraints(pattern=r"^\d{6}(\d{3}(\d{3})?)?$")]
CallOutcome = Literal["answered", "abandoned", "no_answer", "busy", "failed"]


class Strict(InputModel):
    pass


class CallRecordIn(Strict):
    """A call record (话单), posted by the switch when a call ends."""

    call_id: Identifier
    line: Line = Field(description="The line dialled: 12345 or a merged line")
    direction: Literal["in", "out"] = Field(description="out includes callbacks (回访)")
    caller_number: RawPhone
    callee_number: RawPhone
    agent_id: Identifier | None = None
    started_at: AwareDatetime
    queued_at: AwareDatetime | None = None
    ringing_at: AwareDatetime | None = None
    connected_at: AwareDatetime | None = Field(default=None, description="进座席: agent connect")
    ended_at: AwareDatetime = Field(description="Hang-up")
    talk_seconds: int = Field(ge=0, le=86_400)
    recording_url: Annotated[str, StringConstraints(max_length=2000)] | None = None
    outcome: CallOutcome


class CallAccepted(BaseModel):
    call_id: str
    status: Literal["recorded"] = "recorded"


class CallerIn(Strict):
    salutation: Annotated[str, StringConstraints(strip_whitespace=True, max_length=20)] = Field(
        description='"张先生"; anonymous callers are "*先生" or "*女士"'
    )
    number: RawPhone | None = None


class TicketIn(Strict):
    """A ticket (工单), posted by the agent's desk client when the agent saves it."""

    source_ticket_id: Identifier = Field(description="The desk client's own id for this ticket")
    call_id: Identifier | None = Field(default=None, description="Required for the phone channel")
    channel: Channel
    caller: CallerIn
    request_type: RequestType
    category: Category
    business_environment: bool = Field(default=False, description="优化营商环境 flag")
    location_code: LocationCode | None = Field(
        default=None, description="GB/T 2260 division code, 6/9/12 digits"
    )
    address: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = None
    content: Annotated[str, StringConstraints(strip_whitespace=True, min_length=5, max_length=4000)]
    handling_mode: HandlingMode
    resolution: Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000)] | None = (
        Field(
            default=None,
            description="Required when answered directly; the reason when not accepted",
        )
    )
    suggested_unit: Identifier | None = None
    agent_id: Identifier | None = None
    accepted_at: AwareDatetime
    new_facts: bool = Field(default=False, description="The caller brings new facts (repeat calls)")
    repeat_of: TicketNumber | None = Field(
        default=None,
        description="The earlier ticket this call repeats, when the agent knows it: Attachment 5's "
        "table is applied to it",
    )
    knowledge_entry_id: (
        Annotated[str, StringConstraints(pattern=IDENTIFIER_PATTERN, max_length=64)] | None
    ) = Field(
        default=None,
        description="The published knowledge-base entry whose answer the agent gave, if one",
    )


class RepeatCandidate(BaseModel):
    """An earlier ticket this call may repeat: not decided for the caller, shown to the agent."""

    ticket_no: str
    score: float = Field(description="How alike the two are in substance, 0 to 1")
    same_caller: bool
    same_place: bool
    why: str


class TicketAccepted(BaseModel):
    """The hotline's ticket number and what was decided, for the agent to tell the caller."""

    ticket_no: str
    handling_mode: HandlingMode
    status: TicketStatus
    resolution: str | None
    repeat_of: str | None = None
    repeat_rule: str | None = None
    notice_id: str | None = None
    tell_caller: str | None = None
    repeat_candidates: list[RepeatCandidate] = Field(
        default_factory=list,
        description="Earlier tickets this may repeat, for the agent to check and merge (并单)",
    )


class MergeIn(Strict):
    """A person found this ticket to repeat an earlier one: apply Attachment 5 now."""

    repeat_of: TicketNumber
    new_facts: bool = Field(default=False, description="The caller brought new facts")
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None = None


class TicketPublic(BaseModel):
    ticket_no: str
    source_ticket_id: str
    channel: Channel
    caller_salutation: str
    caller_number: str | None = Field(description="Masked")
    request_type: RequestType
    category: str
    location_code: str | None
    handling_mode: HandlingMode
    status: TicketStatus
    resolution: str | None
    handling_unit: str | None
    repeat_of: str | None
    repeat_rule: str | None
    notice_id: str | None
    accepted_at: LocalDatetime
    closed_at: LocalDatetime | None
    version: int
    repeat_candidates: list[RepeatCandidate] = Field(default_factory=list)

    @field_validator("repeat_candidates", mode="before")
    @classmethod
    def _none_is_none_shown(cls, value: object) -> object:
        return value or []


class NoticeIn(Strict):
    """A planned outage (停水、停电、停气…) announced by a utility or a unit."""

    source_notice_id: Identifier
    issuer: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    category: Category
    area_codes: list[LocationCode] = Field(min_length=1, max_length=200)
    keywords: list[
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20)]
    ] = Field(
        min_length=1, max_length=50, description="Words a matching call mentions: 停气, 燃气 …"
    )
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=10, max_length=2000)]


class NoticeAccepted(BaseModel):
    notice_id: str
    status: Literal["active", "scheduled", "expired"]
