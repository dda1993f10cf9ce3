"""The dispatch service's tables, all in the PostgreSQL schema `dispatch`."""

from datetime import datetime
from typing import Any

from sqlalchemy import ARRAY, Boolean, DateTime, ForeignKey, Index, Integer, Text, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from hotline.shared.db import service_metadata
from hotline.shared.messaging.tables import define_messaging_tables

SCHEMA = "dispatch"

metadata = service_metadata(SCHEMA)
messaging = define_messaging_tables(metadata)


class Base(DeclarativeBase):
    metadata = metadata


class Timestamped:
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class Unit(Timestamped, Base):
    """A handling unit (承办单位): what it handles, where, and whether it takes tickets now."""

    __tablename__ = "units"

    unit_id: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text, unique=True)
    kind: Mapped[str] = mapped_column(Text)
    # Categories it handles ("*" for all) and location-code prefixes it serves ("4305" city-wide).
    categories: Mapped[list[str]] = mapped_column(ARRAY(Text))
    location_prefixes: Mapped[list[str]] = mapped_column(ARRAY(Text))
    contact: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Among units that fit a ticket equally, the higher takes it (routing's last tie-break).
    priority: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class UnitCredential(Base):
    """An API key of a unit's system; only a hash of its secret is kept."""

    __tablename__ = "unit_credentials"

    key_id: Mapped[str] = mapped_column(Text, primary_key=True)
    unit_id: Mapped[str] = mapped_column(ForeignKey("units.unit_id"), index=True)
    secret_hash: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class DispatchTicket(Timestamped, Base):
    """A forwarded ticket on its way through a unit: where it is, and by when it is due."""

    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_unit_state_deadline", "unit_id", "state", "deadline"),
        Index("ix_tickets_open_deadline", "deadline", postgresql_where="state <> 'closed'"),
        # A unit's open work, nearest deadline first (its default list).
        Index(
            "ix_tickets_unit_open_work",
            "unit_id",
            "deadline",
            "ticket_no",
            postgresql_where="state IN ('dispatched', 'signed', 'return_requested')",
        ),
        # The open-ticket gauge, by unit and state.
        Index("ix_tickets_open_by_unit", "unit_id", "state", postgresql_where="state <> 'closed'"),
        # The supervisors' queue of tickets no rule could route.
        Index("ix_tickets_manual_queue", "accepted_at", postgresql_where="state = 'manual'"),
    )

    ticket_no: Mapped[str] = mapped_column(Text, primary_key=True)
    request_type: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(Text)
    location_code: Mapped[str | None] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(Text)
    content: Mapped[str] = mapped_column(Text)
    caller_salutation: Mapped[str] = mapped_column(Text)
    caller_number: Mapped[str | None] = mapped_column(Text)
    suggested_unit: Mapped[str | None] = mapped_column(Text)
    accepted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # manual (supervisors' queue), dispatched, signed, return_requested, replied, closed,
    # merged (another caller's repeat, joined to the first ticket)
    state: Mapped[str] = mapped_column(Text)
    unit_id: Mapped[str | None] = mapped_column(ForeignKey("units.unit_id"))
    dispatched_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    signed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    deadline: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reminded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    overdue: Mapped[bool] = mapped_column(Boolean, default=False)
    replied_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    # Why it came back: the survey's verdict and the citizen's comment.
    reopen_reason: Mapped[str | None] = mapped_column(Text)
    # The hotline's last word to the unit: why a return or reply was sent back, say.
    review_note: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer)


class OverdueRecord(Base):
    """A ticket that passed its deadline with its unit (Attachment 2), kept after extensions."""

    __tablename__ = "overdue_records"

    record_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_no: Mapped[str] = mapped_column(ForeignKey("tickets.ticket_no"), index=True)
    unit_id: Mapped[str] = mapped_column(ForeignKey("units.unit_id"), index=True)
    deadline: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    marked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Reply(Base):
    """What a unit says it did (答复), and the hotline's verdict on it."""

    __tablename__ = "replies"
    __table_args__ = (
        Index("ix_replies_waiting", "created_at", postgresql_where="status = 'pending'"),
        # A unit's answers, newest first: the evidence for its next reply or return.
        Index(
            "ix_replies_unit_answered",
            "unit_id",
            "created_at",
            postgresql_where="status = 'accepted'",
        ),
        Index("ix_replies_two_answers", "unit_id", postgresql_where="earlier_answers IS NOT NULL"),
    )

    reply_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_no: Mapped[str] = mapped_column(ForeignKey("tickets.ticket_no"), index=True)
    unit_id: Mapped[str] = mapped_column(ForeignKey("units.unit_id"))
    actions: Mapped[str] = mapped_column(Text)
    result: Mapped[str] = mapped_column(Text)
    citizen_contacted: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    status: Mapped[str] = mapped_column(Text)  # pending, accepted, sent_back, superseded
    reviewer: Mapped[str | None] = mapped_column(Text)
    review_note: Mapped[str | None] = mapped_column(Text)
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Held as a second answer: the unit's earlier answers it contradicts, and how (answers.py).
    earlier_answers: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONB(none_as_null=True))
    # The later reply a supervisor accepted in place of this one.
    superseded_by: Mapped[int | None] = mapped_column(Integer)


class UnitRequest(Base):
    """A unit's request to return a ticket (退单) or to extend its deadline (延期)."""

    __tablename__ = "unit_requests"
    __table_args__ = (
        Index("ix_unit_requests_pending", "ticket_no", "kind", "status"),
        Index("ix_unit_requests_waiting", "created_at", postgresql_where="status = 'pending'"),
        Index(
            "ix_unit_requests_overturned",
            "unit_id",
            postgresql_where="kind = 'return' AND status = 'rejected'",
        ),
    )

    request_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_no: Mapped[str] = mapped_column(ForeignKey("tickets.ticket_no"))
    unit_id: Mapped[str] = mapped_column(ForeignKey("units.unit_id"), index=True)
    kind: Mapped[str] = mapped_column(Text)  # return, extension
    reason: Mapped[str] = mapped_column(Text)
    current_deadline: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    requested_deadline: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    status: Mapped[str] = mapped_column(Text)  # pending, accepted, rejected, cancelled
    # A return: the unit's own earlier answers to questions that are this one (evidence.py).
    evidence: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONB(none_as_null=True))
    reviewer: Mapped[str | None] = mapped_column(Text)
    review_note: Mapped[str | None] = mapped_column(Text)
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class KnownAnswer(Base):
    """A published knowledge-base entry as dispatch keeps it (from `knowledge.entry_changed`):
    what a unit has answered publicly, evidence beside its replies and returns."""

    __tablename__ = "known_answers"
    __table_args__ = (
        Index(
            "ix_known_answers_unit_published",
            "unit_id",
            "changed_at",
            postgresql_where="status = 'published'",
        ),
    )

    entry_id: Mapped[str] = mapped_column(Text, primary_key=True)
    # The announcement's version: a later one replaces it, an earlier one is ignored.
    version: Mapped[int] = mapped_column(Integer)
    entry_version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(Text)
    unit_id: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(Text)
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    valid_from: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    valid_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
