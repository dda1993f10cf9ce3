"""Each webhook id is answered once: a redelivery, even one racing the first, gets that answer.

The delivery is claimed first (insert, or wait for a concurrent twin's transaction), the answer
stored in the same transaction as the effects. A refused request rolls back its claim too.
"""

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.intake.models import WebhookDelivery
from hotline.intake.webhooks import VerifiedWebhook
from hotline.shared.problems import Problem


@dataclass(frozen=True)
class Answer:
    """A webhook's answer, as first given and as given again to a redelivery."""

    status_code: int
    body: dict[str, Any]
    replayed: bool = False


async def claim(session: AsyncSession, webhook: VerifiedWebhook, endpoint: str) -> Answer | None:
    """Claim this webhook id; returns the earlier answer instead if it was already answered."""
    claimed = await session.scalar(
        insert(WebhookDelivery)
        .values(
            sender=webhook.sender,
            webhook_id=webhook.webhook_id,
            endpoint=endpoint,
            status_code=0,
            response={},
        )
        .on_conflict_do_nothing()
        .returning(WebhookDelivery.webhook_id)
    )
    if claimed is not None:
        return None
    earlier = (
        await session.execute(
            select(
                WebhookDelivery.endpoint, WebhookDelivery.status_code, WebhookDelivery.response
            ).where(
                WebhookDelivery.sender == webhook.sender,
                WebhookDelivery.webhook_id == webhook.webhook_id,
            )
        )
    ).one()
    if earlier.endpoint != endpoint:
        raise Problem(
            409,
            "webhook-id-reused",
            "This webhook-id was used for another endpoint.",
            field="webhook-id",
        )
    return Answer(earlier.status_code, earlier.response, replayed=True)


async def answer(
    session: AsyncSession, webhook: VerifiedWebhook, status_code: int, body: BaseModel
) -> Answer:
    """Store the answer to the claimed webhook id, in the transaction of its effects."""
    stored = Answer(status_code, body.model_dump(mode="json"))
    await session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.sender == webhook.sender,
            WebhookDelivery.webhook_id == webhook.webhook_id,
        )
        .values(status_code=status_code, response=stored.body)
    )
    return stored
