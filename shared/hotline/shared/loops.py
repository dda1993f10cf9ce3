"""The loops background work runs in: periodic passes, and waiting out a database that is away.

Both stop as soon as the service does.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from hotline.shared.backoff import Backoff, sleep_unless_stopped
from hotline.shared.db import database_unavailable

log = logging.getLogger(__name__)

T = TypeVar("T")


async def every(
    stop: asyncio.Event, seconds: float, run_once: Callable[[], Awaitable[object]], what: str
) -> None:
    """Run `run_once` every `seconds` until `stop` is set; a failed pass is logged and the next
    one runs as scheduled."""
    while not stop.is_set():
        try:
            await run_once()
        except Exception as error:
            if database_unavailable(error):
                log.warning("%s waits for the database (%r)", what, error)
            else:
                log.exception("%s failed; the next runs as scheduled", what)
        await sleep_unless_stopped(stop, seconds)


async def until_database_answers(
    action: Callable[[], Awaitable[T]],
    *,
    stop: asyncio.Event,
    what: str,
    backoff: Backoff | None = None,
) -> T | None:
    """Run `action`, retrying for as long as the database is unavailable (any other error is
    raised); tried once even when `stop` is already set, None if it is set before it succeeds."""
    backoff = backoff or Backoff(0.2, 5.0)
    while True:
        try:
            return await action()
        except Exception as error:
            if not database_unavailable(error):
                raise
            if stop.is_set():
                return None
            delay = backoff.next_delay()
            log.warning("%s waits %.1fs for the database (%r)", what, delay, error)
            await sleep_unless_stopped(stop, delay)
