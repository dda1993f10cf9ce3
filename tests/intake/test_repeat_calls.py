"""Every row of Attachment 5's decision table (repeat calls)."""

import pytest

from hotline.intake.repeat_calls import REMARK_NOTHING_NEW, Original, RepeatRule, decide

IN_PROGRESS = Original("SY202201200000001", "in_progress", None)
CLOSED = Original("SY202201200000001", "closed", "已安排维修人员于1月21日修复路灯。")


@pytest.mark.parametrize(
    ("original", "same_caller", "new_facts", "rule", "mode", "status"),
    [
        (IN_PROGRESS, True, False, RepeatRule.IN_PROGRESS_SAME_CALLER, "not_accepted", "closed"),
        (
            IN_PROGRESS,
            False,
            False,
            RepeatRule.IN_PROGRESS_OTHER_CALLER,
            "forward",
            "awaiting_closure",
        ),
        (
            IN_PROGRESS,
            False,
            True,
            RepeatRule.IN_PROGRESS_OTHER_CALLER_NEW_FACTS,
            "forward",
            "open",
        ),
        (CLOSED, True, False, RepeatRule.CLOSED_SAME_CALLER, "not_accepted", "closed"),
        (CLOSED, False, False, RepeatRule.CLOSED_OTHER_CALLER, "not_accepted", "closed"),
        (CLOSED, False, True, RepeatRule.CLOSED_OTHER_CALLER_NEW_FACTS, "forward", "open"),
        (CLOSED, True, True, RepeatRule.SAME_CALLER_NEW_FACTS, None, None),
        (IN_PROGRESS, True, True, RepeatRule.SAME_CALLER_NEW_FACTS, None, None),
    ],
)
def test_each_row_of_the_table_decides_mode_and_status(
    original: Original, same_caller: bool, new_facts: bool, rule: RepeatRule, mode: str, status: str
) -> None:
    decision = decide(original, same_caller=same_caller, new_facts=new_facts)

    assert (decision.rule, decision.handling_mode, decision.status) == (rule, mode, status)
    assert decision.links_to == original.ticket_no


def test_a_repeat_while_in_progress_says_so_in_the_resolution() -> None:
    decision = decide(IN_PROGRESS, same_caller=True, new_facts=False)

    assert (
        decision.resolution
        == f"{REMARK_NOTHING_NEW}，原诉求（工单{IN_PROGRESS.ticket_no}）正在办理。"
    )
    assert "正在办理" in decision.tell_caller


def test_a_repeat_of_a_closed_ticket_by_the_same_caller_says_it_was_answered() -> None:
    decision = decide(CLOSED, same_caller=True, new_facts=False)

    assert (
        decision.resolution
        == f"{REMARK_NOTHING_NEW}，原诉求（工单{CLOSED.ticket_no}）已办结并答复。"
    )
    assert CLOSED.resolution is not None
    assert CLOSED.resolution in decision.tell_caller


def test_another_caller_on_a_closed_issue_gets_the_original_resolution_with_the_remark() -> None:
    decision = decide(CLOSED, same_caller=False, new_facts=False)

    assert decision.resolution == f"{CLOSED.resolution}（备注：{REMARK_NOTHING_NEW}）"


def test_another_caller_while_in_progress_has_no_resolution_until_the_first_closes() -> None:
    decision = decide(IN_PROGRESS, same_caller=False, new_facts=False)

    assert decision.resolution is None
    assert "待办结" in decision.tell_caller
