"""Callback's timer: automatic surveys requested from the call centre, the due gauge refreshed."""

import asyncio
import logging
from collections.abc import Sequence
from datetime import UTC, datetime

import httpx

from hotline.callback import metrics, service
from hotline.callback.config import CallbackSettings
from hotline.callback.service import CallbackContext
from hotline.shared.backoff import sleep_unless_stopped
from hotline.shared.db import SessionFactory, unit_of_work
from hotline.shared.runtime import Runner

log = logging.getLogger(__name__)


async def run_surveys_once(
    sessions: SessionFactory, client: httpx.AsyncClient, ctx: CallbackContext
) -> int:
    """One pass: returns how many survey requests the call centre accepted."""
    now = datetime.now(UTC)
    async with unit_of_work(sessions) as session:
        accepted = await service.request_due_surveys(session, client, ctx, now)
        due = await service.count_due(session, now)
    metrics.SURVEYS_DUE.clear()
    for method, count in due.items():
        metrics.SURVEYS_DUE.labels(method).set(count)
    return accepted


def timers(settings: CallbackSettings, sessions: SessionFactory) -> Sequence[Runner]:
    context = service.build_context(settings.callback)

    async def surveys(stop: asyncio.Event) -> None:
        async with httpx.AsyncClient() as client:
            while not stop.is_set():
                try:
                    await run_surveys_once(sessions, client, context)
                except Exception:
                    log.exception("the survey pass failed; next pass as scheduled")
                await sleep_unless_stopped(stop, context.options.scheduler_interval_seconds)

    return (surveys,)
