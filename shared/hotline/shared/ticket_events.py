"""A service's own store of the ticket events it folds (scoring's read model, provincial-sync's
documents): one table of every event as it came, keyed by event id, so that a redelivery is
stored once and any order of arrival folds the same."""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import DateTime, Integer, Table, Text, Uuid, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from hotline.shared.domain.fold import StoredEvent, stored_row, ticket_of
from hotline.shared.messaging.events import Event


class TicketEventColumns:
    """The columns of a `ticket_events` table (a declarative mixin)."""

    __tablename__ = "ticket_events"

    event_id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    ticket_no: Mapped[str] = mapped_column(Text, index=True)
    event_type: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    data: Mapped[dict[str, Any]] = mapped_column(JSONB)


async def store(session: AsyncSession, table: Table, events: Sequence[Event]) -> set[str]:
    """Keep the events that fold into a ticket; returns the tickets they touch."""
    rows = [stored_row(event) for event in events if ticket_of(event) is not None]
    if rows:
        await session.execute(pg_insert(table).on_conflict_do_nothing(), rows)
    return {row["ticket_no"] for row in rows}


async def load(
    session: AsyncSession, table: Table, ticket_nos: Iterable[str]
) -> dict[str, list[StoredEvent]]:
    """Every stored event of each ticket."""
    events: dict[str, list[StoredEvent]] = defaultdict(list)
    columns = table.c
    for row in await session.execute(
        select(
            columns.ticket_no,
            columns.event_type,
            columns.version,
            columns.occurred_at,
            columns.data,
        ).where(columns.ticket_no.in_(list(ticket_nos)))
    ):
        events[row.ticket_no].append(
            StoredEvent(row.event_type, row.version, row.occurred_at, row.data)
        )
    return events
