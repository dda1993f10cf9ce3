"""Repeat calls by the seed's Attachment 5 (重复件办理流程): the decision table, as data.

It applies to non-consultation calls whose issue matches an earlier ticket. The result replaces
what the agent chose: a repeat with nothing new is not accepted, or joins the first ticket.
"""

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

OriginalState = Literal["in_progress", "closed"]

REMARK_NOTHING_NEW = "群众重复来电，无新情况新理由"


class RepeatRule(StrEnum):
    """One row of Attachment 5's table; the value is the metric label."""

    IN_PROGRESS_SAME_CALLER = "in_progress_same_caller"
    IN_PROGRESS_OTHER_CALLER = "in_progress_other_caller"
    IN_PROGRESS_OTHER_CALLER_NEW_FACTS = "in_progress_other_caller_new_facts"
    CLOSED_SAME_CALLER = "closed_same_caller"
    CLOSED_OTHER_CALLER = "closed_other_caller"
    CLOSED_OTHER_CALLER_NEW_FACTS = "closed_other_caller_new_facts"
    SAME_CALLER_NEW_FACTS = "same_caller_new_facts"


@dataclass(frozen=True)
class Original:
    """What the decision needs to know of the first ticket."""

    ticket_no: str
    state: OriginalState
    resolution: str | None


@dataclass(frozen=True)
class RepeatDecision:
    rule: RepeatRule
    handling_mode: Literal["forward", "not_accepted"] | None  # None: as the agent chose
    status: Literal["open", "closed", "awaiting_closure"] | None
    resolution: str | None
    tell_caller: str
    links_to: str


def decide(original: Original, *, same_caller: bool, new_facts: bool) -> RepeatDecision:
    """Apply Attachment 5 to a call about the same issue as `original`."""
    no = original.ticket_no
    if same_caller and new_facts:
        # The seed is silent on the same caller with new facts: a new ticket, handled normally.
        return RepeatDecision(
            RepeatRule.SAME_CALLER_NEW_FACTS,
            None,
            None,
            None,
            f"已关联原工单{no}，按新诉求办理。",
            no,
        )
    if new_facts:
        rule = (
            RepeatRule.IN_PROGRESS_OTHER_CALLER_NEW_FACTS
            if original.state == "in_progress"
            else RepeatRule.CLOSED_OTHER_CALLER_NEW_FACTS
        )
        return RepeatDecision(
            rule, "forward", "open", None, f"有新情况新理由，形成转办工单，关联原工单{no}。", no
        )
    if original.state == "in_progress":
        progress = f"请告知来电人：原工单{no}正在办理中。"
        if same_caller:
            return RepeatDecision(
                RepeatRule.IN_PROGRESS_SAME_CALLER,
                "not_accepted",
                "closed",
                f"{REMARK_NOTHING_NEW}，原诉求（工单{no}）正在办理。",
                progress,
                no,
            )
        return RepeatDecision(
            RepeatRule.IN_PROGRESS_OTHER_CALLER,
            "forward",
            "awaiting_closure",
            None,
            progress + "本工单计入转办，状态为已办理（待办结），随原工单办结。",
            no,
        )
    if same_caller:
        return RepeatDecision(
            RepeatRule.CLOSED_SAME_CALLER,
            "not_accepted",
            "closed",
            f"{REMARK_NOTHING_NEW}，原诉求（工单{no}）已办结并答复。",
            f"请告知来电人原工单{no}的办结情况：{original.resolution or '已办结'}",
            no,
        )
    return RepeatDecision(
        RepeatRule.CLOSED_OTHER_CALLER,
        "not_accepted",
        "closed",
        f"{original.resolution or f'原诉求（工单{no}）已办结'}（备注：{REMARK_NOTHING_NEW}）",
        f"请告知来电人原工单{no}的办结情况：{original.resolution or '已办结'}",
        no,
    )
