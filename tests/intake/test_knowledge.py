"""The knowledge base through HTTP on the real PostgreSQL and broker: writing, versions,
publishing and retiring, search (recall over the labelled set, filters, validity), the tickets
answered with an entry, and drafts made from dispatch's events."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import httpx
import pytest
from sqlalchemy import func, select

from hotline.intake import knowledge
from hotline.intake.config import IntakeOptions
from hotline.intake.knowledge_index import KnowledgeIndex
from hotline.intake.models import KnowledgeEntry, KnowledgeVersion, messaging
from hotline.shared.db import create_session_factory
from hotline.shared.messaging.events import (
    ReviewData,
    TicketClosed,
    TicketClosedData,
    TicketReplied,
    TicketRepliedData,
    TicketReplyReviewed,
)
from tests.conftest import Servers
from tests.intake.conftest import READER_TOKEN, SUPERVISOR, IntakeClient, ticket_body
from tests.intake.knowledge_corpus import ASKED, ENTRIES, recall_at
from tests.support import publish, wait_until

READER = {"Authorization": f"Bearer {READER_TOKEN}"}
RECALL_AT_5_AT_LEAST = 0.9


def entry_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "question": "犬只如何办理养犬登记？",
        "answer": "养犬人持身份证、犬只免疫证明到所在地公安派出所办理养犬登记，领取犬牌。",
        "unit_id": "U015",
        "category": "公共安全类",
    }
    return body | overrides


async def create(intake: IntakeClient, **overrides: Any) -> dict[str, Any]:
    response = await intake.http.post(
        "/v1/knowledge", json=entry_body(**overrides), headers=SUPERVISOR
    )
    assert response.status_code == 201, response.text
    entry: dict[str, Any] = response.json()
    return entry


async def published(intake: IntakeClient, **overrides: Any) -> dict[str, Any]:
    entry = await create(intake, **overrides)
    response = await intake.http.post(
        f"/v1/knowledge/{entry['entry_id']}/publish", headers=SUPERVISOR
    )
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def search(intake: IntakeClient, q: str, **params: Any) -> httpx.Response:
    return await intake.http.get("/v1/knowledge", params={"q": q, **params}, headers=READER)


async def found(intake: IntakeClient, q: str, **params: Any) -> list[str]:
    response = await search(intake, q, **params)
    assert response.status_code == 200, response.text
    return [hit["entry_id"] for hit in response.json()["hits"]]


# --- search over the labelled set ---------------------------------------------------------------


@pytest.fixture(scope="module")
async def labelled(intake: IntakeClient) -> AsyncIterator[dict[str, str]]:
    """The labelled entries written and published through the API: their keys → entry ids."""
    ids = {}
    for entry in ENTRIES:
        made = await published(
            intake,
            question=entry.question,
            answer=entry.answer,
            unit_id=entry.unit_id,
            category=entry.category,
        )
        ids[entry.key] = made["entry_id"]
    yield ids
    for entry_id in ids.values():
        await intake.http.post(f"/v1/knowledge/{entry_id}/retire", headers=SUPERVISOR)


async def test_search_finds_the_entry_a_citizen_asks_for_among_the_first_five(
    intake: IntakeClient, labelled: dict[str, str]
) -> None:
    keys = {entry_id: key for key, entry_id in labelled.items()}
    results: dict[str, list[str]] = {}
    for asked in ASKED:
        hits = await found(intake, asked.text, limit=5)
        results[asked.text] = [keys.get(entry_id, entry_id) for entry_id in hits]

    recall, missed = recall_at(5, lambda text: results[text])

    print(f"knowledge search recall@5 = {recall:.3f} over {len(ASKED)} questions")
    assert len(ASKED) >= 100
    assert recall >= RECALL_AT_5_AT_LEAST, [m.text for m in missed]


async def test_the_best_match_comes_first_with_its_score_and_terms(
    intake: IntakeClient, labelled: dict[str, str]
) -> None:
    response = await search(intake, "市民想咨询车辆更换发动机需要再次备案吗，要带哪些资料")

    body = response.json()
    assert body["hits"][0]["entry_id"] == labelled["car-engine"]
    assert body["hits"][0]["unit_id"] == "U008"
    assert body["hits"][0]["score"] >= body["hits"][-1]["score"] > 0
    assert "发动机" in body["terms"]
    assert "市民" not in body["terms"]


async def test_search_filters_by_category_and_unit(
    intake: IntakeClient, labelled: dict[str, str]
) -> None:
    question = "新房怎么开户"  # gas, water and power entries all answer opening an account

    by_unit = await found(intake, question, unit="U011")
    by_category = await found(intake, question, category="城乡建设类")

    assert labelled["gas-open"] in by_unit
    assert all(
        hit in {labelled[k] for k in labelled if k.startswith(("gas", "d-gas"))} for hit in by_unit
    )
    assert labelled["gas-open"] not in by_category


# --- writing, versions, publishing, retiring ----------------------------------------------------


async def test_a_new_entry_is_a_draft_search_does_not_find_until_published(
    intake: IntakeClient,
) -> None:
    draft = await create(intake, question="犬只免疫证明在哪里办理？甲一")

    before = await found(intake, "犬只免疫证明甲一")
    publishing = await intake.http.post(
        f"/v1/knowledge/{draft['entry_id']}/publish", headers=SUPERVISOR
    )
    after = await found(intake, "犬只免疫证明甲一")

    assert (draft["status"], draft["current_version"]) == ("draft", 1)
    assert draft["entry_id"] not in before
    assert publishing.json()["status"] == "published"
    assert after[0] == draft["entry_id"]


async def test_an_edit_is_a_new_version_and_search_answers_with_it(intake: IntakeClient) -> None:
    entry = await published(intake, question="犬只走失了怎么找回？乙二")
    corrected = entry_body(
        question="犬只走失了怎么找回？乙二",
        answer="可到城区流浪犬收容中心查找，并向所在地派出所报告犬牌号码。",
        note="收容中心地址更正",
    )

    response = await intake.http.put(
        f"/v1/knowledge/{entry['entry_id']}", json=corrected, headers=SUPERVISOR
    )
    hits = (await search(intake, "犬只走失乙二")).json()["hits"]

    assert response.status_code == 200, response.text
    edited = response.json()
    assert edited["current_version"] == 2
    assert edited["status"] == "published"
    assert [v["version"] for v in edited["versions"]] == [1, 2]
    assert edited["versions"][0]["answer"] == entry["answer"]
    assert edited["versions"][1]["note"] == "收容中心地址更正"
    assert (hits[0]["entry_id"], hits[0]["version"]) == (entry["entry_id"], 2)
    assert hits[0]["answer"].startswith("可到城区流浪犬收容中心")


async def test_a_retired_entry_is_found_no_more_and_cannot_be_edited_or_published(
    intake: IntakeClient,
) -> None:
    entry = await published(intake, question="犬只伤人后如何处理？丙三")

    retired = await intake.http.post(
        f"/v1/knowledge/{entry['entry_id']}/retire", headers=SUPERVISOR
    )
    hits = await found(intake, "犬只伤人丙三")
    again = await intake.http.post(f"/v1/knowledge/{entry['entry_id']}/retire", headers=SUPERVISOR)
    edit = await intake.http.put(
        f"/v1/knowledge/{entry['entry_id']}", json=entry_body(), headers=SUPERVISOR
    )
    publish_again = await intake.http.post(
        f"/v1/knowledge/{entry['entry_id']}/publish", headers=SUPERVISOR
    )

    assert retired.json()["status"] == "retired"
    assert entry["entry_id"] not in hits
    assert again.status_code == edit.status_code == publish_again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"


async def test_only_entries_valid_at_the_time_asked_are_found(intake: IntakeClient) -> None:
    now = datetime.now(UTC)
    expired = await published(
        intake,
        question="犬只年检什么时候办？丁四",
        valid_from=(now - timedelta(days=60)).isoformat(),
        valid_until=(now - timedelta(days=1)).isoformat(),
    )
    future = await published(
        intake,
        question="犬只年检什么时候办？丁四",
        valid_from=(now + timedelta(days=5)).isoformat(),
    )

    today = await found(intake, "犬只年检丁四")
    last_month = await found(intake, "犬只年检丁四", at=(now - timedelta(days=30)).isoformat())
    next_week = await found(intake, "犬只年检丁四", at=(now + timedelta(days=7)).isoformat())

    assert expired["entry_id"] not in today
    assert future["entry_id"] not in today
    assert expired["entry_id"] in last_month
    assert future["entry_id"] not in last_month
    assert future["entry_id"] in next_week
    assert expired["entry_id"] not in next_week


async def test_an_entry_is_read_back_with_its_history(intake: IntakeClient) -> None:
    entry = await create(intake)

    response = await intake.http.get(f"/v1/knowledge/{entry['entry_id']}", headers=READER)

    assert response.status_code == 200
    assert response.json()["versions"][0]["edited_by"] == "李组长"


# --- bad input and auth -----------------------------------------------------------------------

INVALID_ENTRIES = {
    "unknown-category": ({"category": "星际事务类"}, "category"),
    "unknown-unit": ({"unit_id": "U999"}, "unit_id"),
    "no-question": ({"question": None}, "question"),
    "short-answer": ({"answer": "有"}, "answer"),
    "long-question": ({"question": "问" * 1001}, "question"),
    "naive-time": ({"valid_from": "2026-01-01T00:00:00"}, "valid_from"),
    "year-one": ({"valid_from": "0001-01-01T00:00:00+08:00"}, "valid_from"),
    "year-9999": ({"valid_until": "9999-12-31T23:00:00Z"}, "valid_until"),
    "ends-before-it-starts": (
        {"valid_from": "2026-03-01T00:00:00+08:00", "valid_until": "2026-02-01T00:00:00+08:00"},
        "valid_until",
    ),
    "no-such-source-ticket": ({"source_ticket": "SY202601010000001"}, "source_ticket"),
    "nul": ({"answer": "养犬登记\x00到派出所"}, "answer"),
    "unknown-field": ({"owner": "U015"}, "owner"),
}


@pytest.mark.parametrize(("change", "field"), INVALID_ENTRIES.values(), ids=INVALID_ENTRIES.keys())
async def test_an_invalid_entry_is_refused_naming_the_field(
    intake: IntakeClient, change: dict[str, Any], field: str
) -> None:
    body = {k: v for k, v in (entry_body() | change).items() if v is not None}
    count = await intake.scalar(select(func.count()).select_from(KnowledgeEntry))

    response = await intake.http.post("/v1/knowledge", json=body, headers=SUPERVISOR)

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert field in [error["field"].split(".")[-1] for error in response.json()["errors"]]
    assert await intake.scalar(select(func.count()).select_from(KnowledgeEntry)) == count


INVALID_SEARCHES = {
    "no-question": ({"q": None}, "q"),
    "empty-question": ({"q": ""}, "q"),
    "long-question": ({"q": "问" * 201}, "q"),
    "limit-zero": ({"limit": 0}, "limit"),
    "limit-too-high": ({"limit": 51}, "limit"),
    "limit-not-a-number": ({"limit": "ten"}, "limit"),
    "unknown-category": ({"category": "星际事务类"}, "category"),
    "naive-time": ({"at": "2026-01-01T00:00:00"}, "at"),
    "year-9999": ({"at": "9999-12-31T23:00:00Z"}, "at"),
    "bad-unit": ({"unit": "U 1/2"}, "unit"),
}


@pytest.mark.parametrize(
    ("change", "field"), INVALID_SEARCHES.values(), ids=INVALID_SEARCHES.keys()
)
async def test_an_invalid_search_is_refused_naming_the_parameter(
    intake: IntakeClient, change: dict[str, Any], field: str
) -> None:
    params = {k: v for k, v in ({"q": "犬只登记"} | change).items() if v is not None}

    response = await intake.http.get("/v1/knowledge", params=params, headers=READER)

    assert response.status_code == 422, response.text
    assert field in [error["field"].split(".")[-1] for error in response.json()["errors"]]


async def test_reading_needs_a_reader_token_and_writing_a_supervisors(
    intake: IntakeClient,
) -> None:
    entry = await create(intake)
    entry_id = entry["entry_id"]
    reads = [
        ("GET", "/v1/knowledge?q=犬只"),
        ("GET", f"/v1/knowledge/{entry_id}"),
        ("GET", f"/v1/knowledge/{entry_id}/tickets"),
    ]
    writes = [
        ("GET", "/v1/knowledge/drafts"),
        ("POST", "/v1/knowledge"),
        ("PUT", f"/v1/knowledge/{entry_id}"),
        ("POST", f"/v1/knowledge/{entry_id}/publish"),
        ("POST", f"/v1/knowledge/{entry_id}/retire"),
    ]

    anonymous = [await intake.http.request(m, path) for m, path in reads + writes]
    reader_writing = [
        await intake.http.request(m, path, json=entry_body(), headers=READER) for m, path in writes
    ]
    supervisor_reading = [
        await intake.http.request(m, path, headers={"Authorization": "Bearer guessed"})
        for m, path in reads
    ]

    assert {r.status_code for r in anonymous + reader_writing + supervisor_reading} == {401}
    assert (await intake.http.get(f"/v1/knowledge/{entry_id}", headers=READER)).status_code == 200


async def test_an_unknown_entry_is_a_404_and_a_malformed_id_a_422(intake: IntakeClient) -> None:
    unknown = await intake.http.get("/v1/knowledge/K000000000000", headers=READER)
    publish_unknown = await intake.http.post(
        "/v1/knowledge/K000000000000/publish", headers=SUPERVISOR
    )
    malformed = await intake.http.get("/v1/knowledge/K%20..%2F/tickets", headers=READER)

    assert unknown.status_code == publish_unknown.status_code == 404
    assert unknown.json()["errors"][0]["field"] == "entry_id"
    assert malformed.status_code in (404, 422)


# --- tickets answered with an entry ----------------------------------------------------------


def answered_with(entry_id: str | None, **overrides: Any) -> dict[str, Any]:
    return ticket_body(
        request_type="consultation",
        content="市民咨询养犬登记需要带什么材料，去哪里办理",
        handling_mode="answered",
        resolution="已按知识库答复市民：持身份证和犬只免疫证明到所在地派出所办理养犬登记。",
        knowledge_entry_id=entry_id,
        **overrides,
    )


async def test_a_ticket_answered_with_an_entry_records_it_and_its_version(
    intake: IntakeClient,
) -> None:
    entry = await published(intake)
    entry_id = entry["entry_id"]

    first = (await intake.post("/v1/tickets", answered_with(entry_id))).json()
    await intake.http.put(
        f"/v1/knowledge/{entry_id}", json=entry_body(note="改为线上办理"), headers=SUPERVISOR
    )
    second = (await intake.post("/v1/tickets", answered_with(entry_id))).json()

    listed = (await intake.http.get(f"/v1/knowledge/{entry_id}/tickets", headers=READER)).json()
    of_version_1 = (
        await intake.http.get(
            f"/v1/knowledge/{entry_id}/tickets", params={"version": 1}, headers=READER
        )
    ).json()
    payload = await intake.scalar(
        select(messaging.outbox.c.payload).where(
            messaging.outbox.c.key == first["ticket_no"],
            messaging.outbox.c.event_type == "ticket.created",
        )
    )

    assert [(t["ticket_no"], t["knowledge_version"]) for t in listed["tickets"]] == [
        (first["ticket_no"], 1),
        (second["ticket_no"], 2),
    ]
    assert [t["ticket_no"] for t in of_version_1["tickets"]] == [first["ticket_no"]]
    assert payload["data"]["knowledge_entry_id"] == entry_id
    assert payload["data"]["knowledge_version"] == 1


@pytest.mark.parametrize("state", ["unknown", "draft", "retired"])
async def test_a_ticket_naming_an_entry_that_is_not_published_is_refused(
    intake: IntakeClient, state: str
) -> None:
    entry_id = "K000000000000"
    if state != "unknown":
        entry_id = (await create(intake))["entry_id"]
    if state == "retired":
        await intake.http.post(f"/v1/knowledge/{entry_id}/retire", headers=SUPERVISOR)
    body = answered_with(entry_id)

    response = await intake.post("/v1/tickets", body)

    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == ["knowledge_entry_id"]


# --- drafts from dispatch's events -------------------------------------------------------------


def replied(ticket_no: str, version: int, result: str) -> TicketReplied:
    return TicketReplied(
        source="/hotline/dispatch",
        subject=ticket_no,
        ticket_id=ticket_no,
        version=version,
        data=TicketRepliedData(
            ticket_no=ticket_no,
            unit_id="U008",
            at=datetime.now(UTC),
            actions="经查询车辆管理规定并电话联系市民",
            result=result,
            citizen_contacted=True,
        ),
    )


def reviewed(
    ticket_no: str, version: int, outcome: Literal["accepted", "rejected"] = "accepted"
) -> TicketReplyReviewed:
    return TicketReplyReviewed(
        source="/hotline/dispatch",
        subject=ticket_no,
        ticket_id=ticket_no,
        version=version,
        data=ReviewData(
            ticket_no=ticket_no,
            unit_id="U008",
            outcome=outcome,
            reviewer="李组长",
            note=None,
            at=datetime.now(UTC),
        ),
    )


async def forwarded_consultation(intake: IntakeClient, **overrides: Any) -> str:
    consultation = {
        "request_type": "consultation",
        "category": "交通运输类",
        "content": "市民反映新车更换了发动机，想咨询是否需要到车管所办理变更登记，需要带哪些资料",
        "suggested_unit": "U008",
    }
    body = ticket_body(**(consultation | overrides))
    response = await intake.post("/v1/tickets", body)
    assert response.status_code == 201, response.text
    ticket_no: str = response.json()["ticket_no"]
    return ticket_no


async def drafts_of(intake: IntakeClient, ticket_no: str) -> list[Any]:
    async with intake.engine.connect() as connection:
        rows = await connection.execute(
            select(KnowledgeEntry.status, KnowledgeVersion.question, KnowledgeVersion.answer)
            .join(KnowledgeVersion, KnowledgeVersion.entry_id == KnowledgeEntry.entry_id)
            .where(KnowledgeEntry.source_ticket == ticket_no)
        )
        return list(rows.all())


ANSWER = "更换发动机应在变更后十日内申请变更登记，需带身份证明、行驶证、登记证书和维修企业证明。"


async def test_an_accepted_reply_to_a_consultation_becomes_one_draft_whatever_the_order(
    intake: IntakeClient, servers: Servers
) -> None:
    in_order = await forwarded_consultation(intake)
    reordered = await forwarded_consultation(intake)

    await publish(
        servers,
        [
            replied(in_order, 3, ANSWER),
            reviewed(in_order, 4),
            reviewed(in_order, 4),  # redelivered by another path: a new event id, the same facts
            reviewed(reordered, 4),  # the review first: kept until the reply arrives
        ],
    )
    await wait_until(lambda: _has_draft(intake, in_order), what="the in-order draft")
    await publish(servers, [replied(reordered, 3, ANSWER), replied(reordered, 3, ANSWER)])
    await wait_until(lambda: _has_draft(intake, reordered), what="the reordered draft")

    listed = await intake.http.get(
        "/v1/knowledge/drafts", params={"limit": 500}, headers=SUPERVISOR
    )
    sources = [entry["source_ticket"] for entry in listed.json()["entries"]]
    assert in_order in sources
    assert reordered in sources
    for ticket_no in (in_order, reordered):
        drafts = await drafts_of(intake, ticket_no)
        assert len(drafts) == 1
        status, question, answer = drafts[0]
        assert status == "draft"
        assert answer == ANSWER
        assert "发动机" in question


async def test_a_reply_dispatch_accepted_by_itself_becomes_a_draft_from_its_closure(
    intake: IntakeClient, servers: Servers
) -> None:
    ticket_no = await forwarded_consultation(intake)
    closed = TicketClosed(
        source="/hotline/dispatch",
        subject=ticket_no,
        ticket_id=ticket_no,
        version=4,
        data=TicketClosedData(
            ticket_no=ticket_no,
            closed_at=datetime.now(UTC),
            handling_unit="市公安局交通警察支队",
            resolution=ANSWER,
        ),
    )

    await publish(servers, [replied(ticket_no, 3, ANSWER), closed, reviewed(ticket_no, 5)])
    await wait_until(lambda: _has_draft(intake, ticket_no), what="the draft")

    assert [answer for _status, _question, answer in await drafts_of(intake, ticket_no)] == [ANSWER]


async def test_a_refused_reply_or_a_complaint_makes_no_draft(
    intake: IntakeClient, servers: Servers
) -> None:
    refused = await forwarded_consultation(intake)
    complaint = await forwarded_consultation(intake, request_type="complaint")
    later = await forwarded_consultation(intake)  # processed after the others, on their topic

    await publish(
        servers,
        [
            replied(refused, 3, ANSWER),
            reviewed(refused, 4, outcome="rejected"),
            replied(complaint, 3, ANSWER),
            reviewed(complaint, 4),
            replied(later, 3, ANSWER),
            reviewed(later, 4),
        ],
    )
    await wait_until(lambda: _has_draft(intake, later), what="the later ticket's draft")

    assert await drafts_of(intake, refused) == []
    assert await drafts_of(intake, complaint) == []


async def _has_draft(intake: IntakeClient, ticket_no: str) -> bool:
    return bool(await drafts_of(intake, ticket_no))


# --- several processes ------------------------------------------------------------------------


async def test_another_process_sees_changes_from_the_counter_and_never_shows_a_retired_entry(
    intake: IntakeClient,
) -> None:
    # Given another worker's index, large enough (threshold 0) to be rebuilt in the background.
    other = KnowledgeIndex()
    other.INLINE_REBUILD_BELOW = 0
    sessions = create_session_factory(intake.engine)
    options = IntakeOptions(categories=("公共安全类",))

    async def other_finds(question: str) -> list[str]:
        async with sessions() as session:
            result = await knowledge.search(
                session,
                other,
                sessions,
                query=question,
                category=None,
                unit=None,
                limit=5,
                at=None,
                options=options,
            )
        return [hit.entry_id for hit in result.hits]

    kept = await published(intake, question="犬只办证戊五需要什么？")
    assert await other_finds("犬只办证戊五") == [kept["entry_id"]]  # built at once: it had none

    # When this worker publishes one entry and retires the other,
    added = await published(intake, question="犬只办证戊五可以代办吗？")
    await intake.http.post(f"/v1/knowledge/{kept['entry_id']}/retire", headers=SUPERVISOR)

    # then the other worker's stale index no longer shows the retired entry, even before its
    # rebuild, and finds the new one once its background rebuild is done.
    assert kept["entry_id"] not in await other_finds("犬只办证戊五")
    await wait_until(
        lambda: _finds(other_finds, "犬只办证戊五", added["entry_id"]),
        what="the other process to find the new entry",
    )


async def _finds(search: Any, question: str, entry_id: str) -> bool:
    return entry_id in await search(question)


# --- what dispatch is told ---------------------------------------------------------------------


async def announcements(intake: IntakeClient, entry_id: str) -> list[tuple[int, str, str]]:
    """The entry's `knowledge.entry_changed` events in the outbox: version, status, answer."""
    outbox = messaging.outbox
    async with intake.engine.connect() as connection:
        payloads = await connection.scalars(
            select(outbox.c.payload)
            .where(outbox.c.key == entry_id, outbox.c.event_type == "knowledge.entry_changed")
            .order_by(outbox.c.id)
        )
        return [(p["version"], p["data"]["status"], p["data"]["answer"]) for p in payloads]


async def test_what_an_entry_answers_in_public_is_announced_each_time_it_changes(
    intake: IntakeClient,
) -> None:
    draft = await create(intake, question="养犬登记后犬牌遗失怎么补办？丁四")
    entry_id = draft["entry_id"]
    before_publishing = await announcements(intake, entry_id)
    ok = [
        await intake.http.post(f"/v1/knowledge/{entry_id}/publish", headers=SUPERVISOR),
        await intake.http.put(
            f"/v1/knowledge/{entry_id}",
            json=entry_body(answer="持身份证到原登记派出所补办犬牌，当场办结，工本费10元。"),
            headers=SUPERVISOR,
        ),
        await intake.http.post(f"/v1/knowledge/{entry_id}/retire", headers=SUPERVISOR),
    ]

    assert [response.status_code for response in ok] == [200, 200, 200]
    assert before_publishing == []  # a draft answers nothing yet
    announced = await announcements(intake, entry_id)
    assert [(status, answer) for _, status, answer in announced] == [
        ("published", entry_body()["answer"]),
        ("published", "持身份证到原登记派出所补办犬牌，当场办结，工本费10元。"),
        ("retired", "持身份证到原登记派出所补办犬牌，当场办结，工本费10元。"),
    ]
    versions = [version for version, _, _ in announced]
    assert versions == sorted(set(versions))  # a reader keeps the highest it has seen
