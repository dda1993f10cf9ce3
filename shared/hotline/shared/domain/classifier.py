"""A transparent classifier of ticket texts for the heuristic rules: the request type (T11), the
business-environment flag (T16) and the category (T17).

Each class is a list of words (`vocabulary/*.txt`, configuration not code); a text is segmented
with `jieba` (the lists' words kept whole) and scored by how many of a class's words it names.
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

import jieba

L = TypeVar("L")


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

    def words(self) -> set[str]:
        return {word for words in self.classes.values() for word in words}

    def guess(self, tokens: set[str]) -> Guess[L] | None:
        hits = {
            label: tuple(word for word in words if word in tokens)
            for label, words in self.classes.items()
        }
        ranked = sorted(hits.items(), key=lambda item: len(item[1]), reverse=True)
        if not ranked or len(ranked[0][1]) < self.min_hits:
            return None
        runner_up = len(ranked[1][1]) if len(ranked) > 1 else 0
        if len(ranked[0][1]) - runner_up < self.margin:
            return None
        return Guess(ranked[0][0], ranked[0][1])


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
        self._tokenizer = jieba.Tokenizer()
        known = (
            self._request_types.words()
            | self._categories.words()
            | {word for words in self._business.values() for word in words}
        )
        for word in known:
            if len(word) > 1:
                self._tokenizer.add_word(word, freq=100_000)

    @classmethod
    def from_folder(cls, folder: Traversable | Path) -> "Classifier":
        def classes(name: str) -> dict[str, list[str]]:
            return read_classes(folder.joinpath(name).read_text("utf-8"))

        return cls(
            request_types=classes("request_types.txt"),
            categories=classes("categories.txt"),
            business_environment=classes("business_environment.txt"),
        )

    def tokens(self, text: str) -> set[str]:
        return {token.strip() for token in self._tokenizer.lcut(text) if token.strip()}

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
