"""The bodies of intake's API: what the call centre posts, and what it gets back."""

from typing import Annotated, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    StringConstraints,
    field_validator,
)

from hotline.intake.config import DEFAULT_CATEGORIES
from hotline.intake.repeat_calls import RepeatRule
from hotline.shared.messaging.events import Channel, HandlingMode, Line, RequestType, TicketStatus
from hotline.shared.web.schemas import (
    IDENTIFIER_PATTERN,
    InputModel,
    LocalDatetime,
    TolerantInputModel,
)

Category = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
Identifier = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
TicketNumber = Annotated[str, StringConstraints(pattern=IDENTIFIER_PATTERN, max_length=64)]
RawPhone = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=24)]
LocationCode = Annotated[str, StringConstraints(pattern=r"^\d{6}(\d{3}(\d{3})?)?$")]
CallOutcome = Literal["answered", "abandoned", "no_answer", "busy", "failed"]


class Strict(InputModel):
    pass


class Tolerant(TolerantInputModel):
    """A body the call-centre software sends: a field a newer release of it adds is ignored and
    reported (`Hotline-Ignored-Fields`), never a refused delivery; unknown values still are."""


class CallRecordIn(Tolerant):
    """A call record (话单), posted by the switch when a call ends."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "call_id": "call-20261130-000123",
                    "line": "12345",
                    "direction": "in",
                    "caller_number": "13873912345",
                    "callee_number": "12345",
                    "agent_id": "A017",
                    "started_at": "2026-11-30T09:21:00+08:00",
                    "queued_at": "2026-11-30T09:21:05+08:00",
                    "ringing_at": "2026-11-30T09:21:40+08:00",
                    "connected_at": "2026-11-30T09:21:45+08:00",
                    "ended_at": "2026-11-30T09:26:45+08:00",
                    "talk_seconds": 300,
                    "recording_url": "https://recordings.example/2026/11/30/000123.wav",
                    "outcome": "answered",
                }
            ]
        }
    )

    call_id: Identifier
    line: Line = Field(description="The line dialled: 12345 or a merged line")
    direction: Literal["in", "out"] = Field(description="out includes callbacks (回访)")
    caller_number: RawPhone
    callee_number: RawPhone
    agent_id: Identifier | None = Field(
        default=None, description="Required when the outcome is answered"
    )
    started_at: AwareDatetime
    queued_at: AwareDatetime | None = None
    ringing_at: AwareDatetime | None = None
    connected_at: AwareDatetime | None = Field(default=None, description="进座席: agent connect")
    ended_at: AwareDatetime = Field(description="Hang-up")
    talk_seconds: int = Field(
        ge=0, le=86_400, description="0 unless connected; no longer than the call (C01–C03)"
    )
    recording_url: Annotated[str, StringConstraints(max_length=2000)] | None = Field(
        default=None, description="Required when talk_seconds > 0 (C02)"
    )
    outcome: CallOutcome


class CallAccepted(BaseModel):
    call_id: str
    status: Literal["recorded"] = "recorded"


class CallerIn(Tolerant):
    salutation: Annotated[str, StringConstraints(strip_whitespace=True, max_length=20)] = Field(
        description='"张先生"; anonymous callers are "*先生" or "*女士"'
    )
    number: RawPhone | None = Field(
        default=None,
        description="The citizen's own number; required for the phone channel, never a service "
        "number such as 12345 or 110 (T06)",
    )


TICKET_EXAMPLE: dict[str, JsonValue] = {
    "source_ticket_id": "desk-20261130-0042",
    "call_id": "call-20261130-000123",
    "channel": "phone",
    "caller": {"salutation": "张先生", "number": "13873912345"},
    "request_type": "complaint",
    "category": "生活服务类",
    "business_environment": False,
    "location_code": "430503001",
    "address": "邵阳市大祥区翠园小区3栋",
    "content": "市民反映大祥区翠园小区从昨天起停气，燃气公司没有提前通知，家里老人没法做饭，"
    "请相关部门尽快处理",
    "handling_mode": "forward",
    "suggested_unit": "市燃气总公司",
    "agent_id": "A017",
    "accepted_at": "2026-11-30T09:27:10+08:00",
    "new_facts": False,
}


class TicketIn(Tolerant):
    """A ticket (工单), posted by the agent's desk client when the agent saves it."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                TICKET_EXAMPLE,
                TICKET_EXAMPLE
                | {
                    "source_ticket_id": "desk-20261130-0043",
                    "call_id": None,
                    "channel": "web",
                    "caller": {"salutation": "*女士"},
                    "request_type": "consultation",
                    "category": "人力资源与社会保障类",
                    "location_code": None,
                    "address": None,
                    "content": "咨询灵活就业人员在邵阳市如何办理城乡居民养老保险参保登记",
                    "handling_mode": "answered",
                    "resolution": "已告知市民携带身份证到户籍所在地社区或乡镇社保服务站"
                    "办理参保登记，也可在湖南智慧人社APP线上办理",
                    "suggested_unit": None,
                },
            ]
        }
    )

    source_ticket_id: Identifier = Field(description="The desk client's own id for this ticket")
    call_id: Identifier | None = Field(
        default=None, description="The call record's call_id: required for the phone channel (T01)"
    )
    channel: Channel
    caller: CallerIn
    request_type: RequestType
    category: Category = Field(
        description="One of the configured catalogue (HOTLINE_INTAKE_CATEGORIES), by default: "
        + ", ".join(DEFAULT_CATEGORIES)
    )
    business_environment: bool = Field(default=False, description="优化营商环境 flag")
    location_code: LocationCode | None = Field(
        default=None,
        description="GB/T 2260 division code in the city (4305…), 6/9/12 digits; required when "
        "forwarded (T05)",
    )
    address: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = None
    content: Annotated[str, StringConstraints(strip_whitespace=True, min_length=5, max_length=4000)]
    handling_mode: HandlingMode
    resolution: Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000)] | None = (
        Field(
            default=None,
            description="Required when answered directly (what the agent answered: specific, not "
            "a stock phrase, not the request repeated — T08, T10) and when not accepted (why, "
            "T14); leave it out when forwarded",
        )
    )
    suggested_unit: Identifier | None = Field(
        default=None, description="When forwarded: the unit the agent proposes, by name or id"
    )
    agent_id: Identifier | None = None
    accepted_at: AwareDatetime = Field(description="With its offset; not in the future")
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
    repeat_rule: RepeatRule | None = Field(
        default=None, description="The row of Attachment 5's table applied, when a repeat"
    )
    notice_id: str | None = None
    tell_caller: str | None = None
    repeat_candidates: list[RepeatCandidate] = Field(
        default_factory=list,
        description="Earlier tickets this may repeat, for the agent to check and merge (并单)",
    )


class MergeIn(Strict):
    """A person found this ticket to repeat an earlier one: apply Attachment 5 now."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"repeat_of": "SY20261129000017", "new_facts": False, "note": "同一小区停气"}
            ]
        }
    )

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
    repeat_rule: RepeatRule | None = Field(description="The row of Attachment 5's table applied")
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

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "source_notice_id": "gas-2026-1130-01",
                    "issuer": "邵阳市燃气总公司",
                    "category": "生活服务类",
                    "area_codes": ["430503"],
                    "keywords": ["停气", "燃气"],
                    "starts_at": "2026-11-30T08:00:00+08:00",
                    "ends_at": "2026-12-01T20:00:00+08:00",
                    "text": "因燃气管网改造，大祥区部分小区11月30日8时至12月1日20时暂停供气，"
                    "请市民提前做好准备。",
                }
            ]
        }
    )

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


class CategoryPublic(BaseModel):
    """A category a ticket may carry (诉求分类)."""

    code: str = Field(description="What a ticket's `category` takes (today the name itself)")
    name: str
    keywords: list[str] = Field(description="Words that speak for it, for search and pick lists")
