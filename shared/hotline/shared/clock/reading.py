"""The simulated clock's arithmetic: where it stands, and the moves it allows."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

# Where the simulated clock may stand: far from datetime's ends, so that every service can add
# a deadline or a retention to business time without overflowing.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)


class ClockRefused(ValueError):
    """A move the clock does not make; `field` names the input at fault, `conflict` says the
    input is fine but the clock's state forbids it (earlier than now, unforced)."""

    def __init__(self, field: str, message: str, *, conflict: bool = False) -> None:
        super().__init__(message)
        self.field = field
        self.conflict = conflict


@dataclass(frozen=True)
class ClockReading:
    """Business time `business_at` at wall time `wall_at`; it runs at real speed from there.
    `moves` counts the moves made, so an older reading never replaces a newer one."""

    business_at: datetime
    wall_at: datetime
    moves: int = 0

    @property
    def offset(self) -> timedelta:
        return self.business_at - self.wall_at

    def at(self, wall: datetime) -> datetime:
        """Business time when the wall clock shows `wall`."""
        return self.business_at + (wall - self.wall_at)

    def set_to(self, target: datetime, wall: datetime, *, force: bool = False) -> "ClockReading":
        """The clock put at `target`; earlier than now only when forced (timers and sequences
        assume time moves forward)."""
        if target.tzinfo is None:
            raise ClockRefused("now", "The time needs an offset (e.g. 2022-01-05T09:00:00+08:00).")
        if not EARLIEST <= target < LATEST:
            raise ClockRefused("now", f"The clock stands between {EARLIEST:%Y} and {LATEST:%Y}.")
        if target < self.at(wall) and not force:
            raise ClockRefused(
                "now",
                f"{target.isoformat()} is before the clock's {self.at(wall).isoformat()}: "
                "moving back needs force=true (timers and sequences assume time moves forward).",
                conflict=True,
            )
        return ClockReading(target, wall, self.moves + 1)

    def advanced(self, seconds: float, wall: datetime) -> "ClockReading":
        """The clock moved forward by `seconds` (never backward)."""
        if not seconds > 0:
            raise ClockRefused("seconds", "The clock only advances: seconds must be above 0.")
        try:
            target = self.at(wall) + timedelta(seconds=seconds)
        except OverflowError:
            target = LATEST
        if target >= LATEST:
            raise ClockRefused("seconds", f"That would move the clock past {LATEST:%Y}.")
        return ClockReading(target, wall, self.moves + 1)
