"""Chinese text matching in one place: what a ticket is about, once the agents' stock phrasing,
the place and the caller are set aside; and how alike two tickets are in that substance.

Text is segmented with jieba's dictionary and algorithm (jieba-rs through `rjieba`, with the
hotline's own words added), the stock phrases and
place names dropped, synonyms folded (天然气 → 燃气), and what is left weighed by rarity (the
inverse document frequencies `jieba` ships, from a general Chinese corpus): two tickets that
share only "市民反映……请相关部门尽快处理" share nothing, and two that share 下水道 and 堵塞
share what matters. The vocabulary (stock phrases, domain words, synonyms) is data, in
`vocabulary/`, not code.
"""

import logging
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources

import jieba
import jieba.analyse
import rjieba

Terms = Mapping[str, float]
jieba.setLogLevel(logging.WARNING)  # it narrates building its dictionary at DEBUG

# A token that is a place: district, street, estate, village... (the address field's own words
# are dropped too, whatever they look like).
PLACE = re.compile(
    r"(省|市|区|县|镇|乡|村|街道|社区|路|街|巷|大道|大街|小区|花园|华庭|新村|家园|广场|"
    r"公寓|大厦|苑|组|栋|单元|楼|层|号|室)$"
)
# A token of its own that names the kind of place the token before it is (镇, 小区, 路…).
PLACE_SUFFIX = re.compile(
    r"省|市|区|县|镇|乡|村|街道|社区|路|街|巷|大道|大街|小区|花园|华庭|新村|家园|广场|公寓|大厦|组|栋|"
    r"单元|号|门|站|桥|公园|市场|学校|小学|中学|医院|卫生院"
)
HAS_DIGIT = re.compile(r"\d")
MIN_TERM_CHARS = 2


def _vocabulary(name: str) -> list[str]:
    text = (
        resources.files("hotline.shared.domain").joinpath(f"vocabulary/{name}").read_text("utf-8")
    )
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


@dataclass(frozen=True)
class Match:
    """How alike two texts are in substance.

    `score` is the cosine of their weighed words; `coverage` the share of the less covered
    text's weight that the other text names too (1: neither says anything the other does not).
    Two tellings of one problem in other words score fairly. A repeat recorded from the first
    ticket covers it nearly whole, and what it adds (time, progress) is on its side only; one
    problem swapped for another in the same phrasing (停水 for 停电) leaves each side a word of
    its own: a `substitution`, never the same problem, however high the rest.
    """

    score: float
    coverage: float
    shared: tuple[str, ...]  # the weightiest words both texts name, for a person to judge
    only_first: tuple[str, ...] = ()
    only_second: tuple[str, ...] = ()

    @property
    def substitution(self) -> bool:
        """Each text names something the other does not."""
        return bool(self.only_first and self.only_second)


class TextMatcher:
    """Segments, filters and weighs ticket texts; one per process (`text_matcher()`)."""

    def __init__(
        self,
        *,
        stock_phrases: Iterable[str],
        domain_words: Iterable[str],
        synonyms: Mapping[str, str],
    ) -> None:
        self._tokenizer = rjieba.Jieba()
        for word in (*domain_words, *synonyms, *synonyms.values()):
            self._tokenizer.add_word(word, 100_000, None)
        self._stock = frozenset(stock_phrases)
        for phrase in self._stock:
            if len(phrase) > 1:
                self._tokenizer.add_word(phrase, 100_000, None)
        self._synonyms = dict(synonyms)
        tfidf = jieba.analyse.TFIDF()
        self._idf: dict[str, float] = tfidf.idf_freq
        self._median_idf: float = tfidf.median_idf

    def warm_up(self) -> None:
        """Segment once now, so the first ticket does not pay for loading anything."""
        self._tokenizer.cut("市民反映路灯不亮", True)

    def substance(self, text: str, *, places: Iterable[str] = ()) -> dict[str, float]:
        """The words that say what the text is about, each weighed by its rarity (TF-IDF)."""
        addresses = [unicodedata.normalize("NFKC", place).lower() for place in places if place]
        words = self._words(text)
        counts: Counter[str] = Counter()
        for position, word in enumerate(words):
            following = words[position + 1] if position + 1 < len(words) else ""
            if (
                any(word in address for address in addresses)
                or PLACE_SUFFIX.fullmatch(following)  # 长铺 in 长铺 镇, 宏达 in 宏达 小区
                or not self._meaningful(word)
            ):
                continue
            counts[self._synonyms.get(word, word)] += 1
        return {word: n * self._idf.get(word, self._median_idf) for word, n in counts.items()}

    def similarity(self, first: Terms, second: Terms) -> Match:
        """Score (cosine, 0 to 1) and coverage of two weighed term sets, and the words behind."""
        shared = set(first) & set(second)
        only_first, only_second = _heaviest(first, set(second)), _heaviest(second, set(first))
        if not shared:
            return Match(0.0, 0.0, (), only_first, only_second)
        dot = sum(first[word] * second[word] for word in shared)
        norms = math.sqrt(sum(w * w for w in first.values())) * math.sqrt(
            sum(w * w for w in second.values())
        )
        coverage = min(
            sum(first[word] for word in shared) / sum(first.values()),
            sum(second[word] for word in shared) / sum(second.values()),
        )
        ranked = sorted(shared, key=lambda word: first[word] * second[word], reverse=True)
        return Match(
            round(dot / norms, 4) if norms else 0.0,
            round(coverage, 4),
            tuple(ranked[:5]),
            only_first,
            only_second,
        )

    def _words(self, text: str) -> list[str]:
        normalized = unicodedata.normalize("NFKC", text).lower()
        return [word.strip() for word in self._tokenizer.cut(normalized, True) if word.strip()]

    def _meaningful(self, word: str) -> bool:
        if len(word) < MIN_TERM_CHARS or word in self._stock or HAS_DIGIT.search(word):
            return False
        if not any(ch.isalpha() for ch in word):  # punctuation, symbols
            return False
        return not PLACE.search(word) or word in self._synonyms


def _heaviest(terms: Terms, excluding: set[str], count: int = 3) -> tuple[str, ...]:
    own = [word for word in terms if word not in excluding]
    return tuple(sorted(own, key=lambda word: terms[word], reverse=True)[:count])


def encode_terms(terms: Terms) -> str:
    """A weighed term set as stored beside a ticket: `word:weight word:weight …`."""
    return " ".join(f"{word}:{weight:.3f}" for word, weight in sorted(terms.items()))


def decode_terms(stored: str | None) -> dict[str, float]:
    terms: dict[str, float] = {}
    for item in (stored or "").split():
        word, _, weight = item.rpartition(":")
        if word:
            terms[word] = float(weight)
    return terms


@cache
def text_matcher() -> TextMatcher:
    synonyms: dict[str, str] = {}
    for line in _vocabulary("synonyms.txt"):
        word, _, canonical = line.partition(":")
        synonyms[word.strip()] = canonical.strip()
    return TextMatcher(
        stock_phrases=_vocabulary("stock_phrases.txt"),
        domain_words=_vocabulary("domain_words.txt"),
        synonyms=synonyms,
    )
