"""How alike two citizens' descriptions are, for repeat calls and bursts of one issue."""

import re

from rapidfuzz import fuzz

_NOT_WORD = re.compile(r"[\W_]+")


def similarity(first: str, second: str) -> float:
    """0 (nothing shared) to 1 (the same text), ignoring punctuation and spacing.

    Character-level Indel similarity: Chinese has no word breaks, and the same issue retold by
    two callers shares its place names and key characters (停气, 拖欠工资) in some order.
    """
    return fuzz.ratio(_NOT_WORD.sub("", first.lower()), _NOT_WORD.sub("", second.lower())) / 100.0
