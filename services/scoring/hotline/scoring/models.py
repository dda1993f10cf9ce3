"""The scoring service's tables, all in the PostgreSQL schema `scoring`: a read model built only
from the others' events (it owns no other service's tables), and the findings of the rules."""

from datetime import date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Float,
    Index,
    Integer,
    Text,
    UniqueConstraint,
    Uuid,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from hotline.shared.db import service_metadata
from hotline.shared.messaging.tables import define_messaging_tables
from hotline.shared.ticket_events import TicketEventColumns

SCHEMA = "scoring"

metadata = service_metadata(SCHEMA)
messaging = define_messaging_tables(metadata)


class Base(DeclarativeBase):
    metadata = metadata


class TicketEvent(TicketEventColumns, Base):
    """Every event about a ticket, as it came: the ticket's row is folded from them, so any
    order of arrival and any duplicate end in the same row."""


class ScoredTicket(Base):
    """One ticket as the bulletin counts it (a fold of its events)."""

    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_period_unit", "period", "unit_name"),
        Index("ix_tickets_period_category", "period", "category"),
    )

    ticket_no: Mapped[str] = mapped_column(Text, primary_key=True)
    # The local (Asia/Shanghai) date it was accepted: the period it belongs to.
    period: Mapped[date | None] = mapped_column(Date)
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    channel: Mapped[str | None] = mapped_column(Text)
    request_type: Mapped[str | None] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(Text)
    handling_mode: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str | None] = mapped_column(Text)
    forwarded: Mapped[bool] = mapped_column(Boolean, default=False)
    # The final handling unit, or the hotline's own row when it was not forwarded.
    unit_name: Mapped[str | None] = mapped_column(Text)
    deadline: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    replied_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Marked overdue by dispatch, or replied after its deadline in any round (once, for good).
    marked_overdue: Mapped[bool] = mapped_column(Boolean, default=False)
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    # The first completed survey's verdict (satisfied, basically_satisfied, unsatisfied).
    satisfaction: Mapped[str | None] = mapped_column(Text)
    call_id: Mapped[str | None] = mapped_column(Text, index=True)
    version: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class ScoredCall(Base):
    """One call record (话单), for the bulletin's call counts and the call rules."""

    __tablename__ = "calls"
    __table_args__ = (Index("ix_calls_period_direction", "period", "direction", "line"),)

    call_id: Mapped[str] = mapped_column(Text, primary_key=True)
    period: Mapped[date] = mapped_column(Date)
    line: Mapped[str] = mapped_column(Text)
    direction: Mapped[str] = mapped_column(Text)
    agent_id: Mapped[str | None] = mapped_column(Text)
    connected_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    document: Mapped[dict[str, Any]] = mapped_column(JSONB)


class SpotCheck(Base):
    """The province's own callback of one of our tickets (Attachment 3)."""

    __tablename__ = "spot_checks"
    __table_args__ = (Index("ix_spot_checks_period", "period"),)

    event_id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    ticket_no: Mapped[str] = mapped_column(Text)
    unit_id: Mapped[str | None] = mapped_column(Text)
    satisfaction: Mapped[str] = mapped_column(Text)
    checked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    period: Mapped[date] = mapped_column(Date)


class KnownUnit(Base):
    """A handling unit's name, from the bulletin's list and from dispatch's events."""

    __tablename__ = "units"

    name: Mapped[str] = mapped_column(Text, primary_key=True)
    unit_id: Mapped[str | None] = mapped_column(Text, index=True)


class Finding(Base):
    """A data-quality rule a record breaks (Attachment 4), as of the record's last change."""

    __tablename__ = "findings"
    __table_args__ = (
        UniqueConstraint("subject", "code", "field"),
        Index("ix_findings_period_code", "period", "code"),
    )

    finding_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    subject_kind: Mapped[str] = mapped_column(Text)  # ticket, call
    subject: Mapped[str] = mapped_column(Text)
    code: Mapped[str] = mapped_column(Text)
    field: Mapped[str] = mapped_column(Text)
    message: Mapped[str] = mapped_column(Text)
    period: Mapped[date | None] = mapped_column(Date)
    unit_name: Mapped[str | None] = mapped_column(Text)
    found_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Upload(Base):
    """A version of one of our records the province accepted, and how long after its change
    (provincial-sync's `upload.accepted`): the input of the timeliness points."""

    __tablename__ = "uploads"
    __table_args__ = (Index("ix_uploads_period", "period"),)

    kind: Mapped[str] = mapped_column(Text, primary_key=True)
    record_id: Mapped[str] = mapped_column(Text, primary_key=True)
    record_version: Mapped[int] = mapped_column(Integer, primary_key=True)
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    accepted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    delay_seconds: Mapped[float] = mapped_column(Float)
    # The local date of the change: the period the upload counts in.
    period: Mapped[date] = mapped_column(Date)


class ProvinceFinding(Base):
    """A finding the province itself reported on a record we uploaded (its audit, as against
    our own findings, which predict it)."""

    __tablename__ = "province_findings"
    __table_args__ = (Index("ix_province_findings_period_code", "period", "code"),)

    event_id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    kind: Mapped[str] = mapped_column(Text)
    record_id: Mapped[str] = mapped_column(Text)
    code: Mapped[str] = mapped_column(Text)
    field: Mapped[str | None] = mapped_column(Text)
    message: Mapped[str] = mapped_column(Text)
    unit_name: Mapped[str | None] = mapped_column(Text)
    found_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    period: Mapped[date] = mapped_column(Date)
