"""The word-list classifier behind T11 (request type), T16 (business environment) and T17
(category) guesses rarely, and when it does it is right: its precision on a labelled set of 140
tickets written without its word lists in view (data/classified_tickets.jsonl), reported with
how often it guesses at all. A rule fires only on a guess, so precision is what matters."""

import json
from pathlib import Path
from typing import Any

import pytest

from hotline.shared.domain.classifier import default_classifier

LABELLED = Path(__file__).parent / "data" / "classified_tickets.jsonl"
MIN_PRECISION = 0.9


def labelled() -> list[dict[str, Any]]:
    return [json.loads(line) for line in LABELLED.read_text("utf-8").splitlines() if line]


@pytest.mark.parametrize("label", ["request_type", "category", "business_environment"])
def test_the_classifiers_guesses_are_right_at_least_nine_times_in_ten(label: str) -> None:
    classifier = default_classifier()
    guess = {
        "request_type": classifier.request_type,
        "category": classifier.category,
        "business_environment": classifier.business_environment,
    }[label]
    tickets = labelled()

    guesses = [(guess(ticket["content"]), ticket[label]) for ticket in tickets]
    made = [(g.label, truth) for g, truth in guesses if g is not None]
    precision = sum(g == truth for g, truth in made) / len(made)

    print(f"\n{label}: guessed {len(made)} of {len(tickets)}, precision {precision:.3f}")
    assert len(tickets) >= 100
    assert len(made) >= 20, "a classifier that never guesses finds nothing"
    assert precision >= MIN_PRECISION
