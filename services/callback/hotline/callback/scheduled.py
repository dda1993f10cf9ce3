"""Callback's timer: automatic surveys requested from the call centre, the due gauge refreshed."""

import asyncio
from collections.abc import Sequence

import httpx

from hotline.callback import metrics, service
from hotline.callback.deps import CallbackState
from hotline.callback.service import CallbackContext
from hotline.shared.clock import business_now
from hotline.shared.db import SessionFactory, unit_of_work
from hotline.shared.loops import every, until_database_answers
from hotline.shared.runtime import Runner
from hotline.shared.web.metrics import set_gauge_values

SURVEY_REQUEST_TIMEOUT_SECONDS = 10.0


async def run_surveys_once(
    sessions: SessionFactory,
    client: httpx.AsyncClient,
    ctx: CallbackContext,
    stop: asyncio.Event | None = None,
) -> int:
    """One pass: returns how many survey requests the call centre accepted. Claimed in one
    short transaction, sent concurrently (bounded) with no transaction open, each attempt
    recorded in its own (waiting for the database if it must: the request was sent). Once `stop`
    is set no new request starts, and the claimed ones not sent go back to the queue."""
    stop = stop or asyncio.Event()
    now = business_now()
    async with unit_of_work(sessions) as session:
        claimed = await service.claim_due_surveys(session, ctx, now)
    sending = asyncio.Semaphore(ctx.options.survey_request_concurrency)

    async def ask(request: service.SurveyRequest) -> bool | None:
        async with sending:
            if stop.is_set():
                return None
            status, error = await service.send_survey_request(client, ctx, request)

        async def record() -> bool:
            async with unit_of_work(sessions) as session:
                return await service.record_survey_request(
                    session, ctx, request, status, error, business_now()
                )

        recorded = await until_database_answers(record, stop=stop, what="a survey request")
        return bool(recorded)

    answers = await asyncio.gather(*(ask(request) for request in claimed))
    unsent = [request for request, answer in zip(claimed, answers, strict=True) if answer is None]
    if unsent:

        async def release() -> None:
            async with unit_of_work(sessions) as session:
                await service.release_survey_requests(session, unsent, business_now())

        # Left claimed if the database is away too: asked again after the request timeout.
        await until_database_answers(release, stop=stop, what="unsent survey requests")
        return sum(bool(answer) for answer in answers)  # stopping: no gauge to refresh
    async with unit_of_work(sessions) as session:
        due = await service.count_due(session, now)
    set_gauge_values(metrics.SURVEYS_DUE, {(method,): count for method, count in due.items()})
    return sum(bool(answer) for answer in answers)


def timers(state: CallbackState, sessions: SessionFactory) -> Sequence[Runner]:
    context = state.context

    async def surveys(stop: asyncio.Event) -> None:
        async with httpx.AsyncClient(timeout=SURVEY_REQUEST_TIMEOUT_SECONDS) as client:
            await every(
                stop,
                context.options.scheduler_interval_seconds,
                lambda: run_surveys_once(sessions, client, context, stop),
                "the survey pass",
            )

    return (surveys,)
