"""Intake's domain logic: record calls, accept tickets (repeat calls, outage notices), keep
tickets current from later events, and watch for bursts of one issue with no notice."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.intake import metrics, phones
from hotline.intake.config import IntakeOptions
from hotline.intake.models import (
    BurstAlert,
    CallRecord,
    OutageNotice,
    Ticket,
    messaging,
    ticket_number_sequence,
    webhook_deliveries,
)
from hotline.intake.repeat_calls import Original, RepeatDecision, decide
from hotline.intake.schemas import (
    CallAccepted,
    CallRecordIn,
    NoticeAccepted,
    NoticeIn,
    TicketAccepted,
    TicketIn,
    TicketPublic,
)
from hotline.intake.similarity import similarity
from hotline.intake.validation import call_errors, notice_errors, ticket_errors
from hotline.shared.db import after_commit
from hotline.shared.messaging import deliveries
from hotline.shared.messaging.deliveries import Answer
from hotline.shared.messaging.events import (
    BurstDetected,
    BurstDetectedData,
    CallRecorded,
    CallRecordedData,
    PhoneNumber,
    TicketClosed,
    TicketClosedData,
    TicketCreated,
    TicketCreatedData,
    TicketReopened,
)
from hotline.shared.messaging.outbox import add_events
from hotline.shared.web.problems import Problem
from hotline.shared.web.webhooks import VerifiedWebhook

LOCAL_TIME = ZoneInfo("Asia/Shanghai")
SOURCE = "/hotline/intake"
HOTLINE_UNIT = "12345政务服务便民热线"
MAX_CANDIDATES = 50
PRECISE_CODE_DIGITS = 9
BURST_SAMPLE = 300


async def record_call(
    session: AsyncSession, call: CallRecordIn, *, webhook: VerifiedWebhook
) -> Answer:
    """Store a call record and announce it (`call.recorded`)."""
    if earlier := await deliveries.claim(session, webhook_deliveries, webhook, "calls"):
        return earlier
    if errors := call_errors(call, datetime.now(UTC)):
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
            caller=_phone(caller),
            callee=_phone(callee),
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
    as the agent decided; number it and announce it (`ticket.created`, `ticket.closed`)."""
    if earlier := await deliveries.claim(session, webhook_deliveries, webhook, "tickets"):
        return earlier
    if errors := ticket_errors(
        ticket, categories=options.categories, city_prefix=options.city_code, now=datetime.now(UTC)
    ):
        raise Problem.invalid(errors)
    existing = await session.scalar(
        select(Ticket.ticket_no).where(
            Ticket.sender == webhook.sender, Ticket.source_ticket_id == ticket.source_ticket_id
        )
    )
    if existing is not None:
        raise Problem(
            409,
            "ticket-exists",
            f"This ticket was already accepted as {existing}.",
            field="source_ticket_id",
            extra={"ticket_no": existing},
        )
    caller_number = phones.normalize(ticket.caller.number) if ticket.caller.number else None

    handling_mode, resolution = ticket.handling_mode, ticket.resolution
    status = "open" if handling_mode == "forward" else "closed"
    notice = await _matching_notice(session, ticket) if handling_mode != "not_accepted" else None
    decision: RepeatDecision | None = None
    tell_caller = None
    if notice is not None:
        handling_mode, status, resolution = "answered", "closed", notice.text
        tell_caller = f"按{notice.issuer}的停限通知答复：{notice.text}"
        after_commit(session, metrics.NOTICE_ANSWERS.inc)
    elif ticket.request_type != "consultation":
        decision = await _repeat_decision(session, ticket, caller_number, options)
    if decision is not None and ticket.handling_mode == "not_accepted":
        # The agent already refused it, with a reason: keep that, but link the original (T14).
        tell_caller = decision.tell_caller
    elif decision is not None:
        handling_mode = decision.handling_mode or handling_mode
        status = decision.status or status
        resolution = decision.resolution if decision.handling_mode else resolution
        tell_caller = decision.tell_caller
        after_commit(session, metrics.REPEAT_DECISIONS.labels(decision.rule.value).inc)

    ticket_no = await _next_ticket_no(session, ticket.accepted_at, options.ticket_prefix)
    closed_here = status == "closed"
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
        notice_id=notice.notice_id if notice else None,
        handling_unit=HOTLINE_UNIT if closed_here else None,
        closed_at=ticket.accepted_at if closed_here else None,
        version=2 if closed_here else 1,
    )
    session.add(row)
    await add_events(session, messaging, *_ticket_events(row))
    await _flush_or_conflict(session, "source_ticket_id", "This ticket was already accepted.")
    after_commit(
        session, metrics.TICKETS.labels(ticket.channel, ticket.request_type, handling_mode).inc
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
    )
    return await deliveries.answer(session, webhook_deliveries, webhook, 201, accepted)


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
    now = datetime.now(UTC)
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
    public = TicketPublic.model_validate(row, from_attributes=True)
    return public.model_copy(
        update={"caller_number": phones.mask(row.caller_number) if row.caller_number else None}
    )


async def on_ticket_closed(session: AsyncSession, event: TicketClosed) -> None:
    """Keep the ticket's state; tickets waiting on it (Attachment 5) close with it."""
    closed = await session.execute(
        update(Ticket)
        .where(Ticket.ticket_no == event.subject, Ticket.version < event.version)
        .values(
            status="closed",
            resolution=event.data.resolution,
            handling_unit=event.data.handling_unit,
            closed_at=event.data.closed_at,
            version=event.version,
        )
        .returning(Ticket.ticket_no)
    )
    if closed.first() is None:
        return
    waiting = (
        await session.scalars(
            select(Ticket)
            .where(Ticket.repeat_of == event.subject, Ticket.status == "awaiting_closure")
            .with_for_update()
        )
    ).all()
    for follower in waiting:
        follower.status, follower.closed_at = "closed", event.data.closed_at
        follower.resolution = f"{event.data.resolution}（随原工单{event.subject}办结）"
        follower.handling_unit, follower.version = event.data.handling_unit, follower.version + 1
        await add_events(session, messaging, _closed_event(follower))


async def on_ticket_reopened(session: AsyncSession, event: TicketReopened) -> None:
    """A reopened ticket is in progress again: later repeat calls about it join it."""
    await session.execute(
        update(Ticket)
        .where(Ticket.ticket_no == event.subject, Ticket.version < event.version)
        .values(
            status="open",
            closed_at=None,
            resolution=None,
            handling_unit=None,
            version=event.version,
        )
    )


async def detect_burst(session: AsyncSession, event: TicketCreated, options: IntakeOptions) -> None:
    """Raise `alert.burst_detected` when callers pile up about one issue in a district with no
    notice: distinct callers, so one caller phoning again and again is no burst."""
    ticket = event.data
    if ticket.location_code is None or ticket.notice_id is not None:
        return
    area = ticket.location_code[:6]
    since = ticket.accepted_at - timedelta(minutes=options.burst_window_minutes)
    # Cheap checks first: a burst already announced, or too few callers to make one.
    last_alert = await session.scalar(
        select(BurstAlert.raised_at).where(
            BurstAlert.area_code == area, BurstAlert.category == ticket.category
        )
    )
    if last_alert is not None and last_alert >= since:
        return
    window = (
        Ticket.location_code.startswith(area),
        Ticket.category == ticket.category,
        Ticket.accepted_at.between(since, ticket.accepted_at),
        Ticket.notice_id.is_(None),
        Ticket.handling_mode != "not_accepted",
    )
    callers_in_window = await session.scalar(
        select(
            func.count(func.distinct(func.coalesce(Ticket.caller_number, Ticket.ticket_no)))
        ).where(*window)
    )
    if (callers_in_window or 0) < options.burst_threshold:
        return
    recent = (
        await session.execute(
            select(Ticket.ticket_no, Ticket.caller_number, Ticket.content)
            .where(*window)
            .order_by(Ticket.accepted_at.desc())
            .limit(BURST_SAMPLE)
        )
    ).all()
    callers: dict[str, str] = {}
    for ticket_no, caller, content in recent:
        if similarity(content, ticket.content) >= options.burst_similarity:
            callers.setdefault(caller or ticket_no, ticket_no)
    if len(callers) < options.burst_threshold:
        return
    now = datetime.now(UTC)
    raised = await session.scalar(
        insert(BurstAlert)
        .values(area_code=area, category=ticket.category, raised_at=now, ticket_count=len(callers))
        .on_conflict_do_update(
            index_elements=[BurstAlert.area_code, BurstAlert.category],
            set_={"raised_at": now, "ticket_count": len(callers)},
            where=BurstAlert.raised_at < since,
        )
        .returning(BurstAlert.area_code)
    )
    if raised is None:
        return  # this burst was already announced
    after_commit(session, metrics.BURST_ALERTS.labels(area, ticket.category).inc)
    await add_events(
        session,
        messaging,
        BurstDetected(
            source=SOURCE,
            subject=f"{area}/{ticket.category}",
            version=1,
            data=BurstDetectedData(
                area_code=area,
                category=ticket.category,
                ticket_count=len(callers),
                window_minutes=options.burst_window_minutes,
                sample_ticket_nos=list(callers.values())[:10],
                detected_at=now,
            ),
        ),
    )


async def _matching_notice(session: AsyncSession, ticket: TicketIn) -> OutageNotice | None:
    """The most specific active notice for this place and category that the caller's words name."""
    if ticket.location_code is None:
        return None
    notices = (
        await session.scalars(
            select(OutageNotice).where(
                OutageNotice.category == ticket.category,
                OutageNotice.starts_at <= ticket.accepted_at,
                OutageNotice.ends_at >= ticket.accepted_at,
            )
        )
    ).all()
    code = ticket.location_code
    matching = [
        (max(len(area) for area in n.area_codes if code.startswith(area)), n.starts_at, n)
        for n in notices
        if any(code.startswith(area) for area in n.area_codes)
        and any(word in ticket.content for word in n.keywords)
    ]
    return max(matching, key=lambda match: (match[0], match[1]))[2] if matching else None


async def _repeat_decision(
    session: AsyncSession, ticket: TicketIn, caller_number: str | None, options: IntakeOptions
) -> RepeatDecision | None:
    """Find the first ticket on the same issue (Attachment 5) and decide what this call is.

    The same issue: the same caller in the same category with similar words, or another caller
    at the same precise place (a village-level code or the same address) with similar words.
    """
    same_caller = Ticket.caller_number == caller_number if caller_number else None
    same_place = _same_place(ticket)
    matches = [condition for condition in (same_caller, same_place) if condition is not None]
    if not matches:
        return None
    since = ticket.accepted_at - timedelta(days=options.repeat_window_days)
    candidates = (
        await session.execute(
            select(Ticket.ticket_no, Ticket.caller_number, Ticket.content)
            .where(
                or_(*matches),
                Ticket.category == ticket.category,
                Ticket.accepted_at.between(since, ticket.accepted_at),
                # Originals only: not the refused repeats, nor those waiting on another ticket.
                Ticket.handling_mode != "not_accepted",
                Ticket.status != "awaiting_closure",
                Ticket.request_type != "consultation",
            )
            .order_by(Ticket.accepted_at.desc())
            .limit(MAX_CANDIDATES)
        )
    ).all()
    best: tuple[float, str] | None = None
    for ticket_no, number, content in candidates:
        is_same_caller = caller_number is not None and number == caller_number
        threshold = (
            options.repeat_same_caller_similarity
            if is_same_caller
            else options.repeat_same_place_similarity
        )
        score = similarity(content, ticket.content)
        if score >= threshold and (best is None or score > best[0]):
            best = (score, ticket_no)
    if best is None:
        return None
    # Read the original under a share lock, so it cannot close between our reading its state
    # and our committing a ticket that waits on it.
    original = await session.scalar(
        select(Ticket).where(Ticket.ticket_no == best[1]).with_for_update(read=True)
    )
    assert original is not None
    return decide(
        Original(
            original.ticket_no,
            "closed" if original.status == "closed" else "in_progress",
            original.resolution,
        ),
        same_caller=caller_number is not None and original.caller_number == caller_number,
        new_facts=ticket.new_facts,
    )


def _same_place(ticket: TicketIn) -> ColumnElement[bool] | None:
    """A district code alone covers too many people; a village code or an address does not."""
    if ticket.location_code is not None and len(ticket.location_code) >= PRECISE_CODE_DIGITS:
        return Ticket.location_code == ticket.location_code
    if ticket.location_code is not None and ticket.address:
        return and_(Ticket.location_code == ticket.location_code, Ticket.address == ticket.address)
    return None


async def _next_ticket_no(session: AsyncSession, accepted_at: datetime, prefix: str) -> str:
    serial = await session.scalar(select(ticket_number_sequence.next_value()))
    return f"{prefix}{accepted_at.astimezone(LOCAL_TIME):%Y%m%d}{serial:07d}"


def _ticket_events(row: Ticket) -> list[TicketCreated | TicketClosed]:
    created = TicketCreated(
        source=SOURCE,
        subject=row.ticket_no,
        ticket_id=row.ticket_no,
        version=1,
        data=TicketCreatedData(
            ticket_no=row.ticket_no,
            source_ticket_id=row.source_ticket_id,
            call_id=row.call_id,
            channel=row.channel,
            caller_salutation=row.caller_salutation,
            caller=_phone(row.caller_number) if row.caller_number else None,
            request_type=row.request_type,
            category=row.category,
            business_environment=row.business_environment,
            location_code=row.location_code,
            address=row.address,
            content=row.content,
            handling_mode=row.handling_mode,
            status=row.status,
            resolution=row.resolution,
            suggested_unit=row.suggested_unit,
            agent_id=row.agent_id,
            accepted_at=row.accepted_at,
            new_facts=row.new_facts,
            repeat_of=row.repeat_of,
            repeat_rule=row.repeat_rule,
            notice_id=row.notice_id,
        ),
    )
    return [created, _closed_event(row)] if row.status == "closed" else [created]


def _closed_event(row: Ticket) -> TicketClosed:
    assert row.closed_at is not None
    assert row.resolution is not None
    return TicketClosed(
        source=SOURCE,
        subject=row.ticket_no,
        ticket_id=row.ticket_no,
        version=row.version,
        data=TicketClosedData(
            ticket_no=row.ticket_no,
            closed_at=row.closed_at,
            handling_unit=row.handling_unit or HOTLINE_UNIT,
            resolution=row.resolution,
        ),
    )


def _phone(number: str) -> PhoneNumber:
    return PhoneNumber(number=number, masked=phones.mask(number))


async def _flush_or_conflict(session: AsyncSession, field: str, detail: str) -> None:
    """A concurrent twin of this request won the race: answer as to a duplicate."""
    try:
        await session.flush()
    except IntegrityError as error:
        raise Problem(409, "conflict", detail, field=field) from error
