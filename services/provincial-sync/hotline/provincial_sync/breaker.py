"""A circuit breaker for the province: after a few failed requests in a row it stops sending,
then lets one small request through (half-open) after a pause that doubles while the province
stays down; the first success closes it."""

import time
from collections.abc import Callable
from typing import Literal

BreakerState = Literal["closed", "half-open", "open"]
STATE_NUMBERS: dict[BreakerState, int] = {"closed": 0, "half-open": 1, "open": 2}


class CircuitBreaker:
    def __init__(
        self,
        *,
        failures: int,
        open_seconds: float,
        max_open_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._threshold = failures
        self._initial_pause = open_seconds
        self._max_pause = max_open_seconds
        self._clock = clock
        self._failures = 0
        self._pause = open_seconds
        self._reopen_at = 0.0
        self._probing = False
        self.opened_at: float | None = None

    @property
    def state(self) -> BreakerState:
        if self._failures < self._threshold:
            return "closed"
        if self._probing or self._clock() >= self._reopen_at:
            return "half-open"
        return "open"

    def admit(self) -> Literal["batch", "probe"] | None:
        """`batch` while closed; one `probe` at a time once the pause is over; else None."""
        state = self.state
        if state == "closed":
            return "batch"
        if state == "half-open" and not self._probing:
            self._probing = True
            return "probe"
        return None

    def seconds_until_probe(self) -> float:
        return max(0.0, self._reopen_at - self._clock())

    def succeeded(self, *, probe: bool = False) -> None:
        """Any answer from a platform that is up closes the breaker."""
        self._failures, self._pause = 0, self._initial_pause
        self.opened_at = None
        if probe:
            self._probing = False

    def failed(self, *, probe: bool = False) -> None:
        """A request failed because the platform is away. Only the probe's failure moves the
        next probe further off; a batch sent before the breaker opened changes nothing more."""
        self._failures += 1
        if probe:
            self._probing = False
            self._pause = min(self._pause * 2, self._max_pause)
        elif self._failures != self._threshold:
            return
        if self.opened_at is None:
            self.opened_at = self._clock()
        self._reopen_at = self._clock() + self._pause

    def probe_not_sent(self) -> None:
        """The probe found nothing to send, or failed before it was sent: another may probe."""
        self._probing = False
