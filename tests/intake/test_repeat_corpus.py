"""On the labelled corpus (≥ 200 pairs: the same issue retold, and different issues from the
same caller, at the same place, in the same phrasing), the decisions intake takes without a
person are right at least 98% of the time; how many repeats it catches is reported."""

from hotline.intake.repeat_calls import RepeatPolicy
from tests.intake.repeat_corpus import figures, load, score

MIN_PRECISION = 0.98


def test_the_corpus_is_large_and_hard_enough() -> None:
    pairs = load()
    kinds = {pair["kind"] for pair in pairs}

    assert len(pairs) >= 200
    assert len({pair["id"] for pair in pairs}) == len(pairs)
    assert {"different_same_caller_same_place", "different_same_phrasing"} <= kinds
    assert sum(pair["label"] == "same" for pair in pairs) >= 80


def test_automatic_repeat_decisions_are_right_at_least_98_percent_of_the_time() -> None:
    result = figures(score(load(), RepeatPolicy()))

    print(
        f"\nrepeat corpus: {result.pairs} pairs, {result.same} repeats; decided automatically "
        f"{result.automatic} (precision {result.precision:.3f}, recall {result.recall:.3f}); "
        f"shown to the agent or decided {result.shown_recall:.3f} of repeats"
    )
    assert result.precision >= MIN_PRECISION, result
    assert result.automatic > 0, "a policy that decides nothing proves nothing"


def test_deciding_on_likeness_alone_would_refuse_new_problems() -> None:
    """The guards (coverage, no substitution) are what hold precision: a score threshold alone,
    which is what a similarity matcher does, decides wrongly on this corpus."""
    scored = score(load(), RepeatPolicy())
    decided = [s for s in scored if s.candidate.match.score >= 0.6]

    assert sum(s.same for s in decided) / len(decided) < MIN_PRECISION
