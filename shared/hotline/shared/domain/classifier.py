"""A transparent classifier of ticket texts for the heuristic rules: the request type (T11), the
business-environment flag (T16) and the category (T17).

Each class is a list of words (`vocabulary/*.txt`, configuration not code); a text is segmented
with jieba's dictionary and algorithm (jieba-rs, through `rjieba`: the same cut, twenty times
faster; the lists' words kept whole) and scored by how many of a class's words it names.
It guesses only when the evidence is clear — at least `min_hits` words and `margin` more than
the next class — and says which words: a rule fires on a guess, so it must be one a person can
check, and no guess at all is better than a doubtful one.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path
from typing import Generic, TypeVar

import rjieba

L = TypeVar("L")
SEGMENTED_CACHE = 4096


@dataclass(frozen=True)
class Guess(Generic[L]):
    label: L
    evidence: tuple[str, ...]


def read_classes(text: str) -> dict[str, list[str]]:
    """`label: word word …` lines (a label may take several); `#` starts a comment."""
    classes: dict[str, list[str]] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or ":" not in line:
            continue
        label, _, words = line.partition(":")
        classes.setdefault(label.strip(), []).extend(words.split())
    return classes


class WordLists(Generic[L]):
    def __init__(
        self, classes: Mapping[L, Iterable[str]], *, min_hits: int = 2, margin: int = 1
    ) -> None:
        self.classes = {label: tuple(dict.fromkeys(words)) for label, words in classes.items()}
        self.min_hits, self.margin = min_hits, margin
        # Word → the classes it speaks for, and its place in their lists (for the evidence).
        self._index: dict[str, list[tuple[L, int]]] = {}
        for label, words in self.classes.items():
            for place, word in enumerate(words):
                self._index.setdefault(word, []).append((label, place))

    def words(self) -> set[str]:
        return set(self._index)

    def guess(self, tokens: frozenset[str]) -> Guess[L] | None:
        hits: dict[L, list[tuple[int, str]]] = {}
        for token in tokens:
            for label, place in self._index.get(token, ()):
                hits.setdefault(label, []).append((place, token))
        if not hits:
            return None
        ranked = sorted(hits.items(), key=lambda item: len(item[1]), reverse=True)
        best, found = ranked[0]
        runner_up = len(ranked[1][1]) if len(ranked) > 1 else 0
        if len(found) < self.min_hits or len(found) - runner_up < self.margin:
            return None
        return Guess(best, tuple(word for _, word in sorted(found)))


class Classifier:
    def __init__(
        self,
        *,
        request_types: Mapping[str, Iterable[str]],
        categories: Mapping[str, Iterable[str]],
        business_environment: Mapping[str, Iterable[str]],
    ) -> None:
        self._request_types = WordLists(request_types)
        self._categories = WordLists(categories)
        self._business = {
            flag: tuple(business_environment.get(flag, ())) for flag in ("true", "false")
        }
        self._tokenizer = rjieba.Jieba()
        self._segmented: dict[str, frozenset[str]] = {}
        known = (
            self._request_types.words()
            | self._categories.words()
            | {word for words in self._business.values() for word in words}
        )
        for word in known:
            if len(word) > 1:
                self._tokenizer.add_word(word, 100_000, None)

    @classmethod
    def from_folder(cls, folder: Traversable | Path) -> "Classifier":
        def classes(name: str) -> dict[str, list[str]]:
            return read_classes(folder.joinpath(name).read_text("utf-8"))

        return cls(
            request_types=classes("request_types.txt"),
            categories=classes("categories.txt"),
            business_environment=classes("business_environment.txt"),
        )

    def tokens(self, text: str) -> frozenset[str]:
        """The text's words; one text is segmented once, however many rules ask (the rules of
        one document ask three times)."""
        cached = self._segmented.get(text)
        if cached is None:
            # Dictionary words only (no HMM guesses): the lists' words are in the dictionary.
            words = self._tokenizer.cut(text, False)
            cached = frozenset(word for word in words if len(word) > 1)
            if len(self._segmented) >= SEGMENTED_CACHE:
                self._segmented.clear()
            self._segmented[text] = cached
        return cached

    def request_type(self, text: str) -> Guess[str] | None:
        return self._request_types.guess(self.tokens(text))

    def category(self, text: str) -> Guess[str] | None:
        return self._categories.guess(self.tokens(text))

    def business_environment(self, text: str) -> Guess[bool] | None:
        """True on two business words and no word of private life; False on none of the first
        and one of the second; otherwise no guess."""
        tokens = self.tokens(text)
        business = tuple(word for word in self._business["true"] if word in tokens)
        private = tuple(word for word in self._business["false"] if word in tokens)
        if len(business) >= 2 and not private:
            return Guess(True, business)
        if not business and private:
            return Guess(False, private)
        return None


@cache
def default_classifier() -> Classifier:
    return Classifier.from_folder(resources.files("hotline.shared.domain").joinpath("vocabulary"))
