"""The bulletin scoring made of the simulated period, figure by figure beside the plan's own
counts."""

from dataclasses import dataclass
from typing import Any

from hotline.shared.simulator.plan import Expected
from hotline.shared.simulator.seed_shape import HOTLINE

UNIT_FIGURES = (
    "assigned",
    "handled",
    "overdue",
    "callbacks",
    "satisfied",
    "unsatisfied",
    "reopened",
)


@dataclass(frozen=True)
class Figure:
    where: str  # "total" or a unit's name
    name: str
    expected: int | str
    got: int | str | None

    @property
    def matches(self) -> bool:
        return self.expected == self.got


def rate(part: int, whole: int) -> str:
    return f"{part / whole * 100:.2f}%" if whole else "-"


def compare(expected: Expected, bulletin: dict[str, Any]) -> list[Figure]:
    """Every figure the plan knows, beside what the bulletin says (None where it is silent)."""
    calls, tickets = bulletin.get("calls", {}), bulletin.get("tickets", {})
    satisfaction = bulletin.get("satisfaction", {})
    total = sum(f.assigned for f in expected.units.values())
    satisfied = sum(f.satisfied for f in expected.units.values())
    callbacks = sum(f.callbacks for f in expected.units.values())
    units_sent = sum(1 for name, f in expected.units.items() if f.assigned and name != HOTLINE)
    figures = [
        Figure(
            "total", "inbound calls", sum(expected.inbound_by_line.values()), calls.get("inbound")
        ),
        *(
            Figure("total", f"inbound calls {line}", n, calls.get("by_line", {}).get(line))
            for line, n in expected.inbound_by_line.items()
        ),
        Figure("total", "outbound calls", expected.outbound, calls.get("outbound")),
        Figure("total", "tickets", total, tickets.get("total")),
        Figure(
            "total",
            "answered directly",
            expected.answered_directly,
            tickets.get("answered_directly"),
        ),
        Figure("total", "forwarded", total - expected.answered_directly, tickets.get("forwarded")),
        Figure("total", "units sent tickets", units_sent, tickets.get("units")),
        Figure("total", "callbacks", callbacks, satisfaction.get("callbacks")),
        Figure("total", "satisfied", satisfied, satisfaction.get("satisfied")),
        Figure("total", "unsatisfied", callbacks - satisfied, satisfaction.get("unsatisfied")),
        Figure("total", "satisfaction rate", rate(satisfied, callbacks), satisfaction.get("rate")),
        Figure("total", "overdue", expected.overdue, bulletin.get("overdue")),
    ]
    for row in bulletin.get("top_categories", []):
        figures.append(
            Figure(
                "category", row["category"], expected.categories[row["category"]], row["tickets"]
            )
        )
    attachments = bulletin.get("attachments", {})
    rows = {row["unit"]: row for row in attachments.get("units", {}).get("rows", [])}
    for name, counted in expected.units.items():
        row = rows.get(name, {})
        for figure in UNIT_FIGURES:
            want, got = getattr(counted, figure), row.get(figure)
            if want or got:
                figures.append(Figure(name, figure, want, got))
    checks = {
        row["unit"]: row["unsatisfied"]
        for row in attachments.get("spot_checks", {}).get("rows", [])
    }
    for name in sorted(set(expected.spot_checks) | set(checks)):
        figures.append(
            Figure(name, "spot checks unsatisfied", expected.spot_checks[name], checks.get(name, 0))
        )
    return figures
