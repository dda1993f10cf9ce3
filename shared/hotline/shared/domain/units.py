"""The handling units (承办单位) of the seed bulletin's Attachment 1, with the remit we gave each
(data/units.csv: kinds, categories, location prefixes and routing priorities are ours, for
supervisors to correct).
Dispatch seeds its registry from them; scoring lists them in its reports."""

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources

# The hotline's own row: tickets it answered itself, never forwarded (kind "hotline" in the CSV).
HOTLINE_UNIT = "12345政务服务便民热线"


@dataclass(frozen=True)
class SeedUnit:
    unit_id: str
    name: str
    kind: str
    categories: tuple[str, ...]
    location_prefixes: tuple[str, ...]
    assigned_in_seed: int  # tickets it was sent in January–February 2022 (Attachment 1)
    # Among units that fit a ticket equally (one category, one area), the higher takes it: the
    # lead bureau of a category (住建局 for 城乡建设类); 0 for the rest.
    priority: int = 0


@cache
def seed_units() -> tuple[SeedUnit, ...]:
    text = resources.files("hotline.shared.domain").joinpath("data/units.csv").read_text("utf-8")
    return tuple(
        SeedUnit(
            unit_id=row["code"],
            name=row["name"],
            kind=row["kind"],
            categories=tuple(c for c in row["categories"].split("|") if c),
            location_prefixes=tuple(p for p in row["location_prefixes"].split("|") if p),
            assigned_in_seed=int(row["assigned_2022_01_02"]),
            priority=int(row["priority"] or 0),
        )
        for row in csv.DictReader(text.splitlines())
    )
