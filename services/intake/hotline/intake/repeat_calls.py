"""Repeat calls by the seed's Attachment 5 (重复件办理流程): which earlier ticket a call repeats,
and what the table then decides.

The table applies by itself only on strong evidence: the agent named the earlier ticket
(`repeat_of`), or the same caller (or another at the same precise place) says in substance
what the earlier ticket said — nearly every weighty word of each text is in the other
(`coverage`), and neither replaces one of the other's (`substitution`). Anything less is not
decided for the citizen: the ticket is taken as new and the agent is shown the likely earlier
tickets, with why, to merge (并单) if a person finds them the same. A citizen's new problem
refused as "nothing new" is lost; a missed repeat costs one ticket.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from hotline.shared.domain.text import Match

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


@dataclass(frozen=True)
class Candidate:
    """An earlier ticket this call may repeat, and the evidence."""

    ticket_no: str
    same_caller: bool
    same_place: bool
    match: Match

    def why(self) -> str:
        """For the agent: what ties the two tickets, and what only this call says."""
        ties = [
            tie
            for tie, holds in (("同一来电人", self.same_caller), ("同一地点", self.same_place))
            if holds
        ]
        if self.match.shared:
            ties.append("共同内容：" + "、".join(self.match.shared))
        if self.match.only_second:
            ties.append("本次另述：" + "、".join(self.match.only_second))
        return "；".join(ties)


@dataclass(frozen=True)
class RepeatPolicy:
    """How sure a match must be to apply the table without a person, or to be shown."""

    auto_coverage: float = 0.9
    suggest_score: float = 0.25
    max_suggestions: int = 5

    def automatic(self, candidate: Candidate) -> bool:
        """Same caller or same precise place, each text naming (nearly) all the other says,
        and no word of one replaced by another (停水 for 停电)."""
        match = candidate.match
        return (
            (candidate.same_caller or candidate.same_place)
            and match.coverage >= self.auto_coverage
            and not match.substitution
        )


def assess(
    candidates: Sequence[Candidate], policy: RepeatPolicy
) -> tuple[Candidate | None, list[Candidate]]:
    """The earlier ticket to apply the table to by itself (or None), and the candidates to show
    the agent instead, likeliest first."""
    strong = [candidate for candidate in candidates if policy.automatic(candidate)]
    chosen = max(strong, key=lambda c: (c.match.coverage, c.match.score), default=None)
    shown = sorted(
        (c for c in candidates if c is not chosen and c.match.score >= policy.suggest_score),
        key=lambda c: c.match.score,
        reverse=True,
    )
    return chosen, shown[: policy.max_suggestions]
