"""EXPLAIN on the real PostgreSQL: the scans of a query's plan, to show it is served by indexes."""

import json
from typing import Any

from sqlalchemy import ClauseElement, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection


async def explain(connection: AsyncConnection, query: ClauseElement) -> dict[str, Any]:
    compiled = query.compile(
        dialect=postgresql.dialect(),  # type: ignore[no-untyped-call]
        compile_kwargs={"literal_binds": True},
    )
    rows = await connection.execute(text(f"EXPLAIN (FORMAT JSON) {compiled}"))
    document = rows.scalar_one()
    plan: dict[str, Any] = (json.loads(document) if isinstance(document, str) else document)[0][
        "Plan"
    ]
    return plan


def scans(plan: dict[str, Any]) -> list[tuple[str, str]]:
    """(node type, relation) of every scan in the plan."""
    found = []
    if "Relation Name" in plan:
        found.append((plan["Node Type"], plan["Relation Name"]))
    for child in plan.get("Plans", []):
        found.extend(scans(child))
    return found
