"""Callback's timer: automatic surveys requested from the call centre, the due gauge refreshed."""

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime

import httpx

from hotline.callback import metrics, service
from hotline.callback.deps import CallbackState
from hotline.callback.service import CallbackContext
from hotline.shared.backoff import every
from hotline.shared.db import SessionFactory, unit_of_work
from hotline.shared.runtime import Runner

SURVEY_REQUEST_TIMEOUT_SECONDS = 10.0


async def run_surveys_once(
    sessions: SessionFactory, client: httpx.AsyncClient, ctx: CallbackContext
) -> int:
    """One pass: returns how many survey requests the call centre accepted."""
    now = datetime.now(UTC)
    async with unit_of_work(sessions) as session:
        claimed = await service.claim_due_surveys(session, ctx, now)
    accepted = 0
    for request in claimed:
        status, error = await service.send_survey_request(client, ctx, request)
        async with unit_of_work(sessions) as session:
            accepted += await service.record_survey_request(
                session, ctx, request, status, error, datetime.now(UTC)
            )
    async with unit_of_work(sessions) as session:
        due = await service.count_due(session, now)
    metrics.SURVEYS_DUE.clear()
    for method, count in due.items():
        metrics.SURVEYS_DUE.labels(method).set(count)
    return accepted


def timers(state: CallbackState, sessions: SessionFactory) -> Sequence[Runner]:
    context = state.context

    async def surveys(stop: asyncio.Event) -> None:
        async with httpx.AsyncClient(timeout=SURVEY_REQUEST_TIMEOUT_SECONDS) as client:
            await every(
                stop,
                context.options.scheduler_interval_seconds,
                lambda: run_surveys_once(sessions, client, context),
                "the survey pass",
            )

    return (surveys,)
