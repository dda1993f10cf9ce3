"""Intake's HTTP API: the call centre's webhooks and ticket status."""

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from hotline.intake import service
from hotline.intake.deps import CallsWebhook, Context, NoticesWebhook, Reader, TicketsWebhook
from hotline.intake.schemas import (
    CallAccepted,
    CallRecordIn,
    NoticeAccepted,
    NoticeIn,
    TicketAccepted,
    TicketIn,
    TicketPublic,
)
from hotline.shared.messaging.deliveries import Answer
from hotline.shared.web.deps import DbSession

router = APIRouter(prefix="/v1", tags=["intake"])

PROBLEMS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Missing, stale or wrong Standard Webhooks signature"},
    403: {"description": "The sender may not post here"},
    409: {"description": "Already recorded under another webhook id"},
    422: {"description": "Invalid input; `errors` names each field"},
}


@router.post("/calls", status_code=201, response_model=CallAccepted, responses=PROBLEMS)
async def post_call(call: CallRecordIn, webhook: CallsWebhook, session: DbSession) -> JSONResponse:
    """Record a call (话单) when it ends. A redelivery (same webhook-id) gets the first answer."""
    return _respond(await service.record_call(session, call, webhook=webhook))


@router.post("/tickets", status_code=201, response_model=TicketAccepted, responses=PROBLEMS)
async def post_ticket(
    ticket: TicketIn, webhook: TicketsWebhook, session: DbSession, context: Context
) -> JSONResponse:
    """Accept a ticket (工单): returns its number and the decision the agent tells the caller."""
    return _respond(
        await service.accept_ticket(session, ticket, webhook=webhook, options=context.options)
    )


@router.post("/notices", status_code=201, response_model=NoticeAccepted, responses=PROBLEMS)
async def post_notice(
    notice: NoticeIn, webhook: NoticesWebhook, session: DbSession, context: Context
) -> JSONResponse:
    """Announce a planned outage: matching calls are answered with its text."""
    return _respond(
        await service.post_notice(session, notice, webhook=webhook, options=context.options)
    )


@router.get(
    "/tickets/{ticket_no}",
    responses={401: {"description": "No reader token"}, 404: {"description": "No such ticket"}},
)
async def get_ticket(ticket_no: str, reader: Reader, session: DbSession) -> TicketPublic:
    """A ticket's current state (the caller's number masked)."""
    return await service.get_ticket(session, ticket_no)


def _respond(answer: Answer) -> JSONResponse:
    headers = {"webhook-replayed": "true"} if answer.replayed else None
    return JSONResponse(answer.body, status_code=answer.status_code, headers=headers)
