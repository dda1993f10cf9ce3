"""Operators' endpoints every service has: the events its consumers parked, to replay or discard.

`Authorization: Bearer <token>` from `HOTLINE_OPERATOR_TOKENS`; with none configured the
endpoints refuse everyone (the `hotline dead-letters` command still works).
"""

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select

from hotline.shared.messaging.consumer import IdempotentConsumer
from hotline.shared.runtime import ServiceRuntime
from hotline.shared.web.deps import Runtime, runtime_of
from hotline.shared.web.problems import Problem
from hotline.shared.web.schemas import InputModel
from hotline.shared.web.tokens import token_holder

router = APIRouter(prefix="/v1/dead-letters", tags=["operations"])
MAX_PAGE = 10_000


# An operator whose token is in HOTLINE_OPERATOR_TOKENS.
current_operator = token_holder(
    lambda request: runtime_of(request).settings.operator_tokens,
    "An operator token is required (HOTLINE_OPERATOR_TOKENS).",
)


Operator = Annotated[str, Depends(current_operator)]


class ParkedEvent(BaseModel):
    """An event a consumer could not apply after its retries."""

    id: int
    consumer: str
    topic: str
    partition: int
    offset: int
    key: str | None
    event_id: UUID | None
    event_type: str | None
    error: str
    attempts: int
    status: Literal["parked", "replayed", "discarded"]
    parked_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None
    note: str | None


class ParkedPage(BaseModel):
    items: list[ParkedEvent]
    total: int
    page: int
    page_size: int


class Replayed(BaseModel):
    id: int
    outcome: Literal["replayed", "duplicate", "failed"]


class DiscardIn(InputModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"note": "该事件所涉工单已人工处理，无需重放"}]}
    )

    note: str = Field(min_length=3, max_length=2000, description="Why it is given up")


PROBLEMS: dict[int | str, dict[str, Any]] = {
    401: {"description": "No operator token"},
    404: {"description": "No such parked event waits"},
}


@router.get("", responses=PROBLEMS)
async def list_parked(
    operator: Operator,
    runtime: Runtime,
    status: Literal["parked", "replayed", "discarded"] = "parked",
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> ParkedPage:
    """Parked events of this service's consumers, oldest first."""
    parked = runtime.tables.parked_events
    columns = [c for c in parked.c if c.name != "value"]
    async with runtime.sessions() as session:
        total = await session.scalar(
            select(func.count()).select_from(parked).where(parked.c.status == status)
        )
        rows = await session.execute(
            select(*columns)
            .where(parked.c.status == status)
            .order_by(parked.c.id)
            .offset((page - 1) * page_size)
            .limit(page_size)
        )
        items = [ParkedEvent.model_validate(dict(row._mapping)) for row in rows]
    return ParkedPage(items=items, total=total or 0, page=page, page_size=page_size)


# A parked event's id: a PostgreSQL bigint (a larger number is a 422 naming it, not a 500).
ParkedId = Annotated[int, Path(ge=1, le=2**63 - 1, description="The parked event's id")]


@router.post("/{parked_id}/replay", responses=PROBLEMS)
async def replay(parked_id: ParkedId, operator: Operator, runtime: Runtime) -> Replayed:
    """Apply a parked event again (after the fault that parked it is fixed)."""
    consumer = await _owner(runtime, parked_id)
    try:
        outcome = await consumer.replay_parked(parked_id, by=operator)
    except LookupError as gone:  # resolved by someone else meanwhile
        raise _not_parked(parked_id) from gone
    return Replayed.model_validate({"id": parked_id, "outcome": outcome})


@router.post("/{parked_id}/discard", status_code=204, responses=PROBLEMS)
async def discard(
    parked_id: ParkedId, body: DiscardIn, operator: Operator, runtime: Runtime
) -> None:
    """Give up on a parked event, saying why."""
    consumer = await _owner(runtime, parked_id)
    try:
        await consumer.discard_parked(parked_id, by=operator, note=body.note)
    except LookupError as gone:
        raise _not_parked(parked_id) from gone


async def _owner(runtime: ServiceRuntime, parked_id: int) -> IdempotentConsumer:
    consumer = await runtime.parked_owner(parked_id)
    if consumer is None:
        raise _not_parked(parked_id)
    return consumer


def _not_parked(parked_id: int) -> Problem:
    return Problem(404, "not-parked", f"No parked event {parked_id} waits here.", field="parked_id")
