"""Dependencies routes declare with `Annotated` aliases; tests override them like any other."""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.shared.db import unit_of_work
from hotline.shared.runtime import ServiceRuntime


def get_runtime(request: Request) -> ServiceRuntime:
    runtime: ServiceRuntime = request.app.state.runtime
    return runtime


Runtime = Annotated[ServiceRuntime, Depends(get_runtime)]


async def get_session(runtime: Runtime) -> AsyncIterator[AsyncSession]:
    """One transaction per request, committed before the response is sent (so a 201 means
    stored), rolled back if the route raises."""
    async with unit_of_work(runtime.sessions) as session:
        yield session


DbSession = Annotated[AsyncSession, Depends(get_session, scope="function")]
