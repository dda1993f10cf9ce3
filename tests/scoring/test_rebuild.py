"""`hotline rebuild scoring` empties the read model and sets scoring's consumer group back to the
start of its topics: the next start reads them again and the reports come back the same."""

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Awaitable, Callable
from datetime import date

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import Servers
from tests.scoring.conftest import READER_TOKEN, Scoring
from tests.scoring.month import Month, make_month
from tests.support import running

PERIOD = {"from": "2020-05-01", "to": "2020-05-31"}


async def test_a_rebuilt_read_model_gives_the_same_reports(
    engine: AsyncEngine, servers: Servers
) -> None:
    from hotline.scoring.main import app
    from hotline.shared.migrations import upgrade

    await upgrade(engine, "hotline.scoring")
    month = make_month(seed=11, tickets=60, first_day=date(2020, 5, 1))
    settings = {"scoring_reader_tokens": json.dumps({"clerk": READER_TOKEN})}

    async def report(scoring: Scoring) -> dict[str, object]:
        body: dict[str, object] = (await scoring.get("/v1/reports/units", **PERIOD)).json()
        return body

    async with running(app, servers, **settings) as http:
        scoring = Scoring(http, engine, servers)
        await scoring.publish(month.events)

        await scoring.until(_counted(scoring, month), what="the month before the rebuild")
        before = await report(scoring)

    rebuilt = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "hotline.shared.stack.cli", "rebuild", "scoring"],
        env=os.environ
        | {
            "HOTLINE_ENVIRONMENT": "test",
            "HOTLINE_DATABASE_URL": servers.database_url,
            "HOTLINE_KAFKA_BOOTSTRAP": servers.kafka_bootstrap,
        },
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert rebuilt.returncode == 0, rebuilt.stderr
    async with engine.connect() as connection:
        emptied = await connection.scalar(text("SELECT count(*) FROM scoring.tickets"))
    assert emptied == 0

    async with running(app, servers, **settings) as http:
        scoring = Scoring(http, engine, servers)
        await scoring.until(_counted(scoring, month), what="the month after")
        after = await report(scoring)

    assert "will read" in rebuilt.stdout
    assert after == before


def _counted(scoring: Scoring, month: Month) -> Callable[[], Awaitable[bool]]:
    """Every unit's row as the month's plan counts it: tickets, and their surveys too (they
    come on another topic, in other batches)."""

    async def probe() -> bool:
        body = (await scoring.get("/v1/reports/units", **PERIOD)).json()
        rows = {row["unit"]: row for row in body["rows"]}
        return all(
            {key: rows.get(unit, {}).get(key) for key in counts} == counts
            for unit, counts in month.expected_units().items()
        )

    return probe
