"""The bodies of dispatch's API: the unit registry, the unit API and the supervisors' reviews."""

from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from hotline.shared.web.schemas import InputModel, LocalDatetime

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=6, max_length=2000)]
UnitKind = Literal[
    "district_government", "city_bureau", "utility", "hospital", "bank", "enterprise", "hotline"
]
TicketState = Literal[
    "manual", "dispatched", "signed", "return_requested", "replied", "closed", "merged"
]
# What a unit has to act on: new, signed, returned and awaiting review (reopened ones are
# dispatched again).
OPEN_WORK: tuple[TicketState, ...] = ("dispatched", "signed", "return_requested")
ListedStates = Literal["open", "all"] | TicketState
LocationPrefix = Annotated[str, StringConstraints(pattern=r"^\d{2,12}$")]
Category = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
UnitId = Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9]{2,15}$")]


class Strict(InputModel):
    pass


class UnitBase(Strict):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=100)]
    kind: UnitKind
    categories: list[Category] = Field(
        default_factory=list, max_length=50, description='Categories it handles; "*" for all'
    )
    location_prefixes: list[LocationPrefix] = Field(
        default_factory=list,
        max_length=50,
        description='Location-code prefixes it serves; "4305" is city-wide',
    )
    contact: Annotated[str, StringConstraints(max_length=200)] | None = None
    priority: int = Field(
        default=0,
        ge=0,
        le=1000,
        description="Among units that fit a ticket equally, the higher takes it; 0: none",
    )


class UnitCreate(UnitBase):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "unit_id": "U057",
                    "name": "邵阳市城市管理和综合执法局",
                    "kind": "city_bureau",
                    "categories": ["城乡建设类"],
                    "location_prefixes": ["4305"],
                    "contact": "0739-5xxxxxx",
                }
            ]
        }
    )

    unit_id: UnitId


class UnitUpdate(Strict):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"contact": "0739-5223456", "active": True}]}
    )

    name: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=100)]
        | None
    ) = None
    kind: UnitKind | None = None
    categories: list[Category] | None = Field(default=None, max_length=50)
    location_prefixes: list[LocationPrefix] | None = Field(default=None, max_length=50)
    contact: Annotated[str, StringConstraints(max_length=200)] | None = None
    priority: int | None = Field(default=None, ge=0, le=1000)
    active: bool | None = None


class UnitPublic(UnitBase):
    model_config = ConfigDict(from_attributes=True)

    unit_id: str
    active: bool


class CredentialIssued(BaseModel):
    """Shown once: store `api_key` in the unit's system; the hotline keeps only its hash."""

    key_id: str
    unit_id: str
    api_key: str


class RequestForUnit(BaseModel):
    """A return or extension the unit asked for, waiting for the hotline's decision."""

    model_config = ConfigDict(from_attributes=True)

    kind: Literal["return", "extension"]
    reason: str
    requested_deadline: LocalDatetime | None
    created_at: LocalDatetime


class TicketForUnit(BaseModel):
    """A ticket as its unit sees it, with the caller's number: the unit must contact them."""

    model_config = ConfigDict(from_attributes=True)

    ticket_no: str
    request_type: str
    category: str
    location_code: str | None
    address: str | None
    content: str
    caller_salutation: str
    caller_number: str | None
    accepted_at: LocalDatetime
    state: TicketState
    dispatched_at: LocalDatetime | None
    signed_at: LocalDatetime | None
    deadline: LocalDatetime | None
    overdue: bool
    reopen_count: int
    reopen_reason: str | None = Field(
        default=None, description="Why the ticket came back: the citizen's verdict and comment"
    )
    review_note: str | None = Field(description="Why the hotline sent a return or reply back")
    pending_requests: list[RequestForUnit] = Field(
        default_factory=list, description="What the unit asked for that awaits the hotline"
    )


class TicketPage(BaseModel):
    items: list[TicketForUnit]
    total: int
    page: int
    page_size: int


class TicketForSupervisor(TicketForUnit):
    unit_id: str | None
    suggested_unit: str | None
    version: int


class ReplyIn(Strict):
    """What the unit did, what came of it, and whether it spoke to the citizen."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "actions": "接单后工作人员于当日下午到翠园小区现场核查，"
                    "确认系燃气管道改造导致停气，已联系施工方加快进度",
                    "result": "12月1日18时已恢复供气，并向张先生电话说明原因，张先生表示认可",
                    "citizen_contacted": True,
                }
            ]
        }
    )

    actions: Text = Field(description="What was done (办理过程)")
    result: Text = Field(description="The result (办理结果)")
    citizen_contacted: bool


class ReturnIn(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"reason": "该路段田江大桥的维修养护属市公路建设养护中心管辖，不属我局职责，请改派"}
            ]
        }
    )

    reason: Reason = Field(description="Why the ticket is not this unit's (退单理由)")


class ExtensionIn(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "reason": "涉及管网改造需协调施工方，预计需五个工作日",
                    "requested_deadline": "2026-12-10T00:00:00+08:00",
                }
            ]
        }
    )

    reason: Reason
    requested_deadline: AwareDatetime


class ReviewIn(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"accept": False, "note": "经核实属本单位职责，请继续办理"}]
        }
    )

    accept: bool
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] | None = None
    unit_id: UnitId | None = Field(
        default=None, description="Accepting a return: the unit to send the ticket to instead"
    )
    supersede_earlier: bool = Field(
        default=False,
        description="Accepting a reply held as a second answer: it replaces the earlier ones",
    )


class DispatchIn(Strict):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"unit_id": "U012", "note": "请尽快联系诉求人"}]}
    )

    unit_id: UnitId
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] | None = None


class StepDone(BaseModel):
    """The ticket after a step, for the caller of the API to show."""

    ticket_no: str
    state: TicketState
    unit_id: str | None
    deadline: LocalDatetime | None
    version: int
    rule_codes: list[str] = Field(default_factory=list)
    held_for_review: Literal["two_answers"] | None = Field(
        default=None, description="Why a reply waits for a supervisor instead of closing"
    )


class AnswerDifference(BaseModel):
    facet: Literal["documents", "amounts", "ratios", "time_limits", "places"]
    only_earlier: list[str]
    only_new: list[str]


class EarlierAnswer(BaseModel):
    """One of the unit's earlier answers to a question that is this one."""

    source: Literal["reply", "knowledge"]
    ticket_no: str | None = Field(description="The earlier ticket, for a reply")
    entry_id: str | None = Field(
        default=None, description="The knowledge-base entry, for a published answer"
    )
    reply_id: int | None
    question: str
    answer: str
    answered_at: LocalDatetime
    score: float = Field(description="How alike the two questions are (0 to 1)")
    shared: list[str] = Field(description="The weightiest words both questions name")
    differences: list[AnswerDifference] = Field(default_factory=list)


EarlierAnswers = Annotated[list[EarlierAnswer], BeforeValidator(lambda value: value or [])]


class PendingRequest(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    request_id: int
    ticket_no: str
    unit_id: str
    kind: Literal["return", "extension"]
    reason: str
    current_deadline: LocalDatetime | None
    requested_deadline: LocalDatetime | None
    created_at: LocalDatetime
    evidence: EarlierAnswers = Field(
        default_factory=list, description="A return: the unit's own answers to such questions"
    )
    contradicted_by_evidence: bool = Field(
        default=False, description="A return of a question the unit has answered before"
    )
    overturned_returns: int = Field(default=0, description="The unit's returns rejected so far")


class PendingReply(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    reply_id: int
    ticket_no: str
    unit_id: str
    actions: str
    result: str
    citizen_contacted: bool
    created_at: LocalDatetime
    earlier_answers: EarlierAnswers = Field(
        default_factory=list,
        description="Held as a second answer: the unit's earlier answers it contradicts, and how",
    )
    two_answers: int = Field(
        default=0, description="The unit's replies held as a second, different answer so far"
    )


class SupervisorQueue(BaseModel):
    """What waits on a supervisor: tickets no rule could route, and units' requests and replies."""

    manual: list[TicketForSupervisor]
    requests: list[PendingRequest]
    replies: list[PendingReply]


class AreaPublic(BaseModel):
    code: str = Field(description='A location-code prefix (GB/T 2260): "4305" is city-wide')
    name: str | None = Field(description="The city or district it names, where we know it")


class UnitInDirectory(BaseModel):
    """A unit as the public directory shows it: for pick lists, never who to call there."""

    unit_id: str
    name: str = Field(description="What `suggested_unit` of a ticket may name")
    kind: UnitKind
    categories: list[str] = Field(description='Categories it handles; "*" for all')
    areas: list[AreaPublic] = Field(description="Where it serves")
