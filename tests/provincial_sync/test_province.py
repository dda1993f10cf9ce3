"""`hotline province`, in process: it answers the `generic-v1` adapter provincial-sync uses —
accepted, duplicate, superseded, refused, bad signature, stale, malformed — misbehaves when an
operator asks, audits what it accepts, and pushes findings and spot checks signed to a callback
(here a small receiver that checks the signature as provincial-sync does)."""

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from hotline.provincial_sync.adapters import (
    BatchAnswer,
    FindingReport,
    OutgoingRecord,
    ReportError,
    SignatureError,
    SpotCheckReport,
)
from hotline.provincial_sync.adapters import generic_v1 as v1
from hotline.provincial_sync.province.app import create_app
from hotline.provincial_sync.province.config import ProvinceSettings
from hotline.shared import secrets
from hotline.shared.domain.quality import CallDocument, SurveyDocument, TicketBundle
from hotline.shared.messaging.events import Satisfaction
from hotline.shared.stack.cli import main as hotline

APP_KEY = secrets.DEVELOPMENT_PROVINCE_APP_KEY
APP_SECRET = secrets.DEVELOPMENT_PROVINCE_APP_SECRET
ADMIN = {"Authorization": f"Bearer {secrets.DEVELOPMENT_PROVINCE_ADMIN_TOKEN}"}
CALLBACK_URL = "http://sync.test"
GAS_OUTAGE = "翠园小区从昨天起停气，燃气公司没有提前通知，家里老人没法做饭，请求帮助尽快恢复"
# The content hash the fixtures' records carry: their keys end in its first 12 characters.
CONTENT_TAG = "fixture"


def adapter(secret: str = APP_SECRET) -> v1.GenericV1:
    return v1.GenericV1(city_code="4305", app_key=APP_KEY, app_secret=secret)


def ticket(
    ticket_no: str,
    version: int = 1,
    *,
    survey: Satisfaction | None = "satisfied",
    **overrides: Any,
) -> OutgoingRecord:
    """A closed phone ticket that breaks none of the province's rules, but for `overrides`."""
    accepted = datetime.now(UTC) - timedelta(days=3)
    call_started = accepted - timedelta(minutes=6)
    values: dict[str, Any] = {
        "ticket_no": ticket_no,
        "channel": "phone",
        "call_id": f"call-{ticket_no}",
        "caller_salutation": "张先生",
        "caller_number": "13812345678",
        "request_type": "help",
        "category": "生活服务类",
        "business_environment": False,
        "location_code": "430503001",
        "address": "大祥区翠园小区",
        "content": GAS_OUTAGE,
        "handling_mode": "forward",
        "status": "closed",
        "resolution": "派抢修班组检查中压管道，更换故障阀门，当日18时恢复供气并电话回复张先生。",
        "accepted_at": accepted,
        "updated_at": accepted + timedelta(days=2),
        "dispatched_at": accepted + timedelta(minutes=20),
        "dispatched_to": ["市燃气总公司"],
        "replied_by": "市燃气总公司",
        "replied_at": accepted + timedelta(days=1),
        "closed_at": accepted + timedelta(days=1, minutes=5),
        "handling_unit": "市燃气总公司",
        "reported_satisfaction": "satisfied",
    } | overrides
    bundle = TicketBundle.model_validate(
        {
            "ticket": values,
            "call": call_document(f"call-{ticket_no}", call_started).model_dump(),
            "survey": None
            if survey is None
            else SurveyDocument(
                outcome="answered",
                satisfaction=survey,
                completed_at=accepted + timedelta(days=2),
            ),
        }
    )
    payload = bundle.model_dump(mode="json", exclude_none=True)
    return OutgoingRecord("ticket", ticket_no, version, accepted, payload, CONTENT_TAG)


def call_document(call_id: str, started: datetime) -> CallDocument:
    return CallDocument(
        call_id=call_id,
        caller_number="13812345678",
        callee_number="12345",
        agent_id="A017",
        started_at=started,
        queued_at=started + timedelta(seconds=4),
        ringing_at=started + timedelta(seconds=30),
        connected_at=started + timedelta(seconds=34),
        ended_at=started + timedelta(seconds=300),
        talk_seconds=266,
        recording_url=f"https://recordings.example/{call_id}.wav",
    )


def call(call_id: str, version: int = 1, **overrides: Any) -> OutgoingRecord:
    started = datetime.now(UTC) - timedelta(hours=1)
    document = call_document(call_id, started).model_dump(mode="json") | overrides
    return OutgoingRecord("call", call_id, version, started, document, CONTENT_TAG)


@dataclass
class Receiver:
    """Provincial-sync's callback, as far as these tests need it: verifies, reads, records."""

    failures_left: int = 0
    spot_checks: list[SpotCheckReport] = field(default_factory=list)
    findings: list[FindingReport] = field(default_factory=list)
    batches: list[str] = field(default_factory=list)
    received: asyncio.Event = field(default_factory=asyncio.Event)
    app: FastAPI = field(default_factory=FastAPI)

    def __post_init__(self) -> None:
        reader = adapter()

        @self.app.post("/v1/province/{kind}")
        async def receive(kind: str, request: Request) -> JSONResponse:
            body = await request.body()
            if self.failures_left:
                self.failures_left -= 1
                return JSONResponse({"code": v1.PLATFORM_ERROR, "message": "down"}, 503)
            try:
                reader.verify_callback(request.headers, body)
            except SignatureError as error:
                return JSONResponse({"code": v1.BAD_SIGNATURE, "message": str(error)}, 401)
            try:
                if kind == "spot-checks":
                    self.spot_checks += reader.read_spot_checks(body)
                else:
                    self.findings += reader.read_findings(body)
            except ReportError as error:
                message = f"{error.field}: {error}"
                return JSONResponse({"code": v1.BAD_REQUEST, "message": message}, 400)
            self.batches.append(json.loads(body)["batch_id"])
            self.received.set()
            return JSONResponse(reader.callback_answer([]))


@dataclass
class Province:
    http: httpx.AsyncClient
    receiver: Receiver

    async def upload(
        self, records: list[OutgoingRecord], *, using: v1.GenericV1 | None = None
    ) -> BatchAnswer:
        """The records up through the adapter, and its reading of the answer."""
        client = using or adapter()
        request = client.upload_request(f"batch-{time.monotonic_ns()}", records)
        response = await self.http.post(
            request.path, content=request.content, headers=request.headers
        )
        return client.read_upload_answer(
            response.status_code, response.headers, response.content, len(records)
        )

    async def admin(self, method: str, path: str, body: Any = None, **params: Any) -> Any:
        response = await self.http.request(
            method, f"/admin{path}", json=body, params=params, headers=ADMIN
        )
        assert response.status_code == 200, response.text
        assert response.json()["code"] == v1.OK
        return response.json()["data"]

    async def behave(self, **behaviour: Any) -> None:
        await self.admin("PUT", "/behaviour", behaviour)


@asynccontextmanager
async def running_province(
    receiver: Receiver, transport: httpx.AsyncBaseTransport | None = None, **settings: Any
) -> AsyncIterator[Province]:
    """The province, pushing through `transport` (default: to `receiver`)."""
    transport = transport or httpx.ASGITransport(app=receiver.app)
    async with httpx.AsyncClient(transport=transport, base_url=CALLBACK_URL) as push_client:
        app = create_app(
            ProvinceSettings(
                callback_url=CALLBACK_URL, **({"push_interval_seconds": 3600} | settings)
            ),
            push_client=push_client,
        )
        async with (
            LifespanManager(app) as manager,
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=manager.app), base_url="http://province.test"
            ) as http,
        ):
            yield Province(http, receiver)


@pytest.fixture(autouse=True)
def test_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_ENVIRONMENT", "test")


@pytest.fixture
async def province() -> AsyncIterator[Province]:
    async with running_province(Receiver()) as running:
        yield running


def envelope(response: httpx.Response) -> v1.Envelope:
    return v1.Envelope.model_validate_json(response.content)


# --- uploads --------------------------------------------------------------------------------


async def test_a_clean_ticket_and_a_call_are_accepted_and_held(province: Province) -> None:
    records = [ticket("SY1"), call("call-SY1")]
    answer = await province.upload(records)

    assert answer.failure is None
    assert {key: result.outcome for key, result in answer.results.items()} == {
        "ticket:SY1:1:fixture": "accepted",
        "call:call-SY1:1:fixture": "accepted",
    }
    held = await province.admin("GET", "/records", record_id="SY1", include_payload=True)
    assert [(r["record_type"], r["version"], r["keys"]) for r in held["records"]] == [
        ("ticket", 1, 1)
    ]
    assert held["records"][0]["payload"]["ticket"]["caller_salutation"] == "张先生"
    summary = await province.admin("GET", "/summary")
    assert summary["records"] == {"ticket": 1, "call": 1}
    assert summary["pushes"]["pending"]["findings"] == 0  # a clean ticket breaks no rule


async def test_the_same_key_again_is_a_duplicate_whatever_it_carries(province: Province) -> None:
    await province.upload([ticket("SY2")])
    answer = await province.upload([ticket("SY2", caller_salutation="王女士")])

    result = answer.results["ticket:SY2:1:fixture"]
    assert (result.outcome, result.code) == ("duplicate", v1.DUPLICATE)
    held = await province.admin("GET", "/records", record_id="SY2", include_payload=True)
    assert held["records"][0]["payload"]["ticket"]["caller_salutation"] == "张先生"


async def test_an_older_version_under_a_new_key_is_superseded(province: Province) -> None:
    first = await province.upload([ticket("SY3", 2)])
    second = await province.upload([ticket("SY3", 1)])

    assert first.results["ticket:SY3:2:fixture"].outcome == "accepted"
    assert (
        second.results["ticket:SY3:1:fixture"].outcome,
        second.results["ticket:SY3:1:fixture"].code,
    ) == (
        "superseded",
        v1.SUPERSEDED,
    )
    held = await province.admin("GET", "/records", record_type="ticket", record_id="SY3")
    assert [(r["version"], r["keys"]) for r in held["records"]] == [(2, 2)]
    arrivals = await province.admin("GET", "/arrivals", record_id="SY3")
    assert [(a["version"], a["code"]) for a in arrivals["arrivals"]] == [
        (2, v1.OK),
        (1, v1.SUPERSEDED),
    ]


async def test_one_invalid_record_is_refused_naming_its_field_and_the_others_go_in(
    province: Province,
) -> None:
    broken = ticket("SY5")
    payload = json.loads(json.dumps(broken.payload))
    del payload["ticket"]["caller_salutation"]
    records = [
        ticket("SY4"),
        OutgoingRecord("ticket", "SY5", 1, broken.changed_at, payload, CONTENT_TAG),
        call("call-SY6"),
    ]

    answer = await province.upload(records)

    assert answer.failure is None
    assert answer.results["ticket:SY4:1:fixture"].outcome == "accepted"
    assert answer.results["call:call-SY6:1:fixture"].outcome == "accepted"
    refused = answer.results["ticket:SY5:1:fixture"]
    assert (refused.outcome, refused.code) == ("refused", v1.INVALID_RECORD)
    assert refused.message.startswith("payload.ticket.caller_salutation: Field required")
    assert (await province.admin("GET", "/records", record_id="SY5"))["records"] == []


async def test_a_wrong_signature_is_refused(province: Province) -> None:
    answer = await province.upload([ticket("SY7")], using=adapter("not-the-app-secret"))

    assert answer.failure == f"code-{v1.BAD_SIGNATURE}"
    assert answer.detail.startswith("X-Signature")
    assert (await province.admin("GET", "/summary"))["keys_received"] == 0


async def test_a_stale_timestamp_and_a_replayed_nonce_are_refused_as_stale(
    province: Province,
) -> None:
    request = adapter().upload_request("stale", [ticket("SY8")])
    old = str(int((time.time() - 600) * 1000))
    nonce = "0123456789abcdef"
    stale_headers = request.headers | {
        "X-Timestamp": old,
        "X-Nonce": nonce,
        "X-Signature": v1.signature(APP_SECRET, APP_KEY, old, nonce, request.content),
    }
    stale = await province.http.post(request.path, content=request.content, headers=stale_headers)
    assert stale.status_code == 401
    assert envelope(stale).code == v1.STALE_REQUEST
    assert envelope(stale).message.startswith("X-Timestamp")

    first = await province.http.post(request.path, content=request.content, headers=request.headers)
    replay = await province.http.post(
        request.path, content=request.content, headers=request.headers
    )
    assert first.status_code == 200
    assert (replay.status_code, envelope(replay).code) == (401, v1.STALE_REQUEST)
    assert envelope(replay).message.startswith("X-Nonce")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b'{"batch_id": "b1", "records": [', "body"),
        (b'{"batch_id": "b1", "city_code": "x", "records": [{}]}', "city_code"),
        (b'{"batch_id": "b1", "city_code": "4305", "records": []}', "records"),
    ],
)
async def test_a_malformed_body_is_a_bad_request_naming_the_field(
    province: Province, body: bytes, field: str
) -> None:
    headers = v1.signed_headers(APP_KEY, APP_SECRET, body)
    response = await province.http.post(v1.UPLOAD_PATH, content=body, headers=headers)

    assert response.status_code == 400
    assert envelope(response).code == v1.BAD_REQUEST
    assert envelope(response).message.startswith(f"{field}: ")


# --- misbehaviour -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("behaviour", "status"),
    [
        ({"mode": "down"}, 503),
        ({"mode": "down", "down_status": 502}, 502),
        ({"error_rate": 1}, 503),
    ],
)
async def test_a_province_that_is_down_fails_the_whole_batch(
    province: Province, behaviour: dict[str, Any], status: int
) -> None:
    await province.behave(**behaviour)
    request = adapter().upload_request("down", [ticket("SY9")])
    response = await province.http.post(
        request.path, content=request.content, headers=request.headers
    )
    answer = adapter().read_upload_answer(
        response.status_code, response.headers, response.content, 1
    )

    assert response.status_code == status
    assert (answer.failure, answer.results) == (f"code-{v1.PLATFORM_ERROR}", {})
    summary = await province.admin("GET", "/summary")
    assert (summary["keys_received"], summary["uploads_by_code"]) == (0, {v1.PLATFORM_ERROR: 1})


async def test_a_rate_limited_province_says_when_to_come_back(province: Province) -> None:
    await province.behave(mode="rate_limit", retry_after_seconds=2.5)

    answer = await province.upload([ticket("SY10")])

    assert (answer.failure, answer.retry_after_seconds) == ("rate-limited", 2.5)


async def test_a_province_that_times_out_answers_late_with_504(province: Province) -> None:
    await province.behave(mode="timeout", timeout_seconds=0.2)
    request = adapter().upload_request("slow", [ticket("SY11")])

    started = time.monotonic()
    response = await province.http.post(
        request.path, content=request.content, headers=request.headers
    )

    assert time.monotonic() - started >= 0.2
    assert (response.status_code, envelope(response).code) == (504, v1.PLATFORM_ERROR)


async def test_refused_record_ids_are_refused_and_may_come_again_later(province: Province) -> None:
    await province.behave(refuse_record_ids=["SY12"])
    refused = await province.upload([ticket("SY12"), ticket("SY13")])

    assert refused.results["ticket:SY13:1:fixture"].outcome == "accepted"
    result = refused.results["ticket:SY12:1:fixture"]
    assert (result.outcome, result.code, result.message) == (
        "refused",
        v1.REFUSED_RECORD,
        "省平台拒收: 测试",
    )
    await province.behave(mode="normal")
    again = await province.upload([ticket("SY12")])
    assert again.results["ticket:SY12:1:fixture"].outcome == "accepted"  # a refusal keeps no key


async def test_duplicate_acks_still_read_as_one_result_per_key(province: Province) -> None:
    await province.upload([ticket("SY14", 3)])
    await province.behave(duplicate_acks=True)
    request = adapter().upload_request("noisy", [ticket("SY15"), ticket("SY14", 2)])
    response = await province.http.post(
        request.path, content=request.content, headers=request.headers
    )

    listed = [result["idempotency_key"] for result in envelope(response).data["results"]]
    assert sorted(listed) == sorted(
        ["ticket:SY15:1:fixture"] * 2 + ["ticket:SY14:2:fixture"] * 2 + ["ticket:SY14:3:fixture"]
    )
    answer = adapter().read_upload_answer(
        response.status_code, response.headers, response.content, 1
    )
    assert answer.results["ticket:SY15:1:fixture"].outcome == "accepted"
    assert answer.results["ticket:SY14:2:fixture"].outcome == "superseded"
    assert (
        answer.results["ticket:SY14:3:fixture"].outcome == "accepted"
    )  # the earlier key's own result


async def test_reset_forgets_records_keys_and_misbehaviour(province: Province) -> None:
    await province.upload([ticket("SY16")])
    await province.behave(mode="down")

    await province.admin("POST", "/reset")

    assert (await province.admin("GET", "/behaviour"))["mode"] == "normal"
    answer = await province.upload([ticket("SY16")])
    assert answer.results["ticket:SY16:1:fixture"].outcome == "accepted"


# --- the admin API ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "headers"),
    [
        ("GET", "/admin/summary", {}),
        ("GET", "/admin/records", {"Authorization": "Bearer not-the-admin-token"}),
        ("PUT", "/admin/behaviour", {"Authorization": APP_SECRET}),
        ("POST", "/admin/reset", {}),
        ("POST", "/admin/push", {}),
    ],
)
async def test_admin_needs_the_admin_token(
    province: Province, method: str, path: str, headers: dict[str, str]
) -> None:
    response = await province.http.request(method, path, headers=headers, json={"mode": "down"})

    assert response.status_code == 401
    assert envelope(response).message.startswith("Authorization")
    assert (await province.admin("GET", "/behaviour"))["mode"] == "normal"


async def test_errors_of_fastapi_itself_come_as_the_envelope(province: Province) -> None:
    missing = await province.http.get("/nowhere")
    invalid = await province.http.put("/admin/behaviour", json={"mode": "sideways"}, headers=ADMIN)

    assert (missing.status_code, envelope(missing).code) == (404, v1.BAD_REQUEST)
    assert (invalid.status_code, envelope(invalid).code) == (422, v1.BAD_REQUEST)
    assert envelope(invalid).message.startswith("mode: ")


# --- audits, spot checks and pushes -------------------------------------------------------------


async def test_audit_finds_a_numeric_salutation_and_pushes_it_signed(province: Province) -> None:
    await province.upload([ticket("SY17", 2, caller_salutation="123")])
    assert (await province.admin("GET", "/summary"))["pushes"]["pending"]["findings"] == 1

    pushed = await province.admin("POST", "/push")

    assert [(p["path"], p["items"], p["status"]) for p in pushed["pushes"]] == [
        ("/v1/province/findings", 1, 200)
    ]
    [finding] = province.receiver.findings
    assert (finding.kind, finding.record_id, finding.version, finding.code, finding.field) == (
        "ticket",
        "SY17",
        2,
        "T07",
        "caller_salutation",
    )
    summary = await province.admin("GET", "/summary")
    assert summary["pushes"]["pending"]["findings"] == 0
    assert summary["pushes"]["sent"]["findings"] == 1


async def test_audit_checks_call_records_and_can_be_turned_off(province: Province) -> None:
    await province.upload([call("call-SY18", recording_url=None)])
    await province.behave(audit=False)
    await province.upload([call("call-SY19", recording_url=None)])

    await province.admin("POST", "/push")

    assert [(f.record_id, f.code) for f in province.receiver.findings] == [("call-SY18", "C02")]


async def test_closed_tickets_are_spot_checked_with_their_survey_result(
    province: Province,
) -> None:
    await province.behave(spot_check_share=1.0)
    await province.upload(
        [
            ticket("SY20", survey="basically_satisfied"),
            ticket("SY21", survey=None),
            ticket("SY22", status="open", closed_at=None),
        ]
    )

    await province.admin("POST", "/push")

    assert [(c.ticket_no, c.satisfaction) for c in province.receiver.spot_checks] == [
        ("SY20", "basically_satisfied"),
        ("SY21", "satisfied"),
    ]


async def test_spot_checks_and_findings_queued_by_hand_are_pushed(province: Province) -> None:
    checked_at = "2024-03-01T10:00:00+08:00"
    await province.admin(
        "POST",
        "/spot-checks",
        {
            "checks": [
                {"ticket_no": "SY23", "satisfaction": "unsatisfied", "comment": "未解决"},
                {"ticket_no": "SY24", "satisfaction": "satisfied", "checked_at": checked_at},
            ]
        },
    )
    finding = {"record_type": "ticket", "record_id": "SY23", "code": "T10", "message": "过于简单"}
    await province.admin("POST", "/findings", {"findings": [finding]})

    pushed = await province.admin("POST", "/push")

    assert [p["items"] for p in pushed["pushes"]] == [2, 1]
    checks = province.receiver.spot_checks
    assert [(c.ticket_no, c.satisfaction, c.comment) for c in checks] == [
        ("SY23", "unsatisfied", "未解决"),
        ("SY24", "satisfied", None),
    ]
    assert checks[1].checked_at == datetime.fromisoformat(checked_at)
    assert [(f.record_id, f.code, f.version) for f in province.receiver.findings] == [
        ("SY23", "T10", None)
    ]


async def test_a_queued_spot_check_must_be_one_the_format_allows(province: Province) -> None:
    response = await province.http.post(
        "/admin/spot-checks",
        json={"checks": [{"ticket_no": "SY25", "satisfaction": "meh"}]},
        headers=ADMIN,
    )

    assert (response.status_code, envelope(response).code) == (422, v1.BAD_REQUEST)
    assert envelope(response).message.startswith("checks.0.satisfaction: ")


async def test_what_the_callback_refuses_stays_queued_and_goes_next_round() -> None:
    receiver = Receiver(failures_left=2)
    async with running_province(receiver, push_interval_seconds=0.02) as province:
        await province.admin(
            "POST", "/spot-checks", {"checks": [{"ticket_no": "SY26", "satisfaction": "satisfied"}]}
        )
        await asyncio.wait_for(receiver.received.wait(), 5)
        summary = await province.admin("GET", "/summary")

    assert [check.ticket_no for check in receiver.spot_checks] == ["SY26"]
    assert (receiver.failures_left, len(receiver.batches)) == (0, 1)
    assert summary["pushes"]["failed"] == 2
    assert summary["pushes"]["pending"]["spot_checks"] == 0


async def test_pushes_go_in_batches_of_500_and_stop_at_the_first_failure() -> None:
    receiver = Receiver(failures_left=1)
    async with running_province(receiver) as province:
        findings = [
            {"record_type": "call", "record_id": f"call-{n}", "code": "C02", "message": "无录音"}
            for n in range(501)
        ]
        await province.admin("POST", "/findings", {"findings": findings})

        failed = await province.admin("POST", "/push")
        pending = (await province.admin("GET", "/summary"))["pushes"]["pending"]["findings"]
        pushed = await province.admin("POST", "/push")

    assert [(p["items"], p["status"]) for p in failed["pushes"]] == [(500, 503)]
    assert pending == 501
    assert [(p["items"], p["status"]) for p in pushed["pushes"]] == [(500, 200), (1, 200)]
    assert [f.record_id for f in receiver.findings] == [f"call-{n}" for n in range(501)]


async def test_a_callback_that_does_not_answer_keeps_the_pushes() -> None:
    def refuse_connection(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    transport = httpx.MockTransport(refuse_connection)
    async with running_province(Receiver(), transport) as province:
        checks = [{"ticket_no": "SY27", "satisfaction": "satisfied"}]
        await province.admin("POST", "/spot-checks", {"checks": checks})
        pushed = await province.admin("POST", "/push")
        summary = await province.admin("GET", "/summary")

    assert [(p["items"], p["status"]) for p in pushed["pushes"]] == [(1, None)]
    assert pushed["pushes"][0]["body"].startswith("ConnectError")
    assert (summary["pushes"]["pending"]["spot_checks"], summary["pushes"]["failed"]) == (1, 1)


@pytest.mark.parametrize(
    ("sign", "body", "status", "message"),
    [
        (False, '{"batch_id": "b", "checks": []}', 401, "X-Signature"),
        (True, '{"batch_id": "b", "checks": [', 400, "body: "),
        (
            True,
            '{"batch_id": "b", "checks": [{"ticket_no": "SY28"}]}',
            400,
            "checks.0.satisfaction",
        ),
    ],
)
async def test_raw_callbacks_reach_the_callback_as_written(
    province: Province, sign: bool, body: str, status: int, message: str
) -> None:
    answered = await province.admin(
        "POST", "/raw-callback", {"path": "/v1/province/spot-checks", "body": body, "sign": sign}
    )

    assert answered["status"] == status
    assert json.loads(answered["body"])["message"].startswith(message)
    assert province.receiver.spot_checks == []


# --- settings ---------------------------------------------------------------------------------


def test_production_refuses_to_start_without_its_secrets(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("HOTLINE_ENVIRONMENT")
    with pytest.raises(ValidationError, match="HOTLINE_PROVINCE_APP_KEYS must be set"):
        ProvinceSettings()
    with pytest.raises(SystemExit) as stopped:
        hotline(["province"])
    assert stopped.value.code == 2
    assert "HOTLINE_PROVINCE_APP_KEYS" in capsys.readouterr().err

    monkeypatch.setenv("HOTLINE_PROVINCE_APP_KEYS", json.dumps({APP_KEY: APP_SECRET}))
    with pytest.raises(ValidationError, match="published in the hotline repository"):
        ProvinceSettings(admin_tokens={"operator": "a-long-enough-admin-token-for-tests"})


def test_the_callback_key_must_be_one_of_the_app_keys() -> None:
    settings = ProvinceSettings(app_keys={"a": "secret-a", "b": "secret-b"})
    assert settings.callback_key_pair() == ("a", "secret-a")
    with pytest.raises(ValidationError, match="HOTLINE_PROVINCE_CALLBACK_APP_KEY"):
        ProvinceSettings(app_keys={"a": "secret-a"}, callback_app_key="c")
