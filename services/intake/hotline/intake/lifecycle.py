"""What intake keeps of a ticket after accepting it, from the events of the services that hold it
next: its state, its highest version, tickets waiting on it (Attachment 5), and the hand-over to
dispatch of a ticket the hotline answered itself when its survey reopens it."""

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.intake.events import SOURCE, closed_event, created_data
from hotline.intake.models import Ticket, messaging
from hotline.shared.messaging.events import (
    Event,
    TicketClosed,
    TicketDispatched,
    TicketExtensionReviewed,
    TicketHandedOver,
    TicketHandedOverData,
    TicketReopened,
    TicketReturnReviewed,
)
from hotline.shared.messaging.outbox import add_events


async def note_version(session: AsyncSession, event: Event) -> None:
    """Another service moved the ticket on: number intake's own events above its version."""
    await session.execute(
        update(Ticket)
        .where(Ticket.ticket_no == event.subject, Ticket.version < event.version)
        .values(version=event.version)
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
        await add_events(session, messaging, closed_event(follower))


async def on_ticket_reopened(session: AsyncSession, event: TicketReopened) -> None:
    """A reopened ticket is in progress again: later repeat calls about it join it. One that
    dispatch never held (the hotline answered it) is handed to dispatch with its content."""
    ticket = await session.scalar(
        select(Ticket).where(Ticket.ticket_no == event.subject).with_for_update()
    )
    if ticket is None or ticket.version >= event.version:
        return
    ticket.status, ticket.closed_at = "open", None
    ticket.resolution = ticket.handling_unit = None
    ticket.version = event.version
    if ticket.held_by_dispatch:
        return
    ticket.held_by_dispatch, ticket.version = True, event.version + 1
    await add_events(
        session,
        messaging,
        TicketHandedOver(
            source=SOURCE,
            subject=ticket.ticket_no,
            ticket_id=ticket.ticket_no,
            version=ticket.version,
            data=TicketHandedOverData(
                **created_data(ticket).model_dump(),
                reopen_reason=event.data.reason,
                reopened_at=event.data.reopened_at,
            ),
        ),
    )


async def on_ticket_dispatched(session: AsyncSession, event: TicketDispatched) -> None:
    """Keep which unit holds the ticket now, and its deadline (a citizen may ask, Open311)."""
    await session.execute(
        update(Ticket)
        .where(Ticket.ticket_no == event.subject, Ticket.version < event.version)
        .values(
            dispatched_unit=event.data.unit_name,
            deadline=event.data.deadline,
            version=event.version,
        )
    )


async def on_ticket_reviewed(session: AsyncSession, event: Event) -> None:
    """An approved extension moves the deadline; an accepted return takes the ticket from its
    unit (the next `ticket.dispatched`, if a rule routes it, names the new one)."""
    values: dict[str, object] = {"version": event.version}
    if isinstance(event, TicketExtensionReviewed) and event.data.outcome == "accepted":
        values["deadline"] = event.data.new_deadline
    if isinstance(event, TicketReturnReviewed) and event.data.outcome == "accepted":
        values["dispatched_unit"] = values["deadline"] = None
    await session.execute(
        update(Ticket)
        .where(Ticket.ticket_no == event.subject, Ticket.version < event.version)
        .values(**values)
    )
