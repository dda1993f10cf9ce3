"""Intake's domain logic: record calls, accept tickets (outage notices, repeat calls), take
notices, read tickets back. What happens to a ticket afterwards is `lifecycle`; repeat calls in
the database `repeats`; bursts of one issue `bursts`."""

from collections.abc import Callable
from datetime import datetime
from functools import cache
from typing import NoReturn, cast
from uuid import uuid4

from asyncpg import Record, UniqueViolationError
from sqlalchemy import Table, bindparam, insert, select, union_all
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.intake import knowledge, metrics, repeats
from hotline.intake.config import IntakeOptions
from hotline.intake.events import SOURCE, accepted_events, phone
from hotline.intake.models import (
    CallRecord,
    OutageNotice,
    Ticket,
    messaging,
    ticket_number_sequence,
    webhook_deliveries,
)
from hotline.intake.repeat_calls import Candidate, RepeatDecision
from hotline.intake.schemas import (
    CallAccepted,
    CallRecordIn,
    MergeIn,
    NoticeAccepted,
    NoticeIn,
    TicketAccepted,
    TicketIn,
    TicketPublic,
)
from hotline.intake.validation import call_errors, notice_errors, ticket_errors
from hotline.shared.clock import business_now
from hotline.shared.db import after_commit
from hotline.shared.domain import phones
from hotline.shared.domain.text import encode_terms, text_matcher
from hotline.shared.domain.units import HOTLINE_UNIT
from hotline.shared.domain.working_days import LOCAL_TIME
from hotline.shared.messaging import deliveries
from hotline.shared.messaging.deliveries import Answer
from hotline.shared.messaging.events import CallRecorded, CallRecordedData
from hotline.shared.messaging.outbox import add_events, outbox_rows
from hotline.shared.prepared import Prepared
from hotline.shared.web.problems import Problem
from hotline.shared.web.webhooks import VerifiedWebhook

TICKETS = cast(Table, Ticket.__table__)
# The hot path's statements, built and compiled once, their values passed as parameters, run on
# the session's asyncpg connection (a statement built per request costs more than it runs).
ACTIVE_NOTICES = Prepared(
    select(
        OutageNotice.notice_id,
        OutageNotice.issuer,
        OutageNotice.area_codes,
        OutageNotice.keywords,
        OutageNotice.starts_at,
        OutageNotice.text,
    ).where(
        OutageNotice.category == bindparam("category"),
        OutageNotice.starts_at <= bindparam("at"),
        OutageNotice.ends_at >= bindparam("at"),
    )
)
NEXT_SERIAL = Prepared(select(ticket_number_sequence.next_value()))
# Every column the row sets (held_by_dispatch has a server default and is set all the same);
# the database stamps the times.
INSERTED_COLUMNS = [c.key for c in TICKETS.columns if c.key not in ("created_at", "updated_at")]


@cache
def _accepting(events: int, event_columns: tuple[str, ...]) -> Prepared:
    """The ticket, its events (one or two) and the webhook's delivery with its answer in one
    statement, atomic by itself: returns the ticket's number, or nothing when the sender already
    sent this ticket (and then nothing is written). A webhook id used for another message makes
    it fail with a unique violation, and nothing is written either."""
    inserted = (
        pg_insert(TICKETS)
        .values({name: bindparam(name, type_=TICKETS.c[name].type) for name in INSERTED_COLUMNS})
        .on_conflict_do_nothing(index_elements=["sender", "source_ticket_id"])
        .returning(TICKETS.c.ticket_no)
        .cte("inserted")
    )
    outbox = messaging.outbox
    rows = [
        select(
            *(bindparam(f"e{i}_{name}", type_=outbox.c[name].type) for name in event_columns)
        ).select_from(inserted)
        for i in range(events)
    ]
    announced = (
        insert(outbox).from_select(event_columns, rows[0] if events == 1 else union_all(*rows))
    ).cte("announced")
    delivered = deliveries.delivered_after(webhook_deliveries, inserted).cte("delivered")
    return Prepared(select(inserted.c.ticket_no).add_cte(announced, delivered))


async def record_call(
    session: AsyncSession, call: CallRecordIn, *, webhook: VerifiedWebhook
) -> Answer:
    """Store a call record and announce it (`call.recorded`)."""
    if earlier := await deliveries.claim(session, webhook_deliveries, webhook, "calls"):
        return earlier
    if errors := call_errors(call, business_now()):
        raise Problem.invalid(errors)
    if await session.get(CallRecord, call.call_id) is not None:
        raise Problem(409, "call-exists", "This call is already recorded.", field="call_id")
    caller, callee = phones.normalize(call.caller_number), phones.normalize(call.callee_number)
    session.add(
        CallRecord(
            **call.model_dump(exclude={"caller_number", "callee_number"}),
            sender=webhook.sender,
            caller_number=caller,
            callee_number=callee,
        )
    )
    event = CallRecorded(
        source=SOURCE,
        subject=call.call_id,
        version=1,
        data=CallRecordedData(
            **call.model_dump(exclude={"caller_number", "callee_number"}),
            caller=phone(caller),
            callee=phone(callee),
        ),
    )
    await add_events(session, messaging, event)
    await _flush_or_conflict(session, "call_id", "This call is already recorded.")
    after_commit(session, metrics.CALLS.labels(call.line, call.direction, call.outcome).inc)
    return await deliveries.answer(
        session, webhook_deliveries, webhook, 201, CallAccepted(call_id=call.call_id)
    )


async def accept_ticket(
    session: AsyncSession, ticket: TicketIn, *, webhook: VerifiedWebhook, options: IntakeOptions
) -> Answer:
    """Accept a ticket: answer it from an outage notice, apply the repeat-call table, or take it
    as the agent decided; number it and announce it (`ticket.created`, `ticket.closed`).

    No transaction is begun for it unless a repeat's original must be locked: its look-ups are
    plain reads, and the ticket, its events, the webhook's claim and its answer are written by
    one statement. A redelivery is answered as the first delivery was."""
    try:
        row, stored, counts = await _taken(session, ticket, webhook, options)
    except Problem:
        if earlier := await _earlier_answer(session, webhook):
            return earlier
        raise
    events = outbox_rows(accepted_events(row))
    values = {name: getattr(row, name) for name in INSERTED_COLUMNS}
    for i, event in enumerate(events):
        values |= {f"e{i}_{name}": value for name, value in event.items()}
    values |= deliveries.delivery_parameters(webhook, "tickets", stored)
    try:
        ticket_no = await _accepting(len(events), tuple(events[0])).fetchval(
            session, values, alone=True
        )
    except UniqueViolationError as error:
        if error.table_name != webhook_deliveries.name:
            raise
        raise deliveries.id_reused(
            "This webhook-id was used for another message; give each message its own id."
        ) from error
    if ticket_no is None:
        if earlier := await _earlier_answer(session, webhook):
            return earlier
        await _already_accepted(session, row)
    for count in counts:
        after_commit(session, count)
    return stored


async def _earlier_answer(session: AsyncSession, webhook: VerifiedWebhook) -> Answer | None:
    return await deliveries.earlier_answer(session, webhook_deliveries, webhook, "tickets")


async def _taken(
    session: AsyncSession, ticket: TicketIn, webhook: VerifiedWebhook, options: IntakeOptions
) -> tuple[Ticket, Answer, list[Callable[[], None]]]:
    """The ticket as it will be stored, the webhook's answer (or the problem raised) and the
    metrics to count once it is."""
    if errors := ticket_errors(
        ticket, categories=options.categories, city_prefix=options.city_code, now=business_now()
    ):
        raise Problem.invalid(errors)
    knowledge_version = (
        await knowledge.published_version(session, ticket.knowledge_entry_id)
        if ticket.knowledge_entry_id
        else None
    )
    caller_number = phones.normalize(ticket.caller.number) if ticket.caller.number else None
    substance = text_matcher().substance(ticket.content, places=[ticket.address or ""])

    handling_mode, resolution = ticket.handling_mode, ticket.resolution
    status = "open" if handling_mode == "forward" else "closed"
    notice = await _matching_notice(session, ticket) if handling_mode != "not_accepted" else None
    decision: RepeatDecision | None = None
    candidates: list[Candidate] = []
    tell_caller = None
    counts: list[Callable[[], None]] = []
    if notice is not None:
        handling_mode, status, resolution = "answered", "closed", notice["text"]
        tell_caller = f"按{notice['issuer']}的停限通知答复：{notice['text']}"
        counts.append(metrics.NOTICE_ANSWERS.inc)
    elif ticket.repeat_of is not None:
        # The agent named the earlier ticket: the strongest evidence there is.
        original = await repeats.named_original(session, ticket.repeat_of, field="repeat_of")
        decision = repeats.decision_on(
            original, caller_number=caller_number, new_facts=ticket.new_facts
        )
    elif ticket.request_type != "consultation":
        decision, candidates = await repeats.find_repeat(
            session, ticket, caller_number, substance, options
        )
    if decision is not None and ticket.handling_mode == "not_accepted":
        # The agent already refused it, with a reason: keep that, but link the original (T14).
        tell_caller = decision.tell_caller
    elif decision is not None:
        handling_mode = decision.handling_mode or handling_mode
        status = decision.status or status
        resolution = decision.resolution if decision.handling_mode else resolution
        tell_caller = decision.tell_caller
        counts.append(metrics.REPEAT_DECISIONS.labels(decision.rule.value).inc)
    if candidates:
        counts.append(metrics.REPEAT_CANDIDATES_SHOWN.inc)
    counts.append(metrics.TICKETS.labels(ticket.channel, ticket.request_type, handling_mode).inc)

    ticket_no = await _next_ticket_no(session, ticket.accepted_at, options.ticket_prefix)
    closed_here = status == "closed"
    shown = repeats.public_candidates(candidates)
    row = Ticket(
        ticket_no=ticket_no,
        sender=webhook.sender,
        source_ticket_id=ticket.source_ticket_id,
        call_id=ticket.call_id,
        channel=ticket.channel,
        caller_salutation=ticket.caller.salutation,
        caller_number=caller_number,
        request_type=ticket.request_type,
        category=ticket.category,
        business_environment=ticket.business_environment,
        location_code=ticket.location_code,
        address=ticket.address,
        content=ticket.content,
        handling_mode=handling_mode,
        status=status,
        resolution=resolution,
        suggested_unit=ticket.suggested_unit,
        agent_id=ticket.agent_id,
        accepted_at=ticket.accepted_at,
        new_facts=ticket.new_facts,
        repeat_of=decision.links_to if decision else None,
        repeat_rule=decision.rule.value if decision else None,
        notice_id=notice["notice_id"] if notice else None,
        handling_unit=HOTLINE_UNIT if closed_here else None,
        closed_at=ticket.accepted_at if closed_here else None,
        version=2 if closed_here else 1,
        substance=encode_terms(substance),
        repeat_candidates=[c.model_dump() for c in shown] or None,
        held_by_dispatch=handling_mode == "forward" and status == "open",
        knowledge_entry_id=ticket.knowledge_entry_id,
        knowledge_version=knowledge_version,
    )
    accepted = TicketAccepted(
        ticket_no=ticket_no,
        handling_mode=handling_mode,
        status=status,
        resolution=resolution,
        repeat_of=row.repeat_of,
        repeat_rule=row.repeat_rule,
        notice_id=row.notice_id,
        tell_caller=tell_caller,
        repeat_candidates=shown,
    )
    return row, Answer(201, accepted.model_dump(mode="json")), counts


async def post_notice(
    session: AsyncSession, notice: NoticeIn, *, webhook: VerifiedWebhook, options: IntakeOptions
) -> Answer:
    """Store a planned-outage notice; calls about it are answered with its text from now on."""
    if earlier := await deliveries.claim(session, webhook_deliveries, webhook, "notices"):
        return earlier
    if errors := notice_errors(
        notice, categories=options.categories, city_prefix=options.city_code
    ):
        raise Problem.invalid(errors)
    existing = await session.scalar(
        select(OutageNotice.notice_id).where(
            OutageNotice.sender == webhook.sender,
            OutageNotice.source_notice_id == notice.source_notice_id,
        )
    )
    if existing is not None:
        raise Problem(
            409, "notice-exists", f"This notice is already {existing}.", field="source_notice_id"
        )
    notice_id = f"N{uuid4().hex[:12].upper()}"
    session.add(OutageNotice(notice_id=notice_id, sender=webhook.sender, **notice.model_dump()))
    await _flush_or_conflict(session, "source_notice_id", "This notice is already stored.")
    now = business_now()
    state = (
        "scheduled" if notice.starts_at > now else "expired" if notice.ends_at < now else "active"
    )
    return await deliveries.answer(
        session, webhook_deliveries, webhook, 201, NoticeAccepted(notice_id=notice_id, status=state)
    )


async def get_ticket(session: AsyncSession, ticket_no: str) -> TicketPublic:
    """The ticket's current state, the caller's number masked."""
    row = await session.get(Ticket, ticket_no)
    if row is None:
        raise Problem(404, "ticket-not-found", f"No ticket {ticket_no}.", field="ticket_no")
    return _masked(TicketPublic.model_validate(row, from_attributes=True))


async def merge_ticket(
    session: AsyncSession, ticket_no: str, body: MergeIn, supervisor: str
) -> TicketPublic:
    """Merge (并单) a ticket into the earlier one it repeats; the number shown masked."""
    return _masked(await repeats.merge(session, ticket_no, body, supervisor))


def _masked(ticket: TicketPublic) -> TicketPublic:
    number = ticket.caller_number
    return ticket.model_copy(update={"caller_number": phones.mask(number) if number else None})


async def _matching_notice(session: AsyncSession, ticket: TicketIn) -> Record | None:
    """The most specific active notice for this place and category that the caller's words name."""
    if ticket.location_code is None:
        return None
    notices = await ACTIVE_NOTICES.fetch(
        session, {"category": ticket.category, "at": ticket.accepted_at}, alone=True
    )
    code = ticket.location_code
    matching = [
        (max(len(area) for area in n["area_codes"] if code.startswith(area)), n["starts_at"], n)
        for n in notices
        if any(code.startswith(area) for area in n["area_codes"])
        and any(word in ticket.content for word in n["keywords"])
    ]
    return max(matching, key=lambda match: (match[0], match[1]))[2] if matching else None


async def _next_ticket_no(session: AsyncSession, accepted_at: datetime, prefix: str) -> str:
    serial = await NEXT_SERIAL.fetchval(session, alone=True)
    return f"{prefix}{accepted_at.astimezone(LOCAL_TIME):%Y%m%d}{serial:07d}"


async def _already_accepted(session: AsyncSession, row: Ticket) -> NoReturn:
    """The sender already sent this ticket, under another webhook id (or racing this one):
    a 409 naming it."""
    existing = await session.scalar(
        select(Ticket.ticket_no).where(
            Ticket.sender == row.sender, Ticket.source_ticket_id == row.source_ticket_id
        )
    )
    raise Problem(
        409,
        "ticket-exists",
        f"This ticket was already accepted as {existing}.",
        field="source_ticket_id",
        extra={"ticket_no": existing},
    )


async def _flush_or_conflict(session: AsyncSession, field: str, detail: str) -> None:
    """A concurrent twin of this request won the race: answer as to a duplicate."""
    try:
        await session.flush()
    except IntegrityError as error:
        raise Problem(409, "conflict", detail, field=field) from error
