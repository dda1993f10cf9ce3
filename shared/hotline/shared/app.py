"""The FastAPI application every service is built from."""

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from fastapi import APIRouter, FastAPI

from hotline.shared import health, metrics
from hotline.shared.consumer import ConsumerSpec
from hotline.shared.db import SessionFactory
from hotline.shared.logs import configure_logging
from hotline.shared.messaging_tables import MessagingTables
from hotline.shared.problems import install_problem_handlers
from hotline.shared.runtime import Runner, service_runtime
from hotline.shared.settings import ServiceSettings

S = TypeVar("S", bound=ServiceSettings)


def create_service_app(
    *,
    name: str,
    title: str,
    description: str,
    settings_factory: Callable[[], S],
    tables: MessagingTables,
    routers: Sequence[APIRouter] = (),
    consumers: Callable[[S], Sequence[ConsumerSpec]] = lambda settings: (),
    context: Callable[[S], Any] = lambda settings: None,
    timers: Callable[[S, SessionFactory], Sequence[Runner]] = lambda settings, sessions: (),
) -> FastAPI:
    """A service app: its routes, health, metrics and problem+json errors, and a lifespan that
    runs the outbox relay and the consumers. `context` builds what the service's own routes need
    from its settings (kept as `app.state.context`); `timers` are its own background loops."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        settings = settings_factory()
        configure_logging(settings.log_level)
        async with service_runtime(
            name=name,
            settings=settings,
            tables=tables,
            consumers=consumers(settings),
            timers=lambda sessions: timers(settings, sessions),
        ) as runtime:
            app.state.runtime = runtime
            app.state.context = context(settings)
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
