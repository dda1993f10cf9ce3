"""The plan of a simulated period: every call, ticket, notice, unit action and survey result
drawn from the seed's shape at a scale, deterministic by seed, and the bulletin it should make.

Nothing here talks to a service: the driver plays the plan, the comparison reads `expected`."""

import random
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Literal

from hotline.shared.domain.working_days import LOCAL_TIME
from hotline.shared.simulator import seed_shape as shape
from hotline.shared.simulator import texts

Handling = Literal["answered", "forward", "repeat", "notice"]
ReturnPlan = Literal["rejected", "accepted"]
ExtensionPlan = Literal["approved", "rejected"]
Verdict = Literal["satisfied", "basically_satisfied", "unsatisfied"]

DISTRICTS = ("430502", "430503", "430511", "430522", "430523", "430524", "430525", "430581")
DISTRICT_OF_UNIT = {"大祥区政府": "430503", "双清区政府": "430502", "北塔区政府": "430511"}
# Ours: when in the day people call (local hours 0–23), relative weights.
HOURLY = (1, 1, 1, 1, 1, 2, 4, 8, 14, 16, 16, 14, 10, 10, 14, 15, 15, 13, 10, 9, 8, 6, 4, 2)


@dataclass
class CallPlan:
    call_id: str
    line: str
    direction: Literal["in", "out"]
    started_at: datetime
    citizen_number: str
    answered: bool
    agent_id: str | None = None
    talk_seconds: int = 0


@dataclass
class TicketPlan:
    key: int
    accepted_at: datetime
    unit: str  # the final handling unit, or the hotline's own row
    handling: Handling
    channel: str
    request_type: str
    category: str
    location_code: str
    salutation: str
    caller_number: str
    content: str
    resolution: str | None = None
    call: CallPlan | None = None
    first_unit: str | None = None  # a return accepted: the unit it was wrongly sent to first
    returns: ReturnPlan | None = None
    extension: ExtensionPlan | None = None
    perfunctory: bool = False
    late: bool = False
    sign_after: timedelta = timedelta(minutes=30)
    reply_after: timedelta = timedelta(hours=20)
    verdict: Verdict = "satisfied"
    unreachable_first: bool = False
    repeat_of: int | None = None
    spot_checked: bool = False

    @property
    def forwarded(self) -> bool:
        return self.handling == "forward"


@dataclass
class NoticePlan:
    source_notice_id: str
    posted_at: datetime
    starts_at: datetime
    ends_at: datetime
    area_code: str


@dataclass
class UnitFigures:
    assigned: int = 0
    handled: int = 0
    overdue: int = 0
    callbacks: int = 0
    satisfied: int = 0
    unsatisfied: int = 0
    reopened: int = 0


@dataclass
class Expected:
    """The bulletin the plan should make, figure by figure."""

    inbound_by_line: dict[str, int]
    outbound: int
    units: dict[str, UnitFigures]
    categories: Counter[str]
    spot_checks: Counter[str]

    @property
    def tickets(self) -> int:
        return sum(figures.assigned for figures in self.units.values())

    @property
    def answered_directly(self) -> int:
        return self.units[shape.HOTLINE].assigned

    @property
    def overdue(self) -> int:
        return sum(figures.overdue for figures in self.units.values())


@dataclass
class Plan:
    start: date
    end: date
    scale: float
    seed: int
    tickets: list[TicketPlan]
    calls: list[CallPlan]  # every call record: the tickets' own and those that made none
    notices: list[NoticePlan]
    expected: Expected = field(init=False)

    def __post_init__(self) -> None:
        self.expected = expected_of(self)

    @property
    def first_moment(self) -> datetime:
        return datetime.combine(self.start, time(0), tzinfo=LOCAL_TIME)


def apportion(total: int, weights: Mapping[str, float]) -> dict[str, int]:
    """`total` shared in proportion to `weights` (largest remainders, ties in the given order):
    each share is its exact quota rounded down or up, and the shares add up to `total`."""
    whole = sum(weights.values())
    if not whole or total <= 0:
        return dict.fromkeys(weights, 0)
    quotas = {name: total * weight / whole for name, weight in weights.items()}
    shares = {name: int(quota) for name, quota in quotas.items()}
    order = sorted(weights, key=lambda name: -(quotas[name] - shares[name]))
    for name in order[: total - sum(shares.values())]:
        shares[name] += 1
    return shares


def chance_round(rng: random.Random, value: float) -> int:
    """`value` rounded up with the probability of its fraction: rare events (a late reply, an
    unsatisfied citizen) still happen now and then at a small scale, and on average as often."""
    whole = int(value)
    return whole + (1 if rng.random() < value - whole else 0)


def build_plan(start: date, end: date, *, scale: float, seed: int) -> Plan:
    """The plan of the local dates `start`–`end` at `scale` of the seed's traffic."""
    if end < start:
        raise ValueError("the period ends before it starts")
    rng = random.Random(seed)
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    factor = scale * len(days) / shape.SEED_DAYS
    per_unit = apportion(
        round(shape.TICKETS * factor), {row.unit: row.assigned for row in shape.ATTACHMENT_1}
    )
    seed_rows = {row.unit: row for row in shape.ATTACHMENT_1}
    tickets: list[TicketPlan] = []
    forwarded_units = [unit for unit in per_unit if unit != shape.HOTLINE]
    for unit, count in per_unit.items():
        for _ in range(count):
            tickets.append(_ticket(rng, len(tickets), unit, _moment(rng, days)))
    _gas_outage(rng, tickets, days, scale)
    _categories(rng, tickets, factor)
    tickets.sort(key=lambda ticket: ticket.accepted_at)
    for key, ticket in enumerate(tickets):
        ticket.key = key
        ticket.caller_number = _mobile(rng, key, seed)
        _texts(rng, ticket)
    for unit in forwarded_units:
        mine = [ticket for ticket in tickets if ticket.unit == unit and ticket.forwarded]
        row = seed_rows[unit]
        for ticket in rng.sample(mine, min(len(mine), chance_round(rng, row.overdue * factor))):
            ticket.late = True
        unhappy = min(len(mine), chance_round(rng, row.unsatisfied * factor))
        for ticket in rng.sample(mine, unhappy):
            ticket.verdict = "unsatisfied"
        checked = min(len(mine), chance_round(rng, shape.ATTACHMENT_3.get(unit, 0) * factor))
        for ticket in rng.sample(mine, checked):
            ticket.spot_checked = True
    for ticket in tickets:
        _behaviour(rng, ticket, forwarded_units)
    _repeats(rng, tickets)
    calls = _calls(rng, tickets, days, factor)
    notices = [
        NoticePlan(
            source_notice_id=f"sim-gas-{day:%Y%m%d}-{seed}",
            posted_at=datetime.combine(day - timedelta(days=1), time(18), tzinfo=LOCAL_TIME),
            starts_at=datetime.combine(day, time(0), tzinfo=LOCAL_TIME),
            ends_at=datetime.combine(day, time(23, 59), tzinfo=LOCAL_TIME),
            area_code=shape.GAS_DISTRICT,
        )
        for day in shape.GAS_OUTAGE_CALLS
        if day in days and day != shape.GAS_UNANNOUNCED and day - timedelta(days=1) in days
    ]
    return Plan(start, end, scale, seed, tickets, calls, notices)


def _moment(rng: random.Random, days: list[date]) -> datetime:
    day = rng.choice(days)
    hour = rng.choices(range(24), weights=HOURLY)[0]
    # Not in the first quarter hour: a ticket's call, which began minutes before, is in the day.
    minute = rng.randrange(15 if hour == 0 else 0, 60)
    return datetime.combine(day, time(hour, minute, rng.randrange(60)), LOCAL_TIME)


def _ticket(rng: random.Random, key: int, unit: str, at: datetime) -> TicketPlan:
    forwarded = unit != shape.HOTLINE
    types = shape.FORWARDED_REQUEST_TYPES if forwarded else shape.DIRECT_REQUEST_TYPES
    channel = rng.choices(list(shape.CHANNELS), weights=list(shape.CHANNELS.values()))[0]
    return TicketPlan(
        key=key,
        accepted_at=at,
        unit=unit,
        handling="forward" if forwarded else "answered",
        channel=channel,
        request_type=rng.choices(list(types), weights=list(types.values()))[0],
        category="",
        location_code=DISTRICT_OF_UNIT.get(unit) or rng.choice(DISTRICTS),
        salutation=texts.salutation(rng),
        caller_number="",
        content="",
    )


def _gas_outage(
    rng: random.Random, tickets: list[TicketPlan], days: list[date], scale: float
) -> None:
    """The seed's gas outage: calls on three days, the first with no notice (some of its calls
    forwarded to the gas company), the other two answered from the company's notice. They are
    taken from the hotline's and the gas company's tickets, so Attachment 1 keeps its shape."""
    direct = [t for t in tickets if t.unit == shape.HOTLINE]
    gas = [t for t in tickets if t.unit == shape.GAS_COMPANY]
    for day, calls in shape.GAS_OUTAGE_CALLS.items():
        if day not in days:
            continue
        announced = day != shape.GAS_UNANNOUNCED and day - timedelta(days=1) in days
        for _ in range(chance_round(rng, calls * scale)):
            forwarded = not announced and rng.random() < shape.GAS_FORWARDED_SHARE and gas
            pool = gas if forwarded else direct
            if not pool:
                continue
            ticket = pool.pop()
            ticket.accepted_at = datetime.combine(
                day, time(rng.randint(9, 20), rng.randrange(60), rng.randrange(60)), LOCAL_TIME
            )
            ticket.category, ticket.location_code = "生活服务类", shape.GAS_DISTRICT
            ticket.request_type = "complaint" if forwarded else "help"
            ticket.content = texts.GAS_OUTAGE
            if announced:
                ticket.handling = "notice"
            elif not forwarded:
                ticket.resolution = (
                    "已告知市民燃气公司正在抢修，预计当日恢复供气，并已记录诉求跟踪办理"
                )


def _categories(rng: random.Random, tickets: list[TicketPlan], factor: float) -> None:
    """The seed's five categories in its proportions, the rest over the other categories."""
    others = sum(shape.SEED_CATEGORIES.values())
    weights: dict[str, float] = dict(shape.SEED_CATEGORIES)
    rest = shape.TICKETS - others
    whole = sum(shape.OTHER_CATEGORY_WEIGHTS.values())
    for name, weight in shape.OTHER_CATEGORY_WEIGHTS.items():
        weights[name] = rest * weight // whole
    taken = Counter(t.category for t in tickets if t.category)  # the gas outage's, say
    left = {name: max(0.0, w * factor - taken[name]) for name, w in weights.items()}
    open_ = [t for t in tickets if not t.category]
    rng.shuffle(open_)
    quotas = apportion(len(open_), left if sum(left.values()) else weights)
    names = [name for name, n in quotas.items() for _ in range(n)]
    for ticket, name in zip(open_, names, strict=True):
        ticket.category = name


def _mobile(rng: random.Random, key: int, seed: int) -> str:
    # Each citizen calls once (a repeat call reuses its first ticket's number): no two tickets
    # share a caller by chance, so intake's repeat-call table applies only where planned — nor
    # do two runs of different seeds on one suite.
    return f"1{rng.choice('3589')}{rng.randrange(10)}{(key + seed * 7_919_111) % 10**8:08d}"


def _texts(rng: random.Random, ticket: TicketPlan) -> None:
    if ticket.content:
        ticket.content = ticket.content.format(place=texts.place(rng), n=rng.randint(2, 9))
        return
    topics = texts.TOPICS[ticket.category]
    if ticket.handling == "answered":
        answerable = [topic for topic in topics if topic[1]] or [topics[0]]
        content, resolution = rng.choice(answerable)
        ticket.resolution = (
            resolution or "已向市民解释相关政策规定和办理渠道，市民表示清楚，无需转办"
        )
    else:
        content, _ = rng.choice(topics)
    ticket.content = content.format(place=texts.place(rng), n=rng.randint(2, 9))


def _behaviour(rng: random.Random, ticket: TicketPlan, units: list[str]) -> None:
    """How the unit handles it and how the citizen answers the survey."""
    ticket.unreachable_first = rng.random() < shape.UNREACHABLE_FIRST_TRY
    if ticket.verdict == "satisfied" and rng.random() < 0.1:
        ticket.verdict = "basically_satisfied"
    if not ticket.forwarded:
        return
    ticket.sign_after = timedelta(minutes=rng.randint(5, 240))
    ticket.reply_after = timedelta(hours=rng.uniform(2, 72))
    draw = rng.random()
    if draw < shape.RETURN_SHARE:
        ticket.returns = "rejected" if rng.random() < 0.5 else "accepted"
        if ticket.returns == "accepted":
            ticket.first_unit = rng.choice([unit for unit in units if unit != ticket.unit])
    elif draw < shape.RETURN_SHARE + shape.EXTENSION_SHARE and not ticket.late:
        ticket.extension = "approved" if rng.random() < 0.75 else "rejected"
    ticket.perfunctory = rng.random() < shape.PERFUNCTORY_SHARE


def _repeats(rng: random.Random, tickets: list[TicketPlan]) -> None:
    """Some direct answers are the same caller again about an earlier ticket, with nothing new:
    the agent names it (repeat_of) and Attachment 5 makes the new one not accepted."""
    for ticket in tickets:
        if ticket.handling != "answered" or rng.random() >= shape.REPEAT_SHARE:
            continue
        earlier = [
            t
            for t in tickets[max(0, ticket.key - 200) : ticket.key]
            if t.request_type != "consultation"
            and t.handling in ("answered", "forward")
            and t.repeat_of is None
            and ticket.accepted_at - t.accepted_at >= timedelta(hours=2)
        ]
        if not earlier:
            continue
        first = rng.choice(earlier)
        ticket.handling, ticket.repeat_of = "repeat", first.key
        ticket.caller_number, ticket.salutation = first.caller_number, first.salutation
        ticket.category, ticket.location_code = first.category, first.location_code
        ticket.request_type, ticket.content = first.request_type, first.content
        ticket.resolution = None


def _calls(
    rng: random.Random, tickets: list[TicketPlan], days: list[date], factor: float
) -> list[CallPlan]:
    """Each phone ticket's call, the inbound calls that made no ticket, and the outbound calls,
    so that the lines' totals are the seed's at this scale."""
    phone = [ticket for ticket in tickets if ticket.channel == "phone"]
    quotas = apportion(round(shape.INBOUND_CALLS * factor), shape.INBOUND_BY_LINE)
    if sum(quotas.values()) < len(phone):  # a tiny scale: every phone ticket still has its call
        quotas["12345"] += len(phone) - sum(quotas.values())
    ticket_lines = apportion(len(phone), quotas)
    lines = [line for line, n in ticket_lines.items() for _ in range(n)]
    rng.shuffle(lines)
    calls = []
    for ticket, line in zip(phone, lines, strict=True):
        talk = rng.randint(60, 600)
        ticket.call = CallPlan(
            call_id=f"sim-{ticket.key:07d}",
            line=line,
            direction="in",
            started_at=ticket.accepted_at - timedelta(seconds=talk + rng.randint(60, 180)),
            citizen_number=ticket.caller_number,
            answered=True,
            agent_id=f"A{rng.randint(1, 60):03d}",
            talk_seconds=talk,
        )
        calls.append(ticket.call)
    serial = 0
    for line, quota in quotas.items():
        for _ in range(quota - ticket_lines[line]):
            serial += 1
            calls.append(
                CallPlan(
                    f"sim-n{serial:07d}",
                    line,
                    "in",
                    _moment(rng, days),
                    _mobile(rng, 50_000_000 + serial, 0),
                    False,
                )
            )
    for n in range(round(shape.OUTBOUND_CALLS * factor)):
        talk = rng.randint(30, 180)
        calls.append(
            CallPlan(
                f"sim-o{n:07d}",
                "12345",
                "out",
                _moment(rng, days),
                _mobile(rng, 70_000_000 + n, 0),
                True,
                f"A{rng.randint(1, 60):03d}",
                talk,
            )
        )
    calls.sort(key=lambda call: call.started_at)
    return calls


def expected_of(plan: Plan) -> Expected:
    units = {row.unit: UnitFigures() for row in shape.ATTACHMENT_1}
    categories: Counter[str] = Counter()
    spot_checks: Counter[str] = Counter()
    for ticket in plan.tickets:
        figures = units[ticket.unit]
        figures.assigned += 1
        figures.handled += 1
        figures.callbacks += 1
        figures.overdue += ticket.late
        if ticket.verdict == "unsatisfied":
            figures.unsatisfied += 1
            figures.reopened += 1
        else:
            figures.satisfied += 1
        categories[ticket.category] += 1
        if ticket.spot_checked:
            spot_checks[ticket.unit] += 1
    # A call counts in the period of the local date it began on.
    counted = [call for call in plan.calls if plan.start <= call.started_at.date() <= plan.end]
    inbound: Counter[str] = Counter(call.line for call in counted if call.direction == "in")
    return Expected(
        inbound_by_line={line: inbound[line] for line in shape.INBOUND_BY_LINE},
        outbound=sum(1 for call in counted if call.direction == "out"),
        units=units,
        categories=categories,
        spot_checks=spot_checks,
    )
