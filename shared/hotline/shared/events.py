"""The events services exchange: a CloudEvents 1.0 envelope around typed data.

Every event names the entity it is about (`subject`), the ticket it belongs to (`ticketid`, also
the Kafka key, so one ticket's events stay in order on one partition) and the entity's new
`version`, so consumers can keep the newest state whatever order events arrive in.
"""

from datetime import UTC, datetime
from typing import Annotated, ClassVar, Literal
from uuid import UUID, uuid4

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter

TICKETS_TOPIC = "hotline.tickets"
CALLS_TOPIC = "hotline.calls"
CALLBACKS_TOPIC = "hotline.callbacks"
ALL_TOPICS = (TICKETS_TOPIC, CALLS_TOPIC, CALLBACKS_TOPIC)
DEAD_LETTER_SUFFIX = ".dlt"

CONTENT_TYPE = "application/cloudevents+json; charset=UTF-8"


def utc_now() -> datetime:
    return datetime.now(UTC)


class EventData(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Event(BaseModel):
    """CloudEvents 1.0 attributes plus our extensions `ticketid` and `version`."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", validate_by_name=True, serialize_by_alias=True
    )
    topic: ClassVar[str] = TICKETS_TOPIC

    specversion: Literal["1.0"] = "1.0"
    id: UUID = Field(default_factory=uuid4)
    source: str = Field(min_length=1, examples=["/hotline/intake"])
    type: str
    time: AwareDatetime = Field(default_factory=utc_now)
    datacontenttype: Literal["application/json"] = "application/json"
    subject: str = Field(min_length=1, description="The ticket number or call id")
    ticket_id: str | None = Field(default=None, alias="ticketid")
    version: int = Field(ge=1, description="The subject's version after this change")

    @property
    def key(self) -> str:
        """The partition key: the ticket, so all of a ticket's events share one partition."""
        return self.ticket_id or self.subject


class CallRecordedData(EventData):
    call_id: str
    line: str
    direction: Literal["in", "out"]
    outcome: str
    started_at: AwareDatetime
    ended_at: AwareDatetime


class CallRecorded(Event):
    topic: ClassVar[str] = CALLS_TOPIC
    type: Literal["call.recorded"] = "call.recorded"
    data: CallRecordedData


class TicketCreatedData(EventData):
    ticket_no: str
    channel: str
    request_type: str
    category: str
    handling_mode: Literal["answered", "forward", "not_accepted"]
    location_code: str | None = None
    suggested_unit: str | None = None
    accepted_at: AwareDatetime


class TicketCreated(Event):
    type: Literal["ticket.created"] = "ticket.created"
    data: TicketCreatedData


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


AnyEvent = Annotated[
    CallRecorded | TicketCreated | TicketClosed | TicketReopened,
    Field(discriminator="type"),
]
EVENT_ADAPTER: TypeAdapter[AnyEvent] = TypeAdapter(AnyEvent)


def parse_event(raw: bytes | str) -> AnyEvent:
    """Parse a structured-mode CloudEvent into its typed model; raises `ValidationError`."""
    return EVENT_ADAPTER.validate_json(raw)


def serialize_event(event: Event) -> bytes:
    return event.model_dump_json().encode()
