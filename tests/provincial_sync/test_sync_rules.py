"""The parts of provincial-sync that need no server: the gate's modes, the retry delays, the
circuit breaker, the settings, and the exchange format's published schema."""

import json
import random
from pathlib import Path

import pytest
from pydantic import ValidationError

from hotline.provincial_sync.adapters.generic_v1 import json_schema
from hotline.provincial_sync.breaker import CircuitBreaker
from hotline.provincial_sync.config import SyncOptions, SyncSettings
from hotline.provincial_sync.documents import gate
from hotline.provincial_sync.uploader import retry_delay
from hotline.shared.domain.quality import Finding

SCHEMA_FILE = (
    Path(__file__).resolve().parents[2] / "services/provincial-sync/province-api.schema.json"
)


def test_block_mode_blocks_on_any_finding_and_a_rule_can_warn_or_be_ignored() -> None:
    options = SyncOptions(rule_modes={"T09": "warn", "T10": "off"})
    t07 = Finding("T07", "caller_salutation", "称呼为数字")
    t09 = Finding("T09", "content", "乱码")
    t10 = Finding("T10", "resolution", "过于简单")
    assert gate([t09], options) == (
        [{"code": "T09", "field": "content", "message": "乱码", "mode": "warn"}],
        False,
    )
    assert gate([t10], options) == ([], False)
    recorded, blocks = gate([t07, t09, t10], options)
    assert blocks
    assert [(f["code"], f["mode"]) for f in recorded] == [("T07", "block"), ("T09", "warn")]
    warned, blocks = gate([t07], SyncOptions(gate_mode="warn"))
    assert not blocks
    assert warned[0]["mode"] == "warn"


def test_t17_warns_by_default_because_it_deducts_nothing_yet() -> None:
    assert SyncOptions().mode_of("T17") == "warn"
    assert SyncOptions().mode_of("T07") == "block"


def test_an_unknown_rule_code_in_the_modes_is_refused_naming_it() -> None:
    with pytest.raises(ValidationError, match="T99"):
        SyncOptions(rule_modes={"T99": "warn"})


def test_retry_delays_grow_to_the_ceiling_and_are_spread() -> None:
    rng = random.Random(7)
    first = [retry_delay(1, 1.0, 300.0, rng) for _ in range(200)]
    fifth = [retry_delay(5, 1.0, 300.0, rng) for _ in range(200)]
    late = [retry_delay(30, 1.0, 300.0, rng) for _ in range(200)]
    assert all(0.5 <= d <= 1.0 for d in first)
    assert all(8.0 <= d <= 16.0 for d in fifth)
    assert all(150.0 <= d <= 300.0 for d in late)
    assert len({round(d, 3) for d in fifth}) > 150  # jittered, not in lockstep


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_breaker_opens_probes_once_and_closes_on_success() -> None:
    clock = Clock()
    breaker = CircuitBreaker(failures=3, open_seconds=5, max_open_seconds=20, clock=clock)
    for _ in range(2):
        assert breaker.admit() == "batch"
        breaker.failed()
    assert breaker.state == "closed"
    breaker.failed()
    assert breaker.state == "open"  # type: ignore[comparison-overlap]
    assert breaker.admit() is None
    clock.now = 5
    assert breaker.admit() == "probe"
    assert breaker.admit() is None  # one probe at a time
    breaker.failed()
    assert breaker.state == "open"
    assert breaker.seconds_until_probe() == 10  # the pause doubled
    clock.now = 15
    assert breaker.admit() == "probe"
    breaker.succeeded()
    assert breaker.state == "closed"
    assert breaker.admit() == "batch"


def test_a_probe_that_found_nothing_to_send_lets_the_next_caller_probe() -> None:
    clock = Clock()
    breaker = CircuitBreaker(failures=1, open_seconds=1, max_open_seconds=4, clock=clock)
    breaker.failed()
    clock.now = 1
    assert breaker.admit() == "probe"
    breaker.probe_not_sent()
    assert breaker.admit() == "probe"


def test_production_needs_the_province_and_refuses_published_secrets(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("HOTLINE_ENVIRONMENT", raising=False)
    for name in ("READER", "SUPERVISOR"):
        monkeypatch.setenv(f"HOTLINE_SYNC_{name}_TOKENS", json.dumps({"x": "y" * 40}))
    monkeypatch.setenv("HOTLINE_OPERATOR_TOKENS", json.dumps({"op": "z" * 40}))
    monkeypatch.setenv(
        "HOTLINE_DATABASE_URL", "postgresql+asyncpg://sync:" + "p" * 30 + "@db/hotline"
    )
    with pytest.raises(ValidationError, match="HOTLINE_SYNC_PROVINCE_URL"):
        SyncSettings()
    monkeypatch.setenv("HOTLINE_SYNC_PROVINCE_URL", "https://12345.hunan.example/")
    monkeypatch.setenv("HOTLINE_SYNC_APP_KEY", "shaoyang")
    monkeypatch.setenv("HOTLINE_SYNC_APP_SECRET", "development-only-province-app-secret")
    with pytest.raises(ValidationError, match="HOTLINE_SYNC_APP_SECRET"):
        SyncSettings()
    monkeypatch.setenv("HOTLINE_SYNC_APP_SECRET", "s" * 40)
    settings = SyncSettings()
    assert settings.sync.province_url == "https://12345.hunan.example"


def test_the_published_schema_is_the_one_the_adapter_speaks() -> None:
    assert json.loads(SCHEMA_FILE.read_text("utf-8")) == json_schema(), (
        "regenerate: python -m hotline.provincial_sync.adapters.generic_v1 > "
        "services/provincial-sync/province-api.schema.json"
    )
