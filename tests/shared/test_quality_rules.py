"""Each of the province's data-quality rules (Attachment 4) fires on a record made to break it and
stays silent on a clean one."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hotline.shared.domain import quality
from hotline.shared.domain.quality import (
    CallDocument,
    RuleContext,
    SeatReport,
    SurveyDocument,
    TicketBundle,
    TicketDocument,
    VideoStream,
)

NOW = datetime(2022, 1, 25, 12, tzinfo=UTC)
ACCEPTED = NOW - timedelta(days=5)
CONTEXT = RuleContext(now=NOW, known_units=frozenset({"市燃气总公司", "大祥区政府"}))
GAS_OUTAGE = "翠园小区从昨天起停气，燃气公司没有提前通知，家里老人没法做饭，请求帮助尽快恢复"
LICENCE_DELAY = "来电人反映其公司申请营业执照审批拖了两个月，企业无法开办，希望政务部门督促"


def call(**overrides: Any) -> CallDocument:
    started = ACCEPTED - timedelta(minutes=6)
    values: dict[str, Any] = {
        "call_id": "C1",
        "line": "12345",
        "direction": "in",
        "caller_number": "13907391234",
        "callee_number": "12345",
        "agent_id": "A017",
        "started_at": started,
        "queued_at": started + timedelta(seconds=4),
        "ringing_at": started + timedelta(seconds=30),
        "connected_at": started + timedelta(seconds=34),
        "ended_at": started + timedelta(seconds=300),
        "talk_seconds": 266,
        "recording_url": "https://recordings.example/C1.wav",
    }
    return CallDocument.model_validate(values | overrides)


def ticket(**overrides: Any) -> TicketDocument:
    dispatched = ACCEPTED + timedelta(minutes=20)
    values: dict[str, Any] = {
        "ticket_no": "SY202201200000001",
        "channel": "phone",
        "call_id": "C1",
        "caller_salutation": "刘女士",
        "caller_number": "13907391234",
        "request_type": "help",
        "category": "生活服务类",
        "business_environment": False,
        "location_code": "430503001",
        "address": "大祥区翠园小区",
        "content": GAS_OUTAGE,
        "handling_mode": "forward",
        "status": "closed",
        "resolution": "派抢修班组检查中压管道，更换故障阀门，当日18时恢复供气并电话回复刘女士。",
        "accepted_at": ACCEPTED,
        "updated_at": ACCEPTED + timedelta(days=2),
        "dispatched_at": dispatched,
        "dispatched_to": ["市燃气总公司"],
        "replied_by": "市燃气总公司",
        "replied_at": ACCEPTED + timedelta(days=1),
        "closed_at": ACCEPTED + timedelta(days=1, minutes=5),
        "handling_unit": "市燃气总公司",
        "reported_satisfaction": "satisfied",
    }
    return TicketDocument.model_validate(values | overrides)


def bundle(survey: SurveyDocument | None = None, **overrides: Any) -> TicketBundle:
    return TicketBundle(
        ticket=ticket(**overrides),
        call=call(),
        survey=survey
        or SurveyDocument(
            outcome="answered", satisfaction="satisfied", completed_at=ACCEPTED + timedelta(days=2)
        ),
    )


def codes(findings: list[quality.Finding]) -> list[str]:
    return [finding.code for finding in findings]


def test_a_clean_ticket_breaks_no_rule() -> None:
    assert quality.check_ticket(bundle(), CONTEXT) == []


def test_every_rule_of_the_domain_guide_is_there() -> None:
    expected = {f"T{n:02d}" for n in range(1, 18)} | {"C01", "C02", "C03", "X01", "S01"}
    assert set(quality.RULES) == expected | {"V01", "V02", "V03"}


BROKEN: list[tuple[str, dict[str, Any], str]] = [
    ("T01", {"call_id": None}, "call_id"),
    ("T02", {"updated_at": ACCEPTED}, "updated_at"),
    ("T02", {"updated_at": None}, "updated_at"),
    ("T03", {"closed_at": ACCEPTED}, "closed_at"),
    ("T04", {"dispatched_to": ["不存在的单位"], "replied_by": "不存在的单位"}, "dispatched_to"),
    ("T04", {"replied_by": "大祥区政府"}, "replied_by"),
    ("T05", {"location_code": None}, "location_code"),
    ("T05", {"location_code": "110101001"}, "location_code"),
    ("T05", {"location_code": "430502001"}, "location_code"),  # the address says 大祥区
    ("T06", {"caller_number": "12345"}, "caller_number"),
    ("T06", {"caller_number": None}, "caller_number"),
    ("T07", {"caller_salutation": "123"}, "caller_salutation"),
    ("T07", {"caller_salutation": "*先"}, "caller_salutation"),
    (
        "T08",
        {
            "resolution": GAS_OUTAGE,
        },
        "resolution",
    ),
    ("T09", {"resolution": "已处理锟斤拷锟斤拷，当日恢复供气并回复来电人"}, "resolution"),
    ("T10", {"resolution": "已告知"}, "resolution"),
    ("T12", {"handling_mode": "answered"}, "handling_mode"),
    ("T12", {"dispatched_to": [], "replied_by": None}, "handling_mode"),
    (
        "T14",
        {"handling_mode": "not_accepted", "dispatched_to": [], "resolution": None},
        "resolution",
    ),
    (
        "T14",
        {"handling_mode": "not_accepted", "dispatched_to": [], "repeat_rule": "closed_same_caller"},
        "repeat_of",
    ),
    ("X01", {"replied_at": ACCEPTED - timedelta(hours=1)}, "replied_at"),
]


@pytest.mark.parametrize(
    ("code", "broken", "field"), BROKEN, ids=[f"{c}-{f}" for c, _, f in BROKEN]
)
def test_a_record_made_to_break_a_rule_is_found_naming_the_field(
    code: str, broken: dict[str, Any], field: str
) -> None:
    found = quality.check_ticket(bundle(**broken), CONTEXT)

    assert (code, field) in [(f.code, f.field) for f in found], found


def test_a_phone_ticket_whose_call_never_came_is_found_only_after_the_grace() -> None:
    waiting = TicketBundle(ticket=ticket(accepted_at=NOW - timedelta(minutes=30), updated_at=NOW))
    late = TicketBundle(ticket=ticket())

    assert "T01" not in codes(quality.check_ticket(waiting, CONTEXT))
    assert "T01" in codes(quality.check_ticket(late, CONTEXT))


def test_an_unsatisfied_survey_reported_satisfied_is_t13() -> None:
    survey = SurveyDocument(
        outcome="answered", satisfaction="unsatisfied", completed_at=ACCEPTED + timedelta(days=2)
    )

    assert codes(quality.check_ticket(bundle(survey), CONTEXT)) == ["T13"]


def test_extensions_asked_late_not_later_or_never_asked_are_t15() -> None:
    deadline = ACCEPTED + timedelta(days=5)
    late = {
        "requested_at": deadline + timedelta(hours=1),
        "current_deadline": deadline,
        "requested_deadline": deadline + timedelta(days=3),
        "outcome": "accepted",
    }
    not_later = late | {"requested_at": ACCEPTED, "requested_deadline": deadline}

    found = quality.check_ticket(
        bundle(extensions=[late, not_later], approved_extensions_without_request=1), CONTEXT
    )

    assert codes(found).count("T15") == 3


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        (
            {
                "content": "市民来电咨询：办理居住证需要哪些材料，流程是怎样的，请问在哪里办理",
                "request_type": "complaint",
            },
            "T11",
        ),
        (
            {
                "content": LICENCE_DELAY,
                "category": "政务服务类",
            },
            "T16",
        ),
        (
            {
                "content": "来电人反映小区物业乱收费，电梯长期故障无人维修，业主意见很大",
                "category": "教育文化类",
            },
            "T17",
        ),
    ],
    ids=["T11", "T16", "T17"],
)
def test_the_content_contradicting_its_labels_is_found_with_the_words_that_say_so(
    overrides: dict[str, Any], code: str
) -> None:
    found = [f for f in quality.check_ticket(bundle(**overrides), CONTEXT) if f.code == code]

    assert found, quality.check_ticket(bundle(**overrides), CONTEXT)
    assert "（" in found[0].message  # the evidence, for a person to judge


@pytest.mark.parametrize(
    ("overrides", "code", "field"),
    [
        (
            {
                "queued_at": ACCEPTED,
                "ringing_at": ACCEPTED,
                "connected_at": ACCEPTED,
                "started_at": ACCEPTED,
            },
            "C01",
            "queued_at",
        ),
        ({"recording_url": None}, "C02", "recording_url"),
        (
            {
                "connected_at": ACCEPTED,
                "ended_at": ACCEPTED,
                "started_at": ACCEPTED - timedelta(minutes=1),
                "queued_at": None,
                "ringing_at": None,
            },
            "C03",
            "connected_at",
        ),
    ],
)
def test_call_records_that_cannot_be_true_are_found(
    overrides: dict[str, Any], code: str, field: str
) -> None:
    assert quality.check_call(call(), CONTEXT) == []
    assert (code, field) in [
        (f.code, f.field) for f in quality.check_call(call(**overrides), CONTEXT)
    ]


def test_fewer_seats_reported_than_agents_on_calls_at_once_is_s01() -> None:
    assert quality.check_seats(SeatReport(reported_seats=40, agents_at_once=38), CONTEXT) == []
    assert codes(
        quality.check_seats(SeatReport(reported_seats=30, agents_at_once=38), CONTEXT)
    ) == ["S01"]


def test_the_video_stream_must_cover_the_hall_in_full_hd_at_25_frames_and_enough_bitrate() -> None:
    good = VideoStream(
        covers_work_area=True, width=1920, height=1080, frames_per_second=25, bitrate_kbps=4000
    )
    bad = VideoStream(
        covers_work_area=False, width=1280, height=720, frames_per_second=15, bitrate_kbps=800
    )

    assert quality.check_video(good, CONTEXT) == []
    assert sorted(set(codes(quality.check_video(bad, CONTEXT)))) == ["V01", "V02", "V03"]
