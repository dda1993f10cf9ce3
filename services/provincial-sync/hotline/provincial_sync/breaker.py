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

    def succeeded(self) -> None:
        self._failures, self._pause, self._probing = 0, self._initial_pause, False
        self.opened_at = None

    def failed(self) -> None:
        was_probing, self._probing = self._probing, False
        self._failures += 1
        if self._failures < self._threshold:
            return
        if was_probing:
            self._pause = min(self._pause * 2, self._max_pause)
        if self.opened_at is None:
            self.opened_at = self._clock()
        self._reopen_at = self._clock() + self._pause

    def probe_not_sent(self) -> None:
        """The probe found nothing to send: the next caller may probe."""
        self._probing = False
