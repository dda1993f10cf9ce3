"""The events services exchange: a CloudEvents 1.0 envelope around typed data.

Every event names the entity it is about (`subject`), the ticket it belongs to (`ticketid`, also
the Kafka key, so one ticket's events stay in order on one partition) and the entity's new
`version`, so consumers can keep the newest state whatever order events arrive in.

Who numbers a ticket's versions: one counter per ticket, advanced by the service that holds the
ticket at the time, each numbering above the highest version it has seen. Intake holds it from
acceptance (version 1, and 2 when it closes it at once) until it is forwarded; dispatch while it
is forwarded and open; callback, once, when a survey reopens a closed ticket (the closure's
version + 1), after which dispatch holds it again, or intake if dispatch never had it (intake
then hands it over, `ticket.handed_over`). The one exception is `ticket.merged` (并单), which
intake raises while dispatch may hold the ticket: holders apply it whatever its version.
"""

from typing import Annotated, ClassVar, Literal, get_args
from uuid import UUID, uuid4

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter

from hotline.shared.clock import business_now

TICKETS_TOPIC = "hotline.tickets"
CALLS_TOPIC = "hotline.calls"
CALLBACKS_TOPIC = "hotline.callbacks"
ALERTS_TOPIC = "hotline.alerts"
UPLOADS_TOPIC = "hotline.uploads"
KNOWLEDGE_TOPIC = "hotline.knowledge"
ALL_TOPICS = (
    TICKETS_TOPIC,
    CALLS_TOPIC,
    CALLBACKS_TOPIC,
    ALERTS_TOPIC,
    UPLOADS_TOPIC,
    KNOWLEDGE_TOPIC,
)
DEAD_LETTER_SUFFIX = ".dlt"
# The consumer groups that read each topic. While the broker lives, each relay records the
# oldest event one of them has not committed past, so a broker that lost its log is sent only
# that and what came after; tests hold every service's consumers to this table.
CONSUMER_GROUPS: dict[str, tuple[str, ...]] = {
    TICKETS_TOPIC: ("intake", "dispatch", "callback", "scoring", "provincial-sync"),
    CALLS_TOPIC: ("scoring", "provincial-sync"),
    CALLBACKS_TOPIC: ("callback", "scoring", "provincial-sync"),
    UPLOADS_TOPIC: ("scoring",),
    KNOWLEDGE_TOPIC: ("dispatch",),
}

CONTENT_TYPE = "application/cloudevents+json; charset=UTF-8"


class EventData(BaseModel):
    # A newer producer may add fields during a rolling upgrade: older consumers ignore them.
    model_config = ConfigDict(frozen=True, extra="ignore")


class Event(BaseModel):
    """CloudEvents 1.0 attributes plus our extensions `ticketid` and `version`."""

    model_config = ConfigDict(
        frozen=True, extra="ignore", validate_by_name=True, serialize_by_alias=True
    )
    topic: ClassVar[str] = TICKETS_TOPIC

    specversion: Literal["1.0"] = "1.0"
    id: UUID = Field(default_factory=uuid4)
    source: str = Field(min_length=1, examples=["/hotline/intake"])
    type: str
    time: AwareDatetime = Field(default_factory=business_now)
    datacontenttype: Literal["application/json"] = "application/json"
    subject: str = Field(min_length=1, description="The ticket number or call id")
    ticket_id: str | None = Field(default=None, alias="ticketid")
    version: int = Field(ge=1, description="The subject's version after this change")

    @property
    def key(self) -> str:
        """The partition key: the ticket, so all of a ticket's events share one partition."""
        return self.ticket_id or self.subject


Line = Literal["12345", "12333", "12315", "12348"]
Channel = Literal["phone", "web", "wechat", "app", "sms", "email", "provincial"]
RequestType = Literal[
    "consultation", "help", "complaint", "report", "suggestion", "praise", "other"
]
HandlingMode = Literal["answered", "forward", "not_accepted"]
TicketStatus = Literal["open", "closed", "awaiting_closure"]


class PhoneNumber(EventData):
    """A number as stored for matching, beside the masked form for anything shown to people."""

    number: str
    masked: str


class CallRecordedData(EventData):
    call_id: str
    line: Line
    direction: Literal["in", "out"]
    caller: PhoneNumber
    callee: PhoneNumber
    agent_id: str | None
    started_at: AwareDatetime
    queued_at: AwareDatetime | None
    ringing_at: AwareDatetime | None
    connected_at: AwareDatetime | None
    ended_at: AwareDatetime
    talk_seconds: int
    recording_url: str | None
    outcome: str


class CallRecorded(Event):
    topic: ClassVar[str] = CALLS_TOPIC
    type: Literal["call.recorded"] = "call.recorded"
    data: CallRecordedData


class TicketCreatedData(EventData):
    """The whole ticket as intake accepted it. `caller.number` is kept for the callback and the
    provincial upload, which must dial and report it."""

    ticket_no: str
    source_ticket_id: str
    call_id: str | None
    channel: Channel
    caller_salutation: str
    caller: PhoneNumber | None
    request_type: RequestType
    category: str
    business_environment: bool
    location_code: str | None
    address: str | None
    content: str
    handling_mode: HandlingMode
    status: TicketStatus
    resolution: str | None
    suggested_unit: str | None
    agent_id: str | None
    accepted_at: AwareDatetime
    new_facts: bool
    repeat_of: str | None = None
    repeat_rule: str | None = None
    notice_id: str | None = None
    # The knowledge-base entry (and version) whose answer the agent gave, when one was used.
    knowledge_entry_id: str | None = None
    knowledge_version: int | None = None


class TicketCreated(Event):
    type: Literal["ticket.created"] = "ticket.created"
    data: TicketCreatedData


class TicketHandedOverData(TicketCreatedData):
    """A ticket the hotline answered itself, reopened by its survey: intake hands its whole
    content to dispatch, which never held it, for a supervisor to dispatch."""

    reopen_reason: str
    reopened_at: AwareDatetime


class TicketHandedOver(Event):
    type: Literal["ticket.handed_over"] = "ticket.handed_over"
    data: TicketHandedOverData


class TicketMergedData(EventData):
    """A person found the ticket to repeat an earlier one (并单): Attachment 5 applied late.

    The one ticket event a service may raise while another holds the ticket (intake, while
    dispatch has it): holders apply it whatever its version, and number their own above it."""

    ticket_no: str
    repeat_of: str
    repeat_rule: str
    handling_mode: HandlingMode
    status: TicketStatus
    resolution: str | None
    merged_by: str
    note: str | None
    merged_at: AwareDatetime


class TicketMerged(Event):
    type: Literal["ticket.merged"] = "ticket.merged"
    data: TicketMergedData


CorrectableField = Literal[
    "caller_salutation",
    "request_type",
    "category",
    "business_environment",
    "location_code",
    "address",
    "content",
]


class TicketCorrectedData(EventData):
    """A person corrected what the ticket records (a wrong category, a salutation left as
    digits): the fields named take their new values, from this version on. Like a merge, intake
    may raise it while dispatch holds the ticket; holders apply it whatever its version."""

    ticket_no: str
    changes: dict[CorrectableField, str | bool | None]
    corrected_by: str
    reason: str
    corrected_at: AwareDatetime


class TicketCorrected(Event):
    type: Literal["ticket.corrected"] = "ticket.corrected"
    data: TicketCorrectedData


class TicketClosedData(EventData):
    ticket_no: str
    closed_at: AwareDatetime
    handling_unit: str
    resolution: str


class TicketClosed(Event):
    type: Literal["ticket.closed"] = "ticket.closed"
    data: TicketClosedData


class TicketReopenedData(EventData):
    ticket_no: str
    reason: str
    reopened_at: AwareDatetime


class TicketReopened(Event):
    type: Literal["ticket.reopened"] = "ticket.reopened"
    data: TicketReopenedData


class TicketDispatchedData(EventData):
    ticket_no: str
    unit_id: str
    unit_name: str
    dispatched_at: AwareDatetime
    deadline: AwareDatetime
    how: Literal["routed", "suggested", "manual", "reassigned", "return_accepted", "reopened"]
    by: str | None = None


class TicketDispatched(Event):
    type: Literal["ticket.dispatched"] = "ticket.dispatched"
    data: TicketDispatchedData


class UnitActionData(EventData):
    """A unit's step on a ticket; `detail` is its reason or text where the step has one."""

    ticket_no: str
    unit_id: str
    at: AwareDatetime
    detail: str | None = None


class TicketSigned(Event):
    type: Literal["ticket.signed"] = "ticket.signed"
    data: UnitActionData


class TicketReturnRequestedData(UnitActionData):
    # The unit's own earlier answers to questions that are this one: a return the evidence
    # contradicts (it answered such a question before): its replies to earlier tickets, and the
    # knowledge-base entries it owns.
    answered_before: list[str] = Field(default_factory=list)
    answered_entries: list[str] = Field(default_factory=list)


class TicketReturnRequested(Event):
    type: Literal["ticket.return_requested"] = "ticket.return_requested"
    data: TicketReturnRequestedData


class ContradictedAnswer(EventData):
    """An earlier answer of the unit's that a reply contradicts ("two answers", 两个答复): a
    reply to an earlier ticket, or a knowledge-base entry the unit owns."""

    ticket_no: str | None
    entry_id: str | None = None
    facets: list[str]  # documents, amounts, ratios, time_limits, places


class TicketRepliedData(UnitActionData):
    actions: str
    result: str
    citizen_contacted: bool
    # Non-empty: the reply says otherwise than the unit's earlier answers to the same question,
    # and is held for a supervisor instead of closing the ticket.
    contradicts: list[ContradictedAnswer] = Field(default_factory=list)


class TicketReplied(Event):
    type: Literal["ticket.replied"] = "ticket.replied"
    data: TicketRepliedData


class TicketExtensionRequestedData(UnitActionData):
    current_deadline: AwareDatetime
    requested_deadline: AwareDatetime


class TicketExtensionRequested(Event):
    type: Literal["ticket.extension_requested"] = "ticket.extension_requested"
    data: TicketExtensionRequestedData


class ReviewData(EventData):
    """A supervisor's decision on what a unit asked or sent."""

    ticket_no: str
    unit_id: str
    outcome: Literal["accepted", "rejected"]
    reviewer: str
    note: str | None
    at: AwareDatetime
    new_deadline: AwareDatetime | None = None


class TicketReturnReviewed(Event):
    type: Literal["ticket.return_reviewed"] = "ticket.return_reviewed"
    data: ReviewData


class TicketExtensionReviewed(Event):
    type: Literal["ticket.extension_reviewed"] = "ticket.extension_reviewed"
    data: ReviewData


class TicketReplyReviewed(Event):
    type: Literal["ticket.reply_reviewed"] = "ticket.reply_reviewed"
    data: ReviewData


class DeadlineData(EventData):
    ticket_no: str
    unit_id: str
    deadline: AwareDatetime


class TicketDeadlineNear(Event):
    type: Literal["ticket.deadline_near"] = "ticket.deadline_near"
    data: DeadlineData


class TicketOverdue(Event):
    type: Literal["ticket.overdue"] = "ticket.overdue"
    data: DeadlineData


Satisfaction = Literal["satisfied", "basically_satisfied", "unsatisfied"]


class CallbackScheduledData(EventData):
    survey_id: str
    ticket_no: str
    method: Literal["automatic", "manual"]
    due_at: AwareDatetime
    attempt: int


class CallbackScheduled(Event):
    topic: ClassVar[str] = CALLBACKS_TOPIC
    type: Literal["callback.scheduled"] = "callback.scheduled"
    data: CallbackScheduledData


class CallbackCompletedData(EventData):
    """A survey's end: the citizen's verdict, or unreachable after every attempt."""

    survey_id: str
    ticket_no: str
    unit_id: str | None
    method: Literal["automatic", "manual"]
    outcome: Literal["answered", "unreachable"]
    satisfaction: Satisfaction | None
    unit_contacted: bool | None
    resolved: bool | None
    contradicted: bool
    completed_at: AwareDatetime


class CallbackCompleted(Event):
    topic: ClassVar[str] = CALLBACKS_TOPIC
    type: Literal["callback.completed"] = "callback.completed"
    data: CallbackCompletedData


class SpotCheckedData(EventData):
    """The province's own callback of one of our tickets (Attachment 3), as provincial-sync
    receives it."""

    ticket_no: str
    unit_id: str | None
    satisfaction: Satisfaction
    comment: str | None
    checked_at: AwareDatetime


class CallbackSpotChecked(Event):
    topic: ClassVar[str] = CALLBACKS_TOPIC
    type: Literal["callback.spot_checked"] = "callback.spot_checked"
    data: SpotCheckedData


class BurstDetectedData(EventData):
    """Similar tickets piling up in one area with no outage notice to answer them."""

    area_code: str
    category: str
    ticket_count: int
    window_minutes: int
    sample_ticket_nos: list[str]
    detected_at: AwareDatetime


class BurstDetected(Event):
    topic: ClassVar[str] = ALERTS_TOPIC
    type: Literal["alert.burst_detected"] = "alert.burst_detected"
    data: BurstDetectedData


RecordKind = Literal["ticket", "call"]


class UploadAcceptedData(EventData):
    """The province accepted a version of one of our records: how long after its change."""

    kind: RecordKind
    record_id: str
    record_version: int
    changed_at: AwareDatetime
    accepted_at: AwareDatetime
    delay_seconds: float


class UploadAccepted(Event):
    topic: ClassVar[str] = UPLOADS_TOPIC
    type: Literal["upload.accepted"] = "upload.accepted"
    data: UploadAcceptedData


class ProvinceFindingData(EventData):
    """A data-quality finding the province reported on a record we uploaded (its own audit)."""

    kind: RecordKind
    record_id: str
    record_version: int | None
    code: str
    field: str | None
    message: str
    unit_name: str | None
    found_at: AwareDatetime


class ProvinceFindingReported(Event):
    topic: ClassVar[str] = UPLOADS_TOPIC
    type: Literal["upload.finding_reported"] = "upload.finding_reported"
    data: ProvinceFindingData


KnowledgeStatus = Literal["draft", "published", "retired"]


class KnowledgeEntryChangedData(EventData):
    """What the knowledge base answers now on one question: a published entry's current version,
    or that it answers no more (retired). Dispatch keeps the published ones as evidence of what
    a unit has answered (two answers, returns)."""

    entry_id: str
    entry_version: int = Field(ge=1, description="The entry's content version")
    status: KnowledgeStatus
    question: str
    answer: str
    unit_id: str
    category: str
    valid_from: AwareDatetime | None
    valid_until: AwareDatetime | None
    changed_at: AwareDatetime


class KnowledgeEntryChanged(Event):
    """Subject: the entry. `version` grows with each announcement of it (see intake's
    `knowledge.announcement_version`), so a reader keeps the highest it has seen."""

    topic: ClassVar[str] = KNOWLEDGE_TOPIC
    type: Literal["knowledge.entry_changed"] = "knowledge.entry_changed"
    data: KnowledgeEntryChangedData


AnyEvent = Annotated[
    CallRecorded
    | TicketCreated
    | TicketHandedOver
    | TicketMerged
    | TicketCorrected
    | TicketDispatched
    | TicketSigned
    | TicketReturnRequested
    | TicketReturnReviewed
    | TicketExtensionRequested
    | TicketExtensionReviewed
    | TicketReplied
    | TicketReplyReviewed
    | TicketDeadlineNear
    | TicketOverdue
    | TicketClosed
    | TicketReopened
    | CallbackScheduled
    | CallbackCompleted
    | CallbackSpotChecked
    | BurstDetected
    | UploadAccepted
    | ProvinceFindingReported
    | KnowledgeEntryChanged,
    Field(discriminator="type"),
]
EVENT_ADAPTER: TypeAdapter[AnyEvent] = TypeAdapter(AnyEvent)
KNOWN_EVENT_TYPES: frozenset[str] = frozenset(
    kind.model_fields["type"].default for kind in get_args(get_args(AnyEvent)[0])
)


def parse_event(raw: bytes | str) -> AnyEvent:
    """Parse a structured-mode CloudEvent into its typed model; raises `ValidationError`."""
    return EVENT_ADAPTER.validate_json(raw)


def serialize_event(event: Event) -> bytes:
    return event.model_dump_json().encode()
