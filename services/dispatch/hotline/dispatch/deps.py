"""What dispatch's routes receive: the calling unit or supervisor, and dispatch's context."""

from typing import Annotated

from fastapi import Depends, Request

from hotline.dispatch import units
from hotline.dispatch.config import DispatchSettings
from hotline.dispatch.credentials import split_key
from hotline.dispatch.models import Unit
from hotline.dispatch.service import DispatchContext
from hotline.shared.domain.working_days import WorkingCalendar
from hotline.shared.web.deps import DbSession
from hotline.shared.web.problems import Problem
from hotline.shared.web.tokens import Bearer, token_owner, unauthorized


def build_context(settings: DispatchSettings) -> DispatchContext:
    options = settings.dispatch
    return DispatchContext(
        options, WorkingCalendar(options.extra_holidays, options.extra_working_days)
    )


def context_of(request: Request) -> DispatchContext:
    context: DispatchContext = request.app.state.context
    return context


async def get_context(request: Request) -> DispatchContext:
    # async: FastAPI runs a plain `def` dependency in a worker thread, on every request.
    return context_of(request)


Context = Annotated[DispatchContext, Depends(get_context)]


async def current_unit(credentials: Bearer, session: DbSession) -> Unit:
    """The unit whose API key signed this request."""
    if credentials is None:
        raise unauthorized("A unit API key is required (Authorization: Bearer hk_…).")
    unit = await units.unit_for_key(session, credentials.credentials)
    if unit is None:
        raise unauthorized("This API key is unknown or revoked.")
    if not unit.active:
        raise Problem(403, "unit-inactive", f"{unit.name} no longer takes tickets.")
    return unit


async def current_supervisor(credentials: Bearer, context: Context) -> str:
    """The supervisor whose token this is; a unit's key is refused here."""
    if credentials is None:
        raise unauthorized("A supervisor token is required (Authorization: Bearer …).")
    token = credentials.credentials
    if name := token_owner(token, context.options.supervisor_tokens):
        return name
    if split_key(token) is not None:
        raise Problem(403, "supervisors-only", "Units cannot review or dispatch tickets.")
    raise unauthorized("This supervisor token is unknown.")


CurrentUnit = Annotated[Unit, Depends(current_unit)]
Supervisor = Annotated[str, Depends(current_supervisor)]
