"""The simulated clock's one row (`clock.business_clock`), read and moved; every move is
announced on the `hotline_clock` channel (NOTIFY, sent when the move commits)."""

import json
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    SmallInteger,
    Table,
    Text,
    func,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from hotline.shared.clock.reading import ClockReading
from hotline.shared.db import service_metadata

SCHEMA = "clock"
CHANNEL = "hotline_clock"
ROW_ID = 1
# A move: from the current reading and the wall time, the new reading (or ClockRefused).
Mover = Callable[[ClockReading, datetime], ClockReading]

metadata = service_metadata(SCHEMA)
business_clock = Table(
    "business_clock",
    metadata,
    Column("id", SmallInteger, primary_key=True),
    Column("business_at", DateTime(timezone=True), nullable=False),
    Column("wall_at", DateTime(timezone=True), nullable=False),
    Column("moves", BigInteger, nullable=False),
    Column("moved_by", Text),
    CheckConstraint("id = 1", name="one_row"),
)

# What a follower reads on its own asyncpg connection.
READ_SQL = f"SELECT business_at, wall_at, moves FROM {SCHEMA}.business_clock WHERE id = {ROW_ID}"
# The row is made at the first read if it is not there yet: the clock starts at the real time.
ENSURE_SQL = (
    f"INSERT INTO {SCHEMA}.business_clock (id, business_at, wall_at, moves) "
    f"VALUES ({ROW_ID}, clock_timestamp(), clock_timestamp(), 0) ON CONFLICT (id) DO NOTHING"
)


def encode(reading: ClockReading) -> str:
    """A reading as the NOTIFY payload carries it."""
    return json.dumps(
        {
            "business_at": reading.business_at.isoformat(),
            "wall_at": reading.wall_at.isoformat(),
            "moves": reading.moves,
        }
    )


def decode(payload: str) -> ClockReading:
    data = json.loads(payload)
    return ClockReading(
        datetime.fromisoformat(data["business_at"]),
        datetime.fromisoformat(data["wall_at"]),
        int(data["moves"]),
    )


async def set_clock(
    engine: AsyncEngine, target: datetime, *, force: bool = False, by: str | None = None
) -> ClockReading:
    """Put the shared clock at `target` (earlier only when `force`d), and announce it."""
    return await _move(engine, lambda now, wall: now.set_to(target, wall, force=force), by)


async def advance_clock(
    engine: AsyncEngine, seconds: float, *, by: str | None = None
) -> ClockReading:
    """Move the shared clock forward by `seconds`, and announce it."""
    return await _move(engine, lambda now, wall: now.advanced(seconds, wall), by)


async def read_clock(engine: AsyncEngine) -> ClockReading:
    """The shared clock as the database holds it."""
    async with engine.begin() as connection:
        reading, _wall = await _locked(connection, lock=False)
    return reading


async def _move(engine: AsyncEngine, how: Mover, by: str | None) -> ClockReading:
    async with engine.begin() as connection:
        current, wall = await _locked(connection, lock=True)
        moved = how(current, wall)  # refuses (ClockRefused) before anything changes
        await connection.execute(
            update(business_clock)
            .where(business_clock.c.id == ROW_ID)
            .values(
                business_at=moved.business_at,
                wall_at=moved.wall_at,
                moves=moved.moves,
                moved_by=by,
            )
        )
        await connection.execute(select(func.pg_notify(CHANNEL, encode(moved))))
    return moved


async def _locked(connection: AsyncConnection, *, lock: bool) -> tuple[ClockReading, datetime]:
    """The row (made if missing), locked for a move, and the database's wall time now."""
    await connection.execute(
        insert(business_clock)
        .values(
            id=ROW_ID, business_at=func.clock_timestamp(), wall_at=func.clock_timestamp(), moves=0
        )
        .on_conflict_do_nothing(index_elements=["id"])
    )
    query = select(
        business_clock.c.business_at,
        business_clock.c.wall_at,
        business_clock.c.moves,
        func.clock_timestamp(),
    ).where(business_clock.c.id == ROW_ID)
    row = (await connection.execute(query.with_for_update() if lock else query)).one()
    return ClockReading(row.business_at, row.wall_at, row.moves), row[3]
