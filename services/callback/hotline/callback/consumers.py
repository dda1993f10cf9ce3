"""Callback's event handlers: tickets' lifecycle from intake and dispatch, spot checks from the
province (via provincial-sync)."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hotline.callback import service
from hotline.callback.deps import CallbackState
from hotline.shared.messaging.consumer import ConsumerSpec, Handler, applied_in_order
from hotline.shared.messaging.events import CALLBACKS_TOPIC, TICKETS_TOPIC


def consumers(state: CallbackState) -> Sequence[ConsumerSpec]:
    context = state.context

    async def created(session: AsyncSession, event: Any) -> None:
        await service.on_ticket_created(session, event, context)

    async def closed(session: AsyncSession, event: Any) -> None:
        await service.on_ticket_closed(session, event, context)

    handlers: dict[str, Handler] = {
        "ticket.created": created,
        "ticket.dispatched": service.on_ticket_dispatched,
        "ticket.replied": service.on_ticket_replied,
        "ticket.closed": closed,
        "callback.spot_checked": service.on_spot_checked,
    }

    return (
        ConsumerSpec(
            name="callback",
            topics=(TICKETS_TOPIC, CALLBACKS_TOPIC),
            handlers=handlers,
            batch=applied_in_order(handlers),
        ),
    )
