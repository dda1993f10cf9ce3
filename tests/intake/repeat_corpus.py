"""The labelled repeat-call corpus (data/repeat_pairs.jsonl) scored the way intake decides:
each pair as if the second ticket arrived after the first."""

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hotline.intake.repeat_calls import Candidate, RepeatPolicy
from hotline.shared.domain.text import text_matcher

CORPUS = Path(__file__).parent / "data" / "repeat_pairs.jsonl"
PRECISE_CODE_DIGITS = 9


@dataclass(frozen=True)
class Scored:
    pair: dict[str, Any]
    candidate: Candidate
    automatic: bool
    shown: bool

    @property
    def same(self) -> bool:
        return bool(self.pair["label"] == "same")


def load() -> list[dict[str, Any]]:
    return [json.loads(line) for line in CORPUS.read_text("utf-8").splitlines() if line.strip()]


def _same_place(first: dict[str, Any], second: dict[str, Any]) -> bool:
    code = first["location_code"]
    if code is None or code != second["location_code"]:
        return False
    return len(code) >= PRECISE_CODE_DIGITS or (
        first["address"] is not None and first["address"] == second["address"]
    )


def score(pairs: list[dict[str, Any]], policy: RepeatPolicy) -> list[Scored]:
    matcher = text_matcher()
    scored = []
    for pair in pairs:
        first, second = pair["first"], pair["second"]
        candidate = Candidate(
            pair["id"],
            same_caller=pair["same_caller"],
            same_place=_same_place(first, second),
            match=matcher.similarity(
                matcher.substance(first["content"], places=[first["address"] or ""]),
                matcher.substance(second["content"], places=[second["address"] or ""]),
            ),
        )
        scored.append(
            Scored(
                pair,
                candidate,
                automatic=policy.automatic(candidate),
                shown=candidate.match.score >= policy.suggest_score,
            )
        )
    return scored


@dataclass(frozen=True)
class Figures:
    pairs: int
    same: int
    automatic: int
    automatic_right: int
    shown_same: int
    by_kind: dict[str, tuple[int, int]]  # kind: (pairs, decided automatically)

    @property
    def precision(self) -> float:
        return self.automatic_right / self.automatic if self.automatic else 1.0

    @property
    def recall(self) -> float:
        return self.automatic_right / self.same if self.same else 0.0

    @property
    def shown_recall(self) -> float:
        """Repeats that are at least shown to the agent (decided, or suggested)."""
        return self.shown_same / self.same if self.same else 0.0


def figures(scored: list[Scored]) -> Figures:
    kinds: Counter[str] = Counter(s.pair["kind"] for s in scored)
    decided: Counter[str] = Counter(s.pair["kind"] for s in scored if s.automatic)
    return Figures(
        pairs=len(scored),
        same=sum(s.same for s in scored),
        automatic=sum(s.automatic for s in scored),
        automatic_right=sum(s.automatic and s.same for s in scored),
        shown_same=sum((s.automatic or s.shown) and s.same for s in scored),
        by_kind={kind: (kinds[kind], decided[kind]) for kind in sorted(kinds)},
    )
