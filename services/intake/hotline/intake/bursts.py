"""Bursts of one issue in one district with no outage notice to answer them (the seed's gas
outage: 191 calls over three days): `alert.burst_detected`, once per burst."""

from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnElement, DateTime, Text, bindparam, func, select
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
from hotline.shared.prepared import Prepared

BURST_SAMPLE = 300


def _window(
    in_district: ColumnElement[bool], category: Any, since: Any, until: Any
) -> tuple[ColumnElement[bool], ...]:
    """The district's tickets of one category in the window that a notice did not answer."""
    return (
        in_district,
        Ticket.category == category,
        Ticket.accepted_at.between(since, until),
        Ticket.notice_id.is_(None),
        Ticket.handling_mode != "not_accepted",
    )


# Run for every ticket with a place: built and compiled once (see `hotline.shared.prepared`).
FIRST_CHECKS = Prepared(
    select(
        select(BurstAlert.raised_at)
        .where(
            BurstAlert.area_code == bindparam("area", type_=Text),
            BurstAlert.category == bindparam("category", type_=Text),
        )
        .scalar_subquery()
        .label("last_alert"),
        select(func.count(func.distinct(func.coalesce(Ticket.caller_number, Ticket.ticket_no))))
        .where(
            *_window(
                Ticket.location_code.like(bindparam("district_prefix", type_=Text)),
                bindparam("category", type_=Text),
                bindparam("since", type_=DateTime(timezone=True)),
                bindparam("until", type_=DateTime(timezone=True)),
            )
        )
        .scalar_subquery()
        .label("callers"),
    )
)


async def detect_burst(session: AsyncSession, event: TicketCreated, options: IntakeOptions) -> None:
    """Raise `alert.burst_detected` when callers pile up about one issue in a district with no
    notice: distinct callers, so one caller phoning again and again is no burst. Windows are in
    the tickets' own time (when they were accepted), never the time of processing."""
    ticket = event.data
    if ticket.location_code is None or ticket.notice_id is not None:
        return
    area = ticket.location_code[:6]
    since = ticket.accepted_at - timedelta(minutes=options.burst_window_minutes)
    # Cheap checks first, in one round trip: a burst already announced, or too few callers.
    checked = (
        await FIRST_CHECKS.fetch(
            session,
            {
                "area": area,
                "district_prefix": f"{area}%",  # six digits: nothing to escape
                "category": ticket.category,
                "since": since,
                "until": ticket.accepted_at,
            },
        )
    )[0]
    if checked["last_alert"] is not None and checked["last_alert"] >= since:
        return
    if checked["callers"] < options.burst_threshold:
        return
    window = _window(
        Ticket.location_code.startswith(area), ticket.category, since, ticket.accepted_at
    )
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
