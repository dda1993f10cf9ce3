"""Dispatch's event handlers: forwarded tickets arrive from intake, reopened ones from callback;
the knowledge base's published entries from intake."""

from collections.abc import Sequence
from itertools import groupby
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hotline.dispatch import known_answers, service
from hotline.dispatch.service import DispatchContext
from hotline.shared.messaging.consumer import ConsumerSpec, Handler
from hotline.shared.messaging.events import KNOWLEDGE_TOPIC, TICKETS_TOPIC


def consumers(context: DispatchContext) -> Sequence[ConsumerSpec]:
    async def created(session: AsyncSession, event: Any) -> None:
        await service.on_tickets_created(session, [event], context)

    async def reopened(session: AsyncSession, event: Any) -> None:
        await service.on_ticket_reopened(session, event, context)

    handlers: dict[str, Handler] = {
        "ticket.created": created,
        "ticket.reopened": reopened,
        "ticket.handed_over": service.on_ticket_handed_over,
        "ticket.merged": service.on_ticket_merged,
        # What the knowledge base answers in a unit's name: evidence beside its replies.
        "knowledge.entry_changed": known_answers.on_entry_changed,
    }

    async def in_order(session: AsyncSession, events: list[Any]) -> None:
        """A fetched batch in one transaction, in order (one ticket's events keep theirs; each
        sees what the earlier ones did); a run of new tickets is taken together."""
        for kind, run in groupby(events, key=lambda event: event.type):
            if kind == "ticket.created":
                await service.on_tickets_created(session, list(run), context)
            else:
                for event in run:
                    await handlers[kind](session, event)

    return (
        ConsumerSpec(
            name="dispatch",
            topics=(TICKETS_TOPIC, KNOWLEDGE_TOPIC),
            handlers=handlers,
            batch=in_order,
        ),
    )
