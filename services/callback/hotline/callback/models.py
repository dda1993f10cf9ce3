"""The callback service's tables, all in the PostgreSQL schema `callback`."""

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, Text, UniqueConstraint, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from hotline.shared.db import service_metadata
from hotline.shared.messaging.deliveries import define_webhook_deliveries
from hotline.shared.messaging.tables import define_messaging_tables

SCHEMA = "callback"

metadata = service_metadata(SCHEMA)
messaging = define_messaging_tables(metadata)
webhook_deliveries = define_webhook_deliveries(metadata)


class Base(DeclarativeBase):
    metadata = metadata


class TicketView(Base):
    """What callback knows of a ticket from others' events: whom to call, which unit, and
    whether the unit's reply claimed it had contacted the citizen."""

    __tablename__ = "tickets"

    ticket_no: Mapped[str] = mapped_column(Text, primary_key=True)
    request_type: Mapped[str | None] = mapped_column(Text)
    caller_salutation: Mapped[str | None] = mapped_column(Text)
    caller_number: Mapped[str | None] = mapped_column(Text)
    unit_id: Mapped[str | None] = mapped_column(Text)
    unit_name: Mapped[str | None] = mapped_column(Text)
    claimed_contact: Mapped[bool | None] = mapped_column(Boolean)
    resolution: Mapped[str | None] = mapped_column(Text)
    # Each fact keeps the version of the event that told it, so late events lose no news.
    unit_version: Mapped[int] = mapped_column(Integer, default=0)
    claim_version: Mapped[int] = mapped_column(Integer, default=0)
    closed_version: Mapped[int] = mapped_column(Integer, default=0)


class Survey(Base):
    """One satisfaction survey (回访) of one closure of a ticket."""

    __tablename__ = "surveys"
    __table_args__ = (
        UniqueConstraint("ticket_no", "closed_version"),
        Index("ix_surveys_due", "state", "method", "due_at"),
    )

    survey_id: Mapped[str] = mapped_column(Text, primary_key=True)
    ticket_no: Mapped[str] = mapped_column(ForeignKey("tickets.ticket_no"))
    closed_version: Mapped[int] = mapped_column(Integer)
    unit_id: Mapped[str | None] = mapped_column(Text, index=True)
    method: Mapped[str] = mapped_column(Text)  # automatic, manual
    # scheduled, requesting (being sent to the call centre), requested, completed, unreachable
    state: Mapped[str] = mapped_column(Text)
    state_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    satisfaction: Mapped[str | None] = mapped_column(Text)
    unit_contacted: Mapped[bool | None] = mapped_column(Boolean)
    resolved: Mapped[bool | None] = mapped_column(Boolean)
    comment: Mapped[str | None] = mapped_column(Text)
    outbound_call_id: Mapped[str | None] = mapped_column(Text)
    contradicted: Mapped[bool] = mapped_column(Boolean, default=False)
    reopened: Mapped[bool] = mapped_column(Boolean, default=False)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class SurveyRequestAttempt(Base):
    """Each time we asked the call-centre software to run an automatic survey, and how it went."""

    __tablename__ = "survey_request_attempts"

    attempt_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    survey_id: Mapped[str] = mapped_column(ForeignKey("surveys.survey_id"), index=True)
    sent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status_code: Mapped[int | None] = mapped_column(Integer)
    succeeded: Mapped[bool] = mapped_column(Boolean)
    error: Mapped[str | None] = mapped_column(Text)


class SpotCheck(Base):
    """The province's own callback of a ticket (Attachment 3)."""

    __tablename__ = "spot_checks"

    event_id: Mapped[str] = mapped_column(Text, primary_key=True)
    ticket_no: Mapped[str] = mapped_column(Text, index=True)
    unit_id: Mapped[str | None] = mapped_column(Text, index=True)
    satisfaction: Mapped[str] = mapped_column(Text)
    comment: Mapped[str | None] = mapped_column(Text)
    checked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
