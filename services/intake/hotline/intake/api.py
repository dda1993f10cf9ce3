"""Intake's HTTP API: the call centre's webhooks and ticket status."""

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from hotline.intake import catalogue, service
from hotline.intake.deps import (
    CallWebhook,
    Context,
    NoticeWebhook,
    Reader,
    Supervisor,
    TicketWebhook,
)
from hotline.intake.schemas import (
    CallAccepted,
    CallRecordIn,
    CategoryPublic,
    MergeIn,
    NoticeAccepted,
    NoticeIn,
    TicketAccepted,
    TicketIn,
    TicketPublic,
)
from hotline.shared.messaging.deliveries import Answer
from hotline.shared.web.deps import DbSession, Runtime, request_transaction
from hotline.shared.web.schemas import TicketNo
from hotline.shared.web.webhooks import signed_body_openapi

router = APIRouter(prefix="/v1", tags=["intake"])

PROBLEMS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Missing, stale or wrong Standard Webhooks signature"},
    403: {"description": "The sender may not post here"},
    409: {"description": "Already recorded under another webhook id"},
    422: {"description": "Invalid input; `errors` names each field"},
}


@router.post(
    "/calls",
    status_code=201,
    response_model=CallAccepted,
    responses=PROBLEMS,
    openapi_extra=signed_body_openapi(CallRecordIn),
)
async def post_call(call: CallWebhook, session: DbSession) -> JSONResponse:
    """Record a call (话单) when it ends. A redelivery (same webhook-id) gets the first answer."""
    return _respond(
        await service.record_call(session, call.body, webhook=call.webhook), call.answer_headers()
    )


@router.post(
    "/tickets",
    status_code=201,
    response_model=TicketAccepted,
    responses=PROBLEMS,
    openapi_extra=signed_body_openapi(TicketIn),
)
async def post_ticket(ticket: TicketWebhook, runtime: Runtime, context: Context) -> JSONResponse:
    """Accept a ticket (工单): returns its number and the decision the agent tells the caller."""
    async with request_transaction(runtime) as session:  # the hot path: no generator dependency
        answer = await service.accept_ticket(
            session, ticket.body, webhook=ticket.webhook, options=context.options
        )
    return _respond(answer, ticket.answer_headers())


@router.post(
    "/notices",
    status_code=201,
    response_model=NoticeAccepted,
    responses=PROBLEMS,
    openapi_extra=signed_body_openapi(NoticeIn),
)
async def post_notice(notice: NoticeWebhook, session: DbSession, context: Context) -> JSONResponse:
    """Announce a planned outage: matching calls are answered with its text."""
    return _respond(
        await service.post_notice(
            session, notice.body, webhook=notice.webhook, options=context.options
        )
    )


@router.get(
    "/tickets/{ticket_no}",
    responses={401: {"description": "No reader token"}, 404: {"description": "No such ticket"}},
)
async def get_ticket(ticket_no: TicketNo, reader: Reader, session: DbSession) -> TicketPublic:
    """A ticket's current state (the caller's number masked)."""
    return await service.get_ticket(session, ticket_no)


@router.post(
    "/tickets/{ticket_no}/merge",
    responses={
        401: {"description": "No supervisor token"},
        404: {"description": "No such ticket"},
        409: {"description": "The ticket is closed or already joined to another"},
        422: {"description": "The earlier ticket does not exist or is itself a repeat"},
    },
)
async def merge_ticket(
    ticket_no: TicketNo, body: MergeIn, supervisor: Supervisor, session: DbSession
) -> TicketPublic:
    """Merge (并单) a ticket into the earlier one it repeats: Attachment 5 decides, as if the
    agent had named it (not accepted, or waiting to close with the first, or linked)."""
    return await service.merge_ticket(session, ticket_no, body, supervisor)


@router.get("/categories")
async def list_categories(context: Context) -> list[CategoryPublic]:
    """The categories a ticket may carry, as `category` takes them (public: a catalogue)."""
    return catalogue.category_catalogue(context.options.categories)


def _respond(answer: Answer, headers: dict[str, str] | None = None) -> JSONResponse:
    headers = dict(headers or {})
    if answer.replayed:
        headers["webhook-replayed"] = "true"
    return JSONResponse(answer.body, status_code=answer.status_code, headers=headers)
