"""Dispatch's timer: overdue tickets marked, reminders sent, the open-ticket gauge refreshed."""

import asyncio
from collections.abc import Sequence

from hotline.dispatch import metrics, service
from hotline.dispatch.service import DispatchContext
from hotline.shared.clock import business_now
from hotline.shared.db import SessionFactory, unit_of_work
from hotline.shared.loops import every
from hotline.shared.runtime import Runner
from hotline.shared.web.metrics import set_gauge_values


async def run_deadlines_once(sessions: SessionFactory, reminder_hours: float) -> tuple[int, int]:
    """One pass: returns (tickets marked overdue, reminders sent)."""
    now = business_now()
    async with unit_of_work(sessions) as session:
        overdue = await service.mark_overdue(session, now)
        reminded = await service.remind(session, now, reminder_hours)
        counts = await service.count_open(session)
    set_gauge_values(metrics.OPEN_TICKETS, counts)
    return overdue, reminded


def timers(context: DispatchContext, sessions: SessionFactory) -> Sequence[Runner]:
    options = context.options

    async def deadlines(stop: asyncio.Event) -> None:
        await every(
            stop,
            options.scheduler_interval_seconds,
            lambda: run_deadlines_once(sessions, options.reminder_hours),
            "the deadline pass",
        )

    return (deadlines,)
