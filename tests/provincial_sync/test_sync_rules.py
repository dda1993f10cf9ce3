"""The parts of provincial-sync that need no server: the gate's modes, the retry delays, the
circuit breaker, the settings, and the exchange format's published schema."""

import json
import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from hotline.provincial_sync.adapters import BatchAnswer, OutgoingRecord, RecordResult
from hotline.provincial_sync.adapters.generic_v1 import GenericV1, json_schema
from hotline.provincial_sync.breaker import CircuitBreaker
from hotline.provincial_sync.config import SyncOptions, SyncSettings
from hotline.provincial_sync.documents import gate
from hotline.provincial_sync.uploader import Claimed, Uploader, _clean, retry_delay
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
    breaker.failed()  # a batch sent before it opened fails meanwhile: the probe still runs
    assert breaker.admit() is None
    breaker.failed(probe=True)
    assert breaker.state == "open"
    assert breaker.seconds_until_probe() == 10  # the pause doubled
    clock.now = 15
    assert breaker.admit() == "probe"
    breaker.succeeded(probe=True)
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


def record(content_hash: str, version: int = 3) -> OutgoingRecord:
    return OutgoingRecord("ticket", "SY1", version, datetime.now(UTC), {}, content_hash)


def test_a_version_number_reused_for_other_content_is_a_new_key() -> None:
    """A store rebuilt from the topics numbers again from 1: the province must not answer
    "already received" for content it never saw."""
    assert record("a" * 64).idempotency_key != record("b" * 64).idempotency_key
    assert record("a" * 64).idempotency_key == record("a" * 64).idempotency_key


def answer_of(status: int, body: bytes, retry_after: str | None = None) -> BatchAnswer:
    adapter = GenericV1(city_code="4305", app_key="k", app_secret="s" * 30)
    headers = {"retry-after": retry_after} if retry_after else {}
    return adapter.read_upload_answer(status, headers, body, 2)


def test_the_provinces_answers_become_bounded_reasons_and_usable_waits() -> None:
    html = b"<html>429 Too Many Requests</html>"
    assert (answer_of(429, html, "7").retry_after_seconds) == 7
    assert answer_of(429, html, "nan").retry_after_seconds is None
    soon = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    waited = answer_of(429, html, soon).retry_after_seconds
    assert waited is not None
    assert 20 < waited <= 30
    assert answer_of(502, b"<html>bad gateway</html>").outage
    odd = answer_of(200, b'{"code": "E-77-whatever", "message": "?"}')
    assert (odd.failure, odd.outage) == ("code-other", False)
    numeric = answer_of(200, b'{"code": 0, "data": {"results": []}}')
    assert numeric.failure == "unanswered"  # a zero code read as "0", and nothing answered


class Answered:
    """An uploader's judgement of answers, without a database."""

    def __init__(self) -> None:
        options = SyncOptions(batch_size=8)
        self.breaker = CircuitBreaker(failures=2, open_seconds=1, max_open_seconds=2)
        self.uploader = Uploader(
            sessions=None,  # type: ignore[arg-type]
            options=options,
            adapter=GenericV1(city_code="4305", app_key="k", app_secret="s" * 30),
            breaker=self.breaker,
        )


def test_a_request_refused_as_a_whole_is_split_until_the_record_at_fault_is_refused() -> None:
    answered = Answered()
    uploader, refused = answered.uploader, BatchAnswer({}, "http-413", detail="too large")
    claimed = Claimed(record("a" * 64), refusals=0, pending_since=datetime.now(UTC))
    for size in (8, 4, 2):
        uploader._judge(refused, probe=False, size=size)
        assert uploader._result_of(claimed, refused, size) is None  # all alike: tried again
    uploader._judge(refused, probe=False, size=1)
    assert uploader._limit == 1
    alone = uploader._result_of(claimed, refused, 1)
    assert alone is not None
    assert (alone.outcome, alone.code) == ("refused", "http-413")
    assert answered.breaker.state == "closed"  # the province is up: it answered
    uploader._judge(BatchAnswer({"x": alone}), probe=False, size=1)
    assert uploader._limit == 2  # and grows back


def test_a_record_the_answer_leaves_out_counts_as_refused_not_as_sent_again_at_once() -> None:
    uploader = Answered().uploader
    claimed = Claimed(record("a" * 64), refusals=0, pending_since=datetime.now(UTC))
    left_out = uploader._result_of(claimed, BatchAnswer({"other": _accepted()}), 2)
    assert left_out is not None
    assert (left_out.outcome, left_out.code) == ("refused", "unanswered")


def test_an_outage_trips_the_breaker_and_a_refusal_does_not() -> None:
    answered = Answered()
    down = BatchAnswer({}, "unreachable", outage=True)
    answered.uploader._judge(down, probe=False, size=8)
    answered.uploader._judge(down, probe=False, size=8)
    assert answered.breaker.state == "open"


def _accepted() -> RecordResult:
    return RecordResult("accepted", "0", "")


def test_the_provinces_words_are_kept_without_nul_and_clipped() -> None:
    assert _clean("拒收\x00原因" + "长" * 600) == "拒收原因" + "长" * 496
