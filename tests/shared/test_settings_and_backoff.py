"""Settings refuse development defaults in production; backoff doubles up to its ceiling."""

import asyncio
import time

import pytest
from pydantic import ValidationError

from hotline.shared.backoff import Backoff, sleep_unless_stopped
from hotline.shared.loops import every
from hotline.shared.settings import ServiceSettings


@pytest.mark.parametrize("environment", ["production", None])
def test_outside_development_the_development_database_is_refused(
    monkeypatch: pytest.MonkeyPatch, environment: str | None
) -> None:
    if environment is None:
        monkeypatch.delenv("HOTLINE_ENVIRONMENT", raising=False)
    else:
        monkeypatch.setenv("HOTLINE_ENVIRONMENT", environment)
    monkeypatch.delenv("HOTLINE_DATABASE_URL", raising=False)

    with pytest.raises(ValidationError, match="HOTLINE_DATABASE_URL"):
        ServiceSettings()


def test_settings_come_from_hotline_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_ENVIRONMENT", "development")
    monkeypatch.setenv("HOTLINE_KAFKA_BOOTSTRAP", "kafka:9092")
    monkeypatch.setenv("HOTLINE_OUTBOX_RETENTION_HOURS", "12")

    settings = ServiceSettings()

    assert settings.kafka.bootstrap == "kafka:9092"
    assert settings.outbox.retention_hours == 12


def test_backoff_doubles_up_to_its_ceiling_and_starts_over_after_reset() -> None:
    backoff = Backoff(0.1, 0.5)

    delays = [backoff.next_delay() for _ in range(5)]
    backoff.reset()

    assert delays == [0.1, 0.2, 0.4, 0.5, 0.5]
    assert backoff.next_delay() == 0.1


async def test_a_stop_signal_cuts_a_sleep_short() -> None:
    stop = asyncio.Event()
    asyncio.get_running_loop().call_later(0.05, stop.set)
    started = time.monotonic()

    await sleep_unless_stopped(stop, 10)

    assert time.monotonic() - started < 1


async def test_a_periodic_pass_that_fails_does_not_stop_the_next_ones() -> None:
    stop = asyncio.Event()
    passes: list[int] = []

    async def flaky_pass() -> None:
        passes.append(len(passes))
        if len(passes) == 1:
            raise RuntimeError("the database blinked")
        if len(passes) == 3:
            stop.set()

    await asyncio.wait_for(every(stop, 0.01, flaky_pass, "a test pass"), timeout=5)

    assert passes == [0, 1, 2]
