"""Open311 GeoReport v2 on intake, against the spec's own examples
(https://wiki.open311.org/GeoReport_v2), with dispatch running: a request becomes a ticket by
the webhook's rules, is routed, and its status names the unit that holds it."""

import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx
import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.intake.models import Open311Request, Ticket, webhook_deliveries
from hotline.intake.open311.service import scrub_phones
from hotline.shared.migrations import upgrade
from tests.conftest import Servers
from tests.dispatch.conftest import Dispatch, dispatch  # noqa: F401 (fixture)
from tests.intake.conftest import (
    READER_TOKEN,
    SENDERS,
    IntakeClient,
    citizen_number,
    place,
    ticket_body,
)
from tests.support import running, wait_until

WEB_KEY = "test-open311-web-key-for-the-citys-website"
APP_KEY = "test-open311-app-key-for-the-citys-app"
FORM = {"content-type": "application/x-www-form-urlencoded; charset=utf-8"}

# The spec's examples, as it prints them (its service codes 001, 006 are unquoted numbers
# there, which JSON does not allow: quoted here).
SPEC_SERVICES = [
    {
        "service_code": "001",
        "service_name": "Cans left out 24x7",
        "description": "Garbage or recycling cans that have been left out for more than 24 hours "
        "after collection. Violators will be cited.",
        "metadata": True,
        "type": "realtime",
        "keywords": "lorem, ipsum, dolor",
        "group": "sanitation",
    }
]
SPEC_POST_BODY = (
    "api_key=xyz&jurisdiction_id=city.gov&service_code=001&lat=37.76524078&long=-122.4212043"
    "&address_string=1234+5th+street&email=smit333%40sfgov.edu&device_id=tt222111"
    "&account_id=123456&first_name=john&last_name=smith&phone=111111111"
    "&description=A+large+sinkhole+is+destroying+the+street"
    "&media_url=http%3A%2F%2Ffarm3.static.flickr.com%2F2002%2F2212426634_5ed477a060.jpg"
    "&attribute[WHISPAWN]=123456&attribute[WHISDORN]=COISL001"
)
SPEC_POST_ANSWER = [
    {
        "service_request_id": 293944,
        "service_notice": "The City will inspect and require the responsible party to correct "
        "within 24 hours and/or issue a Correction Notice or Notice of Violation of the Public "
        "Works Code",
        "account_id": None,
    }
]
SPEC_REQUESTS_ANSWER = [
    {
        "service_request_id": 638344,
        "status": "closed",
        "status_notes": "Duplicate request.",
        "service_name": "Sidewalk and Curb Issues",
        "service_code": "006",
        "description": None,
        "agency_responsible": None,
        "service_notice": None,
        "requested_datetime": "2010-04-14T06:37:38-08:00",
        "updated_datetime": "2010-04-14T06:37:38-08:00",
        "expected_datetime": "2010-04-15T06:37:38-08:00",
        "address": "8TH AVE and JUDAH ST",
        "address_id": 545483,
        "zipcode": 94122,
        "lat": 37.762221815,
        "long": -122.4651145,
        "media_url": "http://city.gov.s3.amazonaws.com/requests/media/638344.jpg",
    }
]
SPEC_ERROR = [
    {"code": 403, "description": "Invalid api_key received -- can't proceed with create_request."}
]
GOOD_REPLY = {
    "actions": "2月3日派工作人员到小区现场核查，约谈物业公司负责人",
    "result": "物业公司已于2月5日更换电梯主板，电梯恢复运行，已电话告知诉求人。",
    "citizen_contacted": True,
}


@pytest.fixture(scope="module")
async def open311(engine: AsyncEngine, servers: Servers) -> AsyncIterator[IntakeClient]:
    await upgrade(engine, "hotline.intake")
    from hotline.intake.main import app

    async with running(
        app,
        servers,
        intake_webhook_senders=json.dumps(SENDERS),
        intake_reader_tokens=json.dumps({"desk": READER_TOKEN}),
        intake_open311_api_keys=json.dumps({"web": [WEB_KEY], "app": [APP_KEY]}),
    ) as http:
        yield IntakeClient(http, engine)


def shaoyang_request(**overrides: str) -> dict[str, str]:
    """The spec's example request as a citizen of 邵阳 would send it."""
    form = dict(parse_qsl(SPEC_POST_BODY))
    form |= {
        "api_key": WEB_KEY,
        "service_code": "城乡建设类",
        "lat": "27.2389",
        "long": "111.4677",
        "address_string": "大祥区翠园小区3栋",
        "address_id": place(),
        "email": "zhang.san@example.cn",
        "first_name": "三",
        "last_name": "张",
        "phone": citizen_number(),
        "description": "翠园小区3栋电梯坏了一个月，物业一直不修，老人上下楼很困难",
        "media_url": "https://img.example.cn/2022/02/lift.jpg",
    }
    return form | overrides


async def post(client: IntakeClient, form: dict[str, str], **headers: str) -> httpx.Response:
    return await client.http.post(
        "/open311/v2/requests.json", content=urlencode(form), headers=FORM | headers
    )


async def read(client: IntakeClient, ticket_no: str) -> dict[str, Any]:
    answer = await client.http.get(f"/open311/v2/requests/{ticket_no}.json")
    assert answer.status_code == 200, answer.text
    [request] = answer.json()
    return dict(request)


def assert_spec_error(answer: httpx.Response, status: int) -> list[str]:
    """An error as the spec writes it: a list of {code, description}, code = HTTP status."""
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/json")
    body = answer.json()
    assert isinstance(body, list)
    assert body
    assert all(set(error) == set(SPEC_ERROR[0]) for error in body)
    assert all(error["code"] == status for error in body)
    return [error["description"] for error in body]


async def test_the_services_are_the_categories_in_the_specs_shape(open311: IntakeClient) -> None:
    answer = await open311.http.get("/open311/v2/services.json")

    assert answer.status_code == 200, answer.text
    services = answer.json()
    assert all(set(service) == set(SPEC_SERVICES[0]) for service in services)
    building = next(s for s in services if s["service_code"] == "城乡建设类")
    assert building["service_name"] == "城乡建设类"
    assert (building["metadata"], building["type"]) == (False, "realtime")
    assert "物业" in building["keywords"].split(", ")
    codes = [c["code"] for c in (await open311.http.get("/v1/categories")).json()]
    assert [service["service_code"] for service in services] == codes


async def test_the_specs_example_request_is_refused_for_its_api_key_first(
    open311: IntakeClient,
) -> None:
    answer = await open311.http.post(
        "/open311/v2/requests.json", content=SPEC_POST_BODY, headers=FORM
    )

    assert assert_spec_error(answer, 403) == ["api_key: Invalid api_key received"]


async def test_without_a_key_nothing_of_the_form_is_judged(open311: IntakeClient) -> None:
    keyless = dict(parse_qsl(SPEC_POST_BODY)) | {"api_key": "", "lat": "north"}

    answer = await post(open311, keyless)

    assert assert_spec_error(answer, 403) == ["api_key: api_key was not provided"]


async def test_the_specs_example_request_with_our_key_names_the_service_code_it_lacks(
    open311: IntakeClient,
) -> None:
    form = dict(parse_qsl(SPEC_POST_BODY)) | {"api_key": WEB_KEY}
    before = await open311.outbox_count()

    answer = await post(open311, form)

    descriptions = assert_spec_error(answer, 404)
    assert "service_code: service_code 001 was not found" in descriptions
    assert "address_id: address_id is required" in " ".join(descriptions)
    assert await open311.outbox_count() == before


async def test_a_request_becomes_a_web_ticket_and_is_answered_in_the_specs_shape(
    open311: IntakeClient,
) -> None:
    form = shaoyang_request()

    answer = await post(open311, form)

    assert answer.status_code == 201, answer.text
    [created] = answer.json()
    assert set(created) == set(SPEC_POST_ANSWER[0])
    ticket_no = created["service_request_id"]
    assert ticket_no.startswith("SY")
    assert created["account_id"] == "123456"
    assert ticket_no in created["service_notice"]
    assert await open311.announced(ticket_no) == ["ticket.created"]
    ticket = (
        await open311.http.get(
            f"/v1/tickets/{ticket_no}", headers={"Authorization": f"Bearer {READER_TOKEN}"}
        )
    ).json()
    assert (ticket["channel"], ticket["category"], ticket["handling_mode"]) == (
        "web",
        "城乡建设类",
        "forward",
    )
    assert ticket["caller_salutation"] == "张三"
    assert ticket["location_code"] == form["address_id"]


async def test_the_app_key_makes_an_app_ticket(open311: IntakeClient) -> None:
    answer = await post(open311, shaoyang_request(api_key=APP_KEY))

    ticket_no = answer.json()[0]["service_request_id"]
    channel = await open311.scalar(select(Ticket.channel).where(Ticket.ticket_no == ticket_no))
    assert channel == "app"


async def test_a_request_breaking_the_tickets_rules_is_refused_field_by_field_and_kept_nowhere(
    open311: IntakeClient,
) -> None:
    before = await open311.outbox_count()
    requests = await open311.scalar(select(func.count()).select_from(Open311Request))
    claims = await open311.scalar(select(func.count()).select_from(webhook_deliveries))

    bad_phone = await post(open311, shaoyang_request(phone="12345"))
    outside = await post(open311, shaoyang_request(address_id="430102001"))
    lat_alone = await post(open311, shaoyang_request(long=""))
    short = await post(open311, shaoyang_request(description="电梯坏"))
    nameless = await post(open311, shaoyang_request(first_name="", last_name=""))
    json_body = await open311.http.post("/open311/v2/requests.json", json=shaoyang_request())

    assert assert_spec_error(bad_phone, 400) == ["phone: not a mobile or landline number"]
    assert assert_spec_error(outside, 400) == ["address_id: T05: outside this city (4305…)"]
    assert assert_spec_error(lat_alone, 400) == ["long: lat and long go together"]
    assert assert_spec_error(short, 400)[0].startswith("description: ")
    assert assert_spec_error(nameless, 400)[0].startswith("last_name: ")
    assert assert_spec_error(json_body, 400)[0].startswith("body: send application/x-www-form")
    assert await open311.outbox_count() == before
    assert await open311.scalar(select(func.count()).select_from(Open311Request)) == requests
    # The ticket path claimed a delivery before its rules refused the request: rolled back too.
    assert await open311.scalar(select(func.count()).select_from(webhook_deliveries)) == claims


async def test_the_same_citizen_again_is_a_repeat_by_the_webhooks_own_table(
    open311: IntakeClient,
) -> None:
    first_form = shaoyang_request()
    first = (await post(open311, first_form)).json()[0]

    again = await post(
        open311,
        shaoyang_request(phone=first_form["phone"], address_id=first_form["address_id"]),
    )

    [repeat] = again.json()
    assert repeat["service_request_id"] != first["service_request_id"]
    assert "正在办理" in repeat["service_notice"]
    status = await read(open311, repeat["service_request_id"])
    assert status["status"] == "closed"
    assert await open311.announced(repeat["service_request_id"]) == [
        "ticket.created",
        "ticket.closed",
    ]


async def test_a_retry_with_the_same_idempotency_key_gets_the_first_answer(
    open311: IntakeClient,
) -> None:
    form = shaoyang_request()

    first = await post(open311, form, **{"idempotency-key": "app-7f3a-0001"})
    again = await post(open311, form, **{"idempotency-key": "app-7f3a-0001"})

    other_body = await post(open311, shaoyang_request(), **{"idempotency-key": "app-7f3a-0001"})
    spaces = await post(open311, form, **{"idempotency-key": "  "})

    assert again.status_code == 201
    assert again.json() == first.json()
    assert assert_spec_error(other_body, 409)[0].startswith("Idempotency-Key: ")
    assert assert_spec_error(spaces, 400)[0].startswith("Idempotency-Key: ")


async def test_a_key_used_again_after_the_retention_window_is_a_conflict_not_a_new_ticket(
    open311: IntakeClient,
) -> None:
    form = shaoyang_request()
    first = (await post(open311, form, **{"idempotency-key": "web-old-0001"})).json()[0]
    async with open311.engine.begin() as connection:  # forgotten, as after the window
        await connection.execute(
            delete(webhook_deliveries).where(webhook_deliveries.c.webhook_id == "web-old-0001")
        )

    again = await post(open311, form, **{"idempotency-key": "web-old-0001"})

    assert assert_spec_error(again, 409) == [
        f"Idempotency-Key: This ticket was already accepted as {first['service_request_id']}."
    ]
    kept = select(func.count()).where(Ticket.source_ticket_id == "web-old-0001")
    assert await open311.scalar(kept) == 1


async def test_a_routed_request_names_its_unit_and_deadline_then_its_closure(
    open311: IntakeClient,
    dispatch: Dispatch,  # noqa: F811
) -> None:
    form = shaoyang_request()
    ticket_no = (await post(open311, form)).json()[0]["service_request_id"]

    async def holder_known() -> bool:
        return (await read(open311, ticket_no))["agency_responsible"] is not None

    await wait_until(holder_known, within=60, what="intake to learn the unit")
    routed = await read(open311, ticket_no)
    housing = await dispatch.key_for("U009")
    signed = await dispatch.http.post(f"/v1/unit/tickets/{ticket_no}/sign", headers=housing)
    replied = await dispatch.http.post(
        f"/v1/unit/tickets/{ticket_no}/reply", headers=housing, json=GOOD_REPLY
    )
    assert signed.status_code == 200, signed.text
    assert replied.status_code == 200, replied.text

    async def closed() -> bool:
        return bool((await read(open311, ticket_no))["status"] == "closed")

    await wait_until(closed, within=60, what="intake to learn the closure")
    done = await read(open311, ticket_no)

    assert set(routed) == set(SPEC_REQUESTS_ANSWER[0])
    # 城乡建设类 has four units; its lead bureau takes a ticket no one suggested a unit for.
    assert routed["agency_responsible"] == "市住房和城乡建设局"
    assert (routed["status"], routed["status_notes"]) == ("open", "已转交市住房和城乡建设局办理")
    assert routed["expected_datetime"].endswith("+08:00")
    assert (routed["lat"], routed["long"]) == (27.2389, 111.4677)
    assert routed["address_id"] == form["address_id"]
    assert routed["media_url"] == form["media_url"]
    assert done["status"] == "closed"
    assert done["agency_responsible"] == "市住房和城乡建设局"
    assert done["expected_datetime"] is None
    assert "更换电梯主板" in done["status_notes"]
    text = json.dumps(done, ensure_ascii=False)
    for private in (form["phone"], form["email"], form["device_id"], "张三"):
        assert private not in text


async def test_requests_are_found_by_id_status_and_code_within_ninety_days(
    open311: IntakeClient,
) -> None:
    one = (await post(open311, shaoyang_request())).json()[0]["service_request_id"]
    two = (
        await post(
            open311,
            shaoyang_request(
                service_code="交通运输类", description="翠园小区门口红绿灯坏了三天，路口很危险"
            ),
        )
    ).json()[0]["service_request_id"]

    by_id = await open311.http.get(
        "/open311/v2/requests.json", params={"service_request_id": f"{one},{two}"}
    )
    by_code = await open311.http.get(
        "/open311/v2/requests.json", params={"service_code": "交通运输类", "status": "open"}
    )
    closed_only = await open311.http.get("/open311/v2/requests.json", params={"status": "closed"})
    too_long = await open311.http.get(
        "/open311/v2/requests.json",
        params={"start_date": "2022-01-01T00:00:00Z", "end_date": "2022-06-01T00:00:00Z"},
    )
    no_zone = await open311.http.get(
        "/open311/v2/requests.json", params={"start_date": "2022-01-01T00:00:00"}
    )
    bad_status = await open311.http.get("/open311/v2/requests.json", params={"status": "done"})
    empty = await open311.http.get(
        "/open311/v2/requests.json", params={"start_date": "", "status": "", "service_code": ""}
    )
    nul = await open311.http.get("/open311/v2/requests.json", params={"service_code": "城\x00"})
    unknown = await open311.http.get("/open311/v2/requests/SY000000000.json")

    assert {r["service_request_id"] for r in by_id.json()} == {one, two}
    assert two in [r["service_request_id"] for r in by_code.json()]
    assert one not in [r["service_request_id"] for r in by_code.json()]
    assert all(r["status"] == "closed" for r in closed_only.json())
    assert one not in [r["service_request_id"] for r in closed_only.json()]
    assert assert_spec_error(too_long, 400) == [
        "end_date: start_date to end_date spans more than 90 days"
    ]
    assert assert_spec_error(no_zone, 400)[0].startswith("start_date: ")
    assert assert_spec_error(bad_status, 400) == ["status: done is not valid"]
    # Sent empty is not sent (the spec's "optional"): the last 90 days, every status and code.
    assert {one, two} <= {r["service_request_id"] for r in empty.json()}
    assert assert_spec_error(nul, 400) == ["service_code: contains a NUL character"]
    assert assert_spec_error(unknown, 404) == [
        "service_request_id: service_request_id SY000000000 was not found"
    ]


async def test_a_ticket_the_call_centre_sent_is_not_an_open311_request(
    open311: IntakeClient,
) -> None:
    ticket_no = (await open311.post("/v1/tickets", ticket_body())).json()["ticket_no"]

    answer = await open311.http.get(f"/open311/v2/requests/{ticket_no}.json")

    assert_spec_error(answer, 404)


async def test_our_own_routes_keep_problem_json(open311: IntakeClient) -> None:
    answer = await open311.http.get("/v1/tickets/SY1")

    assert answer.headers["content-type"] == "application/problem+json"


def test_numbers_written_into_a_text_are_masked_and_nothing_else_is() -> None:
    text = "请联系13812345678或0739-5221234，工单SY202202010000123，地点430503001002，2022年2月1日"

    scrubbed = scrub_phones(text)

    assert scrubbed == (
        "请联系138****5678或073****1234，工单SY202202010000123，地点430503001002，2022年2月1日"
    )
    # As citizens write them: with +86, in groups.
    assert scrub_phones("请回电+8613812345678或138 1234 5678、138-1234-5678") == (
        "请回电138****5678或138****5678、138****5678"
    )


async def test_the_request_form_is_documented(open311: IntakeClient) -> None:
    schema = (await open311.http.get("/openapi.json")).json()

    body = schema["paths"]["/open311/v2/requests.json"]["post"]["requestBody"]
    form = body["content"]["application/x-www-form-urlencoded"]["schema"]
    assert {"api_key", "service_code", "lat", "long", "address_id", "description"} <= set(
        form["properties"]
    )
    # Its errors as the spec's list, as the route answers them, not as problem+json.
    for path, method in [
        ("/open311/v2/requests.json", "post"),
        ("/open311/v2/services.json", "get"),
    ]:
        refused = schema["paths"][path][method]["responses"]["400"]["content"]
        assert list(refused) == ["application/json"]
        assert refused["application/json"]["schema"]["type"] == "array"


async def test_an_approved_extension_moves_the_expected_time_and_an_accepted_return_the_unit(
    open311: IntakeClient,
    dispatch: Dispatch,  # noqa: F811
) -> None:
    ticket_no = (await post(open311, shaoyang_request())).json()[0]["service_request_id"]

    async def routed() -> bool:
        return (await read(open311, ticket_no))["agency_responsible"] is not None

    await wait_until(routed, within=60, what="intake to learn the unit")
    housing = await dispatch.key_for("U009")
    deadline = datetime.fromisoformat((await read(open311, ticket_no))["expected_datetime"])
    later = deadline + timedelta(days=5)
    asked = await dispatch.http.post(
        f"/v1/unit/tickets/{ticket_no}/extension",
        headers=housing,
        json={
            "reason": "需协调电梯维保单位更换主板，配件到货较慢",
            "requested_deadline": later.isoformat(),
        },
    )
    approved = await dispatch.http.post(
        f"/v1/tickets/{ticket_no}/extension-review",
        headers=dispatch.as_supervisor(),
        json={"accept": True},
    )

    async def extended() -> bool:
        expected = (await read(open311, ticket_no))["expected_datetime"]
        return datetime.fromisoformat(expected) == later

    await wait_until(extended, within=60, what="intake to learn the new deadline")
    returned = await dispatch.http.post(
        f"/v1/unit/tickets/{ticket_no}/return",
        headers=housing,
        json={"reason": "电梯维修属物业服务合同纠纷，应由城管执法局处理"},
    )
    accepted = await dispatch.http.post(
        f"/v1/tickets/{ticket_no}/return-review",
        headers=dispatch.as_supervisor(),
        json={"accept": True},
    )

    async def unassigned() -> bool:
        return (await read(open311, ticket_no))["agency_responsible"] is None

    await wait_until(unassigned, within=60, what="intake to learn the return")
    waiting = await read(open311, ticket_no)

    assert (asked.status_code, approved.status_code) == (200, 200), approved.text
    assert (returned.status_code, accepted.status_code) == (200, 200), accepted.text
    # The three other units of 城乡建设类 are equal: a supervisor decides, and the citizen is
    # told it waits for one.
    assert accepted.json()["state"] == "manual"
    assert (waiting["status"], waiting["status_notes"]) == ("open", "已受理，待转交承办单位")
    assert waiting["expected_datetime"] is None
