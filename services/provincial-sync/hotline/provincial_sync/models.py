"""The provincial-sync service's tables, all in the PostgreSQL schema `provincial_sync`: the
events its documents are folded from, the documents as they go up (one row per record, holding
its newest version), every upload attempt, and what the province reported back."""

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    BigInteger,
    DateTime,
    Float,
    Index,
    Integer,
    Text,
    Uuid,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from hotline.shared.db import service_metadata
from hotline.shared.messaging.tables import define_messaging_tables
from hotline.shared.ticket_events import TicketEventColumns

SCHEMA = "provincial_sync"

metadata = service_metadata(SCHEMA)
messaging = define_messaging_tables(metadata)


class Base(DeclarativeBase):
    metadata = metadata


class TicketEvent(TicketEventColumns, Base):
    """Every event about a ticket, as it came: its document is folded from them."""


class CallRecord(Base):
    """A call record (话单) as the rules read it; it also goes into its ticket's document."""

    __tablename__ = "calls"

    call_id: Mapped[str] = mapped_column(Text, primary_key=True)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    document: Mapped[dict[str, Any]] = mapped_column(JSONB)


# A document's status: `pending` (its newest version waits to go up), `blocked` (the gate found
# what the province would deduct for: on the worklist until a corrected version comes or a
# supervisor releases it), `parked` (the province kept refusing it), `synced` (the province
# holds its newest version).
DOCUMENT_STATUSES = ("pending", "blocked", "parked", "synced")


class Document(Base):
    """One record as the province receives it, at its newest version."""

    __tablename__ = "documents"
    __table_args__ = (
        # What the uploader claims: pending documents, oldest change first (the few waiting
        # out a refusal are skipped as the scan passes them).
        Index("ix_documents_pending", "changed_at", postgresql_where=text("status = 'pending'")),
        Index("ix_documents_status_unit", "status", "unit_name"),
        Index("ix_documents_accepted_at", "accepted_at"),
        Index("ix_documents_call_id", "call_id", postgresql_where=text("kind = 'ticket'")),
    )

    kind: Mapped[str] = mapped_column(Text, primary_key=True)  # ticket, call
    record_id: Mapped[str] = mapped_column(Text, primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    content: Mapped[dict[str, Any]] = mapped_column(JSONB)
    content_hash: Mapped[str] = mapped_column(Text)
    # When the record last changed where it lives (its newest event): timeliness counts from it.
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(Text)
    # What the gate found on this version: [{code, field, message, mode}].
    findings: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, server_default="[]")
    unit_id: Mapped[str | None] = mapped_column(Text)
    unit_name: Mapped[str | None] = mapped_column(Text)
    call_id: Mapped[str | None] = mapped_column(Text)
    released_version: Mapped[int | None] = mapped_column(Integer)
    released_by: Mapped[str | None] = mapped_column(Text)
    release_reason: Mapped[str | None] = mapped_column(Text)
    uploaded_version: Mapped[int] = mapped_column(Integer, server_default="0")
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    refusals: Mapped[int] = mapped_column(Integer, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    # An uploader holds a claimed document until then (so two never send one record at once);
    # only the request that holds the lease (its batch id) gives it back.
    leased_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    lease_id: Mapped[UUID | None] = mapped_column(Uuid)
    # The change of the oldest version the province does not hold yet: timeliness counts from
    # it, so a version held back (blocked, refused) and then replaced still counts as late.
    pending_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_code: Mapped[str | None] = mapped_column(Text)
    last_message: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class UploadAttempt(Base):
    """One document version in one request to the province, and what came of it."""

    __tablename__ = "upload_attempts"
    __table_args__ = (
        Index("ix_upload_attempts_record", "kind", "record_id"),
        Index("ix_upload_attempts_at", "attempted_at"),
    )

    attempt_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    batch_id: Mapped[UUID] = mapped_column(Uuid)
    kind: Mapped[str] = mapped_column(Text)
    record_id: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer)
    idempotency_key: Mapped[str] = mapped_column(Text)
    attempted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # accepted, duplicate, superseded, refused, failed (the whole request), rate-limited.
    outcome: Mapped[str] = mapped_column(Text)
    http_status: Mapped[int | None] = mapped_column(Integer)
    code: Mapped[str | None] = mapped_column(Text)
    message: Mapped[str | None] = mapped_column(Text)
    latency_ms: Mapped[float] = mapped_column(Float)


class ProvinceReport(Base):
    """One item the province sent back (a spot check or a finding), and what became of it:
    `applied`, `duplicate`, or `unknown-record` (kept, for a person to look at)."""

    __tablename__ = "province_reports"

    report_key: Mapped[str] = mapped_column(Text, primary_key=True)
    kind: Mapped[str] = mapped_column(Text)  # spot-check, finding
    record_id: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
