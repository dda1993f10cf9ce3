"""Chinese text matching in one place: what a ticket is about, once the agents' stock phrasing,
the place and the caller are set aside; and how alike two tickets are in that substance.

Text is segmented with jieba's dictionary and algorithm (jieba-rs through `rjieba`, with the
hotline's own words added), the stock phrases and
place names dropped, synonyms folded (天然气 → 燃气), and what is left weighed by rarity (the
inverse document frequencies `jieba` ships, from a general Chinese corpus): two tickets that
share only "市民反映……请相关部门尽快处理" share nothing, and two that share 下水道 and 堵塞
share what matters. The vocabulary (stock phrases, domain words, synonyms) is data, in
`vocabulary/`, not code.

Search (the knowledge base's, and any service's over its own texts) is here too: the same cut in
jieba's search mode (公积金贷款 also as 公积金 and 贷款), question words dropped, the search's own
synonyms folded (how a citizen asks → how an entry is written), ranked by BM25 (`SearchIndex`),
whose inverse document frequencies come from the texts searched, not from a general corpus.
"""

import logging
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources

import bm25s
import jieba
import jieba.analyse
import numpy as np
import numpy.typing as npt
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
        search_synonyms: Mapping[str, str] | None = None,
        search_stopwords: Iterable[str] = (),
    ) -> None:
        stock = frozenset(stock_phrases)
        words = [*domain_words, *synonyms, *synonyms.values(), *(p for p in stock if len(p) > 1)]
        self._tokenizer = _tokenizer(words)
        self._stock = stock
        self._synonyms = dict(synonyms)
        # Search cuts with the same dictionary plus the words its synonyms fold (上牌, 年审…),
        # in a tokenizer of its own (about 25 MB), so the repeat matching's cut stays as it is.
        self._search_synonyms = self._synonyms | dict(search_synonyms or {})
        self._search_tokenizer = _tokenizer([*words, *(search_synonyms or {})])
        self._search_stopwords = self._stock | frozenset(search_stopwords)
        tfidf = jieba.analyse.TFIDF()
        self._idf: dict[str, float] = tfidf.idf_freq
        self._median_idf: float = tfidf.median_idf

    def warm_up(self) -> None:
        """Segment once now, so the first ticket does not pay for loading anything."""
        self._tokenizer.cut("市民反映路灯不亮", True)
        self._search_tokenizer.cut_for_search("市民咨询路灯不亮", True)

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

    def search_terms(self, text: str) -> list[str]:
        """The words a search matches `text` on, repeats kept (BM25 counts them): the search-mode
        cut, question words and stock phrasing left out, synonyms folded."""
        normalized = unicodedata.normalize("NFKC", text).lower()
        terms = []
        for token in self._search_tokenizer.cut_for_search(normalized, True):
            word = token.strip()
            if (
                len(word) < MIN_TERM_CHARS
                or word in self._search_stopwords
                or HAS_DIGIT.search(word)
                or not any(ch.isalpha() for ch in word)
            ):
                continue
            terms.append(self._search_synonyms.get(word, word))
        return terms

    def search_document(self, title: str, body: str) -> list[str]:
        """The search terms of a document whose title says what it answers (a knowledge-base
        entry's question): the title's count twice, as citizens ask in a question's words."""
        title_terms = self.search_terms(title)
        return [*title_terms, *title_terms, *self.search_terms(body)]

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


def _tokenizer(words: Iterable[str]) -> rjieba.Jieba:
    tokenizer = rjieba.Jieba()
    for word in words:
        tokenizer.add_word(word, 100_000, None)
    return tokenizer


def _heaviest(terms: Terms, excluding: set[str], count: int = 3) -> tuple[str, ...]:
    own = [word for word in terms if word not in excluding]
    return tuple(sorted(own, key=lambda word: terms[word], reverse=True)[:count])


@dataclass(frozen=True)
class Hit:
    """A document a search found: its position in the index, its key, and its BM25 score."""

    position: int
    key: str
    score: float


class SearchIndex:
    """BM25 (bm25s, Lucene's variant) over documents' search terms, held in memory.

    Built whole from its documents (bm25s has no in-place update); a caller whose documents
    change builds a new one and swaps it in. `search` takes an optional mask (one boolean per
    document, in the order given) for filters kept beside the index: category, unit, validity.
    """

    K1 = 1.2  # term frequency saturates fast: a question says a word once or twice
    B = 0.75

    def __init__(self, keys: Sequence[str], documents: Sequence[Sequence[str]]) -> None:
        if len(keys) != len(documents):
            raise ValueError("one key per document")
        self.keys = tuple(keys)
        self._bm25: bm25s.BM25 | None = None
        # No term at all (documents of digits and punctuation only): nothing can match, and
        # bm25s cannot index an empty vocabulary.
        if any(documents):
            self._bm25 = bm25s.BM25(k1=self.K1, b=self.B)
            self._bm25.index([list(terms) for terms in documents], show_progress=False)

    @classmethod
    def of_texts(
        cls, texts: Mapping[str, str], matcher: "TextMatcher | None" = None
    ) -> "SearchIndex":
        """An index of `texts` (key → text), each cut into its search terms."""
        matcher = matcher or text_matcher()
        return cls(list(texts), [matcher.search_terms(text) for text in texts.values()])

    def __len__(self) -> int:
        return len(self.keys)

    def scores(self, query: Sequence[str]) -> npt.NDArray[np.float32]:
        """The BM25 score of every document for the query's terms (0: none of them)."""
        known = [
            term for term in dict.fromkeys(query) if self._bm25 and term in self._bm25.vocab_dict
        ]
        if self._bm25 is None or not known:
            return np.zeros(len(self.keys), dtype=np.float32)
        return np.asarray(self._bm25.get_scores(known), dtype=np.float32)

    def search(
        self,
        query: Sequence[str],
        *,
        limit: int,
        allowed: npt.NDArray[np.bool_] | None = None,
    ) -> list[Hit]:
        """The best `limit` documents (among the `allowed` ones) naming any query term."""
        scores = self.scores(query)
        if allowed is not None:
            scores = np.where(allowed, scores, 0.0)
        matching = np.flatnonzero(scores > 0)
        if not len(matching) or limit < 1:
            return []
        if len(matching) > limit:
            matching = matching[np.argpartition(-scores[matching], limit - 1)[:limit]]
        ranked = matching[np.argsort(-scores[matching], kind="stable")]
        return [Hit(int(i), self.keys[i], round(float(scores[i]), 4)) for i in ranked]


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
    synonyms = _pairs("synonyms.txt")
    return TextMatcher(
        stock_phrases=_vocabulary("stock_phrases.txt"),
        domain_words=_vocabulary("domain_words.txt"),
        synonyms=synonyms,
        search_synonyms=_pairs("search_synonyms.txt"),
        search_stopwords=_vocabulary("search_stopwords.txt"),
    )


def _pairs(name: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for line in _vocabulary(name):
        word, _, canonical = line.partition(":")
        pairs[word.strip()] = canonical.strip()
    return pairs
