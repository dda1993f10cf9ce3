"""Callback's HTTP API: survey results from the call centre, and the agents' worklist."""

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from hotline.callback import service
from hotline.callback.deps import Agent, Context, ResultWebhook
from hotline.callback.schemas import SurveyOutcome, SurveyResultIn, WorkItem
from hotline.shared.web.deps import DbSession
from hotline.shared.web.schemas import TicketNo
from hotline.shared.web.webhooks import signed_body_openapi

router = APIRouter(prefix="/v1", tags=["callback"])

PROBLEMS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Missing, stale or wrong signature or token"},
    404: {"description": "No survey of this ticket awaits a result"},
    422: {"description": "Invalid input; `errors` names each field"},
}


@router.post(
    "/callbacks/{ticket_no}/result",
    response_model=SurveyOutcome,
    responses=PROBLEMS
    | {409: {"description": "The survey is not due yet, or the result names another survey"}},
    openapi_extra=signed_body_openapi(SurveyResultIn),
)
async def post_result(
    ticket_no: TicketNo,
    result: ResultWebhook,
    session: DbSession,
    context: Context,
) -> JSONResponse:
    """A survey's result (signed like intake's webhooks); a redelivery changes nothing."""
    answer = await service.record_result(
        session, ticket_no, result.body, webhook=result.webhook, ctx=context
    )
    headers = {"webhook-replayed": "true"} if answer.replayed else None
    return JSONResponse(answer.body, status_code=answer.status_code, headers=headers)


@router.get("/worklist", responses=PROBLEMS)
async def worklist(
    agent: Agent,
    session: DbSession,
    context: Context,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[WorkItem]:
    """Manual surveys due now (none outside calling hours), with the number to call."""
    return await service.worklist(session, context, limit)
