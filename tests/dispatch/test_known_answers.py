"""The knowledge base's published entries reach dispatch through the broker and stand as a
unit's earlier answers: a reply that contradicts what the hotline publishes in the unit's name is
held beside the entry, and a retired entry stops counting."""

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

from sqlalchemy import select

from hotline.dispatch.models import KnownAnswer
from hotline.shared.messaging.events import KnowledgeEntryChanged, KnowledgeEntryChangedData
from tests.conftest import Servers
from tests.dispatch.conftest import Dispatch
from tests.dispatch.test_one_answer import (
    ENGINE_AGAIN,
    ENGINE_QUESTION,
    FIRST_ANSWER,
    SECOND_ANSWER,
    TIANJIANG,
    TIANJIANG_AGAIN,
    TIANJIANG_ANSWER,
    _announced,
    _answered,
    _consultation,
    _queue,
)
from tests.support import publish, wait_until

NOW = datetime.now(UTC)


def entry_changed(
    entry_id: str, unit_id: str, *, version: int, status: str = "published", **data: Any
) -> KnowledgeEntryChanged:
    return KnowledgeEntryChanged(
        source="/hotline/intake",
        subject=entry_id,
        version=version,
        data=KnowledgeEntryChangedData.model_validate(
            {
                "entry_id": entry_id,
                "entry_version": max(1, version // 3),
                "status": status,
                "question": ENGINE_QUESTION,
                "answer": FIRST_ANSWER["result"],
                "unit_id": unit_id,
                "category": "交通运输类",
                "valid_from": None,
                "valid_until": None,
                "changed_at": NOW,
            }
            | data
        ),
    )


async def kept(dispatch: Dispatch, entry_id: str) -> KnownAnswer | None:
    async with dispatch.engine.connect() as connection:
        row = (
            await connection.execute(select(KnownAnswer).where(KnownAnswer.entry_id == entry_id))
        ).first()
    return KnownAnswer(**row._mapping) if row is not None else None


async def until_kept(dispatch: Dispatch, entry_id: str, version: int) -> KnownAnswer:
    async def arrived() -> bool:
        row = await kept(dispatch, entry_id)
        return row is not None and row.version == version

    await wait_until(arrived)
    row = await kept(dispatch, entry_id)
    assert row is not None
    return row


async def unit_with_an_entry(
    dispatch: Dispatch, servers: Servers, **data: Any
) -> tuple[str, dict[str, str], str]:
    """A unit of the test's own, its key, and an entry it owns published (by default the
    engine-change question's first answer), kept by dispatch."""
    unit_id = await dispatch.new_unit()
    key = await dispatch.key_for(unit_id)
    entry_id = f"K{uuid4().hex[:12].upper()}"
    await publish(servers, [entry_changed(entry_id, unit_id, version=4, **data)])
    await until_kept(dispatch, entry_id, 4)
    return unit_id, key, entry_id


async def test_an_entry_is_kept_as_its_latest_announcement_whatever_the_order(
    dispatch: Dispatch, servers: Servers
) -> None:
    entry_id = f"K{uuid4().hex[:12].upper()}"
    unit_id = await dispatch.new_unit()
    newer = entry_changed(entry_id, unit_id, version=7, answer="第二版：当场办结，不收费。")
    older = entry_changed(entry_id, unit_id, version=4, answer="第一版：五个工作日办结。")

    await publish(servers, [newer, older, newer])  # late and redelivered
    marker = f"K{uuid4().hex[:12].upper()}"
    await publish(servers, [entry_changed(marker, unit_id, version=4)])  # after them, in order
    await until_kept(dispatch, marker, 4)
    row = await until_kept(dispatch, entry_id, 7)
    await publish(servers, [entry_changed(entry_id, unit_id, version=8, status="retired")])
    retired = await until_kept(dispatch, entry_id, 8)

    assert row.answer == "第二版：当场办结，不收费。"
    assert retired.status == "retired"


async def test_a_reply_contradicting_the_units_published_entry_is_held_beside_it(
    dispatch: Dispatch, servers: Servers
) -> None:
    unit_id, police, entry_id = await unit_with_an_entry(dispatch, servers)

    ticket_no = await _consultation(dispatch, unit_id, ENGINE_AGAIN, "交通运输类")
    held = await _answered(dispatch, police, ticket_no, SECOND_ANSWER)
    [waiting] = [r for r in (await _queue(dispatch))["replies"] if r["ticket_no"] == ticket_no]

    assert held["held_for_review"] == "two_answers"
    [earlier] = waiting["earlier_answers"]
    assert (earlier["source"], earlier["entry_id"], earlier["ticket_no"]) == (
        "knowledge",
        entry_id,
        None,
    )
    assert [d["facet"] for d in earlier["differences"]] == ["documents"]


async def test_an_entry_retired_or_not_yet_valid_is_no_evidence(
    dispatch: Dispatch, servers: Servers
) -> None:
    unit_id = await dispatch.new_unit()
    police = await dispatch.key_for(unit_id)
    retired, later = f"K{uuid4().hex[:12].upper()}", f"K{uuid4().hex[:12].upper()}"
    await publish(
        servers,
        [
            entry_changed(retired, unit_id, version=5, status="retired"),
            entry_changed(later, unit_id, version=4, valid_from=NOW + timedelta(days=30)),
        ],
    )
    await until_kept(dispatch, retired, 5)
    await until_kept(dispatch, later, 4)

    ticket_no = await _consultation(dispatch, unit_id, ENGINE_AGAIN, "交通运输类")
    replied = await _answered(dispatch, police, ticket_no, SECOND_ANSWER)

    assert replied["state"] == "closed"
    assert replied.get("held_for_review") is None


async def test_a_return_of_a_question_the_units_published_entry_answers_is_flagged(
    dispatch: Dispatch, servers: Servers
) -> None:
    unit_id, housing, entry_id = await unit_with_an_entry(
        dispatch,
        servers,
        question=TIANJIANG,
        answer=TIANJIANG_ANSWER["result"],
        category="城乡建设类",
    )
    ticket_no = await _consultation(dispatch, unit_id, TIANJIANG_AGAIN, "城乡建设类")

    asked = await dispatch.http.post(
        f"/v1/unit/tickets/{ticket_no}/return",
        headers=housing,
        json={"reason": "规划问题建议转区规划部门"},
    )
    [request] = [r for r in (await _queue(dispatch))["requests"] if r["ticket_no"] == ticket_no]
    announced = await _announced(dispatch, ticket_no, "ticket.return_requested")

    assert asked.status_code == 200, asked.text
    assert request["contradicted_by_evidence"] is True
    assert [(e["source"], e["entry_id"]) for e in request["evidence"]] == [("knowledge", entry_id)]
    assert (announced["answered_before"], announced["answered_entries"]) == ([], [entry_id])


async def test_superseding_a_knowledge_entry_is_refused_pointing_to_the_knowledge_base(
    dispatch: Dispatch, servers: Servers
) -> None:
    unit_id, police, _ = await unit_with_an_entry(dispatch, servers)
    ticket_no = await _consultation(dispatch, unit_id, ENGINE_AGAIN, "交通运输类")
    await _answered(dispatch, police, ticket_no, SECOND_ANSWER)

    refused = await dispatch.http.post(
        f"/v1/tickets/{ticket_no}/reply-review",
        headers=dispatch.as_supervisor(),
        json={"accept": True, "supersede_earlier": True},
    )
    accepted = await dispatch.http.post(
        f"/v1/tickets/{ticket_no}/reply-review",
        headers=dispatch.as_supervisor(),
        json={"accept": True},
    )

    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "supersede_earlier"
    assert "knowledge" in refused.json()["detail"]
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["state"] == "closed"
