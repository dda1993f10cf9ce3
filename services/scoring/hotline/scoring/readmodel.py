"""The read model, kept from the others' events in batches: every ticket event stored as it came,
each touched ticket folded again from all of its events, call records and spot checks kept, and
the rules run on every record that changed (its findings replaced by what it breaks now)."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, delete, func, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.scoring.models import (
    Finding,
    KnownUnit,
    ProvinceFinding,
    ScoredCall,
    ScoredTicket,
    SpotCheck,
    TicketEvent,
    Upload,
)
from hotline.shared import ticket_events
from hotline.shared.clock import business_now
from hotline.shared.domain import quality
from hotline.shared.domain.fold import (
    TICKET_EVENT_TYPES,
    call_document,
    fold,
)
from hotline.shared.domain.quality import CallDocument, RuleContext
from hotline.shared.domain.working_days import LOCAL_TIME
from hotline.shared.messaging.events import (
    CallbackSpotChecked,
    CallRecorded,
    Event,
    ProvinceFindingReported,
    UploadAccepted,
)

# What the read model takes from the topics.
EVENT_TYPES = (
    *TICKET_EVENT_TYPES,
    "call.recorded",
    "callback.completed",
    "callback.spot_checked",
    "upload.accepted",
    "upload.finding_reported",
)


# Tables for the bulk statements: one statement compiled once, the rows passed as parameters
# (executemany), rather than one VALUES list per batch that has to be compiled every time.
TICKET_EVENTS = cast(Table, TicketEvent.__table__)
SPOT_CHECKS = cast(Table, SpotCheck.__table__)
CALLS = cast(Table, ScoredCall.__table__)
UNITS = cast(Table, KnownUnit.__table__)
FINDINGS = cast(Table, Finding.__table__)
UPLOADS = cast(Table, Upload.__table__)
PROVINCE_FINDINGS = cast(Table, ProvinceFinding.__table__)


@dataclass(frozen=True)
class RuleSettings:
    city_code: str
    call_grace: timedelta


async def apply(session: AsyncSession, events: Sequence[Event], rules: RuleSettings) -> None:
    """Take a batch of events into the read model (idempotent: the consumer already dropped
    the ones it had processed, and every write here is keyed)."""
    touched = await ticket_events.store(session, TICKET_EVENTS, events)
    calls = [event for event in events if isinstance(event, CallRecorded)]
    if calls:
        await _keep_calls(session, calls, rules)
    checks = [event for event in events if isinstance(event, CallbackSpotChecked)]
    if checks:
        await session.execute(
            pg_insert(SPOT_CHECKS).on_conflict_do_nothing(),
            [
                {
                    "event_id": check.id,
                    "ticket_no": check.data.ticket_no,
                    "unit_id": check.data.unit_id,
                    "satisfaction": check.data.satisfaction,
                    "checked_at": check.data.checked_at,
                    "period": check.data.checked_at.astimezone(LOCAL_TIME).date(),
                }
                for check in checks
            ],
        )
    await _keep_uploads(session, events)
    if calls:
        touched |= set(
            await session.scalars(
                select(ScoredTicket.ticket_no).where(
                    ScoredTicket.call_id.in_([call.data.call_id for call in calls])
                )
            )
        )
    await refold(session, touched, rules)


async def refold(session: AsyncSession, ticket_nos: Iterable[str], rules: RuleSettings) -> None:
    """Fold each ticket again from all its events, and check it against the rules."""
    ticket_nos = sorted(set(ticket_nos))
    if not ticket_nos:
        return
    events = await ticket_events.load(session, TICKET_EVENTS, ticket_nos)
    folded = {ticket_no: fold(ticket_no, events[ticket_no]) for ticket_no in ticket_nos}
    units = {uid: name for f in folded.values() for uid, name in f.units_seen.items()}
    if units:
        await session.execute(
            pg_insert(UNITS).on_conflict_do_nothing(index_elements=["name"]),
            [{"name": name, "unit_id": uid} for uid, name in units.items()],
        )
    rows = [result.values for result in folded.values()]
    upsert = pg_insert(cast(Table, ScoredTicket.__table__))
    await session.execute(
        upsert.on_conflict_do_update(
            index_elements=["ticket_no"],
            set_={name: upsert.excluded[name] for name in rows[0] if name != "ticket_no"}
            | {"updated_at": func.now()},
        ),
        rows,
    )
    call_ids = [
        r.bundle.ticket.call_id for r in folded.values() if r.bundle and r.bundle.ticket.call_id
    ]
    call_documents = {
        row.call_id: CallDocument.model_validate(row.document)
        for row in await session.execute(
            select(ScoredCall.call_id, ScoredCall.document).where(ScoredCall.call_id.in_(call_ids))
        )
    }
    context = await rule_context(session, rules)
    findings: list[dict[str, Any]] = []
    for ticket_no, result in folded.items():
        if result.bundle is None:
            continue
        bundle = result.bundle
        if bundle.ticket.call_id in call_documents:
            bundle = bundle.model_copy(update={"call": call_documents[bundle.ticket.call_id]})
        for found in quality.check_ticket(bundle, context, with_call=False):
            findings.append(_finding("ticket", ticket_no, found, result.values))
    await _replace_findings(session, "ticket", ticket_nos, findings)


async def _keep_calls(
    session: AsyncSession, calls: list[CallRecorded], rules: RuleSettings
) -> None:
    documents = {call.data.call_id: call_document(call.data) for call in calls}
    rows = [
        {
            "call_id": document.call_id,
            "period": document.started_at.astimezone(LOCAL_TIME).date(),
            "line": document.line,
            "direction": document.direction,
            "agent_id": document.agent_id,
            "connected_at": document.connected_at,
            "ended_at": document.ended_at,
            "document": document.model_dump(mode="json"),
        }
        for document in documents.values()
    ]
    await session.execute(pg_insert(CALLS).on_conflict_do_nothing(), rows)
    context = await rule_context(session, rules)
    findings = [
        _finding("call", document.call_id, found, {"period": row["period"], "unit_name": None})
        for document, row in zip(documents.values(), rows, strict=True)
        for found in quality.check_call(document, context)
    ]
    await _replace_findings(session, "call", list(documents), findings)


async def _keep_uploads(session: AsyncSession, events: Sequence[Event]) -> None:
    """What provincial-sync reports: accepted uploads (timeliness), the province's findings."""
    uploads = [e.data for e in events if isinstance(e, UploadAccepted)]
    if uploads:
        await session.execute(
            pg_insert(UPLOADS).on_conflict_do_nothing(),
            [
                {
                    "kind": u.kind,
                    "record_id": u.record_id,
                    "record_version": u.record_version,
                    "changed_at": u.changed_at,
                    "accepted_at": u.accepted_at,
                    "delay_seconds": u.delay_seconds,
                    "period": u.changed_at.astimezone(LOCAL_TIME).date(),
                }
                for u in uploads
            ],
        )
    found = [e for e in events if isinstance(e, ProvinceFindingReported)]
    if found:
        await session.execute(
            pg_insert(PROVINCE_FINDINGS).on_conflict_do_nothing(),
            [
                {
                    "event_id": e.id,
                    "kind": e.data.kind,
                    "record_id": e.data.record_id,
                    "code": e.data.code,
                    "field": e.data.field,
                    "message": e.data.message,
                    "unit_name": e.data.unit_name,
                    "found_at": e.data.found_at,
                    "period": e.data.found_at.astimezone(LOCAL_TIME).date(),
                }
                for e in found
            ],
        )


async def rule_context(session: AsyncSession, rules: RuleSettings) -> RuleContext:
    known = frozenset(await session.scalars(select(KnownUnit.name)))
    return RuleContext(
        now=business_now(),
        city_code=rules.city_code,
        known_units=known,
        call_grace=rules.call_grace,
    )


def _finding(
    kind: str, subject: str, found: quality.Finding, values: dict[str, Any]
) -> dict[str, Any]:
    return {
        "subject_kind": kind,
        "subject": subject,
        "code": found.code,
        "field": found.field,
        "message": found.message,
        "period": values.get("period"),
        "unit_name": values.get("unit_name"),
    }


async def _replace_findings(
    session: AsyncSession, kind: str, subjects: list[str], findings: list[dict[str, Any]]
) -> None:
    await session.execute(
        delete(Finding).where(Finding.subject_kind == kind, Finding.subject.in_(subjects))
    )
    if findings:
        unique = {(f["subject"], f["code"], f["field"]): f for f in findings}
        await session.execute(insert(FINDINGS), list(unique.values()))


async def phone_tickets_past_grace(
    session: AsyncSession, now: datetime, grace: timedelta, limit: int = 500
) -> list[str]:
    """Phone tickets whose call record has not come within the grace (T01), not yet found."""
    flagged = select(Finding.subject).where(Finding.code == "T01")
    rows = await session.scalars(
        select(ScoredTicket.ticket_no)
        .outerjoin(ScoredCall, ScoredCall.call_id == ScoredTicket.call_id)
        .where(
            ScoredTicket.channel == "phone",
            ScoredCall.call_id.is_(None),
            ScoredTicket.accepted_at < now - grace,
            ScoredTicket.accepted_at > now - grace - timedelta(days=30),
            ScoredTicket.ticket_no.not_in(flagged),
        )
        .limit(limit)
    )
    return list(rows)


__all__ = ["EVENT_TYPES", "RuleSettings", "apply", "refold"]
