"""A small month of the hotline as events, made from a plan, with the bulletin's counts computed
from that plan directly (not by scoring's code): what the reports must say."""

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Literal
from uuid import uuid4

from hotline.shared.domain.units import seed_units
from hotline.shared.domain.working_days import LOCAL_TIME
from hotline.shared.messaging.events import (
    CallbackCompleted,
    CallbackCompletedData,
    CallbackSpotChecked,
    CallRecorded,
    CallRecordedData,
    DeadlineData,
    Event,
    PhoneNumber,
    SpotCheckedData,
    TicketClosed,
    TicketClosedData,
    TicketDispatched,
    TicketDispatchedData,
    TicketOverdue,
    TicketReopened,
    TicketReopenedData,
    TicketReplied,
    TicketRepliedData,
)
from tests.factories import ticket_created

HOTLINE = "12345政务服务便民热线"
ANSWERED_AT_ONCE = "已告知来电人物业维修电话，物业已答应次日上门更换楼道灯。"
RESOLUTION = "楼道灯已修复，已告知来电人处理结果"
CATEGORIES = ("社会服务类", "人力资源与社会保障类", "突发事件类", "金融商贸财经类", "生活服务类")
LINES = ("12345", "12345", "12345", "12333", "12315", "12348")

Verdict = Literal["satisfied", "basically_satisfied", "unsatisfied"]
Reply = Literal["on_time", "late", "never"]
REPLIES: list[Reply] = ["on_time", "late", "never"]
VERDICTS: list[Verdict | None] = ["satisfied", "basically_satisfied", "unsatisfied", None]


@dataclass
class PlannedTicket:
    ticket_no: str
    accepted_at: datetime
    category: str
    unit: str | None  # None: answered at intake
    replied: Reply = "on_time"
    marked_overdue: bool = False
    first_verdict: Verdict | None = "satisfied"
    reopened: bool = False
    spot_check: Verdict | None = None
    line: str = "12345"


@dataclass
class Month:
    tickets: list[PlannedTicket]
    outbound_calls: int
    events: list[Event] = field(default_factory=list)

    # --- what the reports must say, from the plan alone ----------------------------------

    def unit_of(self, ticket: PlannedTicket) -> str:
        return ticket.unit or HOTLINE

    def expected_units(self) -> dict[str, dict[str, int]]:
        rows: dict[str, Counter[str]] = {}
        for t in self.tickets:
            row = rows.setdefault(self.unit_of(t), Counter())
            row["assigned"] += 1
            row["handled"] += t.replied != "never"
            row["overdue"] += t.unit is not None and (
                t.replied in ("late", "never") or t.marked_overdue
            )
            row["callbacks"] += t.first_verdict is not None
            row["satisfied"] += t.first_verdict in ("satisfied", "basically_satisfied")
            row["unsatisfied"] += t.first_verdict == "unsatisfied"
            row["reopened"] += t.reopened
        return {unit: dict(counts) for unit, counts in rows.items()}

    def expected_spot_checks(self) -> dict[str, int]:
        return dict(Counter(self.unit_of(t) for t in self.tickets if t.spot_check == "unsatisfied"))

    def expected_calls(self) -> dict[str, int]:
        return dict(Counter(t.line for t in self.tickets))


def make_month(seed: int, tickets: int = 240, first_day: date = date(2022, 1, 1)) -> Month:
    rng = random.Random(seed)
    units = [unit.name for unit in seed_units() if unit.kind != "hotline"][:12]
    unit_ids = {unit.name: unit.unit_id for unit in seed_units()}
    plan = []
    for n in range(tickets):
        day = first_day + timedelta(days=rng.randrange(31))
        accepted = datetime.combine(day, datetime.min.time(), LOCAL_TIME) + timedelta(
            hours=rng.randrange(8, 22), minutes=rng.randrange(60)
        )
        forwarded = rng.random() < 0.3
        ticket = PlannedTicket(
            ticket_no=f"MONTH{seed}-{n:04d}-{uuid4().hex[:4]}",
            accepted_at=accepted,
            category=rng.choice(CATEGORIES),
            unit=rng.choice(units) if forwarded else None,
            line=rng.choice(LINES),
        )
        if forwarded:
            ticket.replied = rng.choices(REPLIES, [8, 1, 1])[0]
            ticket.marked_overdue = ticket.replied in ("late", "never") and rng.random() < 0.5
        if ticket.replied == "never":
            ticket.first_verdict = None
        else:
            ticket.first_verdict = rng.choices(VERDICTS, [85, 5, 6, 4])[0]
        ticket.reopened = ticket.first_verdict == "unsatisfied" and forwarded
        if rng.random() < 0.05:
            ticket.spot_check = rng.choice(["satisfied", "unsatisfied"])
        plan.append(ticket)
    month = Month(plan, outbound_calls=rng.randrange(20, 40))
    for ticket in plan:
        month.events += _events(ticket, unit_ids, rng)
    for n in range(month.outbound_calls):
        started = datetime.combine(first_day, datetime.min.time(), LOCAL_TIME) + timedelta(
            days=rng.randrange(31), hours=10, minutes=n
        )
        month.events.append(
            call_record(f"OUT{seed}-{n}-{uuid4().hex[:4]}", started, "12345", "out")
        )
    return month


def _events(ticket: PlannedTicket, unit_ids: dict[str, str], rng: random.Random) -> list[Event]:
    no, accepted = ticket.ticket_no, ticket.accepted_at
    call_id = f"CALL-{no}"
    ids = {"source": "/tests/month", "subject": no, "ticket_id": no}
    events: list[Event] = [call_record(call_id, accepted - timedelta(minutes=6), ticket.line, "in")]
    forwarded = ticket.unit is not None
    created = ticket_created(
        no,
        source=ids["source"],
        source_ticket_id=no,
        call_id=call_id,
        caller_salutation="王女士",
        caller=PhoneNumber(number="13907390000", masked="139****0000"),
        request_type="help",
        category=ticket.category,
        location_code="430503001",
        content="小区楼道灯坏了三个月，晚上上下楼看不见，老人摔过一次，请尽快维修",
        handling_mode="forward" if forwarded else "answered",
        status="open" if forwarded else "closed",
        resolution=None if forwarded else ANSWERED_AT_ONCE,
        suggested_unit=None,
        agent_id="A1",
        accepted_at=accepted,
    )
    events.append(created)
    version = 1
    closed_at = accepted
    if not forwarded:
        version = 2
        events.append(_closed(ids, version, no, accepted, HOTLINE))
    else:
        assert ticket.unit is not None
        unit_id = unit_ids[ticket.unit]
        dispatched_at = accepted + timedelta(minutes=30)
        deadline = dispatched_at + timedelta(days=5)
        version = 2
        events.append(_dispatched(ids, version, no, unit_id, ticket.unit, dispatched_at, deadline))
        if ticket.marked_overdue:
            version += 1
            events.append(
                TicketOverdue(
                    **ids,
                    version=version,
                    data=DeadlineData(ticket_no=no, unit_id=unit_id, deadline=deadline),
                )
            )
        if ticket.replied != "never":
            replied_at = deadline + (
                timedelta(days=2) if ticket.replied == "late" else -timedelta(days=2)
            )
            version += 1
            events.append(
                TicketReplied(
                    **ids,
                    version=version,
                    data=TicketRepliedData(
                        ticket_no=no,
                        unit_id=unit_id,
                        at=replied_at,
                        actions="派维修人员到现场检查线路并更换灯具",
                        result="楼道灯已全部修复，已电话告知来电人",
                        citizen_contacted=True,
                    ),
                )
            )
            version += 1
            closed_at = replied_at
            events.append(_closed(ids, version, no, replied_at, ticket.unit))
    if ticket.first_verdict is not None:
        events.append(_survey(no, closed_at + timedelta(hours=3), ticket.first_verdict, "1"))
    if ticket.reopened:
        assert ticket.unit is not None
        version += 1
        events.append(
            TicketReopened(
                **ids,
                version=version,
                data=TicketReopenedData(
                    ticket_no=no, reason="回访不满意", reopened_at=closed_at + timedelta(hours=3)
                ),
            )
        )
        later = closed_at + timedelta(days=1)
        version += 1
        events.append(
            _dispatched(
                ids,
                version,
                no,
                unit_ids[ticket.unit],
                ticket.unit,
                later,
                later + timedelta(days=5),
            )
        )
        version += 1
        events.append(
            TicketReplied(
                **ids,
                version=version,
                data=TicketRepliedData(
                    ticket_no=no,
                    unit_id=unit_ids[ticket.unit],
                    at=later + timedelta(hours=5),
                    actions="再次派员上门检修并更换线路",
                    result="已修复并经来电人确认可以正常使用",
                    citizen_contacted=True,
                ),
            )
        )
        version += 1
        events.append(_closed(ids, version, no, later + timedelta(hours=5), ticket.unit))
        events.append(_survey(no, later + timedelta(hours=9), "satisfied", "2"))
    if ticket.spot_check is not None:
        events.append(
            CallbackSpotChecked(
                source="/tests/month",
                subject=f"SPOT-{no}",
                ticket_id=no,
                version=1,
                data=SpotCheckedData(
                    ticket_no=no,
                    unit_id=unit_ids.get(ticket.unit) if ticket.unit else None,
                    satisfaction=ticket.spot_check,
                    comment=None,
                    checked_at=closed_at + timedelta(days=2),
                ),
            )
        )
    return events


def call_record(call_id: str, started: datetime, line: str, direction: str) -> CallRecorded:
    citizen = PhoneNumber(number="13907390000", masked="139****0000")
    hotline = PhoneNumber(number=line, masked=line)
    return CallRecorded(
        source="/tests/month",
        subject=call_id,
        version=1,
        data=CallRecordedData(
            call_id=call_id,
            line=line,
            direction=direction,
            caller=citizen if direction == "in" else hotline,
            callee=hotline if direction == "in" else citizen,
            agent_id="A1",
            started_at=started,
            queued_at=started + timedelta(seconds=3),
            ringing_at=started + timedelta(seconds=20),
            connected_at=started + timedelta(seconds=25),
            ended_at=started + timedelta(seconds=300),
            talk_seconds=275,
            recording_url=f"https://recordings.example/{call_id}.wav",
            outcome="answered",
        ),
    )


def _closed(ids: dict[str, str], version: int, no: str, at: datetime, unit: str) -> TicketClosed:
    return TicketClosed(
        **ids,
        version=version,
        data=TicketClosedData(
            ticket_no=no,
            closed_at=at,
            handling_unit=unit,
            resolution=RESOLUTION,
        ),
    )


def _dispatched(
    ids: dict[str, str],
    version: int,
    no: str,
    unit_id: str,
    unit: str,
    at: datetime,
    deadline: datetime,
) -> TicketDispatched:
    return TicketDispatched(
        **ids,
        version=version,
        data=TicketDispatchedData(
            ticket_no=no,
            unit_id=unit_id,
            unit_name=unit,
            dispatched_at=at,
            deadline=deadline,
            how="routed",
        ),
    )


def _survey(no: str, at: datetime, verdict: Verdict, attempt: str) -> CallbackCompleted:
    survey_id = f"CB-{no}-{attempt}"
    return CallbackCompleted(
        source="/tests/month",
        subject=survey_id,
        ticket_id=no,
        version=2,
        data=CallbackCompletedData(
            survey_id=survey_id,
            ticket_no=no,
            unit_id=None,
            method="automatic",
            outcome="answered",
            satisfaction=verdict,
            unit_contacted=True,
            resolved=verdict != "unsatisfied",
            contradicted=False,
            completed_at=at,
        ),
    )
