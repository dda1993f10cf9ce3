"""Bursts of one issue in one district with no outage notice to answer them (the seed's gas
outage: 191 calls over three days): `alert.burst_detected`, once per burst."""

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.intake import metrics
from hotline.intake.config import IntakeOptions
from hotline.intake.events import SOURCE
from hotline.intake.models import BurstAlert, Ticket, messaging
from hotline.shared.clock import business_now
from hotline.shared.db import after_commit
from hotline.shared.domain.text import decode_terms, text_matcher
from hotline.shared.messaging.events import (
    BurstDetected,
    BurstDetectedData,
    TicketCreated,
)
from hotline.shared.messaging.outbox import add_events

BURST_SAMPLE = 300


async def detect_burst(session: AsyncSession, event: TicketCreated, options: IntakeOptions) -> None:
    """Raise `alert.burst_detected` when callers pile up about one issue in a district with no
    notice: distinct callers, so one caller phoning again and again is no burst. Windows are in
    the tickets' own time (when they were accepted), never the time of processing."""
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
            select(Ticket.ticket_no, Ticket.caller_number, Ticket.substance)
            .where(*window)
            .order_by(Ticket.accepted_at.desc())
            .limit(BURST_SAMPLE)
        )
    ).all()
    matcher = text_matcher()
    stored = next((terms for no, _, terms in recent if no == ticket.ticket_no), None)
    if stored is None:  # beyond the sample
        stored = await session.scalar(
            select(Ticket.substance).where(Ticket.ticket_no == ticket.ticket_no)
        )
    this = decode_terms(stored)
    callers: dict[str, str] = {}
    for ticket_no, caller, substance in recent:
        if matcher.similarity(decode_terms(substance), this).score >= options.burst_similarity:
            callers.setdefault(caller or ticket_no, ticket_no)
    if len(callers) < options.burst_threshold:
        return
    raised_at = ticket.accepted_at
    raised = await session.scalar(
        insert(BurstAlert)
        .values(
            area_code=area, category=ticket.category, raised_at=raised_at, ticket_count=len(callers)
        )
        .on_conflict_do_update(
            index_elements=[BurstAlert.area_code, BurstAlert.category],
            set_={"raised_at": raised_at, "ticket_count": len(callers)},
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
                detected_at=business_now(),
            ),
        ),
    )
