"""The rule engine on the read model: findings as events arrive, the period's score, the
findings listed by rule and unit, and documents checked on demand."""

from datetime import date, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest
from sqlalchemy import delete, insert

from hotline.scoring.config import ScoringOptions
from hotline.scoring.models import Finding
from hotline.scoring.score import score
from hotline.shared.db import create_session_factory
from hotline.shared.domain.working_days import LOCAL_TIME
from hotline.shared.messaging.events import (
    Event,
    PhoneNumber,
    ProvinceFindingData,
    ProvinceFindingReported,
    TicketClosed,
    TicketClosedData,
    TicketCorrected,
    TicketCorrectedData,
    UploadAccepted,
    UploadAcceptedData,
)
from tests.factories import ticket_created
from tests.scoring.conftest import READER, Scoring

JUNE = {"from": "2021-06-01", "to": "2021-06-30"}


def answered_ticket(day: int, **overrides: Any) -> list[Event]:
    """A ticket answered at intake in June 2021, as intake announces it."""
    no = f"JUNE-{uuid4().hex[:10]}"
    accepted = datetime(2021, 6, day, 10, tzinfo=LOCAL_TIME)
    ids = {"source": "/tests", "subject": no, "ticket_id": no}
    created = ticket_created(
        no,
        **{
            "source_ticket_id": no,
            "call_id": None,
            "channel": "web",
            "caller_salutation": "赵先生",
            "caller": PhoneNumber(number="13907390001", masked="139****0001"),
            "request_type": "consultation",
            "category": "人力资源与社会保障类",
            "location_code": "430511002",
            "address": "北塔区状元洲街道",
            "content": "市民来电咨询：在外省缴纳的养老保险如何转回邵阳续缴，需要哪些材料",
            "handling_mode": "answered",
            "status": "closed",
            "resolution": "已告知来电人携带身份证和参保缴费凭证到市社保中心窗口申请转移接续。",
            "suggested_unit": None,
            "agent_id": "A3",
            "accepted_at": accepted,
        }
        | overrides,
    )
    return [
        created,
        TicketClosed(
            **ids,
            version=2,
            data=TicketClosedData(
                ticket_no=no,
                closed_at=accepted + timedelta(minutes=8),
                handling_unit="12345政务服务便民热线",
                resolution=created.data.resolution or "",
            ),
        ),
    ]


@pytest.fixture(scope="module")
async def june(scoring: Scoring) -> list[str]:
    """Four tickets with a digit salutation (T07, more often than allowed: doubled), one clean."""
    broken = [answered_ticket(day, caller_salutation="123") for day in (2, 3, 4, 5)]
    clean = answered_ticket(6)
    await scoring.publish([event for events in [*broken, clean] for event in events])
    numbers = [events[0].subject for events in [*broken, clean]]

    async def found() -> bool:
        page = (await scoring.get("/v1/quality/findings", **JUNE, code="T07")).json()
        return bool(page["total"] == 4)

    await scoring.until(found, what="the June findings")
    return numbers


async def test_findings_are_listed_by_rule_and_unit_with_the_field(
    scoring: Scoring, june: list[str]
) -> None:
    page = (await scoring.get("/v1/quality/findings", **JUNE, code="T07")).json()
    by_unit = (
        await scoring.get("/v1/quality/findings", **JUNE, unit="12345政务服务便民热线")
    ).json()

    assert sorted(item["subject"] for item in page["items"]) == sorted(june[:4])
    assert {item["field"] for item in page["items"]} == {"caller_salutation"}
    assert by_unit["total"] >= 4
    assert june[4] not in [item["subject"] for item in by_unit["items"]]


async def test_the_score_deducts_double_for_a_rule_that_fires_too_often(
    scoring: Scoring, june: list[str]
) -> None:
    score = (await scoring.get("/v1/quality/score", **JUNE)).json()

    t07 = next(rule for rule in score["rules"] if rule["code"] == "T07")
    assert (t07["findings"], t07["doubled"], t07["deducted"]) == (4, True, 80)
    assert score["normative_score"] == max(0, 100 - score["deductions"])
    assert score["normative_points"] == pytest.approx(score["normative_score"] * 0.2)
    assert score["timeliness_points"] is None  # not before provincial-sync reports delays


async def test_a_corrected_record_drops_its_finding(scoring: Scoring, june: list[str]) -> None:
    fixed = answered_ticket(7, caller_salutation="456")
    no = fixed[0].subject
    await scoring.publish(fixed)

    async def listed(expected: bool) -> bool:
        page = (await scoring.get("/v1/quality/findings", **JUNE, code="T07")).json()
        return (no in [item["subject"] for item in page["items"]]) == expected

    await scoring.until(lambda: listed(True), what="the finding")
    corrected = TicketCorrected(
        source="/tests",
        subject=no,
        ticket_id=no,
        version=3,
        data=TicketCorrectedData(
            ticket_no=no,
            changes={"caller_salutation": "钱先生"},
            corrected_by="李组长",
            reason="坐席录入时误填数字",
            corrected_at=datetime.now(LOCAL_TIME),
        ),
    )
    await scoring.publish([corrected])
    await scoring.until(lambda: listed(False), what="the finding gone")


async def test_a_document_is_checked_on_demand(scoring: Scoring) -> None:
    document = {
        "ticket": {
            "ticket_no": "SY1",
            "channel": "phone",
            "call_id": None,
            "caller_salutation": "*先",
            "caller_number": "110",
            "request_type": "help",
            "category": "生活服务类",
            "content": "小区停水两天了，一直没有人来修，家里老人孩子都没水用",
            "handling_mode": "answered",
            "status": "closed",
            "resolution": "已告知",
            "accepted_at": "2022-01-20T10:00:00+08:00",
            "updated_at": "2022-01-20T10:05:00+08:00",
            "closed_at": "2022-01-20T10:05:00+08:00",
        }
    }

    response = await scoring.http.post(
        "/v1/quality/check", json={"kind": "ticket", "document": document}, headers=READER
    )

    assert response.status_code == 200, response.text
    found = {(f["code"], f["field"]) for f in response.json()["findings"]}
    assert found >= {
        ("T01", "call_id"),
        ("T06", "caller_number"),
        ("T07", "caller_salutation"),
        ("T10", "resolution"),
    }


@pytest.mark.parametrize(
    ("params", "field"),
    [({"code": "T99"}, "code"), ({"unit": "不存在的单位"}, "unit"), ({"code": "t7"}, "query.code")],
)
async def test_unknown_rules_and_units_are_problems_naming_the_field(
    scoring: Scoring, params: dict[str, str], field: str
) -> None:
    response = await scoring.get("/v1/quality/findings", **JUNE, **params)

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == field


async def test_a_check_of_something_unknown_is_refused_naming_the_field(scoring: Scoring) -> None:
    response = await scoring.http.post(
        "/v1/quality/check", json={"kind": "fax", "document": {}}, headers=READER
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "kind"


JULY_2019 = (date(2019, 7, 1), date(2019, 7, 31))  # findings of this test only


@pytest.mark.parametrize(
    ("deducted_from", "t17_deducted"),
    [(None, 0), (date(2019, 7, 10), 2 * 20), (date(2019, 8, 1), 0)],
)
async def test_t17_deducts_only_from_its_start_date(
    scoring: Scoring, deducted_from: date | None, t17_deducted: int
) -> None:
    """Four T17 findings (doubled: more than three), two of them from 10 July; two T07."""
    days = [date(2019, 7, d) for d in (2, 5, 10, 20)]
    rows = [
        {"code": "T17", "period": day, "subject": f"T17-{day}-{uuid4().hex[:6]}"} for day in days
    ]
    rows += [{"code": "T07", "period": d, "subject": f"T07-{uuid4().hex[:6]}"} for d in days[:2]]
    async with scoring.engine.begin() as connection:
        await connection.execute(delete(Finding).where(Finding.period.between(*JULY_2019)))
        await connection.execute(
            insert(Finding),
            [row | {"subject_kind": "ticket", "field": "x", "message": "-"} for row in rows],
        )
    options = ScoringOptions(t17_deducted_from=deducted_from)

    async with create_session_factory(scoring.engine)() as session:
        scored = await score(session, *JULY_2019, options)

    by_rule = {rule.code: rule for rule in scored.rules}
    assert (by_rule["T17"].findings, by_rule["T17"].doubled) == (4, True)
    assert by_rule["T17"].deducted == t17_deducted
    assert by_rule["T17"].deducts is (deducted_from is not None)
    assert by_rule["T07"].deducted == 20
    assert scored.deductions == t17_deducted + 20


def accepted_upload(record_id: str, changed: datetime, delay: timedelta) -> UploadAccepted:
    return UploadAccepted(
        source="/tests",
        subject=record_id,
        ticketid=record_id,
        version=1,
        data=UploadAcceptedData(
            kind="ticket",
            record_id=record_id,
            record_version=1,
            changed_at=changed,
            accepted_at=changed + delay,
            delay_seconds=delay.total_seconds(),
        ),
    )


async def test_timeliness_is_the_share_of_records_the_province_accepted_in_time(
    scoring: Scoring,
) -> None:
    """Provincial-sync's upload.accepted events give the 10 timeliness points (24 h deadline);
    the province's own findings are listed beside ours."""
    period = {"from": "2021-04-01", "to": "2021-04-30"}
    changed = datetime(2021, 4, 12, 9, tzinfo=LOCAL_TIME)
    on_time = [accepted_upload(f"APR-{n}", changed, timedelta(minutes=5)) for n in range(3)]
    late = accepted_upload("APR-late", changed, timedelta(hours=30))
    found = ProvinceFindingReported(
        source="/tests",
        subject="APR-0",
        ticketid="APR-0",
        version=1,
        data=ProvinceFindingData(
            kind="ticket",
            record_id="APR-0",
            record_version=1,
            code="T07",
            field="caller_salutation",
            message="诉求人称呼为数字",
            unit_name="市住房和城乡建设局",
            found_at=changed + timedelta(days=1),
        ),
    )
    await scoring.publish([*on_time, late, found, on_time[0]])  # one delivered twice

    async def counted() -> bool:
        body = (await scoring.get("/v1/quality/score", **period)).json()
        return bool(body["uploads"] == 4 and body["province_findings"])

    await scoring.until(counted, what="the uploads and the province's finding")
    body = (await scoring.get("/v1/quality/score", **period)).json()
    assert (body["uploads_on_time"], body["upload_deadline_hours"]) == (3, 24.0)
    assert body["timeliness_points"] == 7.5
    assert body["province_findings"] == {"T07": 1}
