"""Business time: the "now" of deadlines, timers, stamps and "not in the future" checks.

`business_now()` is what every service reads it through. On the real clock (`HOTLINE_CLOCK=real`,
the default) it is the wall clock. On the simulated clock one row in PostgreSQL (`clock`
schema) says where business time stands for the whole stack; each process keeps it in memory
(`ClockFollower`), so reading it costs an addition. Transport time (signature windows, token
expiry, timeouts, backoff, retention, metrics) stays on `wall_now()`.
"""

from datetime import UTC, datetime, timedelta
from typing import Literal, Protocol

ClockMode = Literal["real", "simulated"]


class ClockSource(Protocol):
    """What keeps the business clock's offset from the wall clock (a `ClockFollower`)."""

    offset: timedelta


_sources: list[ClockSource] = []


def wall_now() -> datetime:
    """The wall clock, aware, in UTC: for transport (timestamp windows, expiry, backoff)."""
    return datetime.now(UTC)


def business_now() -> datetime:
    """Business time, aware, in UTC: the wall clock unless the simulated clock is followed."""
    now = datetime.now(UTC)
    if _sources:
        return now + _sources[-1].offset
    return now


def business_mode() -> ClockMode:
    """`simulated` while this process follows the shared simulated clock, else `real`."""
    return "simulated" if _sources else "real"


def follow(source: ClockSource) -> None:
    """Read business time from `source` from now on (the latest followed wins)."""
    _sources.append(source)


def unfollow(source: ClockSource) -> None:
    """Stop reading from `source`; with none left, business time is the wall clock again."""
    if source in _sources:
        _sources.remove(source)
