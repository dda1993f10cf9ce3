"""The FastAPI application every service is built from."""

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import TypeVar

from fastapi import APIRouter, FastAPI
from fastapi.telemetry import TelemetryConfig

from hotline.shared.logs import configure_logging, service_context
from hotline.shared.runtime import ServiceDefinition, service_runtime
from hotline.shared.settings import ServiceSettings
from hotline.shared.web import clock, health, metrics, operations
from hotline.shared.web.correlation import install_request_context
from hotline.shared.web.openapi import install_openapi
from hotline.shared.web.problems import install_problem_handlers

S = TypeVar("S", bound=ServiceSettings)


# FastAPI's own OpenTelemetry, off: the services trace with `traceparent` and count with
# Prometheus, and on it asks OpenTelemetry for its providers on every request (4% of intake's).
NO_OPENTELEMETRY: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}


def create_service_app(
    definition: ServiceDefinition[S],
    *,
    title: str,
    description: str,
    routers: Sequence[APIRouter] = (),
) -> FastAPI:
    """A service app: its routes, health, metrics, parked events, the business clock and
    problem+json errors, and a lifespan that follows the simulated clock (if asked) and runs
    the definition's outbox relay, consumers and timers."""
    name = definition.name

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        settings = definition.settings_factory()
        configure_logging(
            service=name, level=settings.log_level, log_format=settings.log_format or "json"
        )
        with service_context(name):
            async with service_runtime(definition, settings) as runtime:
                app.state.runtime = runtime
                app.state.context = runtime.context
                yield

    app = FastAPI(
        title=title,
        description=description,
        version="0.1.0",
        lifespan=lifespan,
        telemetry=NO_OPENTELEMETRY,
    )
    app.state.service_name = name
    app.state.definition = definition
    install_problem_handlers(app)
    app.add_middleware(metrics.HttpMetricsMiddleware, service=name)
    install_request_context(app, service=name)
    app.include_router(health.router)
    app.include_router(metrics.router)
    app.include_router(operations.router)
    app.include_router(clock.router)
    for router in routers:
        app.include_router(router)
    install_openapi(app)
    return app
