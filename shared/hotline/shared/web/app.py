"""The FastAPI application every service is built from."""

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import TypeVar

from fastapi import APIRouter, FastAPI

from hotline.shared.db import SessionFactory
from hotline.shared.logs import configure_logging
from hotline.shared.messaging.consumer import ConsumerSpec
from hotline.shared.messaging.tables import MessagingTables
from hotline.shared.runtime import Runner, service_runtime
from hotline.shared.settings import ServiceSettings
from hotline.shared.web import health, metrics
from hotline.shared.web.problems import install_problem_handlers

S = TypeVar("S", bound=ServiceSettings)
C = TypeVar("C")


def create_service_app(
    *,
    name: str,
    title: str,
    description: str,
    settings_factory: Callable[[], S],
    tables: MessagingTables,
    routers: Sequence[APIRouter] = (),
    context: Callable[[S], C] = lambda settings: None,  # type: ignore[assignment,return-value]
    consumers: Callable[[C], Sequence[ConsumerSpec]] = lambda context: (),
    timers: Callable[[C, SessionFactory], Sequence[Runner]] = lambda context, sessions: (),
) -> FastAPI:
    """A service app: its routes, health, metrics and problem+json errors, and a lifespan that
    runs the outbox relay and the consumers. `context` is built once from the settings: what the
    service's routes (as `app.state.context`), consumers and timers (its own background loops)
    share."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        settings = settings_factory()
        configure_logging(settings.log_level)
        shared = context(settings)
        async with service_runtime(
            name=name,
            settings=settings,
            tables=tables,
            consumers=consumers(shared),
            timers=lambda sessions: timers(shared, sessions),
        ) as runtime:
            app.state.runtime = runtime
            app.state.context = shared
            yield

    app = FastAPI(title=title, description=description, version="0.1.0", lifespan=lifespan)
    app.state.service_name = name
    install_problem_handlers(app)
    app.add_middleware(metrics.HttpMetricsMiddleware, service=name)
    app.include_router(health.router)
    app.include_router(metrics.router)
    for router in routers:
        app.include_router(router)
    return app
