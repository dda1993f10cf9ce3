"""Dispatch's event handlers: forwarded tickets arrive from intake, reopened ones from callback."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hotline.dispatch import service
from hotline.dispatch.service import DispatchContext
from hotline.shared.messaging.consumer import ConsumerSpec
from hotline.shared.messaging.events import TICKETS_TOPIC


def consumers(context: DispatchContext) -> Sequence[ConsumerSpec]:
    async def created(session: AsyncSession, event: Any) -> None:
        await service.on_ticket_created(session, event, context)

    async def reopened(session: AsyncSession, event: Any) -> None:
        await service.on_ticket_reopened(session, event, context)

    return (
        ConsumerSpec(
            name="dispatch",
            topics=(TICKETS_TOPIC,),
            handlers={
                "ticket.created": created,
                "ticket.reopened": reopened,
                "ticket.handed_over": service.on_ticket_handed_over,
                "ticket.merged": service.on_ticket_merged,
            },
        ),
    )
