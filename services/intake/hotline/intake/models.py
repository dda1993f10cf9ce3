"""The intake service's tables, all in the PostgreSQL schema `intake`: calls, tickets, notices,
bursts, and the knowledge base (entries, their versions, the search's change counter, what the
events said of units' replies until a draft is made of them)."""

from datetime import datetime

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    Sequence,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from hotline.shared.db import service_metadata
from hotline.shared.messaging.deliveries import define_webhook_deliveries
from hotline.shared.messaging.tables import define_messaging_tables

SCHEMA = "intake"

metadata = service_metadata(SCHEMA)
messaging = define_messaging_tables(metadata)
webhook_deliveries = define_webhook_deliveries(metadata)
ticket_number_sequence = Sequence("ticket_number_seq", metadata=metadata)


class Base(DeclarativeBase):
    metadata = metadata


class CallRecord(Base):
    """One telephone call as the call-centre switch saw it (话单)."""

    __tablename__ = "calls"

    call_id: Mapped[str] = mapped_column(Text, primary_key=True)
    sender: Mapped[str] = mapped_column(Text)
    line: Mapped[str] = mapped_column(Text)
    direction: Mapped[str] = mapped_column(Text)
    caller_number: Mapped[str] = mapped_column(Text)
    callee_number: Mapped[str] = mapped_column(Text)
    agent_id: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    queued_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ringing_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    connected_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    talk_seconds: Mapped[int] = mapped_column(Integer)
    recording_url: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class Ticket(Base):
    """One citizen request as intake accepted it (工单), kept current from later events."""

    __tablename__ = "tickets"
    __table_args__ = (
        UniqueConstraint("sender", "source_ticket_id"),
        Index("ix_tickets_caller_recent", "caller_number", "accepted_at"),
        Index("ix_tickets_place_recent", "location_code", "category", "accepted_at"),
    )

    ticket_no: Mapped[str] = mapped_column(Text, primary_key=True)
    sender: Mapped[str] = mapped_column(Text)
    source_ticket_id: Mapped[str] = mapped_column(Text)
    call_id: Mapped[str | None] = mapped_column(Text, index=True)
    channel: Mapped[str] = mapped_column(Text)
    caller_salutation: Mapped[str] = mapped_column(Text)
    caller_number: Mapped[str | None] = mapped_column(Text)
    request_type: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(Text)
    business_environment: Mapped[bool] = mapped_column(Boolean)
    location_code: Mapped[str | None] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(Text)
    content: Mapped[str] = mapped_column(Text)
    handling_mode: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text)
    resolution: Mapped[str | None] = mapped_column(Text)
    suggested_unit: Mapped[str | None] = mapped_column(Text)
    agent_id: Mapped[str | None] = mapped_column(Text)
    accepted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    new_facts: Mapped[bool] = mapped_column(Boolean)
    repeat_of: Mapped[str | None] = mapped_column(ForeignKey("tickets.ticket_no"), index=True)
    repeat_rule: Mapped[str | None] = mapped_column(Text)
    notice_id: Mapped[str | None] = mapped_column(ForeignKey("notices.notice_id"))
    handling_unit: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The highest version of this ticket any service announced (intake numbers above it).
    version: Mapped[int] = mapped_column(Integer)
    # What the content says once stock phrasing and places are set aside (weighed words).
    substance: Mapped[str | None] = mapped_column(Text)
    # Earlier tickets this may repeat, shown to the agent (not decided for the caller).
    repeat_candidates: Mapped[list[dict[str, object]] | None] = mapped_column(JSONB)
    # Dispatch holds it (forwarded and open at acceptance, or handed over after a reopening).
    held_by_dispatch: Mapped[bool] = mapped_column(Boolean, server_default="false")
    merged_by: Mapped[str | None] = mapped_column(Text)
    # Where dispatch sent it and by when that unit must reply (from `ticket.dispatched` and an
    # approved extension), so a citizen who asks (Open311) is told who holds it.
    dispatched_unit: Mapped[str | None] = mapped_column(Text)
    deadline: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The knowledge-base entry (and its version) whose answer the agent gave, if one was used.
    knowledge_entry_id: Mapped[str | None] = mapped_column(
        ForeignKey("knowledge_entries.entry_id"), index=True
    )
    knowledge_version: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class Open311Request(Base):
    """What an Open311 client sent beside the ticket it became: where (lat/long), its media, the
    device and account that sent it, and the notice it was given. Never shown: email, device."""

    __tablename__ = "open311_requests"
    __table_args__ = (Index("ix_open311_requests_accepted", "accepted_at"),)

    ticket_no: Mapped[str] = mapped_column(ForeignKey("tickets.ticket_no"), primary_key=True)
    channel: Mapped[str] = mapped_column(Text)
    lat: Mapped[float | None] = mapped_column(Float)
    long: Mapped[float | None] = mapped_column(Float)
    email: Mapped[str | None] = mapped_column(Text)
    device_id: Mapped[str | None] = mapped_column(Text)
    account_id: Mapped[str | None] = mapped_column(Text)
    media_url: Mapped[str | None] = mapped_column(Text)
    service_notice: Mapped[str | None] = mapped_column(Text)
    accepted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class OutageNotice(Base):
    """A planned outage a utility or unit announced: calls about it are answered with its text."""

    __tablename__ = "notices"
    __table_args__ = (
        UniqueConstraint("sender", "source_notice_id"),
        Index("ix_notices_active", "category", "ends_at"),
    )

    notice_id: Mapped[str] = mapped_column(Text, primary_key=True)
    sender: Mapped[str] = mapped_column(Text)
    source_notice_id: Mapped[str] = mapped_column(Text)
    issuer: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(Text)
    area_codes: Mapped[list[str]] = mapped_column(ARRAY(Text))
    keywords: Mapped[list[str]] = mapped_column(ARRAY(Text))
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class BurstAlert(Base):
    """When an area and category last raised a burst alert, so one burst alerts once."""

    __tablename__ = "burst_alerts"

    area_code: Mapped[str] = mapped_column(Text, primary_key=True)
    category: Mapped[str] = mapped_column(Text, primary_key=True)
    raised_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ticket_count: Mapped[int] = mapped_column(Integer)


# --- the knowledge base (知识库): see `knowledge.py` ---------------------------------------------
class KnowledgeEntry(Base):
    """One question and its one answer (知识库条目); its content is in its current version."""

    __tablename__ = "knowledge_entries"
    __table_args__ = (
        # A unit's accepted reply becomes one draft, however often its events are delivered.
        UniqueConstraint("source_ticket", "source_reply_version"),
    )

    entry_id: Mapped[str] = mapped_column(Text, primary_key=True)
    status: Mapped[str] = mapped_column(Text)
    current_version: Mapped[int] = mapped_column(Integer)
    source_ticket: Mapped[str | None] = mapped_column(Text)
    source_reply_version: Mapped[int | None] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(Text)
    published_by: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    retired_by: Mapped[str | None] = mapped_column(Text)
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class KnowledgeVersion(Base):
    """What an entry said from one edit to the next: never changed once written."""

    __tablename__ = "knowledge_versions"

    entry_id: Mapped[str] = mapped_column(
        ForeignKey("knowledge_entries.entry_id"), primary_key=True
    )
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    unit_id: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(Text)
    valid_from: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    valid_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The question's and answer's search terms, cut once when written (space-separated), so a
    # process rebuilding its index reads them instead of segmenting every entry again.
    search_terms: Mapped[str] = mapped_column(Text)
    edited_by: Mapped[str] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class KnowledgeRevision(Base):
    """One row: advanced in the transaction of every change to what search may find, so each
    process (worker) rebuilds its index when it sees the number move. One row, so writers
    take its lock in turn and a number never becomes visible before a smaller one."""

    __tablename__ = "knowledge_revision"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    revision: Mapped[int] = mapped_column(BigInteger)


class KnowledgeReplyFact(Base):
    """What dispatch's events said of a ticket's replies (`reply`, with its text) and their
    reviews (`accepted`), each at the ticket version it carried: a draft is made once an
    accepted review has the reply before it, in whichever order the two arrived."""

    __tablename__ = "knowledge_reply_facts"

    ticket_no: Mapped[str] = mapped_column(Text, primary_key=True)
    kind: Mapped[str] = mapped_column(Text, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[str] = mapped_column(Text)
    text: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
