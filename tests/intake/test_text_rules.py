"""Phone numbers, text similarity and the provincial text rules intake applies."""

import pytest

from hotline.intake import phones
from hotline.intake.similarity import similarity
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
    gas = "大祥区翠园小区停气三天了，燃气公司没有通知"
    retold = "翠园小区燃气停了三天，什么时候恢复供气"
    unrelated = "双清区某路口红绿灯坏了"

    assert similarity(gas, retold) > 0.35 > similarity(gas, unrelated)
    assert similarity(gas, gas) == 1.0


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
