"""The bulletin's tables for any range of local dates, counted from the read model.

Counting rules (the README says them too): a ticket belongs to the period of its acceptance
date, in Asia/Shanghai; to its final handling unit, or to the hotline's own row when it was not
forwarded; it is overdue once if it was marked overdue, replied after its deadline, or is still
open past it; its satisfaction is its first completed survey, so callbacks count tickets (as the
seed does) and reopenings are a column of their own.
"""

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.scoring.models import KnownUnit, ScoredCall, ScoredTicket, SpotCheck
from hotline.shared.domain.units import HOTLINE_UNIT, seed_units

LINES = ("12345", "12333", "12315", "12348")
SATISFIED = ("satisfied", "basically_satisfied")


def rate(part: int, whole: int) -> str:
    """As the seed prints it: "97.98%"; "-" when there is nothing to divide."""
    return f"{part / whole * 100:.2f}%" if whole else "-"


class UnitRow(BaseModel):
    unit: str
    assigned: int
    handled: int
    overdue: int
    callbacks: int
    satisfied: int
    unsatisfied: int
    satisfaction_rate: str
    reopened: int = Field(description="Tickets reopened by a survey (not in the seed's table)")


class PeriodReport(BaseModel):
    """A report of the inclusive local dates `from`–`to`."""

    model_config = ConfigDict(populate_by_name=True)

    start: date = Field(alias="from")
    end: date = Field(alias="to")


class UnitsReport(PeriodReport):
    """Attachment 1 (各成员单位办件量统计)."""

    rows: list[UnitRow]
    total: UnitRow


class OverdueRow(BaseModel):
    unit: str
    overdue: int


class OverdueReport(PeriodReport):
    """Attachment 2 (各成员单位超期工单统计), most overdue first."""

    rows: list[OverdueRow]
    total: int


class SpotCheckRow(BaseModel):
    unit: str
    unsatisfied: int


class SpotCheckReport(PeriodReport):
    """Attachment 3 (省12345指挥监管平台回访不满意工单统计)."""

    rows: list[SpotCheckRow]
    total: int


class CallCounts(BaseModel):
    inbound: int
    by_line: dict[str, int]
    outbound: int


class TicketCounts(BaseModel):
    total: int
    answered_directly: int
    forwarded: int
    units: int = Field(description="Handling units that were sent tickets")


class SatisfactionCounts(BaseModel):
    callbacks: int
    satisfied: int
    unsatisfied: int
    rate: str


class CategoryCount(BaseModel):
    category: str
    tickets: int


class UnitCount(BaseModel):
    unit: str
    tickets: int


class Attachments(BaseModel):
    units: UnitsReport
    overdue: OverdueReport
    spot_checks: SpotCheckReport


class Bulletin(PeriodReport):
    """The whole bulletin (通报): totals, top categories and units, and attachments 1–3."""

    calls: CallCounts
    tickets: TicketCounts
    satisfaction: SatisfactionCounts
    overdue: int
    top_categories: list[CategoryCount]
    top_units: list[UnitCount]
    attachments: Attachments


def _in_period(start: date, end: date) -> ColumnElement[bool]:
    return ScoredTicket.period.between(start, end)


def _overdue(now: datetime) -> ColumnElement[bool]:
    return or_(
        ScoredTicket.marked_overdue.is_(True),
        and_(
            ScoredTicket.replied_at.is_(None),
            ScoredTicket.status != "closed",
            ScoredTicket.deadline < now,
        ),
    )


async def units_report(session: AsyncSession, start: date, end: date, now: datetime) -> UnitsReport:
    counted = await session.execute(
        select(
            ScoredTicket.unit_name,
            func.count(),
            func.count().filter(ScoredTicket.status == "closed"),
            func.count().filter(_overdue(now)),
            func.count().filter(ScoredTicket.satisfaction.is_not(None)),
            func.count().filter(ScoredTicket.satisfaction.in_(SATISFIED)),
            func.count().filter(ScoredTicket.satisfaction == "unsatisfied"),
            func.count().filter(ScoredTicket.reopen_count > 0),
        )
        .where(_in_period(start, end), ScoredTicket.unit_name.is_not(None))
        .group_by(ScoredTicket.unit_name)
    )
    counts: dict[str, tuple[int, ...]] = {row[0]: tuple(row[1:]) for row in counted if row[0]}
    names = list(dict.fromkeys([HOTLINE_UNIT, *await unit_names(session), *counts]))
    rows = [_unit_row(name, counts.get(name, (0,) * 7)) for name in names]
    rows = [rows[0], *sorted(rows[1:], key=lambda row: -row.assigned)]  # stable: ties in order
    sums = tuple(sum(getattr(row, f) for row in rows) for f in _COUNTED)
    return UnitsReport(start=start, end=end, rows=rows, total=_unit_row("合计", sums))


_COUNTED = ("assigned", "handled", "overdue", "callbacks", "satisfied", "unsatisfied", "reopened")


def _unit_row(name: str, counts: tuple[int, ...]) -> UnitRow:
    assigned, handled, overdue, callbacks, satisfied, unsatisfied, reopened = counts
    return UnitRow(
        unit=name,
        assigned=assigned,
        handled=handled,
        overdue=overdue,
        callbacks=callbacks,
        satisfied=satisfied,
        unsatisfied=unsatisfied,
        satisfaction_rate=rate(satisfied, callbacks),
        reopened=reopened,
    )


async def unit_names(session: AsyncSession) -> list[str]:
    """The bulletin's 56 units, then every other unit dispatch has named."""
    seeded = [unit.name for unit in seed_units()]
    seen = await session.scalars(select(KnownUnit.name).order_by(KnownUnit.name))
    return list(dict.fromkeys([*seeded, *seen]))


async def overdue_report(
    session: AsyncSession, start: date, end: date, now: datetime
) -> OverdueReport:
    rows = await session.execute(
        select(ScoredTicket.unit_name, func.count())
        .where(_in_period(start, end), _overdue(now), ScoredTicket.forwarded.is_(True))
        .group_by(ScoredTicket.unit_name)
    )
    ordered = sorted(((name, n) for name, n in rows), key=lambda item: (-item[1], item[0]))
    return OverdueReport(
        start=start,
        end=end,
        rows=[OverdueRow(unit=name, overdue=n) for name, n in ordered],
        total=sum(n for _, n in ordered),
    )


async def spot_check_report(session: AsyncSession, start: date, end: date) -> SpotCheckReport:
    """Unsatisfied spot checks by the unit the ticket belongs to (by the ticket's period when
    scoring knows the ticket, else by the date of the check)."""
    unit = func.coalesce(ScoredTicket.unit_name, KnownUnit.name, SpotCheck.unit_id, "未知单位")
    period = func.coalesce(ScoredTicket.period, SpotCheck.period)
    rows = await session.execute(
        select(unit, func.count())
        .select_from(SpotCheck)
        .outerjoin(ScoredTicket, ScoredTicket.ticket_no == SpotCheck.ticket_no)
        .outerjoin(KnownUnit, KnownUnit.unit_id == SpotCheck.unit_id)
        .where(SpotCheck.satisfaction == "unsatisfied", period.between(start, end))
        .group_by(unit)
    )
    ordered = sorted(((name, n) for name, n in rows), key=lambda item: (-item[1], item[0]))
    return SpotCheckReport(
        start=start,
        end=end,
        rows=[SpotCheckRow(unit=name, unsatisfied=n) for name, n in ordered],
        total=sum(n for _, n in ordered),
    )


async def bulletin(
    session: AsyncSession, start: date, end: date, now: datetime, *, top: int = 5
) -> Bulletin:
    calls = await session.execute(
        select(ScoredCall.direction, ScoredCall.line, func.count())
        .where(ScoredCall.period.between(start, end))
        .group_by(ScoredCall.direction, ScoredCall.line)
    )
    by_line = dict.fromkeys(LINES, 0)
    outbound = 0
    for direction, line, n in calls:
        if direction == "in":
            by_line[line] = by_line.get(line, 0) + n
        else:
            outbound += n
    units = await units_report(session, start, end, now)
    forwarded_rows = [row for row in units.rows if row.unit != HOTLINE_UNIT and row.assigned]
    hotline = units.rows[0]
    categories = await session.execute(
        select(ScoredTicket.category, func.count())
        .where(_in_period(start, end), ScoredTicket.category.is_not(None))
        .group_by(ScoredTicket.category)
        .order_by(func.count().desc(), ScoredTicket.category)
        .limit(top)
    )
    total = units.total
    return Bulletin(
        start=start,
        end=end,
        calls=CallCounts(inbound=sum(by_line.values()), by_line=by_line, outbound=outbound),
        tickets=TicketCounts(
            total=total.assigned,
            answered_directly=hotline.assigned,
            forwarded=total.assigned - hotline.assigned,
            units=len(forwarded_rows),
        ),
        satisfaction=SatisfactionCounts(
            callbacks=total.callbacks,
            satisfied=total.satisfied,
            unsatisfied=total.unsatisfied,
            rate=total.satisfaction_rate,
        ),
        overdue=total.overdue,
        top_categories=[CategoryCount(category=c, tickets=n) for c, n in categories],
        top_units=[
            UnitCount(unit=row.unit, tickets=row.assigned)
            for row in sorted(forwarded_rows, key=lambda row: -row.assigned)[:top]
        ],
        attachments=Attachments(
            units=units,
            overdue=await overdue_report(session, start, end, now),
            spot_checks=await spot_check_report(session, start, end),
        ),
    )
