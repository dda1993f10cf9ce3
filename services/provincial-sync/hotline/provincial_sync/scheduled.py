"""Provincial-sync's timers: the uploader, and the backlog's figures for Grafana."""

import asyncio
from collections.abc import Sequence

import httpx

from hotline.provincial_sync import metrics, service
from hotline.provincial_sync.deps import SyncContext
from hotline.provincial_sync.uploader import Uploader
from hotline.shared.db import SessionFactory
from hotline.shared.loops import every
from hotline.shared.runtime import Runner


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

    async def figures(stop: asyncio.Event) -> None:
        await every(
            stop,
            options.status_interval_seconds,
            lambda: refresh_metrics_once(sessions),
            "the upload backlog's figures",
        )

    return (upload, figures)
