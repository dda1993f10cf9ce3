"""Waiting between attempts: exponential backoff and periodic passes that a stop signal cuts
short."""

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


class Backoff:
    """Delays that double after each failure up to a ceiling, and start over after a success."""

    def __init__(self, initial: float, ceiling: float) -> None:
        self.initial = initial
        self.ceiling = ceiling
        self.current = initial

    def next_delay(self) -> float:
        delay = self.current
        self.current = min(self.current * 2, self.ceiling)
        return delay

    def reset(self) -> None:
        self.current = self.initial


async def sleep_unless_stopped(stop: asyncio.Event, seconds: float) -> None:
    """Sleep, but wake as soon as `stop` is set."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


async def every(
    stop: asyncio.Event, seconds: float, run_once: Callable[[], Awaitable[object]], what: str
) -> None:
    """Run `run_once` every `seconds` until `stop` is set; a failed pass is logged and the next
    one runs as scheduled."""
    while not stop.is_set():
        try:
            await run_once()
        except Exception:
            log.exception("%s failed; the next runs as scheduled", what)
        await sleep_unless_stopped(stop, seconds)
