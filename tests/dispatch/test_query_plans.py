"""Every list, queue, count and timer query of dispatch is served by an index at 100,000
tickets (EXPLAIN on the real PostgreSQL, inside a transaction that is rolled back)."""

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.dispatch import known_answers, queries
from hotline.shared.migrations import upgrade
from tests.query_plans import explain, scans

TICKETS = 100_000
AnySelect = Select[*tuple[Any, ...]]
NOW = datetime(2022, 2, 15, 12, tzinfo=UTC)
BUSY_UNIT = "U001"

# 100,000 tickets over the bulletin's 56 units: most closed, some open in each state.
FILL = f"""
INSERT INTO dispatch.tickets (
    ticket_no, request_type, category, content, caller_salutation, accepted_at, state, unit_id,
    dispatched_at, deadline, overdue, reopen_count, version)
SELECT
    'PLAN' || n, 'complaint', '生活服务类', '测试工单内容', '张先生',
    timestamptz '2022-01-01' + n * interval '30 seconds',
    CASE WHEN n % 20 = 0 THEN 'dispatched' WHEN n % 20 = 1 THEN 'signed'
         WHEN n % 50 = 2 THEN 'return_requested' WHEN n % 100 = 3 THEN 'manual'
         WHEN n % 100 = 4 THEN 'replied' ELSE 'closed' END,
    CASE WHEN n % 100 = 3 THEN NULL ELSE 'U' || lpad((1 + n % 56)::text, 3, '0') END,
    timestamptz '2022-01-01' + n * interval '30 seconds',
    timestamptz '2022-01-10' + n * interval '30 seconds',
    false, 0, 2
FROM generate_series(1, {TICKETS}) AS n;
INSERT INTO dispatch.unit_requests (ticket_no, unit_id, kind, reason, status, created_at)
SELECT 'PLAN' || n, 'U' || lpad((1 + n % 56)::text, 3, '0'),
    CASE WHEN n % 2 = 0 THEN 'return' ELSE 'extension' END, '不属于本单位职责',
    CASE WHEN n % 500 = 0 THEN 'pending' ELSE 'accepted' END,
    timestamptz '2022-01-01' + n * interval '30 seconds'
FROM generate_series(1, {TICKETS}, 5) AS n;
INSERT INTO dispatch.replies (ticket_no, unit_id, actions, result, citizen_contacted, status,
    created_at)
SELECT 'PLAN' || n, 'U' || lpad((1 + n % 56)::text, 3, '0'), '已现场核实处理', '问题已解决',
    true, CASE WHEN n % 500 = 0 THEN 'pending' ELSE 'accepted' END,
    timestamptz '2022-01-01' + n * interval '30 seconds'
FROM generate_series(1, {TICKETS}, 2) AS n;
INSERT INTO dispatch.known_answers (entry_id, version, entry_version, status, unit_id, category,
    question, answer, changed_at)
SELECT 'KPLAN' || n, 4, 1, CASE WHEN n % 10 = 0 THEN 'retired' ELSE 'published' END,
    'U' || lpad((1 + n % 56)::text, 3, '0'), '交通运输类', '测试问题', '测试答复',
    timestamptz '2022-01-01' + n * interval '5 minutes'
FROM generate_series(1, 20000) AS n
"""


def plans() -> dict[str, AnySelect]:
    return {
        "a unit's open work": queries.unit_tickets(BUSY_UNIT, "open", None, offset=0, limit=50),
        "a unit's open work, counted": queries.unit_ticket_count(BUSY_UNIT, "open", None),
        "a unit's closed tickets": queries.unit_tickets(
            BUSY_UNIT, "closed", None, offset=0, limit=50
        ),
        "pending requests of a page": queries.pending_requests(["PLAN20", "PLAN40"]),
        "the supervisors' queue": queries.manual_queue(200),
        "requests awaiting review": queries.waiting_requests(200),
        "replies awaiting review": queries.waiting_replies(200),
        "open tickets by unit": queries.open_counts(),
        "tickets past their deadline": queries.past_deadline(NOW, 500),
        "deadlines near": queries.deadline_near(NOW, 24, 500),
        "a unit's earlier answers": queries.earlier_answers(
            BUSY_UNIT,
            datetime(2022, 1, 20, tzinfo=UTC),
            category="生活服务类",
            request_types=frozenset({"consultation"}),
            excluding="PLAN1",
            limit=200,
        ),
        "second answers by unit": queries.two_answers_counts([BUSY_UNIT, "U002"]),
        "overturned returns by unit": queries.overturned_returns([BUSY_UNIT, "U002"]),
        "a unit's published knowledge entries": known_answers.published_answers(
            BUSY_UNIT, NOW, category="交通运输类", limit=200
        ),
    }


@pytest.mark.slow
async def test_every_dispatch_query_uses_an_index_at_100000_tickets(engine: AsyncEngine) -> None:
    await upgrade(engine, "hotline.dispatch")
    async with engine.connect() as connection:
        transaction = await connection.begin()
        try:
            for statement in FILL.split(";"):
                await connection.execute(text(statement))
            await connection.execute(text("ANALYZE dispatch.tickets"))
            await connection.execute(text("ANALYZE dispatch.unit_requests"))
            await connection.execute(text("ANALYZE dispatch.replies"))
            await connection.execute(text("ANALYZE dispatch.known_answers"))
            results = {name: scans(await explain(connection, q)) for name, q in plans().items()}
        finally:
            await transaction.rollback()

    sequential = {
        name: found
        for name, found in results.items()
        if any(node == "Seq Scan" for node, _relation in found)
    }
    assert sequential == {}, sequential
