"""Dependencies routes declare with `Annotated` aliases; tests override them like any other."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.shared.db import database_unavailable, unit_of_work
from hotline.shared.runtime import ServiceRuntime
from hotline.shared.web.problems import database_unavailable_problem


def runtime_of(request: Request) -> ServiceRuntime:
    runtime: ServiceRuntime = request.app.state.runtime
    return runtime


async def get_runtime(request: Request) -> ServiceRuntime:
    # async: FastAPI runs a plain `def` dependency in a worker thread, on every request.
    return runtime_of(request)


Runtime = Annotated[ServiceRuntime, Depends(get_runtime)]


async def get_session(runtime: Runtime) -> AsyncIterator[AsyncSession]:
    """One transaction per request, committed before the response is sent (so a 201 means
    stored), rolled back if the route raises. While the database is away, a 503 at once."""
    async with request_transaction(runtime) as session:
        yield session


@asynccontextmanager
async def request_transaction(runtime: ServiceRuntime) -> AsyncIterator[AsyncSession]:
    """`get_session`'s transaction, for a hot route to open itself: FastAPI's handling of a
    generator dependency (its cancel scopes and exit stacks) costs more than the transaction."""
    gate = runtime.database_gate
    if not gate.admit():
        raise database_unavailable_problem()
    try:
        async with unit_of_work(runtime.sessions) as session:
            yield session
    except Exception as error:
        if database_unavailable(error):
            gate.failed()
            raise database_unavailable_problem() from error
        gate.succeeded()  # the database answered; the request itself was at fault
        raise
    gate.succeeded()


DbSession = Annotated[AsyncSession, Depends(get_session, scope="function")]
