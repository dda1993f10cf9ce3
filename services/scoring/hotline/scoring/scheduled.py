"""Scoring's timers: phone tickets whose call record never came (T01, after the grace), and
this month's figures for Grafana."""

import asyncio
from collections.abc import Sequence

from sqlalchemy import func, select

from hotline.scoring import metrics, readmodel, reports
from hotline.scoring.deps import ScoringContext
from hotline.scoring.models import ScoredTicket
from hotline.scoring.score import score
from hotline.shared.clock import business_now
from hotline.shared.db import SessionFactory, unit_of_work
from hotline.shared.domain.working_days import LOCAL_TIME
from hotline.shared.loops import every
from hotline.shared.runtime import Runner
from hotline.shared.web.metrics import set_gauge_values


async def check_missing_calls_once(sessions: SessionFactory, context: ScoringContext) -> int:
    """Run the rules again on phone tickets whose call record is past its grace: T01."""
    async with unit_of_work(sessions) as session:
        due = await readmodel.phone_tickets_past_grace(
            session, business_now(), context.rules.call_grace
        )
        await readmodel.refold(session, due, context.rules)
    return len(due)


async def refresh_metrics_once(sessions: SessionFactory, context: ScoringContext) -> None:
    today = business_now().astimezone(LOCAL_TIME).date()
    month = today.replace(day=1)
    async with sessions() as session:
        units = await reports.units_report(session, month, today, business_now())
        month_score = await score(session, month, today, context.options)
        by_mode = await session.execute(
            select(ScoredTicket.category, ScoredTicket.handling_mode, func.count())
            .where(ScoredTicket.period.between(month, today))
            .group_by(ScoredTicket.category, ScoredTicket.handling_mode)
        )
        counts = by_mode.all()
    total = units.total
    metrics.SATISFACTION_RATE.set(total.satisfied / total.callbacks if total.callbacks else 0)
    metrics.OVERDUE.set(total.overdue)
    metrics.REOPENED.set(total.reopened)
    metrics.PREDICTED_SCORE.set(month_score.normative_points)
    set_gauge_values(metrics.FINDINGS, {(rule.code,): rule.findings for rule in month_score.rules})
    set_gauge_values(
        metrics.TICKETS, {(category or "-", mode or "-"): n for category, mode, n in counts}
    )


def timers(context: ScoringContext, sessions: SessionFactory) -> Sequence[Runner]:
    options = context.options

    async def missing_calls(stop: asyncio.Event) -> None:
        await every(
            stop,
            options.grace_check_interval_seconds,
            lambda: check_missing_calls_once(sessions, context),
            "the missing-call check",
        )

    async def figures(stop: asyncio.Event) -> None:
        await every(
            stop,
            options.metrics_interval_seconds,
            lambda: refresh_metrics_once(sessions, context),
            "the month's figures",
        )

    return (missing_calls, figures)
