"""The data-quality score of a period (Attachment 4): 100 points, 10 off for each finding,
double for a rule that fires "frequently", never below 0; the normative score is that × 20%.
Timeliness (10 points) comes from provincial-sync's upload delays: 10 × the share of the
period's records the province accepted within the deadline; null while none has been reported,
never an invented figure."""

from datetime import date, datetime

from pydantic import BaseModel, Field
from sqlalchemy import false, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.scoring.config import ScoringOptions
from hotline.scoring.models import Finding, ProvinceFinding, ScoredCall, Upload
from hotline.scoring.reports import PeriodReport
from hotline.shared.clock import business_now
from hotline.shared.domain import quality

POINTS_PER_FINDING = 10
NORMATIVE_WEIGHT = 0.2
TIMELINESS_POINTS = 10


class RuleScore(BaseModel):
    code: str
    rule: str
    findings: int
    deducted: int
    doubled: bool = Field(description="Fired more often than the period allows: twice the points")
    deducts: bool = Field(description="False for T17 before its start date: reported only")


class Score(PeriodReport):
    findings: int
    rules: list[RuleScore]
    deductions: int
    normative_score: int = Field(description="100 − deductions, never below 0")
    normative_points: float = Field(description="normative_score × 20%: at most 20 points")
    timeliness_points: float | None = Field(
        description="At most 10: 10 × uploads_on_time / uploads; null while no upload is known"
    )
    uploads: int = Field(description="Record versions of the period the province accepted")
    uploads_on_time: int = Field(description="Of them, accepted within the upload deadline")
    upload_deadline_hours: float
    province_findings: dict[str, int] = Field(
        description="Findings the province itself reported on the period's records, by rule"
    )


async def score(session: AsyncSession, start: date, end: date, options: ScoringOptions) -> Score:
    # Each rule's findings, and how many of them deduct (T17 only from its start date).
    t17_from = options.t17_deducted_from
    deducting = Finding.period >= t17_from if t17_from else false()
    rows = await session.execute(
        select(Finding.code, func.count(), func.count().filter(deducting))
        .where(Finding.period.between(start, end))
        .group_by(Finding.code)
    )
    counted: dict[str, int] = {}
    t17_due = 0
    for code, findings, from_t17_start in rows:
        counted[code] = findings
        if code == "T17":
            t17_due = from_t17_start
    seats = await seat_findings(session, start, end, options)
    if seats:
        counted["S01"] = counted.get("S01", 0) + len(seats)
    rules = []
    for code, item in quality.RULES.items():
        findings = counted.get(code, 0)
        if not findings:
            continue
        deducts = code != "T17" or t17_from is not None
        due = t17_due if code == "T17" else findings
        doubled = findings > options.frequent_findings
        points = POINTS_PER_FINDING * (2 if doubled else 1)
        rules.append(
            RuleScore(
                code=code,
                rule=item.text,
                findings=findings,
                deducted=points * due if deducts else 0,
                doubled=doubled,
                deducts=deducts,
            )
        )
    deductions = sum(rule.deducted for rule in rules)
    normative = max(0, 100 - deductions)
    deadline = options.upload_deadline_hours * 3600
    uploads, on_time = (
        await session.execute(
            select(func.count(), func.count().filter(Upload.delay_seconds <= deadline)).where(
                Upload.period.between(start, end)
            )
        )
    ).one()
    reported = await session.execute(
        select(ProvinceFinding.code, func.count())
        .where(ProvinceFinding.period.between(start, end))
        .group_by(ProvinceFinding.code)
        .order_by(ProvinceFinding.code)
    )
    return Score(
        start=start,
        end=end,
        findings=sum(rule.findings for rule in rules),
        rules=rules,
        deductions=deductions,
        normative_score=normative,
        normative_points=round(normative * NORMATIVE_WEIGHT, 2),
        timeliness_points=round(TIMELINESS_POINTS * on_time / uploads, 2) if uploads else None,
        uploads=uploads,
        uploads_on_time=on_time,
        upload_deadline_hours=options.upload_deadline_hours,
        province_findings={code: n for code, n in reported},
    )


async def seat_findings(
    session: AsyncSession, start: date, end: date, options: ScoringOptions
) -> list[quality.Finding]:
    """S01: the seats reported for the city against the most agents on calls at one time."""
    if options.reported_seats is None:
        return []
    rows = await session.execute(
        select(ScoredCall.agent_id, ScoredCall.connected_at, ScoredCall.ended_at).where(
            ScoredCall.period.between(start, end),
            ScoredCall.connected_at.is_not(None),
            ScoredCall.agent_id.is_not(None),
        )
    )
    report = quality.SeatReport(
        reported_seats=options.reported_seats, agents_at_once=agents_at_once(list(rows))
    )
    return quality.check_seats(report, quality.RuleContext(now=business_now()))


def agents_at_once(calls: list[tuple[str | None, datetime | None, datetime]]) -> int:
    """The most distinct agents on a call at the same moment (a sweep over start and end)."""
    moments: list[tuple[datetime, int, str]] = []
    for agent, connected, ended in calls:
        if agent is None or connected is None:
            continue
        moments += [(connected, 1, agent), (ended, -1, agent)]
    moments.sort(key=lambda moment: (moment[0], moment[1]))
    on_call: dict[str, int] = {}
    most = 0
    for _, step, agent in moments:
        on_call[agent] = on_call.get(agent, 0) + step
        if on_call[agent] <= 0:
            del on_call[agent]
        most = max(most, len(on_call))
    return most
