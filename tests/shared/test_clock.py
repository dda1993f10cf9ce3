"""The business clock: its arithmetic, its settings, and one simulated clock shared through
PostgreSQL, told to every process by NOTIFY and read again after a lost connection."""

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from pydantic import SecretStr, ValidationError
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.shared import clock
from hotline.shared.clock import store
from hotline.shared.clock.follower import ClockFollower
from hotline.shared.clock.reading import ClockReading, ClockRefused
from hotline.shared.migrations import upgrade
from hotline.shared.settings import ServiceSettings
from hotline.shared.stack.clock import duration_seconds
from hotline.shared.stack.up import CLOCK_PACKAGE
from tests.conftest import Servers
from tests.support import wait_until

WALL = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
MONDAY = datetime(2022, 1, 3, 9, 0, tzinfo=UTC)


# --- the arithmetic ------------------------------------------------------------------------


def test_the_clock_runs_at_real_speed_between_moves() -> None:
    reading = ClockReading(MONDAY, WALL)

    assert reading.at(WALL + timedelta(minutes=90)) == MONDAY + timedelta(minutes=90)
    assert reading.offset == MONDAY - WALL


def test_set_moves_forward_freely_and_back_only_when_forced() -> None:
    reading = ClockReading(MONDAY, WALL, moves=3)
    later = WALL + timedelta(hours=1)

    forward = reading.set_to(MONDAY + timedelta(days=2), later)
    with pytest.raises(ClockRefused) as refused:
        reading.set_to(MONDAY, later)  # the clock already stands an hour past it
    back = reading.set_to(MONDAY, later, force=True)

    assert (forward.at(later), forward.wall_at, forward.moves) == (
        MONDAY + timedelta(days=2),
        later,
        4,
    )
    assert (refused.value.field, refused.value.conflict) == ("now", True)
    assert back.at(later) == MONDAY
    for outside in (datetime(1999, 12, 31, tzinfo=UTC), datetime(9999, 12, 31, tzinfo=UTC)):
        with pytest.raises(ClockRefused) as refused:
            reading.set_to(outside, later, force=True)
        assert (refused.value.field, refused.value.conflict) == ("now", False)


def test_advance_moves_forward_from_where_the_clock_stands_now() -> None:
    reading = ClockReading(MONDAY, WALL)
    later = WALL + timedelta(minutes=10)

    advanced = reading.advanced(3600, later)

    assert advanced.at(later) == MONDAY + timedelta(minutes=70)
    for backwards in (0, -60):
        with pytest.raises(ClockRefused) as refused:
            reading.advanced(backwards, later)
        assert (refused.value.field, refused.value.conflict) == ("seconds", False)
    for too_far in (1e15, 100 * 366 * 86_400):  # past datetime's end; past 2100
        with pytest.raises(ClockRefused):
            reading.advanced(too_far, later)


def test_business_now_is_the_wall_clock_unless_a_simulated_clock_is_followed() -> None:
    class Fixed:
        offset = MONDAY - datetime.now(UTC)

    source = Fixed()
    assert abs(clock.business_now() - clock.wall_now()) < timedelta(seconds=1)
    assert clock.business_mode() == "real"
    clock.follow(source)
    try:
        assert abs(clock.business_now() - MONDAY) < timedelta(seconds=1)
        assert clock.business_mode() == "simulated"
    finally:
        clock.unfollow(source)
    assert abs(clock.business_now() - clock.wall_now()) < timedelta(seconds=1)


def test_durations_read_as_seconds_minutes_hours_and_days() -> None:
    assert [duration_seconds(d) for d in ("3600", "90m", "2h", "1d", "1d12h")] == [
        3600,
        5400,
        7200,
        86400,
        129600,
    ]


# --- the settings --------------------------------------------------------------------------


def test_production_refuses_the_simulated_clock() -> None:
    production = {
        "environment": "production",
        "database_url": SecretStr("postgresql+asyncpg://hotline:a-real-secret@db:5432/hotline"),
    }

    assert ServiceSettings.model_validate(production).clock == "real"
    with pytest.raises(ValidationError, match="HOTLINE_CLOCK=simulated is for development"):
        ServiceSettings.model_validate(production | {"clock": "simulated"})
    assert ServiceSettings.model_validate({"environment": "test", "clock": "simulated"}).clock == (
        "simulated"
    )


# --- one clock for the stack, in PostgreSQL ------------------------------------------------


@pytest.fixture
async def clock_table(engine: AsyncEngine) -> AsyncEngine:
    await upgrade(engine, CLOCK_PACKAGE)
    await upgrade(engine, CLOCK_PACKAGE)  # a second run changes nothing
    return engine


@pytest.fixture
async def followers(
    servers: Servers, clock_table: AsyncEngine
) -> AsyncIterator[list[ClockFollower]]:
    """Two processes' copies of the clock, each on a listening connection of its own."""
    started = [ClockFollower(servers.database_url, refresh_seconds=30) for _ in range(2)]
    for follower in started:
        await follower.start()
    try:
        yield started
    finally:
        for follower in started:
            await follower.close()


async def test_the_clock_migration_creates_exactly_the_table_the_store_declares(
    clock_table: AsyncEngine,
) -> None:
    def differences(connection: Connection) -> list[object]:
        context = MigrationContext.configure(
            connection,
            opts={
                "include_schemas": True,
                "include_name": lambda name, kind, _: (
                    name == store.SCHEMA if kind == "schema" else name != "alembic_version"
                ),
            },
        )
        return list(compare_metadata(context, store.metadata))

    async with clock_table.connect() as connection:
        assert await connection.run_sync(differences) == []


async def test_a_move_reaches_every_other_process_at_once_by_notify(
    followers: list[ClockFollower], clock_table: AsyncEngine
) -> None:
    mover, other = followers
    target = datetime(2022, 1, 5, 1, 0, tzinfo=UTC)

    moved_at = time.monotonic()
    moved = await store.set_clock(clock_table, target, force=True, by="tests")
    mover.apply(moved)  # what the answering process does before it answers
    assert abs(mover.now() - target) < timedelta(seconds=1)
    await wait_until(
        lambda: _near(other, target), within=2, what="the other process to hear the move"
    )
    heard_after = time.monotonic() - moved_at
    print(f"NOTIFY reached the other process {heard_after * 1000:.1f} ms after the move")
    await store.advance_clock(clock_table, 86_400, by="tests")
    await wait_until(lambda: _near(other, target + timedelta(days=1)), within=2, what="the advance")

    assert heard_after < 1.0
    assert (await store.read_clock(clock_table)).moves >= 2


async def test_a_follower_whose_connection_is_cut_listens_again_and_catches_up(
    servers: Servers, clock_table: AsyncEngine
) -> None:
    follower = ClockFollower(servers.database_url, refresh_seconds=0.2)
    await follower.start()
    stop = asyncio.Event()
    running = asyncio.create_task(follower.run(stop))
    try:
        cut = follower._connection.get_server_pid()
        async with clock_table.connect() as connection:
            # What a PostgreSQL restart does to the listening connection.
            await connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": cut})
        target = datetime(2022, 2, 1, 1, 0, tzinfo=UTC)
        await store.set_clock(clock_table, target, force=True, by="tests")

        await wait_until(lambda: _near(follower, target), within=5, what="the catch-up")
        listening = follower._connection.get_server_pid()
        later = target + timedelta(hours=5)
        await store.advance_clock(clock_table, 5 * 3600, by="tests")
        await wait_until(lambda: _near(follower, later), within=2, what="the next move")
    finally:
        stop.set()
        await running
        await follower.close()
    assert listening != cut


async def _near(follower: ClockFollower, moment: datetime) -> bool:
    return abs(follower.now() - moment) < timedelta(seconds=2)
