"""Intake's event handlers: tickets kept current, bursts of one issue watched for."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hotline.intake import service
from hotline.intake.deps import IntakeContext
from hotline.shared.messaging.consumer import ConsumerSpec
from hotline.shared.messaging.events import TICKETS_TOPIC


def consumers(context: IntakeContext) -> Sequence[ConsumerSpec]:
    async def detect_burst(session: AsyncSession, event: Any) -> None:
        await service.detect_burst(session, event, context.options)

    return (
        ConsumerSpec(
            name="intake",
            topics=(TICKETS_TOPIC,),
            handlers={
                "ticket.created": detect_burst,
                "ticket.closed": service.on_ticket_closed,
                "ticket.reopened": service.on_ticket_reopened,
            },
        ),
    )
