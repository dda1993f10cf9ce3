"""Scoring's event handler: every event of the read model, applied a fetched batch at a time."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hotline.scoring import readmodel
from hotline.scoring.deps import ScoringContext
from hotline.shared.messaging.consumer import ConsumerSpec
from hotline.shared.messaging.events import (
    CALLBACKS_TOPIC,
    CALLS_TOPIC,
    TICKETS_TOPIC,
    UPLOADS_TOPIC,
)


def consumers(context: ScoringContext) -> Sequence[ConsumerSpec]:
    async def apply(session: AsyncSession, events: list[Any]) -> None:
        await readmodel.apply(session, events, context.rules)

    async def apply_one(session: AsyncSession, event: Any) -> None:
        await apply(session, [event])

    return (
        ConsumerSpec(
            name="scoring",
            topics=(TICKETS_TOPIC, CALLS_TOPIC, CALLBACKS_TOPIC, UPLOADS_TOPIC),
            handlers=dict.fromkeys(readmodel.EVENT_TYPES, apply_one),
            batch=apply,
        ),
    )
