"""Dependencies routes declare with `Annotated` aliases; tests override them like any other."""

from collections.abc import AsyncIterator, Callable
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.shared.runtime import ServiceRuntime

AFTER_COMMIT = "hotline.after_commit"


def get_runtime(request: Request) -> ServiceRuntime:
    runtime: ServiceRuntime = request.app.state.runtime
    return runtime


Runtime = Annotated[ServiceRuntime, Depends(get_runtime)]


def after_commit(session: AsyncSession, action: Callable[[], None]) -> None:
    """Run `action` (count a metric, say) only once the request's transaction has committed."""
    session.info.setdefault(AFTER_COMMIT, []).append(action)


async def get_session(runtime: Runtime) -> AsyncIterator[AsyncSession]:
    """One transaction per request, committed before the response is sent (so a 201 means
    stored), rolled back if the route raises."""
    async with runtime.sessions() as session:
        async with session.begin():
            yield session
        for action in session.info.pop(AFTER_COMMIT, []):
            action()


DbSession = Annotated[AsyncSession, Depends(get_session, scope="function")]
