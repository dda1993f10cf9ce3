"""Dispatch's HTTP API: units' systems work their tickets; supervisors keep units and review."""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from hotline.dispatch import directory, service, units
from hotline.dispatch.deps import Context, CurrentUnit, Supervisor
from hotline.dispatch.schemas import (
    CredentialIssued,
    DispatchIn,
    ExtensionIn,
    ListedStates,
    ReplyIn,
    ReturnIn,
    ReviewIn,
    StepDone,
    SupervisorQueue,
    TicketForSupervisor,
    TicketForUnit,
    TicketPage,
    UnitCreate,
    UnitInDirectory,
    UnitPublic,
    UnitUpdate,
)
from hotline.shared.web.deps import DbSession

PROBLEMS: dict[int | str, dict[str, Any]] = {
    401: {"description": "No or unknown credentials"},
    403: {"description": "Not allowed for this caller"},
    404: {"description": "No such ticket for this caller"},
    409: {"description": "The ticket is not in a state that allows this"},
    422: {"description": "Invalid input, or a rule broken (rule code in `errors`)"},
}

MAX_PAGE_SIZE = 200
MAX_PAGE = 10_000

unit_router = APIRouter(prefix="/v1/unit", tags=["unit API"], responses=PROBLEMS)
supervisor_router = APIRouter(prefix="/v1", tags=["supervisors"], responses=PROBLEMS)
# Public: the units' names, categories and areas are the catalogue a vendor's desk client shows.
directory_router = APIRouter(prefix="/v1", tags=["directory"])


@unit_router.get("/tickets")
async def list_my_tickets(
    unit: CurrentUnit,
    session: DbSession,
    state: Annotated[
        ListedStates,
        Query(
            description="`open` (default): dispatched, signed, returned for review; or one "
            "state; or `all`"
        ),
    ] = "open",
    overdue: bool | None = None,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
) -> TicketPage:
    """My unit's open work, nearest deadline first (`state=closed` or `all` for history)."""
    return await service.list_unit_tickets(
        session, unit.unit_id, state=state, overdue=overdue, page=page, page_size=page_size
    )


@unit_router.get("/tickets/{ticket_no}")
async def get_my_ticket(ticket_no: str, unit: CurrentUnit, session: DbSession) -> TicketForUnit:
    """One of my unit's tickets."""
    return await service.get_unit_ticket(session, unit.unit_id, ticket_no)


@unit_router.post("/tickets/{ticket_no}/sign")
async def sign(ticket_no: str, unit: CurrentUnit, session: DbSession) -> StepDone:
    """Acknowledge a dispatched ticket (签收)."""
    return await service.sign(session, unit.unit_id, ticket_no)


@unit_router.post("/tickets/{ticket_no}/reply")
async def reply(
    ticket_no: str, body: ReplyIn, unit: CurrentUnit, session: DbSession, context: Context
) -> StepDone:
    """Reply with what was done (答复); refused with the rule code if it breaks T08/T09/T10."""
    return await service.reply(session, unit.unit_id, ticket_no, body, context)


@unit_router.post("/tickets/{ticket_no}/return")
async def request_return(
    ticket_no: str, body: ReturnIn, unit: CurrentUnit, session: DbSession, context: Context
) -> StepDone:
    """Ask to return a ticket that is not this unit's (退单); the hotline reviews it."""
    return await service.request_return(session, unit.unit_id, ticket_no, body, context)


@unit_router.post("/tickets/{ticket_no}/extension")
async def request_extension(
    ticket_no: str, body: ExtensionIn, unit: CurrentUnit, session: DbSession
) -> StepDone:
    """Ask for a later deadline (延期), before the current one passes."""
    return await service.request_extension(session, unit.unit_id, ticket_no, body)


@supervisor_router.get("/units")
async def list_units(supervisor: Supervisor, session: DbSession) -> list[UnitPublic]:
    """All handling units, active or not."""
    return await units.list_units(session)


@supervisor_router.post("/units", status_code=201)
async def create_unit(body: UnitCreate, supervisor: Supervisor, session: DbSession) -> UnitPublic:
    """Register a handling unit."""
    return await units.create_unit(session, body)


@supervisor_router.patch("/units/{unit_id}")
async def update_unit(
    unit_id: str, body: UnitUpdate, supervisor: Supervisor, session: DbSession
) -> UnitPublic:
    """Change a unit's remit, contact or active flag."""
    return await units.update_unit(session, unit_id, body)


@supervisor_router.post("/units/{unit_id}/credentials", status_code=201)
async def issue_credential(
    unit_id: str, supervisor: Supervisor, session: DbSession
) -> CredentialIssued:
    """A new API key for the unit (shown once); older keys work until revoked."""
    return await units.issue_credential(session, unit_id)


@supervisor_router.delete("/units/{unit_id}/credentials/{key_id}", status_code=204)
async def revoke_credential(
    unit_id: str, key_id: str, supervisor: Supervisor, session: DbSession
) -> Response:
    """Revoke one of a unit's API keys."""
    await units.revoke_credential(session, unit_id, key_id)
    return Response(status_code=204)


@supervisor_router.get("/queue")
async def queue(supervisor: Supervisor, session: DbSession) -> SupervisorQueue:
    """What waits on a supervisor: unroutable tickets, returns, extensions, replies."""
    return await service.supervisor_queue(session, MAX_PAGE_SIZE)


@supervisor_router.get("/tickets/{ticket_no}")
async def get_ticket(
    ticket_no: str, supervisor: Supervisor, session: DbSession
) -> TicketForSupervisor:
    """Any ticket dispatch holds."""
    return await service.get_ticket(session, ticket_no)


@supervisor_router.post("/tickets/{ticket_no}/dispatch")
async def dispatch(
    ticket_no: str, body: DispatchIn, supervisor: Supervisor, session: DbSession, context: Context
) -> StepDone:
    """Send a ticket to a unit by hand, or move it to another unit."""
    return await service.dispatch_manually(session, ticket_no, body, supervisor, context)


@supervisor_router.post("/tickets/{ticket_no}/return-review")
async def review_return(
    ticket_no: str, body: ReviewIn, supervisor: Supervisor, session: DbSession, context: Context
) -> StepDone:
    """Accept a return (re-route) or reject it (back to the same unit, counted against it)."""
    return await service.review_return(session, ticket_no, body, supervisor, context)


@supervisor_router.post("/tickets/{ticket_no}/extension-review")
async def review_extension(
    ticket_no: str, body: ReviewIn, supervisor: Supervisor, session: DbSession
) -> StepDone:
    """Approve an extension (new deadline) or reject it."""
    return await service.review_extension(session, ticket_no, body, supervisor)


@supervisor_router.post("/tickets/{ticket_no}/reply-review")
async def review_reply(
    ticket_no: str, body: ReviewIn, supervisor: Supervisor, session: DbSession
) -> StepDone:
    """Accept a reply (the ticket closes) or send it back to the unit."""
    return await service.review_reply(session, ticket_no, body, supervisor)


@directory_router.get("/units/directory")
async def unit_directory(session: DbSession) -> list[UnitInDirectory]:
    """The units that take tickets, with their categories and areas (public; no contacts)."""
    return await directory.unit_directory(session)
