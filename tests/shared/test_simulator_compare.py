"""The simulator's comparison: a bulletin that says what the plan counted matches figure by
figure, and one figure off is named."""

import copy
from datetime import date
from typing import Any

from hotline.shared.simulator.compare import compare
from hotline.shared.simulator.plan import Expected, build_plan
from hotline.shared.simulator.seed_shape import HOTLINE


def bulletin_of(expected: Expected) -> dict[str, Any]:
    """The bulletin scoring would answer for exactly what the plan counted."""
    units = expected.units
    rows = [{"unit": name, **vars(figures)} for name, figures in units.items()]
    callbacks = sum(f.callbacks for f in units.values())
    satisfied = sum(f.satisfied for f in units.values())
    return {
        "calls": {
            "inbound": sum(expected.inbound_by_line.values()),
            "by_line": dict(expected.inbound_by_line),
            "outbound": expected.outbound,
        },
        "tickets": {
            "total": expected.tickets,
            "answered_directly": expected.answered_directly,
            "forwarded": expected.tickets - expected.answered_directly,
            "units": sum(1 for row in rows if row["assigned"] and row["unit"] != HOTLINE),
        },
        "satisfaction": {
            "callbacks": callbacks,
            "satisfied": satisfied,
            "unsatisfied": callbacks - satisfied,
            "rate": f"{satisfied / callbacks * 100:.2f}%",
        },
        "overdue": expected.overdue,
        "top_categories": [
            {"category": name, "tickets": n} for name, n in expected.categories.most_common(5)
        ],
        "attachments": {
            "units": {"rows": rows},
            "spot_checks": {
                "rows": [{"unit": u, "unsatisfied": n} for u, n in expected.spot_checks.items()]
            },
        },
    }


def test_a_bulletin_of_the_plans_own_counts_matches_every_figure() -> None:
    plan = build_plan(date(2022, 1, 1), date(2022, 1, 31), scale=0.2, seed=4)

    figures = compare(plan.expected, bulletin_of(plan.expected))

    assert len(figures) > 50
    assert [f for f in figures if not f.matches] == []


def test_one_unit_figure_off_is_the_one_mismatch_named() -> None:
    plan = build_plan(date(2022, 1, 1), date(2022, 1, 31), scale=0.2, seed=4)
    bulletin = copy.deepcopy(bulletin_of(plan.expected))
    row = next(r for r in bulletin["attachments"]["units"]["rows"] if r["unit"] == "大祥区政府")
    row["overdue"] += 1

    wrong = [f for f in compare(plan.expected, bulletin) if not f.matches]

    assert [(f.where, f.name) for f in wrong] == [("大祥区政府", "overdue")]


def test_a_silent_bulletin_is_a_mismatch_not_a_match() -> None:
    plan = build_plan(date(2022, 1, 1), date(2022, 1, 3), scale=0.2, seed=4)

    wrong = [f for f in compare(plan.expected, {}) if not f.matches]

    assert ("total", "tickets") in {(f.where, f.name) for f in wrong}
