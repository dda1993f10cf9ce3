"""Intake's look-ups on the ticket webhook's path are served by indexes at 100,000 tickets and
2,000 notices (EXPLAIN on the real PostgreSQL, inside a transaction that is rolled back)."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import ClauseElement, text
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.intake.repeats import _candidates_query
from hotline.intake.service import ACTIVE_NOTICES
from hotline.shared.migrations import upgrade
from tests.query_plans import explain, scans

TICKETS = 100_000
AT = datetime(2022, 2, 15, 12, tzinfo=UTC)

FILL = f"""
INSERT INTO intake.tickets (
    ticket_no, sender, source_ticket_id, channel, caller_salutation, caller_number, request_type,
    category, business_environment, location_code, address, content, handling_mode, status,
    accepted_at, new_facts, version)
SELECT
    'PLAN' || n, 'desk', 'desk-' || n, 'phone', '张先生', '139' || lpad((n % 30000)::text, 8, '0'),
    CASE WHEN n % 10 = 0 THEN 'consultation' ELSE 'complaint' END,
    CASE WHEN n % 3 = 0 THEN '城乡建设类' ELSE '生活服务类' END, false,
    '430503' || lpad((n % 400)::text, 6, '0'), '双清区某小区' || (n % 900) || '栋', '测试工单内容',
    CASE WHEN n % 2 = 0 THEN 'forward' ELSE 'answered' END,
    CASE WHEN n % 4 = 0 THEN 'open' ELSE 'closed' END,
    timestamptz '2022-01-01' + n * interval '40 seconds', false, 1
FROM generate_series(1, {TICKETS}) AS n;
INSERT INTO intake.notices (
    notice_id, sender, source_notice_id, issuer, category, area_codes, keywords, starts_at,
    ends_at, text)
SELECT
    'NPLAN' || n, 'desk', 'notice-' || n, '市燃气总公司',
    CASE WHEN n % 2 = 0 THEN '城乡建设类' ELSE '生活服务类' END,
    ARRAY['430503' || lpad((n % 400)::text, 3, '0')], ARRAY['停气'],
    timestamptz '2021-06-01' + n * interval '2 hours',
    timestamptz '2021-06-01' + n * interval '2 hours' + interval '8 hours', '计划停气'
FROM generate_series(1, 2000) AS n
"""


def plans() -> dict[str, ClauseElement]:
    window: dict[str, Any] = {
        "category": "生活服务类",
        "since": AT - timedelta(days=30),
        "until": AT,
    }
    caller, code, address = "13900012345", "430503000123", "双清区某小区123栋"
    return {
        "repeat candidates by caller": _candidates_query(True, None).statement.params(
            caller=caller, **window
        ),
        "repeat candidates at a village code": _candidates_query(False, "code").statement.params(
            code=code, **window
        ),
        "repeat candidates by caller or code and address": _candidates_query(
            True, "code and address"
        ).statement.params(caller=caller, code=code, address=address, **window),
        "active notices": ACTIVE_NOTICES.statement.params(category="生活服务类", at=AT),
    }


@pytest.mark.slow
async def test_the_ticket_webhooks_look_ups_use_indexes_at_100000_tickets(
    engine: AsyncEngine,
) -> None:
    await upgrade(engine, "hotline.intake")
    async with engine.connect() as connection:
        transaction = await connection.begin()
        try:
            for statement in FILL.split(";"):
                await connection.execute(text(statement))
            await connection.execute(text("ANALYZE intake.tickets"))
            await connection.execute(text("ANALYZE intake.notices"))
            results = {name: scans(await explain(connection, q)) for name, q in plans().items()}
        finally:
            await transaction.rollback()

    assert all(results.values()), results  # every plan reads its table
    sequential = {
        name: found
        for name, found in results.items()
        if any(node == "Seq Scan" for node, _relation in found)
    }
    assert sequential == {}, sequential
