"""Which unit a forwarded ticket goes to: the agent's suggestion, else the units' remits."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

ALL_CATEGORIES = "*"


@dataclass(frozen=True)
class UnitRemit:
    unit_id: str
    name: str
    categories: Sequence[str]
    location_prefixes: Sequence[str]
    # Breaks a tie between units that fit equally (the lead bureau of a category); 0: none.
    priority: int = 0


@dataclass(frozen=True)
class Route:
    unit_id: str
    how: Literal["suggested", "routed"]


def choose_unit(
    units: Sequence[UnitRemit],
    *,
    category: str,
    location_code: str | None,
    suggested: str | None,
    excluding: str | None = None,
) -> Route | None:
    """The suggested unit (by id or name) if it takes tickets; else the one unit whose remit
    fits best: a named category beats "all", then the area nearest the ticket's place (a longer
    location prefix beats a shorter one), then the higher configured priority. None when none
    fits, or when two fit equally on all three (no area and no priority tells them apart): a
    supervisor decides."""
    candidates = [unit for unit in units if unit.unit_id != excluding]
    if suggested:
        for unit in candidates:
            if suggested in (unit.unit_id, unit.name):
                return Route(unit.unit_id, "suggested")
    scored: list[tuple[tuple[int, int, int], UnitRemit]] = []
    for unit in candidates:
        if category in unit.categories:
            category_fit = 2
        elif ALL_CATEGORIES in unit.categories:
            category_fit = 1
        else:
            continue
        place_fit = max(
            (
                len(prefix)
                for prefix in unit.location_prefixes
                if (location_code or "").startswith(prefix)
            ),
            default=-1,
        )
        if place_fit < 0:
            continue
        scored.append(((category_fit, place_fit, unit.priority), unit))
    if not scored:
        return None
    scored.sort(key=lambda pair: pair[0], reverse=True)
    if len(scored) > 1 and scored[0][0] == scored[1][0]:
        return None
    return Route(scored[0][1].unit_id, "routed")
