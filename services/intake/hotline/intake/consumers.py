"""Intake's event handlers: tickets kept current (state, version, tickets waiting on them, the
hand-over of reopened ones), bursts of one issue watched for, units' accepted replies to
consultations kept as knowledge-base drafts."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hotline.intake import bursts, knowledge, lifecycle
from hotline.intake.deps import IntakeContext
from hotline.shared.messaging.consumer import ConsumerSpec, Handler, applied_in_order
from hotline.shared.messaging.events import TICKETS_TOPIC

# Steps of the services that hold a ticket after intake: intake only keeps its version.
STEPS_OF_OTHERS = (
    "ticket.dispatched",
    "ticket.signed",
    "ticket.return_requested",
    "ticket.return_reviewed",
    "ticket.extension_requested",
    "ticket.extension_reviewed",
    "ticket.deadline_near",
    "ticket.overdue",
)


def consumers(context: IntakeContext) -> Sequence[ConsumerSpec]:
    async def detect_burst(session: AsyncSession, event: Any) -> None:
        await bursts.detect_burst(session, event, context.options)

    async def reply_noted(session: AsyncSession, event: Any) -> None:
        await lifecycle.note_version(session, event)
        await knowledge.on_reply(session, event)

    async def reply_reviewed(session: AsyncSession, event: Any) -> None:
        await lifecycle.note_version(session, event)
        await knowledge.on_reply_reviewed(session, event)

    async def closed(session: AsyncSession, event: Any) -> None:
        await lifecycle.on_ticket_closed(session, event)
        await knowledge.on_closed(session, event)

    handlers: dict[str, Handler] = {
        "ticket.created": detect_burst,
        "ticket.closed": closed,
        "ticket.reopened": lifecycle.on_ticket_reopened,
        **dict.fromkeys(STEPS_OF_OTHERS, lifecycle.note_version),
        # Of those, what a citizen asking after the ticket is told (Open311): who holds it, by when.
        "ticket.dispatched": lifecycle.on_ticket_dispatched,
        "ticket.extension_reviewed": lifecycle.on_ticket_reviewed,
        "ticket.return_reviewed": lifecycle.on_ticket_reviewed,
        # A unit's accepted reply to a consultation: a draft for the knowledge base.
        "ticket.replied": reply_noted,
        "ticket.reply_reviewed": reply_reviewed,
    }

    return (
        ConsumerSpec(
            name="intake",
            topics=(TICKETS_TOPIC,),
            handlers=handlers,
            batch=applied_in_order(handlers),
        ),
    )
