"""Provincial-sync's event handler: every event its documents are folded from, a fetched batch
at a time."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hotline.provincial_sync import documents
from hotline.provincial_sync.deps import SyncContext
from hotline.shared.messaging.consumer import ConsumerSpec
from hotline.shared.messaging.events import CALLBACKS_TOPIC, CALLS_TOPIC, TICKETS_TOPIC


def consumers(context: SyncContext) -> Sequence[ConsumerSpec]:
    async def apply(session: AsyncSession, events: list[Any]) -> None:
        await documents.apply(session, events, context.options)

    async def apply_one(session: AsyncSession, event: Any) -> None:
        await apply(session, [event])

    return (
        ConsumerSpec(
            name="provincial-sync",
            topics=(TICKETS_TOPIC, CALLS_TOPIC, CALLBACKS_TOPIC),
            handlers=dict.fromkeys(documents.EVENT_TYPES, apply_one),
            batch=apply,
        ),
    )
