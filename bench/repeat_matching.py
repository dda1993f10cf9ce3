"""Precision and recall of intake's repeat-call decisions on the labelled corpus, by kind of
pair, and the matcher's speed.

    .venv/bin/python -m bench.repeat_matching
"""

import json
import time

from bench.harness import RESULTS
from hotline.intake.repeat_calls import RepeatPolicy
from hotline.shared.domain.text import text_matcher
from tests.intake.repeat_corpus import figures, load, score


def main() -> None:
    pairs = load()
    policy = RepeatPolicy()
    scored = score(pairs, policy)
    result = figures(scored)
    matcher = text_matcher()
    texts = [pair["first"]["content"] for pair in pairs] * 20
    started = time.perf_counter()
    for text in texts:
        matcher.substance(text)
    per_text_ms = (time.perf_counter() - started) / len(texts) * 1000
    report = {
        "pairs": result.pairs,
        "repeats": result.same,
        "decided_automatically": result.automatic,
        "precision": round(result.precision, 4),
        "recall": round(result.recall, 4),
        "repeats_shown_or_decided": round(result.shown_recall, 4),
        "by_kind": {kind: {"pairs": n, "decided": d} for kind, (n, d) in result.by_kind.items()},
        "policy": {"auto_coverage": policy.auto_coverage, "suggest_score": policy.suggest_score},
        "substance_ms_per_ticket": round(per_text_ms, 3),
    }
    print(json.dumps(report, ensure_ascii=False, indent=2))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "repeat_matching.json").write_text(json.dumps(report, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
