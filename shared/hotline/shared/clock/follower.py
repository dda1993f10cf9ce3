"""One process's copy of the shared simulated clock: read at start, told of every move at once
by NOTIFY on a dedicated connection, and read again every few seconds in case a notification
was lost with that connection (which is made again by itself when PostgreSQL comes back)."""

import asyncio
import logging
from datetime import datetime, timedelta
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

from hotline.shared import clock
from hotline.shared.backoff import Backoff
from hotline.shared.clock import store
from hotline.shared.clock.reading import ClockReading

log = logging.getLogger(__name__)


class ClockFollower:
    """Keeps `offset` (business time minus wall time) as the shared clock says it is."""

    def __init__(
        self,
        database_url: str,
        *,
        refresh_seconds: float = 5.0,
        connect_timeout: float = 5.0,
    ) -> None:
        self.dsn = (
            make_url(database_url)
            .set(drivername="postgresql")
            .render_as_string(hide_password=False)
        )
        self.refresh_seconds = refresh_seconds
        self.connect_timeout = connect_timeout
        self.reading: ClockReading | None = None
        self.offset = timedelta(0)
        self._connection: Any = None
        self._wake = asyncio.Event()

    def now(self) -> datetime:
        """Business time, as this process knows it."""
        return clock.wall_now() + self.offset

    def apply(self, reading: ClockReading) -> None:
        """Take `reading` unless a newer move is already known."""
        if self.reading is not None and reading.moves < self.reading.moves:
            return
        self.reading, self.offset = reading, reading.offset

    async def start(self) -> None:
        """Listen, read the clock, and serve it to `business_now()`; raises if it cannot."""
        try:
            await self._listen()
            await self.refresh()
        except Exception as error:
            await self._disconnect()
            raise RuntimeError(
                f"HOTLINE_CLOCK=simulated: the shared clock cannot be read ({error!r}); "
                "is the database up and migrated (`hotline migrate`)?"
            ) from error
        clock.follow(self)
        log.info("following the simulated clock, now %s", self.now().isoformat())

    async def run(self, stop: asyncio.Event) -> None:
        """Re-read every `refresh_seconds`, and listen again whenever the connection is lost."""
        backoff = Backoff(0.2, self.refresh_seconds)
        try:
            while not stop.is_set():
                try:
                    if self._connection is None or self._connection.is_closed():
                        await self._listen()
                        log.info("listening for clock moves again")
                    await self.refresh()
                    backoff.reset()
                    wait = self.refresh_seconds
                except Exception as error:
                    await self._disconnect()
                    wait = backoff.next_delay()
                    log.warning("the clock's connection is lost (%r); again in %.1fs", error, wait)
                self._wake.clear()
                await _first_of(wait, stop, self._wake)
        finally:
            await self._disconnect()

    async def close(self) -> None:
        """Stop serving `business_now()` (once everything that reads it has stopped) and
        stop listening."""
        clock.unfollow(self)
        await self._disconnect()

    async def refresh(self) -> None:
        """Read the clock's row on the listening connection."""
        connection = self._connection
        row = await connection.fetchrow(store.READ_SQL)
        if row is None:
            await connection.execute(store.ENSURE_SQL)
            row = await connection.fetchrow(store.READ_SQL)
        self.apply(ClockReading(row["business_at"], row["wall_at"], row["moves"]))

    async def _listen(self) -> None:
        await self._disconnect()
        connection = await asyncpg.connect(self.dsn, timeout=self.connect_timeout)
        connection.add_termination_listener(lambda _connection: self._wake.set())
        await connection.add_listener(store.CHANNEL, self._notified)
        self._connection = connection

    def _notified(self, _connection: object, _pid: int, _channel: str, payload: str) -> None:
        try:
            self.apply(store.decode(payload))
        except (ValueError, KeyError, TypeError):
            log.warning("unreadable clock notification %r; reading the clock again", payload)
            self._wake.set()

    async def _disconnect(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None and not connection.is_closed():
            connection.terminate()


async def _first_of(seconds: float, *events: asyncio.Event) -> None:
    """Sleep `seconds`, or less if one of `events` is set."""
    waiters = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
