"""A forwarded ticket's life in dispatch: routed to a unit, signed, replied to or returned,
extended, reviewed by the hotline, closed, reopened; deadlines kept in working days."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.dispatch import metrics, one_answer, queries
from hotline.dispatch.config import DispatchOptions
from hotline.dispatch.models import (
    DispatchTicket,
    OverdueRecord,
    Reply,
    Unit,
    UnitRequest,
    messaging,
)
from hotline.dispatch.routing import Route, UnitRemit, choose_unit
from hotline.dispatch.schemas import (
    OPEN_WORK,
    DispatchIn,
    ExtensionIn,
    ListedStates,
    ReplyIn,
    RequestForUnit,
    ReturnIn,
    ReviewIn,
    StepDone,
    SupervisorQueue,
    TicketForSupervisor,
    TicketForUnit,
    TicketPage,
)
from hotline.shared.clock import business_now
from hotline.shared.db import after_commit
from hotline.shared.domain.text_quality import copies_request, garbled, too_simple
from hotline.shared.domain.working_days import WorkingCalendar
from hotline.shared.messaging.events import (
    DeadlineData,
    Event,
    ReviewData,
    TicketClosed,
    TicketClosedData,
    TicketCreated,
    TicketCreatedData,
    TicketDeadlineNear,
    TicketDispatched,
    TicketDispatchedData,
    TicketExtensionRequested,
    TicketExtensionRequestedData,
    TicketExtensionReviewed,
    TicketHandedOver,
    TicketMerged,
    TicketOverdue,
    TicketReopened,
    TicketReplied,
    TicketRepliedData,
    TicketReplyReviewed,
    TicketReturnRequested,
    TicketReturnRequestedData,
    TicketReturnReviewed,
    TicketSigned,
    UnitActionData,
)
from hotline.shared.messaging.outbox import add_events
from hotline.shared.web.problems import Problem
from hotline.shared.web.schemas import local_iso

SOURCE = "/hotline/dispatch"
OPEN_STATES = OPEN_WORK
SCHEDULER_BATCH = 500
ACTIVE_UNITS_KEY = "dispatch.active_units"


@dataclass(frozen=True)
class DispatchContext:
    options: DispatchOptions
    calendar: WorkingCalendar


# --- from intake and callback ----------------------------------------------------------------


async def on_tickets_created(
    session: AsyncSession, events: Sequence[TicketCreated], ctx: DispatchContext
) -> None:
    """Take forwarded tickets: route each to a unit, or leave it in the supervisors' queue.
    Tickets the hotline handled itself stay with intake (which hands them over if reopened).
    A batch at once: one look-up of the tickets already held, one insert of the announcements."""
    forwarded = [e for e in events if e.data.handling_mode == "forward" and e.data.status == "open"]
    if not forwarded:
        return
    held = set(
        await session.scalars(
            select(DispatchTicket.ticket_no).where(
                DispatchTicket.ticket_no.in_([e.data.ticket_no for e in forwarded])
            )
        )
    )
    units = await _active_units(session)
    remits = await _remits(session)
    announced: list[Event] = []
    for event in forwarded:
        data = event.data
        if data.ticket_no in held:
            continue
        held.add(data.ticket_no)
        ticket = _new_ticket(data, event.version)
        session.add(ticket)
        route = choose_unit(
            remits,
            category=data.category,
            location_code=data.location_code,
            suggested=data.suggested_unit,
        )
        if route is not None:
            announced.append(_assign(session, ticket, units[route.unit_id], route.how, ctx))
    await add_events(session, messaging, *announced)


async def on_ticket_handed_over(session: AsyncSession, event: TicketHandedOver) -> None:
    """A ticket the hotline answered itself came back unsatisfied: a supervisor dispatches it."""
    data = event.data
    ticket = await session.get(DispatchTicket, data.ticket_no, with_for_update=True)
    if ticket is not None:
        return
    ticket = _new_ticket(data, event.version)
    ticket.reopen_count, ticket.reopen_reason = 1, data.reopen_reason
    session.add(ticket)


async def on_ticket_merged(session: AsyncSession, event: TicketMerged) -> None:
    """A person found the ticket to repeat an earlier one (并单): unless the table leaves it open
    (new facts), the unit stops working it. Applied whatever its version (see the events'
    numbering rule); dispatch numbers above it from now on."""
    ticket = await session.get(DispatchTicket, event.subject, with_for_update=True)
    if ticket is None:
        return
    ticket.version = max(ticket.version, event.version)
    if event.data.status == "open" or ticket.state in ("closed", "merged"):
        return
    await _cancel_pending_requests(session, ticket.ticket_no, _now())
    ticket.state, ticket.review_note = "merged", f"已并入工单{event.data.repeat_of}"
    ticket.closed_at = _now()


def _new_ticket(data: TicketCreatedData, version: int) -> DispatchTicket:
    return DispatchTicket(
        ticket_no=data.ticket_no,
        request_type=data.request_type,
        category=data.category,
        location_code=data.location_code,
        address=data.address,
        content=data.content,
        caller_salutation=data.caller_salutation,
        caller_number=data.caller.number if data.caller else None,
        suggested_unit=data.suggested_unit,
        accepted_at=data.accepted_at,
        state="manual",
        version=version,
        overdue=False,
        reopen_count=0,
    )


async def on_ticket_reopened(
    session: AsyncSession, event: TicketReopened, ctx: DispatchContext
) -> None:
    """An unsatisfied citizen: the ticket goes back to the same unit, flagged as a reopening, with
    the citizen's comment; to the supervisors' queue if its unit is gone. (A ticket dispatch never
    held is handed over by intake.)"""
    ticket = await session.get(DispatchTicket, event.subject, with_for_update=True)
    if ticket is None or event.version <= ticket.version:
        return
    ticket.version = event.version
    ticket.reopen_count += 1
    ticket.reopen_reason = event.data.reason
    ticket.closed_at = ticket.replied_at = None
    unit = await session.get(Unit, ticket.unit_id) if ticket.unit_id else None
    if unit is None or not unit.active:
        await _to_manual_queue(session, ticket)
        return
    await _dispatch(session, ticket, unit.unit_id, "reopened", ctx)


# --- the unit API ----------------------------------------------------------------------------


async def list_unit_tickets(
    session: AsyncSession,
    unit_id: str,
    *,
    state: ListedStates,
    overdue: bool | None,
    page: int,
    page_size: int,
) -> TicketPage:
    """A unit's tickets, the nearest deadline first: its open work unless it asks for more."""
    total = await session.scalar(queries.unit_ticket_count(unit_id, state, overdue))
    rows = list(
        await session.scalars(
            queries.unit_tickets(
                unit_id, state, overdue, offset=(page - 1) * page_size, limit=page_size
            )
        )
    )
    return TicketPage(
        items=await _for_unit(session, rows), total=total or 0, page=page, page_size=page_size
    )


async def get_unit_ticket(session: AsyncSession, unit_id: str, ticket_no: str) -> TicketForUnit:
    """One of the unit's tickets (404 for any other), with what it asked for that waits."""
    ticket = await _units_ticket(session, unit_id, ticket_no, lock=False)
    return (await _for_unit(session, [ticket]))[0]


async def _for_unit(session: AsyncSession, rows: list[DispatchTicket]) -> list[TicketForUnit]:
    pending: dict[str, list[UnitRequest]] = {}
    if rows:
        for request in await session.scalars(
            queries.pending_requests([row.ticket_no for row in rows])
        ):
            pending.setdefault(request.ticket_no, []).append(request)
    return [
        TicketForUnit.model_validate(row).model_copy(
            update={
                "pending_requests": [
                    RequestForUnit.model_validate(r) for r in pending.get(row.ticket_no, [])
                ]
            }
        )
        for row in rows
    ]


async def sign(session: AsyncSession, unit_id: str, ticket_no: str) -> StepDone:
    """The unit acknowledges the ticket (签收); signing it again changes nothing (retry-safe)."""
    ticket = await _units_ticket(session, unit_id, ticket_no)
    if ticket.state == "signed":
        return _step(ticket)
    _require_state(ticket, "dispatched", action="sign")
    now = _now()
    ticket.state, ticket.signed_at = "signed", now
    dispatched_at = ticket.dispatched_at or now
    after_commit(
        session,
        lambda: metrics.TIME_TO_SIGN.labels(unit_id).observe((now - dispatched_at).total_seconds()),
    )
    await _emit(
        session, ticket, TicketSigned, UnitActionData(ticket_no=ticket_no, unit_id=unit_id, at=now)
    )
    return _step(ticket)


async def reply(
    session: AsyncSession, unit_id: str, ticket_no: str, body: ReplyIn, ctx: DispatchContext
) -> StepDone:
    """The unit's answer (答复): refused if it breaks a quality rule (T08, T09, T10); accepted at
    once when it passes and the hotline accepts replies automatically; else left for review, as
    is always one that contradicts the unit's earlier answers to the same question."""
    ticket = await _units_ticket(session, unit_id, ticket_no)
    _require_state(ticket, "signed", action="reply to")
    findings = reply_findings(ticket.content, body.actions, body.result)
    if findings:
        codes = list(dict.fromkeys(finding.code for finding in findings))
        for code in codes:
            # A refusal is not part of the transaction (it rolls back): count it now.
            metrics.REPLIES_REFUSED.labels(unit_id, code).inc()
        raise Problem(
            422,
            "reply-refused",
            "The reply breaks the provincial text rules: " + ", ".join(codes),
            errors=[{"field": f.field, "message": f"{f.code}: {f.message}"} for f in findings],
            extra={"rule_codes": codes},
        )
    now = _now()
    earlier = await one_answer.contradicted_answers(
        session, ticket, unit_id, body.actions, body.result, ctx.options, now
    )
    answer = Reply(
        ticket_no=ticket_no,
        unit_id=unit_id,
        actions=body.actions,
        result=body.result,
        citizen_contacted=body.citizen_contacted,
        status="pending",
        earlier_answers=earlier or None,
    )
    session.add(answer)
    ticket.state, ticket.replied_at = "replied", now
    dispatched_at = ticket.dispatched_at or now
    after_commit(
        session,
        lambda: metrics.TIME_TO_REPLY.labels(unit_id).observe(
            (now - dispatched_at).total_seconds()
        ),
    )
    await _emit(
        session,
        ticket,
        TicketReplied,
        TicketRepliedData(
            ticket_no=ticket_no,
            unit_id=unit_id,
            at=now,
            actions=body.actions,
            result=body.result,
            citizen_contacted=body.citizen_contacted,
            contradicts=one_answer.contradicted_refs(earlier),
        ),
    )
    if earlier:
        after_commit(session, metrics.TWO_ANSWERS.labels(unit_id).inc)
        return _step(ticket).model_copy(update={"held_for_review": "two_answers"})
    if ctx.options.auto_accept_replies:
        answer.status, answer.reviewer, answer.reviewed_at = "accepted", "auto", now
        await _close(session, ticket, answer)
    return _step(ticket)


async def request_return(
    session: AsyncSession, unit_id: str, ticket_no: str, body: ReturnIn, ctx: DispatchContext
) -> StepDone:
    """The unit says the ticket is not its own (退单); a supervisor decides, shown the unit's own
    earlier answers to such questions."""
    ticket = await _units_ticket(session, unit_id, ticket_no)
    _require_state(ticket, "dispatched", "signed", action="return")
    evidence = await one_answer.return_evidence(session, ticket, unit_id, ctx.options, _now())
    session.add(
        UnitRequest(
            ticket_no=ticket_no,
            unit_id=unit_id,
            kind="return",
            reason=body.reason,
            status="pending",
            evidence=evidence or None,
        )
    )
    ticket.state = "return_requested"
    after_commit(session, metrics.RETURNS.labels(unit_id).inc)
    await _emit(
        session,
        ticket,
        TicketReturnRequested,
        TicketReturnRequestedData(
            ticket_no=ticket_no,
            unit_id=unit_id,
            at=_now(),
            detail=body.reason,
            answered_before=[a["ticket_no"] for a in evidence if a["ticket_no"] is not None],
            answered_entries=[a["entry_id"] for a in evidence if a.get("entry_id") is not None],
        ),
    )
    return _step(ticket)


async def request_extension(
    session: AsyncSession, unit_id: str, ticket_no: str, body: ExtensionIn
) -> StepDone:
    """The unit asks for a later deadline (延期) — only before the current one has passed (T15)."""
    ticket = await _units_ticket(session, unit_id, ticket_no)
    _require_state(ticket, "dispatched", "signed", action="extend")
    assert ticket.deadline is not None
    now = _now()
    if now >= ticket.deadline:
        raise Problem(
            422,
            "extension-too-late",
            "T15: an extension must be asked before the deadline, which has passed.",
            field="requested_deadline",
            extra={"deadline": local_iso(ticket.deadline)},
        )
    if body.requested_deadline <= ticket.deadline:
        raise Problem(
            422,
            "extension-not-later",
            "T15: the new deadline must be later than the current one.",
            field="requested_deadline",
        )
    if await _pending(session, ticket_no, "extension") is not None:
        raise Problem(409, "extension-pending", "An extension for this ticket awaits review.")
    session.add(
        UnitRequest(
            ticket_no=ticket_no,
            unit_id=unit_id,
            kind="extension",
            reason=body.reason,
            current_deadline=ticket.deadline,
            requested_deadline=body.requested_deadline,
            status="pending",
        )
    )
    await _emit(
        session,
        ticket,
        TicketExtensionRequested,
        TicketExtensionRequestedData(
            ticket_no=ticket_no,
            unit_id=unit_id,
            at=now,
            detail=body.reason,
            current_deadline=ticket.deadline,
            requested_deadline=body.requested_deadline,
        ),
    )
    return _step(ticket)


# --- the supervisors' API --------------------------------------------------------------------


async def review_return(
    session: AsyncSession, ticket_no: str, body: ReviewIn, reviewer: str, ctx: DispatchContext
) -> StepDone:
    """Accept a return (the ticket is routed anew, never to the same unit) or reject it (back
    to the same unit, with the note; counted against the unit)."""
    ticket = await _ticket(session, ticket_no)
    request = await _pending(session, ticket_no, "return")
    if ticket.state != "return_requested" or request is None:
        raise Problem(409, "no-pending-return", "No return awaits review on this ticket.")
    returning_unit = request.unit_id
    if body.unit_id is not None and (not body.accept or body.unit_id == returning_unit):
        raise Problem(
            422,
            "bad-target-unit",
            "unit_id names where an accepted return goes, and never the unit that returned it.",
            field="unit_id",
        )
    now = _now()
    _decide(request, body, reviewer, now)
    await _emit(
        session,
        ticket,
        TicketReturnReviewed,
        _review(ticket_no, returning_unit, body, reviewer, now),
    )
    if not body.accept:
        ticket.state = "signed" if ticket.signed_at else "dispatched"
        ticket.review_note = body.note
        after_commit(session, metrics.RETURNS_REJECTED.labels(returning_unit).inc)
        return _step(ticket)
    if body.unit_id is not None:
        target = await _active_unit(session, body.unit_id)
        route: Route | None = Route(target.unit_id, "routed")
    else:
        route = choose_unit(
            await _remits(session),
            category=ticket.category,
            location_code=ticket.location_code,
            suggested=None,
            excluding=returning_unit,
        )
    if route is None:
        await _to_manual_queue(session, ticket)
        return _step(ticket)
    await _dispatch(session, ticket, route.unit_id, "return_accepted", ctx, by=reviewer)
    return _step(ticket)


async def review_extension(
    session: AsyncSession, ticket_no: str, body: ReviewIn, reviewer: str
) -> StepDone:
    """Approve an extension (the requested deadline becomes the deadline) or reject it."""
    ticket = await _ticket(session, ticket_no)
    request = await _pending(session, ticket_no, "extension")
    if request is None:
        raise Problem(409, "no-pending-extension", "No extension awaits review on this ticket.")
    now = _now()
    _decide(request, body, reviewer, now)
    review = _review(ticket_no, request.unit_id, body, reviewer, now)
    ticket.review_note = body.note
    if body.accept:
        ticket.deadline = request.requested_deadline
        ticket.overdue, ticket.reminded_at = False, None
        review = review.model_copy(update={"new_deadline": request.requested_deadline})
    await _emit(session, ticket, TicketExtensionReviewed, review)
    return _step(ticket)


async def review_reply(
    session: AsyncSession, ticket_no: str, body: ReviewIn, reviewer: str
) -> StepDone:
    """Accept a reply (the ticket closes; a second answer may supersede the earlier ones) or send
    it back to the unit with the note."""
    ticket = await _ticket(session, ticket_no)
    answer = await session.scalar(
        select(Reply)
        .where(Reply.ticket_no == ticket_no, Reply.status == "pending")
        .with_for_update()
    )
    if ticket.state != "replied" or answer is None:
        raise Problem(409, "no-pending-reply", "No reply awaits review on this ticket.")
    earlier_replies = [a for a in answer.earlier_answers or [] if a.get("reply_id")]
    if body.supersede_earlier and not (body.accept and answer.earlier_answers):
        raise Problem(
            422,
            "nothing-to-supersede",
            "supersede_earlier accepts a reply held as a second answer in place of the earlier.",
            field="supersede_earlier",
        )
    if body.supersede_earlier and not earlier_replies:
        # Only the knowledge base changes its entries: superseding here would change nothing,
        # and every later reply like this one would be held again.
        raise Problem(
            422,
            "supersede-in-knowledge-base",
            "The earlier answers are knowledge-base entries: edit or retire them there "
            "(intake's /v1/knowledge), then accept this reply.",
            field="supersede_earlier",
        )
    now = _now()
    answer.status = "accepted" if body.accept else "sent_back"
    answer.reviewer, answer.review_note, answer.reviewed_at = reviewer, body.note, now
    await _emit(
        session,
        ticket,
        TicketReplyReviewed,
        _review(ticket_no, answer.unit_id, body, reviewer, now),
    )
    if body.accept:
        if body.supersede_earlier:
            await one_answer.supersede(session, answer)
        await _close(session, ticket, answer)
    else:
        ticket.state, ticket.replied_at, ticket.review_note = "signed", None, body.note
    return _step(ticket)


async def dispatch_manually(
    session: AsyncSession, ticket_no: str, body: DispatchIn, reviewer: str, ctx: DispatchContext
) -> StepDone:
    """Send a ticket from the queue to a unit, or move it from one unit to another."""
    ticket = await _ticket(session, ticket_no)
    if ticket.state not in ("manual", *OPEN_STATES):
        raise Problem(
            409, "not-dispatchable", f"A ticket that is {ticket.state} cannot be dispatched."
        )
    unit = await _active_unit(session, body.unit_id)
    if unit.unit_id == ticket.unit_id:
        raise Problem(
            422,
            "same-unit",
            "The ticket is already with this unit; a later deadline is an extension.",
            field="unit_id",
        )
    how = "manual" if ticket.state == "manual" else "reassigned"
    await _dispatch(session, ticket, unit.unit_id, how, ctx, by=reviewer)
    return _step(ticket)


async def get_ticket(session: AsyncSession, ticket_no: str) -> TicketForSupervisor:
    """Any ticket dispatch holds, as a supervisor sees it."""
    return TicketForSupervisor.model_validate(await _ticket(session, ticket_no, lock=False))


async def supervisor_queue(session: AsyncSession, limit: int) -> SupervisorQueue:
    """Tickets no rule could route, and what units asked for or sent that awaits a decision."""
    manual = await session.scalars(queries.manual_queue(limit))
    requests = await session.scalars(queries.waiting_requests(limit))
    replies = await session.scalars(queries.waiting_replies(limit))
    return SupervisorQueue(
        manual=[TicketForSupervisor.model_validate(row) for row in manual],
        requests=await one_answer.pending_requests(session, requests),
        replies=await one_answer.pending_replies(session, replies),
    )


# --- timers ----------------------------------------------------------------------------------


async def mark_overdue(session: AsyncSession, now: datetime) -> int:
    """Open tickets past their deadline become overdue (超期), once each."""
    due = await session.scalars(queries.past_deadline(now, SCHEDULER_BATCH))
    count = 0
    for ticket in due:
        assert ticket.unit_id is not None
        ticket.overdue = True
        session.add(
            OverdueRecord(
                ticket_no=ticket.ticket_no,
                unit_id=ticket.unit_id,
                deadline=ticket.deadline,
                marked_at=now,
            )
        )
        after_commit(session, metrics.OVERDUE.labels(ticket.unit_id).inc)
        await _emit(session, ticket, TicketOverdue, _deadline(ticket))
        count += 1
    return count


async def remind(session: AsyncSession, now: datetime, hours: float) -> int:
    """Open tickets whose deadline is near get one reminder (`ticket.deadline_near`)."""
    near = await session.scalars(queries.deadline_near(now, hours, SCHEDULER_BATCH))
    count = 0
    for ticket in near:
        ticket.reminded_at = now
        await _emit(session, ticket, TicketDeadlineNear, _deadline(ticket))
        count += 1
    return count


async def count_open(session: AsyncSession) -> dict[tuple[str, str], int]:
    """Open tickets by unit ("-" for the manual queue) and state, for the gauge."""
    rows = await session.execute(queries.open_counts())
    return {(unit, state): count for unit, state, count in rows.all()}


# --- helpers ---------------------------------------------------------------------------------


async def _dispatch(
    session: AsyncSession,
    ticket: DispatchTicket,
    unit_id: str,
    how: str,
    ctx: DispatchContext,
    *,
    by: str | None = None,
) -> None:
    unit = await session.get(Unit, unit_id)
    assert unit is not None
    await _cancel_pending_requests(session, ticket.ticket_no, _now())
    await add_events(session, messaging, _assign(session, ticket, unit, how, ctx, by=by))


def _assign(
    session: AsyncSession,
    ticket: DispatchTicket,
    unit: Unit,
    how: str,
    ctx: DispatchContext,
    *,
    by: str | None = None,
) -> Event:
    """Give the ticket to the unit with a fresh deadline; the announcement, under its next
    version, to be written to the outbox."""
    now = _now()
    days = ctx.options.deadline_days[ticket.request_type]  # type: ignore[index]
    ticket.unit_id, ticket.state, ticket.review_note = unit.unit_id, "dispatched", None
    ticket.dispatched_at, ticket.signed_at, ticket.replied_at = now, None, None
    ticket.deadline = ctx.calendar.deadline(now, days)
    ticket.overdue, ticket.reminded_at = False, None
    after_commit(session, metrics.DISPATCHED.labels(unit.unit_id, how).inc)
    return _next_event(
        ticket,
        TicketDispatched,
        TicketDispatchedData(
            ticket_no=ticket.ticket_no,
            unit_id=unit.unit_id,
            unit_name=unit.name,
            dispatched_at=now,
            deadline=ticket.deadline,
            how=how,
            by=by,
        ),
    )


async def _close(session: AsyncSession, ticket: DispatchTicket, answer: Reply) -> None:
    unit = await session.get(Unit, answer.unit_id)
    now = _now()
    await _cancel_pending_requests(session, ticket.ticket_no, now)
    ticket.state, ticket.closed_at = "closed", now
    await _emit(
        session,
        ticket,
        TicketClosed,
        TicketClosedData(
            ticket_no=ticket.ticket_no,
            closed_at=now,
            handling_unit=unit.name if unit else answer.unit_id,
            resolution=_resolution(answer.actions, answer.result),
        ),
    )


async def _emit(
    session: AsyncSession, ticket: DispatchTicket, kind: Callable[..., Event], data: Any
) -> None:
    """Announce the ticket's change under its next version."""
    await add_events(session, messaging, _next_event(ticket, kind, data))


def _next_event(ticket: DispatchTicket, kind: Callable[..., Event], data: Any) -> Event:
    ticket.version += 1
    return kind(
        source=SOURCE,
        subject=ticket.ticket_no,
        ticket_id=ticket.ticket_no,
        version=ticket.version,
        data=data,
    )


async def _to_manual_queue(session: AsyncSession, ticket: DispatchTicket) -> None:
    """No unit fits: a supervisor decides; no unit's clock runs meanwhile."""
    await _cancel_pending_requests(session, ticket.ticket_no, _now())
    ticket.state, ticket.unit_id, ticket.deadline = "manual", None, None
    ticket.overdue, ticket.reminded_at, ticket.signed_at = False, None, None


async def _cancel_pending_requests(session: AsyncSession, ticket_no: str, now: datetime) -> None:
    """Requests about the ticket's former unit or former state no longer await anyone."""
    await session.execute(
        update(UnitRequest)
        .where(UnitRequest.ticket_no == ticket_no, UnitRequest.status == "pending")
        .values(status="cancelled", reviewed_at=now)
    )


async def _remits(session: AsyncSession) -> list[UnitRemit]:
    """The active units' remits, read once per transaction (a batch of events routes many)."""
    return [
        UnitRemit(u.unit_id, u.name, u.categories, u.location_prefixes, u.priority)
        for u in (await _active_units(session)).values()
    ]


async def _active_units(session: AsyncSession) -> dict[str, Unit]:
    """The active units, read once per transaction and held (the session's identity map holds
    its objects only weakly: without this, each look-up would flush and query again)."""
    units: dict[str, Unit] | None = session.info.get(ACTIVE_UNITS_KEY)
    if units is None:
        rows = await session.scalars(
            select(Unit).where(Unit.active.is_(True), Unit.kind != "hotline")
        )
        units = {unit.unit_id: unit for unit in rows}
        session.info[ACTIVE_UNITS_KEY] = units
    return units


async def _units_ticket(
    session: AsyncSession, unit_id: str, ticket_no: str, *, lock: bool = True
) -> DispatchTicket:
    """The ticket if it is this unit's; any other ticket does not exist as far as it knows."""
    query = select(DispatchTicket).where(
        DispatchTicket.ticket_no == ticket_no, DispatchTicket.unit_id == unit_id
    )
    ticket = await session.scalar(query.with_for_update() if lock else query)
    if ticket is None:
        raise Problem(
            404, "ticket-not-found", f"No ticket {ticket_no} for this unit.", field="ticket_no"
        )
    return ticket


async def _ticket(session: AsyncSession, ticket_no: str, *, lock: bool = True) -> DispatchTicket:
    query = select(DispatchTicket).where(DispatchTicket.ticket_no == ticket_no)
    ticket = await session.scalar(query.with_for_update() if lock else query)
    if ticket is None:
        raise Problem(404, "ticket-not-found", f"No ticket {ticket_no}.", field="ticket_no")
    return ticket


async def _active_unit(session: AsyncSession, unit_id: str) -> Unit:
    unit = await session.get(Unit, unit_id)
    if unit is None or not unit.active or unit.kind == "hotline":
        raise Problem(
            422, "unit-unavailable", f"{unit_id} is not an active handling unit.", field="unit_id"
        )
    return unit


async def _pending(session: AsyncSession, ticket_no: str, kind: str) -> UnitRequest | None:
    return await session.scalar(
        select(UnitRequest)
        .where(
            UnitRequest.ticket_no == ticket_no,
            UnitRequest.kind == kind,
            UnitRequest.status == "pending",
        )
        .with_for_update()
    )


def _require_state(ticket: DispatchTicket, *states: str, action: str) -> None:
    if ticket.state not in states:
        raise Problem(
            409,
            "wrong-state",
            f"A ticket that is {ticket.state} cannot {action}; it must be {' or '.join(states)}.",
            extra={"state": ticket.state},
        )


def _decide(request: UnitRequest, body: ReviewIn, reviewer: str, now: datetime) -> None:
    request.status = "accepted" if body.accept else "rejected"
    request.reviewer, request.review_note, request.reviewed_at = reviewer, body.note, now


def _review(
    ticket_no: str, unit_id: str, body: ReviewIn, reviewer: str, now: datetime
) -> ReviewData:
    return ReviewData(
        ticket_no=ticket_no,
        unit_id=unit_id,
        outcome="accepted" if body.accept else "rejected",
        reviewer=reviewer,
        note=body.note,
        at=now,
    )


def _deadline(ticket: DispatchTicket) -> DeadlineData:
    assert ticket.unit_id is not None
    assert ticket.deadline is not None
    return DeadlineData(
        ticket_no=ticket.ticket_no, unit_id=ticket.unit_id, deadline=ticket.deadline
    )


@dataclass(frozen=True)
class Finding:
    code: str
    field: str
    message: str


def reply_findings(request: str, actions: str, result: str) -> list[Finding]:
    """The rules each part of a reply breaks: copying the request (T08), garbled text (T09),
    saying nothing of what was done, such as "已和社区联系并处理" or "已告知" (T10)."""
    findings = []
    for field, part in (("actions", actions), ("result", result)):
        if copies_request(request, part):
            findings.append(Finding("T08", field, "照抄诉求内容 (it repeats the request)"))
        if garbled(part):
            findings.append(
                Finding("T09", field, "含乱码或不规范符号 (garbled text or symbol runs)")
            )
        if too_simple(part):
            findings.append(
                Finding("T10", field, "过于简单 (say what was done, when, and what came of it)")
            )
    return findings


def _resolution(actions: str, result: str) -> str:
    return f"办理情况：{actions} 办理结果：{result}"


def _step(ticket: DispatchTicket) -> StepDone:
    return StepDone(
        ticket_no=ticket.ticket_no,
        state=ticket.state,
        unit_id=ticket.unit_id,
        deadline=ticket.deadline,
        version=ticket.version,
    )


def _now() -> datetime:
    return business_now()
