"""Each webhook id is answered once: a redelivery, even one racing the first, gets that answer.

The delivery is claimed first (insert, or wait for a concurrent twin's transaction), the answer
stored in the same transaction as the effects. A refused request rolls back its claim too. A
handler whose effects are one statement writes the delivery in that statement instead
(`delivered_after`), and looks for an earlier answer only when it wrote nothing.
"""

from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from typing import Any

from pydantic import BaseModel
from sqlalchemy import (
    CTE,
    Column,
    DateTime,
    Delete,
    Index,
    Insert,
    Integer,
    MetaData,
    Table,
    Text,
    Update,
    bindparam,
    delete,
    exists,
    func,
    literal,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.shared.web.problems import Problem
from hotline.shared.web.webhooks import VerifiedWebhook


def define_webhook_deliveries(metadata: MetaData) -> Table:
    """The table of webhooks answered, in the schema of a service that receives webhooks."""
    return Table(
        "webhook_deliveries",
        metadata,
        Column("sender", Text, primary_key=True),
        Column("webhook_id", Text, primary_key=True),
        Column("endpoint", Text, nullable=False),
        Column("status_code", Integer, nullable=False),
        Column("response", JSONB, nullable=False),
        Column("received_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("body_sha256", Text),
        Index("ix_webhook_deliveries_received_at", "received_at"),
    )


@dataclass(frozen=True)
class Answer:
    """A webhook's answer, as first given and as given again to a redelivery."""

    status_code: int
    body: dict[str, Any]
    replayed: bool = False


async def claim(
    session: AsyncSession, deliveries: Table, webhook: VerifiedWebhook, endpoint: str
) -> Answer | None:
    """Claim this webhook id; returns the earlier answer instead if it was already answered."""
    # On the session's connection: the claim is a plain insert, and the ORM's execution of one
    # costs more than the insert.
    connection = await session.connection()
    claimed = await connection.scalar(
        _statements(deliveries).claim,
        {
            "sender": webhook.sender,
            "webhook_id": webhook.webhook_id,
            "endpoint": endpoint,
            "status_code": 0,
            "response": {},
            "body_sha256": webhook.body_sha256,
        },
    )
    if claimed is not None:
        return None
    earlier = await earlier_answer(session, deliveries, webhook, endpoint)
    assert earlier is not None, "the claim conflicted with a delivery that is gone"
    return earlier


async def earlier_answer(
    session: AsyncSession, deliveries: Table, webhook: VerifiedWebhook, endpoint: str
) -> Answer | None:
    """The answer given to this webhook id before, if any: replayed to a redelivery; a 409 if
    the id came with another endpoint or another body."""
    earlier = (
        await session.execute(
            select(
                deliveries.c.endpoint,
                deliveries.c.status_code,
                deliveries.c.response,
                deliveries.c.body_sha256,
            ).where(
                deliveries.c.sender == webhook.sender,
                deliveries.c.webhook_id == webhook.webhook_id,
            )
        )
    ).one_or_none()
    if earlier is None:
        return None
    if earlier.endpoint != endpoint:
        raise id_reused("This webhook-id was used for another endpoint.")
    if earlier.body_sha256 is not None and earlier.body_sha256 != webhook.body_sha256:
        # A redelivery carries the same body; another body under the same id is another
        # message that would otherwise be silently answered as the first.
        raise id_reused(
            "This webhook-id was used for a different body; give each message its own id."
        )
    return Answer(earlier.status_code, earlier.response, replayed=True)


def id_reused(detail: str) -> Problem:
    return Problem(409, "webhook-id-reused", detail, field="webhook-id")


async def answer(
    session: AsyncSession,
    deliveries: Table,
    webhook: VerifiedWebhook,
    status_code: int,
    body: BaseModel,
) -> Answer:
    """Store the answer to the claimed webhook id, in the transaction of its effects."""
    stored = Answer(status_code, body.model_dump(mode="json"))
    await session.execute(answer_statement(deliveries), answer_parameters(webhook, stored))
    return stored


def answer_statement(deliveries: Table) -> Update:
    """The statement that stores an answer (parameters: `answer_parameters`), for a caller that
    folds it into a statement of its own."""
    return _statements(deliveries).answer


def delivered_after(deliveries: Table, effects: CTE) -> Insert:
    """The statement that stores a webhook's delivery and answer once `effects` (a CTE of the
    same statement) has a row, for a handler whose effects, claim and answer are one statement,
    atomic by itself (parameters: `delivery_parameters`). An id used before makes the whole
    statement fail with a unique violation, so none of it stays."""
    return insert(deliveries).from_select(
        DELIVERY_COLUMNS,
        select(
            *(bindparam(f"d_{name}", type_=deliveries.c[name].type) for name in DELIVERY_COLUMNS)
        ).where(exists(select(literal(1)).select_from(effects))),
    )


DELIVERY_COLUMNS = ("sender", "webhook_id", "endpoint", "status_code", "response", "body_sha256")


def delivery_parameters(webhook: VerifiedWebhook, endpoint: str, stored: Answer) -> dict[str, Any]:
    values = {
        "sender": webhook.sender,
        "webhook_id": webhook.webhook_id,
        "endpoint": endpoint,
        "status_code": stored.status_code,
        "response": stored.body,
        "body_sha256": webhook.body_sha256,
    }
    return {f"d_{name}": value for name, value in values.items()}


def answer_parameters(webhook: VerifiedWebhook, stored: Answer) -> dict[str, Any]:
    return {
        "the_sender": webhook.sender,
        "the_webhook_id": webhook.webhook_id,
        "status_code": stored.status_code,
        "response": stored.body,
    }


@dataclass(frozen=True)
class _Statements:
    claim: Any
    answer: Update


@cache
def _statements(deliveries: Table) -> _Statements:
    """A table's claim and answer, built once (their values passed as parameters)."""
    return _Statements(
        claim=insert(deliveries).on_conflict_do_nothing().returning(deliveries.c.webhook_id),
        answer=update(deliveries)
        .where(
            deliveries.c.sender == bindparam("the_sender"),
            deliveries.c.webhook_id == bindparam("the_webhook_id"),
        )
        .values(status_code=bindparam("status_code"), response=bindparam("response")),
    )


def forget_old_deliveries(deliveries: Table, retention_hours: float) -> Delete:
    """Deliveries older than this are past any sender's retries and our timestamp window."""
    return delete(deliveries).where(
        deliveries.c.received_at < func.now() - timedelta(hours=retention_hours)
    )
