"""Scoring's HTTP API: the bulletin and its attachments for any period, in JSON, Markdown, Word
or Excel; the rule engine on demand; the period's findings and score."""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Query
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy import ColumnElement, func, select

from hotline.scoring import render, reports
from hotline.scoring.deps import Context, Reader, ReportPeriod
from hotline.scoring.models import Finding
from hotline.scoring.readmodel import rule_context
from hotline.scoring.reports import unit_names
from hotline.scoring.schemas import Checked, CheckIn, FindingOut, FindingPage, StoredFinding
from hotline.scoring.score import Score, score
from hotline.shared.clock import business_now
from hotline.shared.domain import quality
from hotline.shared.domain.units import HOTLINE_UNIT
from hotline.shared.web.deps import DbSession
from hotline.shared.web.problems import Problem

Format = Literal["json", "md", "docx", "xlsx"]
PROBLEMS: dict[int | str, dict[str, Any]] = {
    401: {"description": "No reader token"},
    422: {"description": "A bad period, format or filter; `errors` names the field"},
}
MEDIA = {
    "md": "text/markdown; charset=utf-8",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
FORMATS: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {
            "application/json": {},
            **{media: {} for media in MEDIA.values()},
        },
        "description": "The report, in the format asked for",
    }
}

reports_router = APIRouter(prefix="/v1/reports", tags=["reports"], responses=PROBLEMS | FORMATS)
quality_router = APIRouter(prefix="/v1/quality", tags=["quality"], responses=PROBLEMS)
FormatQuery = Annotated[Format, Query(description="json (default), md, docx or xlsx")]


def _answer(report: BaseModel, fmt: Format, name: str) -> Any:
    if fmt == "json":
        return report
    assert isinstance(report, render.Report)
    body: bytes | str
    if fmt == "md":
        body = render.markdown(report)
    elif fmt == "docx":
        body = render.word(report)
    else:
        body = render.workbook(report)
    filename = f"{name}-{report.start:%Y%m%d}-{report.end:%Y%m%d}.{fmt}"
    return Response(
        body,
        media_type=MEDIA[fmt],
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@reports_router.get("/units", response_model=reports.UnitsReport)
async def units(
    period: ReportPeriod, reader: Reader, session: DbSession, format: FormatQuery = "json"
) -> Any:
    """Attachment 1: each unit's tickets, handled, overdue, callbacks and satisfaction."""
    report = await reports.units_report(session, period.start, period.end, business_now())
    return _answer(report, format, "units")


@reports_router.get("/overdue", response_model=reports.OverdueReport)
async def overdue(
    period: ReportPeriod, reader: Reader, session: DbSession, format: FormatQuery = "json"
) -> Any:
    """Attachment 2: overdue tickets by unit, most first."""
    report = await reports.overdue_report(session, period.start, period.end, business_now())
    return _answer(report, format, "overdue")


@reports_router.get("/spot-checks", response_model=reports.SpotCheckReport)
async def spot_checks(
    period: ReportPeriod, reader: Reader, session: DbSession, format: FormatQuery = "json"
) -> Any:
    """Attachment 3: the province's spot checks found unsatisfied, by unit."""
    report = await reports.spot_check_report(session, period.start, period.end)
    return _answer(report, format, "spot-checks")


@reports_router.get("/bulletin", response_model=reports.Bulletin)
async def bulletin(
    period: ReportPeriod,
    reader: Reader,
    session: DbSession,
    format: FormatQuery = "json",
    top: Annotated[int, Query(ge=1, le=50, description="Top categories and units")] = 5,
) -> Any:
    """The whole bulletin (通报): calls, tickets, satisfaction, overdue, top categories and
    units, and attachments 1–3."""
    report = await reports.bulletin(session, period.start, period.end, business_now(), top=top)
    return _answer(report, format, "bulletin")


@quality_router.post("/check")
async def check(
    body: Annotated[CheckIn, Body()], reader: Reader, session: DbSession, context: Context
) -> Checked:
    """Run the province's rules on a document: a ticket (with its call record and survey), a
    call record, a seat report or the video stream's metadata."""
    rules = await rule_context(session, context.rules)
    if body.kind == "ticket":
        found = quality.check_ticket(body.document, rules)
    elif body.kind == "call":
        found = quality.check_call(body.document, rules)
    elif body.kind == "seats":
        found = quality.check_seats(body.document, rules)
    else:
        found = quality.check_video(body.document, rules)
    return Checked(
        findings=[
            FindingOut(
                code=f.code, rule=quality.RULES[f.code].text, field=f.field, message=f.message
            )
            for f in found
        ]
    )


@quality_router.get("/score")
async def period_score(
    period: ReportPeriod, reader: Reader, session: DbSession, context: Context
) -> Score:
    """The period's data-quality score: findings by rule, deductions, normative points."""
    return await score(session, period.start, period.end, context.options)


@quality_router.get("/findings")
async def findings(
    period: ReportPeriod,
    reader: Reader,
    session: DbSession,
    code: Annotated[str | None, Query(pattern=r"^[A-Z]\d{2}$")] = None,
    unit: Annotated[str | None, Query(max_length=100)] = None,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> FindingPage:
    """The period's findings, by rule and unit, newest first."""
    if code is not None and code not in quality.RULES:
        raise Problem(422, "unknown-rule", f"No rule {code}.", field="code")
    if unit is not None and unit not in [HOTLINE_UNIT, *await unit_names(session)]:
        raise Problem(422, "unknown-unit", f"No unit named {unit}.", field="unit")
    where: list[ColumnElement[bool]] = [Finding.period.between(period.start, period.end)]
    if code is not None:
        where.append(Finding.code == code)
    if unit is not None:
        where.append(Finding.unit_name == unit)
    total = await session.scalar(select(func.count()).select_from(Finding).where(*where))
    rows = await session.scalars(
        select(Finding)
        .where(*where)
        .order_by(Finding.found_at.desc(), Finding.finding_id)
        .offset((page - 1) * page_size)
        .limit(page_size)
    )
    return FindingPage(
        items=[
            StoredFinding(
                code=row.code,
                rule=quality.RULES[row.code].text if row.code in quality.RULES else row.code,
                field=row.field,
                message=row.message,
                subject_kind=row.subject_kind,
                subject=row.subject,
                period=row.period,
                unit=row.unit_name,
                found_at=row.found_at,
            )
            for row in rows
        ],
        total=total or 0,
        page=page,
        page_size=page_size,
    )
