"""Provincial-sync's timers: the uploader, and the backlog's figures for Grafana."""

import asyncio
import logging
from collections.abc import Sequence

import httpx

from hotline.provincial_sync import documents, metrics, service
from hotline.provincial_sync.deps import SyncContext
from hotline.provincial_sync.uploader import Uploader
from hotline.shared.db import SessionFactory, unit_of_work
from hotline.shared.loops import every, until_database_answers
from hotline.shared.runtime import Runner

log = logging.getLogger(__name__)


async def refresh_metrics_once(sessions: SessionFactory) -> None:
    async with sessions() as session:
        backlog = await service.backlog(session)
        oldest = await service.oldest_pending_seconds(session)
        last = await service.last_success(session)
    for kind, counts in backlog.items():
        for status in ("pending", "blocked", "parked"):
            metrics.BACKLOG.labels(kind, status).set(getattr(counts, status))
    metrics.OLDEST_PENDING.set(oldest or 0)
    if last is not None:
        metrics.LAST_SUCCESS.set(last.timestamp())


def timers(context: SyncContext, sessions: SessionFactory) -> Sequence[Runner]:
    options = context.options

    async def upload(stop: asyncio.Event) -> None:
        uploader = Uploader(
            sessions=sessions, options=options, adapter=context.adapter, breaker=context.breaker
        )
        async with httpx.AsyncClient(
            base_url=options.province_url or "",
            timeout=options.request_timeout_seconds,
            limits=httpx.Limits(max_connections=options.concurrency),
        ) as client:
            await uploader.run(stop, client)

    async def regate(stop: asyncio.Event) -> None:
        """Once at start: the blocked documents judged by the modes set now."""

        async def once() -> int:
            async with unit_of_work(sessions) as session:
                return await documents.regate_blocked(session, options)

        released = await until_database_answers(once, stop=stop, what="the gate's second look")
        if released:
            log.info("%d blocked documents go up under the rule modes set now", released)

    async def figures(stop: asyncio.Event) -> None:
        await every(
            stop,
            options.status_interval_seconds,
            lambda: refresh_metrics_once(sessions),
            "the upload backlog's figures",
        )

    return (upload, regate, figures)
