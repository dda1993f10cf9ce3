"""Satisfaction surveys (回访): scheduled when a ticket closes, inside calling hours; results
recorded; unsatisfied citizens, and replies the citizen contradicts, reopen the ticket."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.callback import metrics
from hotline.callback.calling_hours import CallingHours
from hotline.callback.config import CallbackOptions
from hotline.callback.models import (
    SpotCheck,
    Survey,
    SurveyRequestAttempt,
    TicketView,
    messaging,
    webhook_deliveries,
)
from hotline.callback.schemas import SurveyOutcome, SurveyResultIn, WorkItem
from hotline.shared.clock import business_now
from hotline.shared.db import after_commit
from hotline.shared.domain.working_days import WorkingCalendar
from hotline.shared.messaging import deliveries
from hotline.shared.messaging.deliveries import Answer
from hotline.shared.messaging.events import (
    CallbackCompleted,
    CallbackCompletedData,
    CallbackScheduled,
    CallbackScheduledData,
    CallbackSpotChecked,
    TicketClosed,
    TicketCreated,
    TicketDispatched,
    TicketReopened,
    TicketReopenedData,
    TicketReplied,
)
from hotline.shared.messaging.outbox import add_events
from hotline.shared.web.problems import Problem
from hotline.shared.web.schemas import local_iso
from hotline.shared.web.webhooks import VerifiedWebhook, signed_request

SOURCE = "/hotline/callback"
OPEN_STATES = ("scheduled", "requesting", "requested")
EARLY_RESULT_TOLERANCE = timedelta(minutes=5)
BATCH = 200


@dataclass(frozen=True)
class CallbackContext:
    options: CallbackOptions
    hours: CallingHours


def build_context(options: CallbackOptions) -> CallbackContext:
    calendar = WorkingCalendar(options.extra_holidays, options.extra_working_days)
    hours = CallingHours(
        calendar,
        options.calling_hours_start,
        options.calling_hours_end,
        weekends=options.call_on_weekends,
        public_holidays=options.call_on_public_holidays,
    )
    return CallbackContext(options, hours)


# --- what others' events tell us -------------------------------------------------------------


async def on_ticket_created(
    session: AsyncSession, event: TicketCreated, ctx: CallbackContext
) -> None:
    """Whom to call, and how: kept whatever order the ticket's events arrive in."""
    view = await _view(session, event.subject)
    view.request_type = event.data.request_type
    view.caller_salutation = event.data.caller_salutation
    view.caller_number = event.data.caller.number if event.data.caller else None
    if view.request_type in ctx.options.manual_request_types:
        # The closure came first and did not know the request type: agents survey this one.
        await session.execute(
            update(Survey)
            .where(Survey.ticket_no == event.subject, Survey.state == "scheduled")
            .values(method="manual")
        )


async def on_ticket_dispatched(session: AsyncSession, event: TicketDispatched) -> None:
    """The unit now handling the ticket; a reply to an earlier unit no longer speaks for it."""
    view = await _view(session, event.subject)
    if event.version > view.unit_version:
        view.unit_id, view.unit_name = event.data.unit_id, event.data.unit_name
        view.unit_version = event.version
    if event.version > view.claim_version:
        view.claimed_contact, view.claim_version = None, event.version


async def on_ticket_replied(session: AsyncSession, event: TicketReplied) -> None:
    """Remember whether the unit said it had contacted the citizen: the survey asks them."""
    view = await _view(session, event.subject)
    if event.version > view.claim_version:
        view.claimed_contact, view.claim_version = event.data.citizen_contacted, event.version
    if event.version > view.unit_version:
        view.unit_id, view.unit_version = event.data.unit_id, event.version


async def on_ticket_closed(
    session: AsyncSession, event: TicketClosed, ctx: CallbackContext
) -> None:
    """Schedule the survey of this closure: after the delay, at the next calling slot."""
    view = await _view(session, event.subject)
    if event.version > view.closed_version:
        view.resolution, view.closed_version = event.data.resolution, event.version
    if view.unit_name is None:
        view.unit_name = event.data.handling_unit
    survey_id = f"CB-{event.subject}-{event.version}"
    if await session.get(Survey, survey_id) is not None:
        return
    manual = (
        view.request_type in ctx.options.manual_request_types
        or ctx.options.survey_webhook_url is None
    )
    due_at = ctx.hours.next_slot(
        event.data.closed_at + timedelta(minutes=ctx.options.delay_minutes)
    )
    survey = Survey(
        survey_id=survey_id,
        ticket_no=event.subject,
        closed_version=event.version,
        method="manual" if manual else "automatic",
        state="scheduled",
        due_at=due_at,
        attempts=0,
        contradicted=False,
        reopened=False,
        version=1,
    )
    session.add(survey)
    await session.flush()
    await _announce_scheduled(session, survey)


async def on_spot_checked(session: AsyncSession, event: CallbackSpotChecked) -> None:
    """Record the province's spot check (Attachment 3) against the ticket and its unit."""
    data = event.data
    view = await session.get(TicketView, data.ticket_no)
    unit_id = data.unit_id or (view.unit_id if view else None)
    session.add(
        SpotCheck(
            event_id=str(event.id),
            ticket_no=data.ticket_no,
            unit_id=unit_id,
            satisfaction=data.satisfaction,
            comment=data.comment,
            checked_at=data.checked_at,
        )
    )
    after_commit(session, metrics.SPOT_CHECKS.labels(unit_id or "-", data.satisfaction).inc)


# --- results ---------------------------------------------------------------------------------


async def record_result(
    session: AsyncSession,
    ticket_no: str,
    result: SurveyResultIn,
    *,
    webhook: VerifiedWebhook,
    ctx: CallbackContext,
) -> Answer:
    """A survey's result: a verdict (which may reopen the ticket) or one more unreachable try."""
    if earlier := await deliveries.claim(session, webhook_deliveries, webhook, "results"):
        return earlier
    if result.outcome == "answered" and result.satisfaction is None:
        raise Problem.invalid(
            [{"field": "satisfaction", "message": "required when the citizen answered"}]
        )
    survey = await session.scalar(
        select(Survey)
        .where(Survey.ticket_no == ticket_no, Survey.state.in_(OPEN_STATES))
        .order_by(Survey.closed_version.desc())
        .with_for_update()
    )
    if survey is None:
        raise Problem(
            404, "no-open-survey", f"No survey of {ticket_no} awaits a result.", field="ticket_no"
        )
    now = business_now()
    if result.survey_id is not None and result.survey_id != survey.survey_id:
        raise Problem(
            409,
            "other-survey",
            f"The open survey of {ticket_no} is {survey.survey_id}.",
            field="survey_id",
        )
    if result.outbound_call_id is not None and result.outbound_call_id == survey.outbound_call_id:
        # The same call reported again under another webhook id: one call, one attempt.
        return await deliveries.answer(session, webhook_deliveries, webhook, 200, _outcome(survey))
    if survey.state == "scheduled" and survey.due_at > now + EARLY_RESULT_TOLERANCE:
        raise Problem(409, "survey-not-due", f"This survey is due at {local_iso(survey.due_at)}.")
    view = await session.get(TicketView, ticket_no)
    survey.attempts += 1
    survey.outbound_call_id = result.outbound_call_id
    survey.method, survey.state_changed_at = result.method, now
    if result.outcome == "unreachable":
        await _unreachable(session, survey, view, result, now, ctx)
    else:
        await _answered(session, survey, view, result, now)
    return await deliveries.answer(session, webhook_deliveries, webhook, 200, _outcome(survey))


async def worklist(session: AsyncSession, ctx: CallbackContext, limit: int) -> list[WorkItem]:
    """Manual surveys due now, oldest first — empty outside calling hours."""
    now = business_now()
    if not ctx.hours.is_open(now):
        return []
    rows = await session.execute(
        select(Survey, TicketView)
        .join(TicketView, TicketView.ticket_no == Survey.ticket_no)
        .where(Survey.method == "manual", Survey.state == "scheduled", Survey.due_at <= now)
        .order_by(Survey.due_at)
        .limit(limit)
    )
    return [
        WorkItem(
            survey_id=survey.survey_id,
            ticket_no=survey.ticket_no,
            due_at=survey.due_at,
            attempts=survey.attempts,
            caller_salutation=view.caller_salutation,
            caller_number=view.caller_number,
            unit_name=view.unit_name,
            resolution=view.resolution,
        )
        for survey, view in rows.all()
    ]


# --- automatic surveys -----------------------------------------------------------------------


@dataclass(frozen=True)
class SurveyRequest:
    survey_id: str
    webhook_id: str
    payload: dict[str, Any]


async def claim_due_surveys(
    session: AsyncSession, ctx: CallbackContext, now: datetime
) -> list[SurveyRequest]:
    """Take the automatic surveys now due out of the queue ("requesting"), briefly: the calls to
    the call centre are made outside any transaction. Those with no number go to the agents."""
    if ctx.options.survey_webhook_url is None or not ctx.hours.is_open(now):
        return []
    await _requeue_unanswered_requests(session, ctx, now)
    due = (
        await session.execute(
            select(Survey, TicketView)
            .join(TicketView, TicketView.ticket_no == Survey.ticket_no)
            .where(Survey.method == "automatic", Survey.state == "scheduled", Survey.due_at <= now)
            .order_by(Survey.due_at)
            .limit(BATCH)
            .with_for_update(of=Survey, skip_locked=True)
        )
    ).all()
    claimed = []
    for survey, view in due:
        if view.caller_number is None:
            survey.method = "manual"
            continue
        tried = await session.scalar(
            select(func.count()).where(SurveyRequestAttempt.survey_id == survey.survey_id)
        )
        survey.state, survey.state_changed_at = "requesting", now
        # One id per attempt: a request repeated after a crash is the same request to the centre.
        webhook_id = f"{survey.survey_id}-{(tried or 0) + 1}"
        claimed.append(SurveyRequest(survey.survey_id, webhook_id, _survey_request(survey, view)))
    return claimed


async def _requeue_unanswered_requests(
    session: AsyncSession, ctx: CallbackContext, now: datetime
) -> None:
    """A request the call centre took but never answered is asked again once it has had
    `request_timeout_minutes` of calling time: a request taken at 19:55 is still live at 08:00."""
    timeout = timedelta(minutes=ctx.options.request_timeout_minutes)
    waiting = await session.scalars(
        select(Survey)
        .where(
            Survey.state.in_(("requesting", "requested")),
            Survey.state_changed_at < now - timeout,  # calling time never exceeds wall time
        )
        .limit(BATCH)
        .with_for_update(skip_locked=True)
    )
    for survey in waiting:
        assert survey.state_changed_at is not None
        if ctx.hours.open_between(survey.state_changed_at, now) >= timeout:
            survey.state, survey.state_changed_at = "scheduled", now


async def send_survey_request(
    client: httpx.AsyncClient, ctx: CallbackContext, request: SurveyRequest
) -> tuple[int | None, str | None]:
    """Ask the call-centre software to run one survey; (HTTP status, error)."""
    url, secret = ctx.options.survey_webhook_url, ctx.options.survey_webhook_secret
    assert url is not None
    assert secret is not None  # the settings require a secret with a URL
    body, headers = signed_request(
        secret.get_secret_value(), request.payload, webhook_id=request.webhook_id
    )
    try:
        response = await client.post(url, content=body, headers=headers)
    except httpx.HTTPError as failure:
        return None, repr(failure)
    return response.status_code, None


async def record_survey_request(
    session: AsyncSession,
    ctx: CallbackContext,
    request: SurveyRequest,
    status: int | None,
    error: str | None,
    now: datetime,
) -> bool:
    """Store the attempt; a refused request is tried again later, with backoff."""
    survey = await session.get(Survey, request.survey_id, with_for_update=True)
    succeeded = status is not None and 200 <= status < 300
    session.add(
        SurveyRequestAttempt(
            survey_id=request.survey_id,
            sent_at=now,
            status_code=status,
            succeeded=succeeded,
            error=error,
        )
    )
    if survey is None or survey.state != "requesting":
        return succeeded  # a result arrived meanwhile
    survey.state_changed_at = now
    if succeeded:
        survey.state = "requested"
        return True
    failures = await session.scalar(
        select(func.count()).where(
            SurveyRequestAttempt.survey_id == request.survey_id,
            SurveyRequestAttempt.succeeded.is_(False),
        )
    )
    survey.state = "scheduled"
    survey.due_at = ctx.hours.next_slot(now + timedelta(minutes=2 ** min(failures or 0, 8)))
    after_commit(session, metrics.SURVEY_REQUEST_FAILURES.inc)
    return False


async def release_survey_requests(
    session: AsyncSession, requests: Sequence[SurveyRequest], now: datetime
) -> None:
    """Claimed requests that were never sent (the service stopping) go back to the queue."""
    await session.execute(
        update(Survey)
        .where(
            Survey.survey_id.in_([request.survey_id for request in requests]),
            Survey.state == "requesting",
        )
        .values(state="scheduled", state_changed_at=now)
    )


async def count_due(session: AsyncSession, now: datetime) -> dict[str, int]:
    """Surveys due and not yet done, by method, for the gauge."""
    rows = await session.execute(
        select(Survey.method, func.count())
        .where(Survey.state.in_(OPEN_STATES), Survey.due_at <= now)
        .group_by(Survey.method)
    )
    return {method: count for method, count in rows.all()}


# --- helpers ---------------------------------------------------------------------------------


async def _answered(
    session: AsyncSession,
    survey: Survey,
    view: TicketView | None,
    result: SurveyResultIn,
    now: datetime,
) -> None:
    assert result.satisfaction is not None
    unit_id = view.unit_id if view else None
    survey.state, survey.completed_at, survey.unit_id = "completed", now, unit_id
    survey.satisfaction, survey.comment = result.satisfaction, result.comment
    survey.unit_contacted, survey.resolved = result.unit_contacted, result.resolved
    survey.contradicted = bool(view and view.claimed_contact and result.unit_contacted is False)
    after_commit(session, metrics.SURVEYS_DONE.labels(survey.method, result.satisfaction).inc)
    after_commit(session, metrics.SATISFACTION.labels(unit_id or "-", result.satisfaction).inc)
    if survey.contradicted:
        after_commit(session, metrics.CONTRADICTED.labels(unit_id or "-").inc)
    await _announce_completed(session, survey, unit_id, "answered")
    reason = _reopen_reason(survey)
    if reason is not None:
        survey.reopened = True
        after_commit(session, metrics.REOPENED.labels(reason[0]).inc)
        await add_events(
            session,
            messaging,
            TicketReopened(
                source=SOURCE,
                subject=survey.ticket_no,
                ticket_id=survey.ticket_no,
                version=survey.closed_version + 1,
                data=TicketReopenedData(
                    ticket_no=survey.ticket_no, reason=reason[1], reopened_at=now
                ),
            ),
        )


def _reopen_reason(survey: Survey) -> tuple[str, str] | None:
    """(metric label, text) when the survey reopens the ticket, else None."""
    if survey.satisfaction == "unsatisfied":
        comment = f"：{survey.comment}" if survey.comment else ""
        return "unsatisfied", f"回访不满意{comment}"
    if survey.contradicted:
        return "contradicted", "回访核实：承办单位称已联系诉求人，诉求人表示未被联系"
    return None


async def _unreachable(
    session: AsyncSession,
    survey: Survey,
    view: TicketView | None,
    result: SurveyResultIn,
    now: datetime,
    ctx: CallbackContext,
) -> None:
    if survey.attempts < ctx.options.max_attempts:
        survey.state, survey.version = "scheduled", survey.version + 1
        survey.due_at = ctx.hours.next_slot(
            now + timedelta(minutes=ctx.options.retry_after_minutes)
        )
        await _announce_scheduled(session, survey)
        return
    survey.state, survey.completed_at, survey.comment = "unreachable", now, result.comment
    survey.unit_id = view.unit_id if view else None
    after_commit(session, metrics.UNREACHABLE.labels(survey.method).inc)
    await _announce_completed(session, survey, view.unit_id if view else None, "unreachable")


async def _announce_scheduled(session: AsyncSession, survey: Survey) -> None:
    await add_events(
        session,
        messaging,
        CallbackScheduled(
            source=SOURCE,
            subject=survey.survey_id,
            ticket_id=survey.ticket_no,
            version=survey.version,
            data=CallbackScheduledData(
                survey_id=survey.survey_id,
                ticket_no=survey.ticket_no,
                method=survey.method,
                due_at=survey.due_at,
                attempt=survey.attempts + 1,
            ),
        ),
    )


async def _announce_completed(
    session: AsyncSession, survey: Survey, unit_id: str | None, outcome: str
) -> None:
    assert survey.completed_at is not None
    survey.version += 1
    await add_events(
        session,
        messaging,
        CallbackCompleted(
            source=SOURCE,
            subject=survey.survey_id,
            ticket_id=survey.ticket_no,
            version=survey.version,
            data=CallbackCompletedData(
                survey_id=survey.survey_id,
                ticket_no=survey.ticket_no,
                unit_id=unit_id,
                method=survey.method,
                outcome=outcome,
                satisfaction=survey.satisfaction,
                unit_contacted=survey.unit_contacted,
                resolved=survey.resolved,
                contradicted=survey.contradicted,
                completed_at=survey.completed_at,
            ),
        ),
    )


async def _view(session: AsyncSession, ticket_no: str) -> TicketView:
    view = await session.get(TicketView, ticket_no, with_for_update=True)
    if view is None:
        view = TicketView(ticket_no=ticket_no, unit_version=0, claim_version=0, closed_version=0)
        session.add(view)
    return view


def _survey_request(survey: Survey, view: TicketView) -> dict[str, Any]:
    """What the call-centre software needs to run the survey, and where to post the result."""
    return {
        "survey_id": survey.survey_id,
        "ticket_no": survey.ticket_no,
        "caller_number": view.caller_number,
        "caller_salutation": view.caller_salutation,
        "unit_name": view.unit_name,
        "attempt": survey.attempts + 1,
        "questions": ["satisfaction", "unit_contacted", "resolved"],
        "result_path": f"/v1/callbacks/{survey.ticket_no}/result",
    }


def _outcome(survey: Survey) -> SurveyOutcome:
    return SurveyOutcome(
        survey_id=survey.survey_id,
        ticket_no=survey.ticket_no,
        state=survey.state,
        attempts=survey.attempts,
        due_at=survey.due_at if survey.state in OPEN_STATES else None,
        contradicted=survey.contradicted,
        reopened=survey.reopened,
    )
