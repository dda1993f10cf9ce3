"""Provincial-sync against `hotline province`: documents folded from events on the broker, the
gate in block and warn modes, the worklist and a supervisor's release, refusals parked and sent
again, the province down (its process killed), failing, slow, rate-limiting and acknowledging
twice — and every ticket counted at the province afterwards."""

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

from sqlalchemy import text

from hotline.provincial_sync import documents
from hotline.provincial_sync.adapters import generic_v1
from hotline.provincial_sync.config import SyncOptions
from hotline.shared import secrets
from hotline.shared.db import create_session_factory, unit_of_work
from hotline.shared.messaging.events import (
    Event,
    TicketCorrected,
    TicketCorrectedData,
    TicketDispatched,
    TicketDispatchedData,
)
from tests.factories import ticket_created
from tests.provincial_sync.conftest import SUPERVISOR, Sync
from tests.scoring.month import call_record
from tests.support import wait_until


def new_ticket_no() -> str:
    return f"SY{uuid4().hex[:12].upper()}"


def with_call(ticket_no: str, **overrides: Any) -> list[Event]:
    now = datetime.now(UTC)
    created = ticket_created(ticket_no, accepted_at=now, **overrides)
    call = call_record(f"call-{ticket_no}", now - timedelta(minutes=6), "12345", "in")
    return [call, created]


async def outbox_count(sync: Sync, event_type: str, key: str) -> int:
    return int(
        await sync.scalar(
            "SELECT count(*) FROM provincial_sync.outbox WHERE event_type = :t AND key = :k",
            t=event_type,
            k=key,
        )
    )


async def all_synced(sync: Sync, nos: list[str]) -> bool:
    count = await sync.scalar(
        "SELECT count(*) FROM provincial_sync.documents "
        "WHERE kind = 'ticket' AND status = 'synced' AND record_id = ANY(:nos)",
        nos=nos,
    )
    return bool(count == len(nos))


async def test_a_ticket_goes_up_with_its_call_record_and_a_redelivery_sends_nothing_twice(
    sync: Sync,
) -> None:
    no = new_ticket_no()
    events = with_call(no)
    await sync.publish(events)

    async def synced_with_call() -> bool:
        held = await sync.document("ticket", no)
        return bool(held and held["status"] == "synced" and held["content"]["call"])

    await wait_until(synced_with_call, 30, "the ticket with its call record at the province")
    ticket = await sync.document("ticket", no)
    assert ticket is not None
    assert ticket["findings"] == [], ticket["findings"]
    assert ticket["content"]["call"]["call_id"] == f"call-{no}"
    call = await sync.until_status("call", f"call-{no}", "synced")
    assert call["uploaded_version"] == 1
    arrived = [a["version"] for a in await sync.province.arrivals(no)]
    assert arrived == sorted(arrived)
    assert arrived[-1] == ticket["version"] == ticket["uploaded_version"]
    attempts = await sync.scalar(
        "SELECT count(*) FROM provincial_sync.upload_attempts WHERE record_id = :no", no=no
    )

    # The same events again, and again under new ids (a producer's replay): the same document.
    await sync.publish(events)
    replayed = [event.model_copy(update={"id": uuid4()}) for event in events]
    await sync.publish(replayed)

    async def replay_read() -> bool:
        return bool(
            await sync.scalar(
                "SELECT count(*) FROM provincial_sync.ticket_events WHERE event_id = :id",
                id=replayed[1].id,
            )
        )

    await wait_until(replay_read, 30, "the replayed events read")
    again = await sync.document("ticket", no)
    assert again is not None
    assert again["version"] == ticket["version"]
    await asyncio.sleep(0.5)  # a few uploader rounds
    assert [a["version"] for a in await sync.province.arrivals(no)] == arrived
    assert (
        await sync.scalar(
            "SELECT count(*) FROM provincial_sync.upload_attempts WHERE record_id = :no", no=no
        )
        == attempts
    )
    assert await outbox_count(sync, "upload.accepted", no) == len(arrived)


async def test_a_blocked_ticket_waits_on_the_worklist_until_its_corrected_version_comes(
    sync: Sync,
) -> None:
    no = new_ticket_no()
    await sync.publish(with_call(no, caller_salutation="123"))
    blocked = await sync.until_status("ticket", no, "blocked")
    assert [(f["code"], f["mode"]) for f in blocked["findings"]] == [("T07", "block")]

    listed = (await sync.get("/v1/sync/worklist", code="T07", limit=500)).json()
    assert no in [item["record_id"] for item in listed["items"]]
    assert listed["by_rule"]["T07"] >= 1
    assert listed["by_unit"][blocked["unit_name"]] >= 1
    other_rule = (await sync.get("/v1/sync/worklist", code="T05", limit=500)).json()
    assert no not in [item["record_id"] for item in other_rule["items"]]
    assert await sync.province.arrivals(no) == []

    corrected = TicketCorrected(
        source="/tests",
        subject=no,
        ticketid=no,
        version=2,
        data=TicketCorrectedData(
            ticket_no=no,
            changes={"caller_salutation": "王先生"},
            corrected_by="质检员小周",
            reason="称呼录入为数字，已回拨核实",
            corrected_at=datetime.now(UTC),
        ),
    )
    await sync.publish([corrected])
    synced = await sync.until_status("ticket", no, "synced")
    assert synced["content"]["ticket"]["caller_salutation"] == "王先生"
    # Timeliness counts from the blocked version's change, not from its correction's.
    delay = await sync.scalar(
        "SELECT (payload->'data'->>'delay_seconds')::float FROM provincial_sync.outbox "
        "WHERE event_type = 'upload.accepted' AND key = :no",
        no=no,
    )
    held_back = datetime.fromisoformat(synced["changed_at"]) - datetime.fromisoformat(
        blocked["changed_at"]
    )
    assert delay >= held_back.total_seconds()
    assert [a["version"] for a in await sync.province.arrivals(no)] == [synced["version"]]
    still = (await sync.get("/v1/sync/worklist", code="T07", limit=500)).json()
    assert no not in [item["record_id"] for item in still["items"]]


async def test_a_warned_finding_goes_up_recorded_and_the_provinces_audit_comes_back(
    sync: Sync,
) -> None:
    no = new_ticket_no()
    garbled = "翠园小区从昨天起停气锟斤拷燃气公司没有提前通知，家里老人没法做饭"
    await sync.publish(with_call(no, content=garbled))
    synced = await sync.until_status("ticket", no, "synced")
    assert ("T09", "warn") in [(f["code"], f["mode"]) for f in synced["findings"]]

    # The province runs the same rules on what it received and calls back with its findings.
    async def reported() -> bool:
        return await outbox_count(sync, "upload.finding_reported", no) > 0

    await wait_until(reported, 30, "the province's T09 finding, announced")
    codes = await sync.scalar(
        "SELECT string_agg(payload->>'code', ',') FROM provincial_sync.province_reports "
        "WHERE record_id = :no AND kind = 'finding'",
        no=no,
    )
    assert "T09" in codes.split(",")


async def test_a_supervisor_releases_a_blocked_version_with_a_reason(sync: Sync) -> None:
    no = new_ticket_no()
    await sync.publish(with_call(no, caller_salutation="##"))
    blocked = await sync.until_status("ticket", no, "blocked")
    path = f"/v1/sync/documents/ticket/{no}/release"
    reason = {"version": blocked["version"], "reason": "来电人坚持以符号称呼，已录音确认"}

    assert (await sync.http.post(path, json=reason)).status_code == 401
    stale = await sync.http.post(path, json=reason | {"version": 99}, headers=SUPERVISOR)
    assert stale.status_code == 409
    assert stale.json()["errors"][0]["field"] == "version"
    short = await sync.http.post(path, json=reason | {"reason": "ok"}, headers=SUPERVISOR)
    assert short.status_code == 422
    assert short.json()["errors"][0]["field"] == "reason"
    released = await sync.http.post(path, json=reason, headers=SUPERVISOR)
    assert released.status_code == 200, released.text

    synced = await sync.until_status("ticket", no, "synced")
    assert synced["released_by"] == "刘主任"
    assert synced["release_reason"] == reason["reason"]
    assert [a["version"] for a in await sync.province.arrivals(no)] == [blocked["version"]]
    again = await sync.http.post(path, json=reason, headers=SUPERVISOR)
    assert again.status_code == 409  # no longer blocked


async def test_a_refused_document_is_parked_with_the_reason_and_sent_again_on_request(
    sync: Sync,
) -> None:
    no = new_ticket_no()
    await sync.province.behave(
        refuse_record_ids=[no], refuse_message="省平台拒收: 受理人员工号不存在"
    )
    try:
        await sync.publish(with_call(no))
        parked = await sync.until_status("ticket", no, "parked", within=40)
    finally:
        await sync.province.behave()
    assert parked["refusals"] == 3
    assert parked["last_message"] == "省平台拒收: 受理人员工号不存在"
    assert {a["outcome"] for a in parked["attempts"]} == {"refused"}
    listing = (await sync.get("/v1/sync/parked", limit=500)).json()
    assert "工号不存在" in next(
        item["last_message"] for item in listing["items"] if item["record_id"] == no
    )

    requeue = f"/v1/sync/documents/ticket/{no}/requeue"
    assert (await sync.http.post(requeue, json={})).status_code == 401
    answered = await sync.http.post(requeue, json={"note": "工号已补录"}, headers=SUPERVISOR)
    assert answered.status_code == 200, answered.text
    synced = await sync.until_status("ticket", no, "synced")
    assert synced["attempts"][0]["outcome"] == "accepted"
    not_parked = await sync.http.post(requeue, json={}, headers=SUPERVISOR)
    assert not_parked.status_code == 409


async def test_a_province_outage_loses_nothing_and_the_backlog_drains_oldest_first(
    sync: Sync,
) -> None:
    province = sync.province
    province.kill()
    nos = [new_ticket_no() for _ in range(60)]
    try:
        for no in nos:  # one by one: each change a little later than the one before
            await sync.publish(with_call(no))

        async def waiting() -> bool:
            status = (await sync.get("/v1/sync/status")).json()
            backlog = status["backlog"]["ticket"]["pending"]
            return bool(backlog >= len(nos) and status["breaker"] != "closed")

        await wait_until(waiting, 60, "the backlog to build up behind an open breaker")
        status = (await sync.get("/v1/sync/status")).json()
        assert status["failures_last_24h"].get("failed:unreachable", 0) > 0
        assert status["oldest_pending_seconds"] > 0
        await asyncio.sleep(2)  # the outage goes on a while
    finally:
        province.start()
        await province.until_up()

    await wait_until(lambda: all_synced(sync, nos), 90, "every ticket of the outage uploaded")
    arrivals = [a for a in await province.arrivals() if a["record_id"] in set(nos)]
    assert sorted(a["record_id"] for a in arrivals) == sorted(nos)  # each once, none lost
    async with sync.engine.connect() as connection:
        changed: dict[str, datetime] = dict(
            (
                await connection.execute(
                    text(
                        "SELECT record_id, changed_at FROM provincial_sync.documents "
                        "WHERE kind = 'ticket' AND record_id = ANY(:nos)"
                    ),
                    {"nos": nos},
                )
            ).all()
        )
    arrived_order = [a["record_id"] for a in arrivals]
    assert arrived_order == sorted(nos, key=lambda no: changed[no])
    assert (await sync.get("/v1/sync/status")).json()["breaker"] == "closed"


async def test_failures_timeouts_rate_limits_and_double_acknowledgements_lose_and_repeat_nothing(
    sync: Sync,
) -> None:
    province = sync.province
    rounds: list[tuple[dict[str, Any], str]] = [
        ({"mode": "down", "down_status": 503}, "code-5000"),
        ({"mode": "timeout", "timeout_seconds": 3}, "timeout"),
        ({"mode": "rate_limit", "retry_after_seconds": 1}, "rate-limited"),
    ]
    nos: list[str] = []
    for behaviour, code in rounds:
        await province.behave(**behaviour)
        batch = [new_ticket_no() for _ in range(5)]
        nos += batch
        for no in batch:
            await sync.publish(with_call(no))

        async def tried(code: str = code, nos: list[str] = nos) -> bool:
            records = nos + [f"call-{no}" for no in nos]  # the probe may carry either
            return bool(
                await sync.scalar(
                    "SELECT count(*) FROM provincial_sync.upload_attempts "
                    "WHERE record_id = ANY(:records) AND code = :code",
                    records=records,
                    code=code,
                )
            )

        await wait_until(tried, 30, f"an upload to fail under {behaviour['mode']}")
    await province.behave(duplicate_acks=True)
    try:
        await wait_until(lambda: all_synced(sync, nos), 60, "every ticket up once it behaves")
    finally:
        await province.behave()
    outcomes = await sync.scalar(
        "SELECT string_agg(DISTINCT outcome, ',') FROM provincial_sync.upload_attempts "
        "WHERE record_id = ANY(:records)",
        records=nos + [f"call-{no}" for no in nos],
    )
    assert {"failed", "rate-limited", "accepted"} <= set(outcomes.split(","))
    for no in nos:
        accepted = await sync.scalar(
            "SELECT count(*) FROM provincial_sync.outbox "
            "WHERE event_type = 'upload.accepted' AND key = :no",
            no=no,
        )
        versions = await sync.scalar(
            "SELECT uploaded_version FROM provincial_sync.documents "
            "WHERE kind = 'ticket' AND record_id = :no",
            no=no,
        )
        assert accepted <= versions  # never announced twice for one version
        assert accepted >= 1


async def test_the_provinces_spot_checks_are_announced_once_and_unknown_tickets_kept(
    sync: Sync,
) -> None:
    no = new_ticket_no()
    created = with_call(no)
    now = datetime.now(UTC)  # dispatched after it was accepted, or X01 would hold it back
    dispatched = TicketDispatched(
        source="/tests",
        subject=no,
        ticketid=no,
        version=2,
        data=TicketDispatchedData(
            ticket_no=no,
            unit_id="U-GAS",
            unit_name="市燃气总公司",
            dispatched_at=now,
            deadline=now + timedelta(days=3),
            how="routed",
        ),
    )
    await sync.publish([*created, dispatched])

    async def sent_to_the_unit() -> bool:
        held = await sync.document("ticket", no)
        return bool(held and held["status"] == "synced" and held["unit_name"] == "市燃气总公司")

    await wait_until(sent_to_the_unit, 30, "the dispatched ticket at the province")
    stranger = new_ticket_no()
    checked_at = datetime.now(UTC).isoformat()
    checks = {
        "checks": [
            {
                "ticket_no": no,
                "satisfaction": "unsatisfied",
                "comment": "没人与我联系",
                "checked_at": checked_at,
            },
            {"ticket_no": stranger, "satisfaction": "satisfied", "checked_at": checked_at},
        ]
    }
    await sync.province.admin("POST", "/spot-checks", checks)
    await sync.province.admin("POST", "/push")

    async def announced() -> bool:
        return await outbox_count(sync, "callback.spot_checked", no) == 1

    await wait_until(announced, 30, "the spot check announced")
    kept = await sync.scalar(
        "SELECT status FROM provincial_sync.province_reports WHERE record_id = :no", no=stranger
    )
    assert kept == "unknown-record"
    unit = await sync.scalar(
        "SELECT payload->'data'->>'unit_id' FROM provincial_sync.outbox "
        "WHERE event_type = 'callback.spot_checked' AND key = :no",
        no=no,
    )
    assert unit == "U-GAS"  # the unit the ticket was sent to, for Attachment 3

    # The same checks (same time) sent again: nothing announced twice.
    await sync.province.admin("POST", "/spot-checks", checks)
    await sync.province.admin("POST", "/push")
    await asyncio.sleep(0.5)
    assert await outbox_count(sync, "callback.spot_checked", no) == 1


async def test_bad_callbacks_are_refused_naming_what_is_wrong_and_change_nothing(
    sync: Sync,
) -> None:
    key, secret = secrets.DEVELOPMENT_PROVINCE_APP_KEY, secrets.DEVELOPMENT_PROVINCE_APP_SECRET
    path = "/v1/province/spot-checks"
    before = await sync.scalar("SELECT count(*) FROM provincial_sync.province_reports")
    body = b'{"batch_id": "b1", "checks": [{"ticket_no": "X", "satisfaction": "satisfied",'
    body += b' "checked_at": "2026-12-01T10:00:00+08:00"}]}'

    forged = generic_v1.signed_headers(key, "not-the-secret", body)
    refused = await sync.http.post(path, content=body, headers=forged)
    assert refused.status_code == 401
    assert refused.json()["errors"][0]["field"] == "X-Signature"
    unknown = generic_v1.signed_headers("someone-else", secret, body)
    assert (await sync.http.post(path, content=body, headers=unknown)).json()["errors"][0][
        "field"
    ] == "X-App-Key"
    replayed = generic_v1.signed_headers(key, secret, body)
    assert (await sync.http.post(path, content=body, headers=replayed)).status_code == 200
    again = await sync.http.post(path, content=body, headers=replayed)
    assert again.status_code == 401
    assert again.json()["errors"][0]["field"] == "X-Nonce"

    # Digits, to str.isdigit(), but not ASCII ones (headers are read as latin-1).
    odd_digits = {name.encode(): value.encode() for name, value in replayed.items()}
    odd_digits[b"X-Timestamp"] = ("²" * 13).encode("latin-1")
    answer = await sync.http.post(path, content=body, headers=odd_digits)
    assert answer.status_code == 401
    assert answer.json()["errors"][0]["field"] == "X-Timestamp"

    malformed = b'{"batch_id": "b2", "checks": [{'
    answer = await sync.http.post(
        path, content=malformed, headers=generic_v1.signed_headers(key, secret, malformed)
    )
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "body"
    wrong = body.replace(b'"satisfied"', b'"delighted"')
    answer = await sync.http.post(
        path, content=wrong, headers=generic_v1.signed_headers(key, secret, wrong)
    )
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "checks.0.satisfaction"
    nul = body.replace(b'"X"', b'"X\\u0000"')
    answer = await sync.http.post(
        path, content=nul, headers=generic_v1.signed_headers(key, secret, nul)
    )
    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"][0]["field"] == "checks.0.ticket_no"
    # Only the one good, signed batch was kept (its unknown ticket recorded as such).
    after = await sync.scalar("SELECT count(*) FROM provincial_sync.province_reports")
    assert after - before == 1


async def test_the_status_shows_the_upload_and_metrics_carry_the_delays(sync: Sync) -> None:
    no = new_ticket_no()
    await sync.publish(with_call(no))
    await sync.until_status("ticket", no, "synced")
    status = await sync.get("/v1/sync/status")
    assert status.status_code == 200
    body = status.json()
    assert set(body["backlog"]) >= {"ticket", "call"}
    assert set(body["backlog"]["ticket"]) == {"pending", "blocked", "parked"}
    assert body["last_success_at"] is not None
    assert body["breaker"] == "closed"
    assert (await sync.http.get("/v1/sync/status")).status_code == 401
    metrics = (await sync.http.get("/metrics")).text
    assert 'hotline_sync_upload_delay_seconds_count{kind="ticket"}' in metrics
    assert "hotline_sync_breaker_state" in metrics


async def test_one_instant_written_in_two_offsets_is_one_spot_check(sync: Sync) -> None:
    no = new_ticket_no()
    await sync.publish(with_call(no))
    await sync.until_status("ticket", no, "synced")
    key, secret = secrets.DEVELOPMENT_PROVINCE_APP_KEY, secrets.DEVELOPMENT_PROVINCE_APP_SECRET
    answers = []
    for written in ("2026-12-01T18:00:00+08:00", "2026-12-01T10:00:00Z"):
        body = (
            f'{{"batch_id": "b-{written}", "checks": [{{"ticket_no": "{no}", '
            f'"satisfaction": "unsatisfied", "checked_at": "{written}"}}]}}'
        ).encode()
        response = await sync.http.post(
            "/v1/province/spot-checks",
            content=body,
            headers=generic_v1.signed_headers(key, secret, body),
        )
        assert response.status_code == 200, response.text
        answers.append(response.json()["data"]["results"][0]["status"])
    assert answers == ["applied", "duplicate"]
    assert await outbox_count(sync, "callback.spot_checked", no) == 1


async def test_blocked_documents_are_judged_again_by_the_modes_set_now(sync: Sync) -> None:
    """A rule switched to warn (or off) lets go, at the next start, of what it held back."""
    no = new_ticket_no()
    await sync.publish(with_call(no, caller_salutation="007"))
    await sync.until_status("ticket", no, "blocked")
    sessions = create_session_factory(sync.engine)
    now_warns = SyncOptions(rule_modes={"T07": "warn"})
    async with unit_of_work(sessions) as session:
        released = await documents.regate_blocked(session, now_warns)
    assert released >= 1
    synced = await sync.until_status("ticket", no, "synced")
    assert [(f["code"], f["mode"]) for f in synced["findings"]] == [("T07", "warn")]


async def test_a_supervisor_releases_or_requeues_many_at_once_after_a_bad_night(
    sync: Sync,
) -> None:
    """Everything one rule holds back goes up with one decision; everything the province
    refused with one code goes again with one request."""
    held = [new_ticket_no() for _ in range(3)]
    for no in held:
        await sync.publish(with_call(no, caller_salutation="000"))
    for no in held:
        await sync.until_status("ticket", no, "blocked")
    release = {"code": "T07", "reason": "来电人拒绝提供称呼，经科长同意按原样上报"}
    assert (await sync.http.post("/v1/sync/worklist/release", json=release)).status_code == 401
    missing = await sync.http.post(
        "/v1/sync/worklist/release", json={"reason": "no rule named"}, headers=SUPERVISOR
    )
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["field"] == "code"
    released = await sync.http.post("/v1/sync/worklist/release", json=release, headers=SUPERVISOR)
    assert released.status_code == 200, released.text
    assert released.json()["documents"] >= len(held)
    for no in held:
        synced = await sync.until_status("ticket", no, "synced")
        assert synced["release_reason"] == release["reason"]

    refused = [new_ticket_no() for _ in range(3)]
    await sync.province.behave(refuse_record_ids=refused, refuse_message="省平台拒收: 批量")
    try:
        for no in refused:
            await sync.publish(with_call(no))
        for no in refused:
            await sync.until_status("ticket", no, "parked", within=40)
    finally:
        await sync.province.behave()
    again = await sync.http.post(
        "/v1/sync/parked/requeue", json={"code": "2002", "note": "省平台已修复"}, headers=SUPERVISOR
    )
    assert again.status_code == 200, again.text
    assert again.json()["documents"] >= len(refused)
    for no in refused:
        await sync.until_status("ticket", no, "synced")


async def test_a_nul_in_a_filter_or_a_decision_is_a_422_naming_it(sync: Sync) -> None:
    """PostgreSQL cannot compare or store U+0000: the field is named, nothing is released."""
    listed = await sync.get("/v1/sync/worklist", unit="市燃气\x00总公司")
    released = await sync.http.post(
        "/v1/sync/worklist/release",
        json={"code": "T07", "unit": "市燃气\x00总公司", "reason": "经科长同意按原样上报"},
        headers=SUPERVISOR,
    )
    requeued = await sync.http.post(
        "/v1/sync/parked/requeue", json={"note": "省平台\x00已修复"}, headers=SUPERVISOR
    )

    assert listed.status_code == 422, listed.text
    assert listed.json()["errors"][0]["field"] == "query.unit"
    assert released.status_code == 422, released.text
    assert released.json()["errors"][0]["field"] == "unit"
    assert requeued.status_code == 422, requeued.text
    assert requeued.json()["errors"][0]["field"] == "note"
