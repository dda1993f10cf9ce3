"""The knowledge base (知识库): one answer per question, for the agents' desk to give during a
call. Supervisors write, publish and retire entries (every edit a new version); a unit's
accepted reply to a consultation becomes a draft by itself, from dispatch's events; search is
BM25 over the shared text module's search terms (`knowledge_index`); tickets answered with an
entry record which one and which version."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast
from uuid import uuid4

from sqlalchemy import Row, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.intake.config import IntakeOptions
from hotline.intake.events import SOURCE
from hotline.intake.knowledge_index import KnowledgeIndex
from hotline.intake.knowledge_schemas import (
    KnowledgeEntries,
    KnowledgeEntryDetail,
    KnowledgeEntryIn,
    KnowledgeEntryPublic,
    KnowledgeHit,
    KnowledgeSearchResult,
    KnowledgeTicket,
    KnowledgeTickets,
    KnowledgeVersionPublic,
)
from hotline.intake.models import (
    KnowledgeEntry,
    KnowledgeReplyFact,
    KnowledgeRevision,
    KnowledgeVersion,
    Ticket,
    messaging,
)
from hotline.shared.clock import business_now
from hotline.shared.db import SessionFactory
from hotline.shared.domain.text import text_matcher
from hotline.shared.domain.units import seed_units
from hotline.shared.messaging.events import (
    KnowledgeEntryChanged,
    KnowledgeEntryChangedData,
    KnowledgeStatus,
    TicketClosed,
    TicketClosedData,
    TicketReplied,
    TicketReplyReviewed,
)
from hotline.shared.messaging.outbox import add_events
from hotline.shared.web.problems import Problem

# Candidates asked of the index beyond `limit`: some may have changed since it was built.
SPARE_CANDIDATES = 10
DRAFTED_BY = "dispatch"
DISPATCH_SOURCE = "/hotline/dispatch"


# --- writing -----------------------------------------------------------------------------------


async def create_entry(
    session: AsyncSession, body: KnowledgeEntryIn, supervisor: str, options: IntakeOptions
) -> KnowledgeEntryDetail:
    """A new entry, as a draft (version 1): a supervisor publishes it."""
    await _check(session, body, options)
    entry = KnowledgeEntry(
        entry_id=_new_id(),
        status="draft",
        current_version=1,
        source_ticket=body.source_ticket,
        created_by=supervisor,
    )
    session.add(entry)
    await session.flush()
    session.add(_version(entry.entry_id, 1, body, supervisor))
    await session.flush()
    return await get_entry(session, entry.entry_id)


async def edit_entry(
    session: AsyncSession,
    entry_id: str,
    body: KnowledgeEntryIn,
    supervisor: str,
    options: IntakeOptions,
) -> KnowledgeEntryDetail:
    """The entry's next version; its status stays (a published entry answers with it at once)."""
    entry = await _entry_for_update(session, entry_id)
    if entry.status == "retired":
        raise Problem(409, "entry-retired", f"Entry {entry_id} is retired.", field="entry_id")
    await _check(session, body, options)
    if body.source_ticket is not None and body.source_ticket != entry.source_ticket:
        # The reply it was drafted from is another ticket's: no longer this entry's source.
        entry.source_ticket, entry.source_reply_version = body.source_ticket, None
    entry.current_version += 1
    session.add(_version(entry_id, entry.current_version, body, supervisor))
    await session.flush()
    if entry.status == "published":
        await _advance_revision(session)
        await _announce(session, entry)
    return await get_entry(session, entry_id)


async def publish_entry(
    session: AsyncSession, entry_id: str, supervisor: str
) -> KnowledgeEntryDetail:
    """A draft becomes what the desk finds (from its `valid_from`, if that is later)."""
    entry = await _entry_for_update(session, entry_id)
    if entry.status != "draft":
        raise Problem(
            409, "entry-not-draft", f"Entry {entry_id} is {entry.status}.", field="entry_id"
        )
    entry.status, entry.published_by, entry.published_at = "published", supervisor, _now()
    await _advance_revision(session)
    await _announce(session, entry)
    await session.flush()
    return await get_entry(session, entry_id)


async def retire_entry(
    session: AsyncSession, entry_id: str, supervisor: str
) -> KnowledgeEntryDetail:
    """The entry answers no more; the tickets that got its answer stay listed under it."""
    entry = await _entry_for_update(session, entry_id)
    if entry.status == "retired":
        raise Problem(409, "entry-retired", f"Entry {entry_id} is retired.", field="entry_id")
    was_published = entry.status == "published"
    entry.status, entry.retired_by, entry.retired_at = "retired", supervisor, _now()
    if was_published:
        await _advance_revision(session)
        await _announce(session, entry)
    await session.flush()
    return await get_entry(session, entry_id)


# --- reading -----------------------------------------------------------------------------------


async def get_entry(session: AsyncSession, entry_id: str) -> KnowledgeEntryDetail:
    """An entry, its current content and every version."""
    entry = await session.get(KnowledgeEntry, entry_id)
    if entry is None:
        raise _not_found(entry_id)
    versions = (
        await session.scalars(
            select(KnowledgeVersion)
            .where(KnowledgeVersion.entry_id == entry_id)
            .order_by(KnowledgeVersion.version)
        )
    ).all()
    current = next(v for v in versions if v.version == entry.current_version)
    return KnowledgeEntryDetail(
        **_public(entry, current).model_dump(),
        versions=[KnowledgeVersionPublic.model_validate(v, from_attributes=True) for v in versions],
    )


async def list_drafts(session: AsyncSession, limit: int) -> KnowledgeEntries:
    """The drafts waiting for a supervisor (those made from units' replies among them), the
    oldest first."""
    rows = await session.execute(
        select(KnowledgeEntry, KnowledgeVersion)
        .join(
            KnowledgeVersion,
            (KnowledgeVersion.entry_id == KnowledgeEntry.entry_id)
            & (KnowledgeVersion.version == KnowledgeEntry.current_version),
        )
        .where(KnowledgeEntry.status == "draft")
        .order_by(KnowledgeEntry.created_at, KnowledgeEntry.entry_id)
        .limit(limit)
    )
    return KnowledgeEntries(entries=[_public(entry, current) for entry, current in rows.all()])


async def search(
    session: AsyncSession,
    index: KnowledgeIndex,
    sessions: SessionFactory,
    *,
    query: str,
    category: str | None,
    unit: str | None,
    limit: int,
    at: datetime | None,
    options: IntakeOptions,
) -> KnowledgeSearchResult:
    """Published entries valid at `at` (default now) best matching the question, BM25-ranked."""
    if category is not None and category not in options.categories:
        raise Problem.invalid([{"field": "category", "message": f"unknown category {category}"}])
    moment = at or _now()
    terms = text_matcher().search_terms(query)
    snapshot = await index.current(session, sessions)
    candidates = snapshot.search(
        terms, limit=limit + SPARE_CANDIDATES, at=moment, category=category, unit=unit
    )
    current = {
        row.entry_id: row for row in await _current_rows(session, [c.key for c in candidates])
    }
    hits = []
    for candidate in candidates:
        row = current.get(candidate.key)
        if row is None or not _answers(row, moment, category, unit):
            continue  # changed since the index was built
        hits.append(
            KnowledgeHit(
                entry_id=row.entry_id,
                version=row.current_version,
                question=row.question,
                answer=row.answer,
                unit_id=row.unit_id,
                category=row.category,
                valid_until=row.valid_until,
                score=candidate.score,
            )
        )
    return KnowledgeSearchResult(query=query, terms=terms, at=moment, hits=hits[:limit])


async def tickets_of(session: AsyncSession, entry_id: str, version: int | None) -> KnowledgeTickets:
    """The tickets whose callers were given this entry's answer (of one version, if asked)."""
    if await session.get(KnowledgeEntry, entry_id) is None:
        raise _not_found(entry_id)
    statement = (
        select(Ticket)
        .where(Ticket.knowledge_entry_id == entry_id)
        .order_by(Ticket.accepted_at, Ticket.ticket_no)
    )
    if version is not None:
        statement = statement.where(Ticket.knowledge_version == version)
    rows = (await session.scalars(statement)).all()
    return KnowledgeTickets(
        entry_id=entry_id,
        tickets=[KnowledgeTicket.model_validate(row, from_attributes=True) for row in rows],
    )


async def published_version(session: AsyncSession, entry_id: str) -> int:
    """The version of a published entry an agent answered with; a 422 naming
    `knowledge_entry_id` if there is no such entry or it is not published."""
    entry = await session.get(KnowledgeEntry, entry_id)
    if entry is None or entry.status != "published":
        state = "does not exist" if entry is None else f"is {entry.status}"
        raise Problem.invalid(
            [{"field": "knowledge_entry_id", "message": f"entry {entry_id} {state}"}]
        )
    return entry.current_version


# --- drafts from dispatch's events ------------------------------------------------------------


async def on_reply(session: AsyncSession, event: TicketReplied) -> None:
    """Keep a unit's reply text until (or since) its review: an accepted one makes a draft."""
    await _note_fact(session, event.data.ticket_no, "reply", event, event.data.result)


async def on_reply_reviewed(session: AsyncSession, event: TicketReplyReviewed) -> None:
    """An accepted reply to a consultation becomes a draft entry, once its text is here."""
    if event.data.outcome == "accepted":
        await _note_fact(session, event.data.ticket_no, "accepted", event, None)


async def on_closed(session: AsyncSession, event: TicketClosed) -> None:
    """Dispatch closes a ticket only with a reply it accepted, by a person (announced as a
    review too) or by itself (`auto_accept_replies`, announced by the closure alone)."""
    if event.source == DISPATCH_SOURCE:
        await _note_fact(session, event.data.ticket_no, "closed", event, None)


async def _note_fact(
    session: AsyncSession,
    ticket_no: str,
    kind: str,
    event: TicketReplied | TicketReplyReviewed | TicketClosed,
    text: str | None,
) -> None:
    data = event.data
    await session.execute(
        pg_insert(KnowledgeReplyFact)
        .values(
            ticket_no=ticket_no,
            kind=kind,
            version=event.version,
            # A closure names the unit, not its id: it accepts the last reply, whoever sent it.
            unit_id=data.handling_unit if isinstance(data, TicketClosedData) else data.unit_id,
            text=text,
            at=data.closed_at if isinstance(data, TicketClosedData) else data.at,
        )
        .on_conflict_do_nothing()
    )
    await _draft_if_ready(session, ticket_no)


async def _draft_if_ready(session: AsyncSession, ticket_no: str) -> None:
    """Each acceptance (a review, or dispatch's closure) with the reply it accepted (the latest
    before it) makes one draft; a redelivered event, or the closure after a review, finds it
    made."""
    facts = (
        await session.scalars(
            select(KnowledgeReplyFact).where(KnowledgeReplyFact.ticket_no == ticket_no)
        )
    ).all()
    replies = sorted((f for f in facts if f.kind == "reply"), key=lambda f: f.version)
    accepted = [f for f in facts if f.kind in ("accepted", "closed")]
    if not replies or not accepted:
        return
    ticket = await session.get(Ticket, ticket_no)
    if ticket is None or ticket.request_type != "consultation":
        return
    for review in accepted:
        reviewed = [
            r
            for r in replies
            if r.version < review.version
            and (review.kind == "closed" or r.unit_id == review.unit_id)
        ]
        if not reviewed or not reviewed[-1].text:
            continue
        reply = reviewed[-1]
        entry_id = await session.scalar(
            pg_insert(KnowledgeEntry)
            .values(
                entry_id=_new_id(),
                status="draft",
                current_version=1,
                source_ticket=ticket_no,
                source_reply_version=reply.version,
                created_by=DRAFTED_BY,
            )
            .on_conflict_do_nothing(index_elements=["source_ticket", "source_reply_version"])
            .returning(KnowledgeEntry.entry_id)
        )
        if entry_id is None:
            continue
        body = KnowledgeEntryIn.model_construct(
            question=ticket.content,
            answer=reply.text or "",
            unit_id=reply.unit_id,
            category=ticket.category,
            valid_from=None,
            valid_until=None,
            source_ticket=ticket_no,
            note=f"{reply.unit_id}对工单{ticket_no}的答复，经审核通过",
        )
        session.add(_version(entry_id, 1, body, reply.unit_id))
    await session.flush()


# --- helpers ----------------------------------------------------------------------------------


async def _check(session: AsyncSession, body: KnowledgeEntryIn, options: IntakeOptions) -> None:
    errors = []
    if body.category not in options.categories:
        errors.append({"field": "category", "message": f"unknown category {body.category}"})
    if body.unit_id not in {unit.unit_id for unit in seed_units()}:
        errors.append({"field": "unit_id", "message": f"unknown unit {body.unit_id}"})
    if body.valid_from and body.valid_until and body.valid_until <= body.valid_from:
        errors.append({"field": "valid_until", "message": "valid_until is not after valid_from"})
    if body.source_ticket is not None and await session.get(Ticket, body.source_ticket) is None:
        errors.append({"field": "source_ticket", "message": f"no ticket {body.source_ticket}"})
    if errors:
        raise Problem.invalid(errors)


def _version(entry_id: str, version: int, body: KnowledgeEntryIn, editor: str) -> KnowledgeVersion:
    terms = text_matcher().search_document(body.question, body.answer)
    return KnowledgeVersion(
        entry_id=entry_id,
        version=version,
        question=body.question,
        answer=body.answer,
        unit_id=body.unit_id,
        category=body.category,
        valid_from=body.valid_from,
        valid_until=body.valid_until,
        search_terms=" ".join(terms),
        edited_by=editor,
        note=body.note,
    )


def announcement_version(content_version: int, status: str) -> int:
    """The version of an entry's `knowledge.entry_changed`: it grows with every announcement,
    as an entry only moves forward (draft, published, retired; a retired one is never edited)
    and each edit raises its content version."""
    return content_version * 3 + ("draft", "published", "retired").index(status)


async def _announce(session: AsyncSession, entry: KnowledgeEntry) -> None:
    """Tell the other services what this entry answers now (dispatch keeps it as evidence)."""
    current = await session.scalar(
        select(KnowledgeVersion).where(
            KnowledgeVersion.entry_id == entry.entry_id,
            KnowledgeVersion.version == entry.current_version,
        )
    )
    assert current is not None
    event = KnowledgeEntryChanged(
        source=SOURCE,
        subject=entry.entry_id,
        version=announcement_version(entry.current_version, entry.status),
        data=KnowledgeEntryChangedData(
            entry_id=entry.entry_id,
            entry_version=entry.current_version,
            status=cast(KnowledgeStatus, entry.status),
            question=current.question,
            answer=current.answer,
            unit_id=current.unit_id,
            category=current.category,
            valid_from=current.valid_from,
            valid_until=current.valid_until,
            changed_at=_now(),
        ),
    )
    await add_events(session, messaging, event)


async def _advance_revision(session: AsyncSession) -> None:
    """Every process's index is stale from this transaction's commit on."""
    await session.execute(update(KnowledgeRevision).values(revision=KnowledgeRevision.revision + 1))


async def _entry_for_update(session: AsyncSession, entry_id: str) -> KnowledgeEntry:
    entry = await session.scalar(
        select(KnowledgeEntry).where(KnowledgeEntry.entry_id == entry_id).with_for_update()
    )
    if entry is None:
        raise _not_found(entry_id)
    return entry


async def _current_rows(session: AsyncSession, entry_ids: Sequence[str]) -> Sequence[Any]:
    if not entry_ids:
        return []
    rows = await session.execute(
        select(
            KnowledgeEntry.entry_id,
            KnowledgeEntry.status,
            KnowledgeEntry.current_version,
            KnowledgeVersion.question,
            KnowledgeVersion.answer,
            KnowledgeVersion.unit_id,
            KnowledgeVersion.category,
            KnowledgeVersion.valid_from,
            KnowledgeVersion.valid_until,
        )
        .join(
            KnowledgeVersion,
            (KnowledgeVersion.entry_id == KnowledgeEntry.entry_id)
            & (KnowledgeVersion.version == KnowledgeEntry.current_version),
        )
        .where(KnowledgeEntry.entry_id.in_(entry_ids))
    )
    return rows.all()


def _answers(row: Row[Any], at: datetime, category: str | None, unit: str | None) -> bool:
    return (
        row.status == "published"
        and (row.valid_from is None or row.valid_from <= at)
        and (row.valid_until is None or at < row.valid_until)
        and (category is None or row.category == category)
        and (unit is None or row.unit_id == unit)
    )


def _public(entry: KnowledgeEntry, current: KnowledgeVersion) -> KnowledgeEntryPublic:
    return KnowledgeEntryPublic(
        entry_id=entry.entry_id,
        status=entry.status,
        current_version=entry.current_version,
        question=current.question,
        answer=current.answer,
        unit_id=current.unit_id,
        category=current.category,
        valid_from=current.valid_from,
        valid_until=current.valid_until,
        source_ticket=entry.source_ticket,
        published_at=entry.published_at,
        retired_at=entry.retired_at,
    )


def _not_found(entry_id: str) -> Problem:
    return Problem(404, "entry-not-found", f"No knowledge entry {entry_id}.", field="entry_id")


def _new_id() -> str:
    return f"K{uuid4().hex[:12].upper()}"


def _now() -> datetime:
    return business_now()
