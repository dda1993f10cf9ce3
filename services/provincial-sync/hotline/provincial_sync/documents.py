"""Upload documents, kept from the others' events in batches: every ticket event stored as it
came, each touched ticket folded again into the document the province receives (with its call
record, dispatch steps and survey), call records kept and sent on their own too.

A document gets a new version only when what the province would receive changes, so an event
delivered twice changes nothing; the newest version replaces a pending older one. Each new
version goes through the gate: the province's rules (Attachment 4) in the mode set per code.
"""

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, func, select, text, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.provincial_sync import metrics
from hotline.provincial_sync.config import SyncOptions
from hotline.provincial_sync.models import CallRecord, Document, TicketEvent
from hotline.shared import ticket_events
from hotline.shared.clock import business_now, wall_now
from hotline.shared.db import after_commit
from hotline.shared.domain import quality
from hotline.shared.domain.fold import (
    TICKET_EVENT_TYPES,
    call_document,
    fold,
)
from hotline.shared.domain.quality import CallDocument, RuleContext
from hotline.shared.messaging.events import CallRecorded, Event, RecordKind

EVENT_TYPES = (*TICKET_EVENT_TYPES, "call.recorded", "callback.completed")

TICKET_EVENTS = cast(Table, TicketEvent.__table__)
CALLS = cast(Table, CallRecord.__table__)
DOCUMENTS = cast(Table, Document.__table__)
# One projecting transaction at a time, across replicas: a ticket and its call record arrive on
# different partitions (and a new ticket has no row yet to lock), so each batch must see what
# the one before it stored. Projection is cheap next to uploading; this costs little.
PROJECTION_LOCK = text("SELECT pg_advisory_xact_lock(hashtext('hotline.sync.projection'))")


@dataclass(frozen=True)
class Candidate:
    """What a record would be uploaded as now."""

    kind: RecordKind
    record_id: str
    content: dict[str, Any]
    changed_at: datetime
    findings: list[quality.Finding]
    unit_id: str | None = None
    unit_name: str | None = None
    call_id: str | None = None

    @property
    def content_hash(self) -> str:
        canonical = json.dumps(self.content, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()


def gate(
    findings: Sequence[quality.Finding], options: SyncOptions
) -> tuple[list[dict[str, Any]], bool]:
    """The findings as recorded (each with its mode), and whether any of them blocks."""
    recorded = [
        {"code": f.code, "field": f.field, "message": f.message, "mode": options.mode_of(f.code)}
        for f in findings
        if options.mode_of(f.code) != "off"
    ]
    return recorded, any(f["mode"] == "block" for f in recorded)


def rule_context(options: SyncOptions) -> RuleContext:
    # Units are not checked against a list here: the units a ticket names come from dispatch's
    # own registry (T04's unknown-unit branch is for /v1/quality/check on scoring).
    return RuleContext(now=business_now(), city_code=options.city_code)


async def apply(session: AsyncSession, events: Sequence[Event], options: SyncOptions) -> None:
    """Take a batch of events into the documents (idempotent: every write here is keyed, and
    an unchanged document keeps its version)."""
    await session.execute(PROJECTION_LOCK)
    touched = await ticket_events.store(session, TICKET_EVENTS, events)
    calls = {e.data.call_id: e for e in events if isinstance(e, CallRecorded)}
    if calls:
        await session.execute(
            pg_insert(CALLS).on_conflict_do_nothing(),
            [
                {
                    "call_id": call_id,
                    "recorded_at": event.time,
                    "document": call_document(event.data).model_dump(mode="json"),
                }
                for call_id, event in calls.items()
            ],
        )
        touched |= set(
            await session.scalars(
                select(Document.record_id).where(
                    Document.kind == "ticket", Document.call_id.in_(list(calls))
                )
            )
        )
        context = rule_context(options)
        await put_versions(
            session,
            [
                Candidate(
                    "call",
                    call_id,
                    document.model_dump(mode="json"),
                    event.time,
                    quality.check_call(document, context),
                )
                for call_id, event in calls.items()
                for document in [call_document(event.data)]
            ],
            options,
        )
    await refold(session, touched, options)


async def refold(session: AsyncSession, ticket_nos: Iterable[str], options: SyncOptions) -> None:
    """Fold each ticket again from all its events (with its call record) into its document."""
    ticket_nos = sorted(set(ticket_nos))
    if not ticket_nos:
        return
    events = await ticket_events.load(session, TICKET_EVENTS, ticket_nos)
    folded = {ticket_no: fold(ticket_no, events[ticket_no]) for ticket_no in ticket_nos}
    call_ids = sorted(
        {f.bundle.ticket.call_id for f in folded.values() if f.bundle and f.bundle.ticket.call_id}
    )
    calls = {
        row.call_id: (CallDocument.model_validate(row.document), row.recorded_at)
        for row in await session.execute(
            select(CallRecord.call_id, CallRecord.document, CallRecord.recorded_at).where(
                CallRecord.call_id.in_(call_ids)
            )
        )
    }
    context = rule_context(options)
    candidates = []
    for ticket_no, result in folded.items():
        if result.bundle is None:
            continue  # nothing to send before the ticket itself has come
        bundle, call_id = result.bundle, result.bundle.ticket.call_id
        changed_at = max(event.occurred_at for event in events[ticket_no])
        if call_id in calls:
            call, recorded_at = calls[call_id]
            bundle = bundle.model_copy(update={"call": call})
            changed_at = max(changed_at, recorded_at)
        unit_name = result.values["unit_name"]
        unit_ids = {name: uid for uid, name in result.units_seen.items()}
        candidates.append(
            Candidate(
                "ticket",
                ticket_no,
                bundle.model_dump(mode="json"),
                changed_at,
                quality.check_ticket(bundle, context, with_call=False),
                unit_id=unit_ids.get(unit_name),
                unit_name=unit_name,
                call_id=call_id,
            )
        )
    await put_versions(session, candidates, options)


async def put_versions(
    session: AsyncSession, candidates: Sequence[Candidate], options: SyncOptions
) -> int:
    """Store each candidate as its record's next version, unless it is what the record already
    holds; returns how many new versions there are."""
    if not candidates:
        return 0
    keys = [(c.kind, c.record_id) for c in candidates]
    current = {
        (row.kind, row.record_id): row
        for row in await session.execute(
            select(
                Document.kind,
                Document.record_id,
                Document.version,
                Document.content_hash,
            ).where(tuple_(Document.kind, Document.record_id).in_(keys))
        )
    }
    rows: list[dict[str, Any]] = []
    for candidate in candidates:
        held = current.get((candidate.kind, candidate.record_id))
        digest = candidate.content_hash
        if held is not None and held.content_hash == digest:
            continue
        findings, blocks = gate(candidate.findings, options)
        rows.append(
            {
                "kind": candidate.kind,
                "record_id": candidate.record_id,
                "version": (held.version if held else 0) + 1,
                "content": candidate.content,
                "content_hash": digest,
                "changed_at": candidate.changed_at,
                "status": "blocked" if blocks else "pending",
                "findings": findings,
                "unit_id": candidate.unit_id,
                "unit_name": candidate.unit_name,
                "call_id": candidate.call_id,
                "pending_since": candidate.changed_at,
            }
        )
    if not rows:
        return 0
    rows.sort(key=lambda row: (row["kind"], row["record_id"]))  # the uploader locks so too
    upsert = pg_insert(DOCUMENTS)
    replaced = [name for name in rows[0] if name not in ("kind", "record_id", "pending_since")]
    await session.execute(
        upsert.on_conflict_do_update(
            index_elements=["kind", "record_id"],
            set_={name: upsert.excluded[name] for name in replaced}
            | {
                "refusals": 0,
                "next_attempt_at": func.now(),
                "updated_at": func.now(),
                # The oldest change the province has not got yet stays the oldest.
                "pending_since": func.coalesce(
                    DOCUMENTS.c.pending_since, upsert.excluded.changed_at
                ),
            },
        ),
        rows,
    )

    def count() -> None:
        for row in rows:
            metrics.DOCUMENT_VERSIONS.labels(row["kind"], row["status"]).inc()
            for finding in row["findings"]:
                metrics.GATE_FINDINGS.labels(finding["code"], finding["mode"]).inc()

    after_commit(session, count)
    return len(rows)


async def regate_blocked(session: AsyncSession, options: SyncOptions) -> int:
    """Judge the blocked documents again by the modes set now (a rule switched to `warn` or
    `off` lets go of what it held); returns how many go up."""
    released = 0
    for document in await session.scalars(
        select(Document).where(Document.status == "blocked").with_for_update()
    ):
        if document.released_version == document.version:
            continue
        findings = [
            finding | {"mode": options.mode_of(finding["code"])}
            for finding in document.findings
            if options.mode_of(finding["code"]) != "off"
        ]
        document.findings = findings
        if not any(finding["mode"] == "block" for finding in findings):
            document.status, document.next_attempt_at = "pending", wall_now()
            released += 1
    return released
