"""Phone numbers, what a text is about, and the provincial text rules intake applies."""

import pytest

from hotline.shared.domain import phones
from hotline.shared.domain.text import text_matcher
from hotline.shared.domain.text_quality import garbled, resolution_findings, too_simple


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [("+86 138-1234-5678", "13812345678"), ("0739-5123456", "07395123456"), ("12345", "12345")],
)
def test_numbers_are_normalized_for_matching(raw: str, normalized: str) -> None:
    assert phones.normalize(raw) == normalized


@pytest.mark.parametrize(
    ("number", "citizen"),
    [
        ("13812345678", True),
        ("07395123456", True),
        ("12345", False),
        ("110", False),
        ("4008123456", False),
        ("23812345678", False),
        ("1381234", False),
    ],
)
def test_only_a_citizens_own_number_counts_as_one(number: str, citizen: bool) -> None:
    assert phones.is_citizen_number(number) is citizen


def test_numbers_are_masked_for_display_but_service_numbers_stay_whole() -> None:
    assert phones.mask("13812341234") == "138****1234"
    assert phones.mask("07395123456") == "073****3456"
    assert phones.mask("12345") == "12345"


@pytest.mark.parametrize(("number", "masked"), [("5123456", "****456"), ("55123456", "****3456")])
def test_short_landlines_still_hide_at_least_four_digits(number: str, masked: str) -> None:
    assert phones.mask(number) == masked


def test_the_same_issue_retold_is_closer_than_an_unrelated_one() -> None:
    matcher = text_matcher()
    gas = matcher.substance("大祥区翠园小区停气三天了，燃气公司没有通知", places=["翠园小区"])
    retold = matcher.substance("翠园小区燃气停了三天，什么时候恢复供气", places=["翠园小区"])
    unrelated = matcher.substance("双清区某路口红绿灯坏了")

    assert matcher.similarity(gas, retold).score > 0.35 > matcher.similarity(gas, unrelated).score
    assert matcher.similarity(gas, gas).score == pytest.approx(1.0)
    assert matcher.similarity(gas, gas).coverage == pytest.approx(1.0)


def test_the_agents_stock_phrasing_and_the_place_are_not_the_substance() -> None:
    matcher = text_matcher()
    place = "双清区东风路123号宏达小区"
    sewer = matcher.substance(
        f"市民反映{place}下水道堵塞，污水外溢，请相关部门尽快处理。", places=[place]
    )
    light = matcher.substance(
        f"市民反映{place}路灯不亮，晚上出行不便，请相关部门尽快处理。", places=[place]
    )

    assert set(sewer) >= {"下水道", "堵塞"}
    assert not set(sewer) & {"市民", "反映", "相关部门", "尽快", "处理", "东风路", "宏达"}
    assert matcher.similarity(sewer, light).score == 0.0


@pytest.mark.parametrize("text", ["锟斤拷锟斤拷", "已处理\ufffd", "好的！！！！", "ok\x07"])
def test_garbled_text_is_caught(text: str) -> None:
    assert garbled(text)


@pytest.mark.parametrize("text", ["已告知", "已告知。咨询后答复", "在线办结"])
def test_stock_phrases_are_too_simple(text: str) -> None:
    assert too_simple(text)


def test_a_specific_resolution_passes_every_rule() -> None:
    request = "翠园小区停气三天，请尽快恢复"
    resolution = "经联系市燃气总公司，翠园小区管道检修已于1月31日18时完成，已恢复供气。"

    assert resolution_findings(request, resolution) == []
    assert [code for code, _ in resolution_findings(request, request)] == ["T08"]
