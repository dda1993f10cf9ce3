"""Open311 requests as tickets: a citizen's request from the website, the app or WeChat goes
through the ticket webhook's own path (`service.accept_ticket`: the same validation, repeat
calls, outage notices, outbox events), and its status is read back from what intake keeps of
the ticket (who holds it, by when, how it closed)."""

from datetime import datetime, timedelta
from uuid import uuid4

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.intake import catalogue, service
from hotline.intake.config import IntakeOptions, Open311Channel
from hotline.intake.models import Open311Request, Ticket
from hotline.intake.open311.schemas import (
    Open311Service,
    Open311Status,
    RequestCreated,
    RequestForm,
    ServiceRequestPublic,
)
from hotline.intake.schemas import TicketIn
from hotline.shared.clock import business_now
from hotline.shared.db import AFTER_COMMIT
from hotline.shared.domain import phones
from hotline.shared.domain.classifier import default_classifier
from hotline.shared.web.problems import Problem
from hotline.shared.web.webhooks import VerifiedWebhook

# Each channel is a sender of its own (its tickets' ids and redeliveries kept apart).
SENDER_PREFIX = "open311-"
MAX_SPAN = timedelta(days=90)  # the spec's longest date range, and its default
MAX_RESULTS = 1000  # the spec's default limit
# The ticket's fields as the Open311 form names them, for errors a client can act on.
OPEN311_FIELDS = {
    "caller.salutation": "last_name",
    "caller.number": "phone",
    "caller": "last_name",
    "category": "service_code",
    "location_code": "address_id",
    "address": "address_string",
    "content": "description",
    "accepted_at": "requested_datetime",
    "webhook-id": "Idempotency-Key",
    "source_ticket_id": "Idempotency-Key",
}
ACCEPTED_NOTICE = "诉求已受理（工单号{ticket_no}），将转交承办单位办理，可凭工单号查询办理进展。"


def services(options: IntakeOptions) -> list[Open311Service]:
    """The category catalogue as Open311 service types."""
    return [
        Open311Service(
            service_code=category.code,
            service_name=category.name,
            description=f"{category.name}诉求：{'、'.join(category.keywords[:8])}等"
            if category.keywords
            else f"{category.name}诉求",
            metadata=False,
            type="realtime",
            keywords=", ".join(category.keywords),
            group=category.name,
        )
        for category in catalogue.category_catalogue(options.categories)
    ]


async def create_request(
    session: AsyncSession,
    form: RequestForm,
    *,
    channel: Open311Channel,
    request_key: str | None,
    body_sha256: str,
    options: IntakeOptions,
) -> RequestCreated:
    """Take a citizen's request as a ticket of `channel`, by the ticket webhook's rules; the
    same `request_key` (Idempotency-Key) again gets the first answer and creates nothing."""
    if errors := form_errors(form, options):
        status = 404 if any(error["code"] == "404" for error in errors) else 400
        raise Problem(
            status,
            "open311-invalid",
            "; ".join(e["message"] for e in errors),
            errors=[{"field": e["field"], "message": e["message"]} for e in errors],
        )
    webhook = VerifiedWebhook(
        sender=SENDER_PREFIX + channel,
        webhook_id=request_key or f"open311_{uuid4().hex}",
        body_sha256=body_sha256,
    )
    ticket = _ticket(form, channel, webhook.webhook_id)
    try:
        # A savepoint: the refusal is answered as Open311 writes errors, so the request's own
        # transaction ends without an error and would otherwise keep the delivery it claimed.
        async with session.begin_nested():
            answer = await service.accept_ticket(session, ticket, webhook=webhook, options=options)
    except Problem as problem:
        session.info.pop(AFTER_COMMIT, None)  # what the refused ticket would have counted
        raise _in_open311_terms(problem) from problem
    ticket_no = str(answer.body["ticket_no"])
    if answer.replayed:
        row = await session.get(Open311Request, ticket_no)
        notice, account_id = (row.service_notice, row.account_id) if row else (None, None)
        return RequestCreated(
            service_request_id=ticket_no, service_notice=notice, account_id=account_id
        )
    notice = _notice(ticket_no, answer.body)
    session.add(
        Open311Request(
            ticket_no=ticket_no,
            channel=channel,
            lat=form.lat,
            long=form.long,
            email=form.email,
            device_id=form.device_id,
            account_id=form.account_id,
            media_url=form.media_url,
            service_notice=notice,
            accepted_at=ticket.accepted_at,
        )
    )
    return RequestCreated(
        service_request_id=ticket_no, service_notice=notice, account_id=form.account_id
    )


def form_errors(form: RequestForm, options: IntakeOptions) -> list[dict[str, str]]:
    """What the spec requires (a service code, a place, lat with long) and what a ticket needs
    that the spec leaves optional (a division code, a description, a name to address the
    citizen by). `code` "404" marks a service code we do not have."""
    errors = []
    if form.service_code is None:
        errors.append(_error("service_code", "service_code was not provided", "400"))
    elif form.service_code not in options.categories:
        errors.append(
            _error("service_code", f"service_code {form.service_code} was not found", "404")
        )
    if (form.lat is None) != (form.long is None):
        errors.append(_error("long" if form.long is None else "lat", "lat and long go together"))
    if form.address_id is None:
        errors.append(
            _error(
                "address_id",
                "address_id is required: the GB/T 2260 division code of the place (6, 9 or 12 "
                "digits; lat/long alone cannot be placed in a district)",
            )
        )
    if form.description is None:
        errors.append(_error("description", "description was not provided"))
    if form.last_name is None and form.first_name is None:
        errors.append(
            _error("last_name", "last_name (or first_name) is required to address the citizen")
        )
    return errors


def _ticket(form: RequestForm, channel: Open311Channel, request_id: str) -> TicketIn:
    """The ticket the webhook would receive for this request: forwarded to a unit, typed and
    flagged as the classifier reads the description (so rules T11 and T16 agree with it)."""
    description = form.description or ""
    classifier = default_classifier()
    request_type = classifier.request_type(description)
    business = classifier.business_environment(description)
    values = {
        "source_ticket_id": request_id[-64:],
        "channel": channel,
        "caller": {
            "salutation": f"{form.last_name or ''}{form.first_name or ''}",
            "number": form.phone,
        },
        "request_type": request_type.label if request_type else "other",
        "category": form.service_code,
        "business_environment": business.label if business else False,
        "location_code": form.address_id,
        "address": form.address_string,
        "content": description,
        "handling_mode": "forward",
        "accepted_at": business_now(),
    }
    try:
        return TicketIn.model_validate(values)
    except ValidationError as error:
        raise Problem.invalid(
            [
                {
                    "field": _open311_field(".".join(str(part) for part in item["loc"])),
                    "message": item["msg"],
                }
                for item in error.errors()
            ]
        ) from error


def _in_open311_terms(problem: Problem) -> Problem:
    """A refusal of the ticket path, its fields named as the Open311 form names them."""
    errors = [
        {**error, "field": _open311_field(str(error.get("field", "")))} for error in problem.errors
    ]
    return Problem(problem.status, problem.code, problem.detail, errors=errors)


def _open311_field(field: str) -> str:
    return OPEN311_FIELDS.get(field, field)


def _notice(ticket_no: str, accepted: dict[str, object]) -> str:
    """What the citizen is told: the repeat-call or outage answer, else that it was taken."""
    if told := accepted.get("tell_caller"):
        return scrub_phones(str(told))
    if accepted.get("status") == "closed" and accepted.get("resolution"):
        return scrub_phones(str(accepted["resolution"]))
    return ACCEPTED_NOTICE.format(ticket_no=ticket_no)


async def get_request(session: AsyncSession, service_request_id: str) -> ServiceRequestPublic:
    """One request's status; a ticket that did not come through Open311 is not found."""
    row = (await session.execute(_REQUESTS.where(Ticket.ticket_no == service_request_id))).first()
    if row is None:
        raise Problem(
            404,
            "request-not-found",
            f"service_request_id {service_request_id} was not found",
            field="service_request_id",
        )
    return _public(row.Ticket, row.Open311Request)


async def find_requests(
    session: AsyncSession,
    *,
    ids: list[str],
    codes: list[str],
    start: datetime | None,
    end: datetime | None,
    statuses: list[Open311Status],
    now: datetime,
) -> list[ServiceRequestPublic]:
    """Requests by id (which overrides every other filter), else by service code, status and
    requested time (at most 90 days: the most recent 90 by default), newest first, 1000 at most."""
    query = _REQUESTS
    if ids:
        query = query.where(Ticket.ticket_no.in_(ids))
    else:
        start, end = _date_range(start, end, now)
        query = query.where(Open311Request.accepted_at >= start, Open311Request.accepted_at <= end)
        if codes:
            query = query.where(Ticket.category.in_(codes))
        if set(statuses) == {"closed"}:
            query = query.where(Ticket.status == "closed")
        elif set(statuses) == {"open"}:
            query = query.where(Ticket.status != "closed")
    rows = await session.execute(
        query.order_by(Open311Request.accepted_at.desc()).limit(MAX_RESULTS)
    )
    return [_public(row.Ticket, row.Open311Request) for row in rows]


def _date_range(
    start: datetime | None, end: datetime | None, now: datetime
) -> tuple[datetime, datetime]:
    if start is None and end is None:
        return now - MAX_SPAN, now
    if start is None:
        assert end is not None
        return end - MAX_SPAN, end
    if end is None:
        return start, start + MAX_SPAN
    if end < start:
        raise Problem(400, "open311-invalid", "end_date is before start_date", field="end_date")
    if end - start > MAX_SPAN:
        raise Problem(
            400,
            "open311-invalid",
            "start_date to end_date spans more than 90 days",
            field="end_date",
        )
    return start, end


_REQUESTS = select(Ticket, Open311Request).join(
    Open311Request, Open311Request.ticket_no == Ticket.ticket_no
)


def _public(ticket: Ticket, request: Open311Request) -> ServiceRequestPublic:
    closed = ticket.status == "closed"
    return ServiceRequestPublic(
        service_request_id=ticket.ticket_no,
        status="closed" if closed else "open",
        status_notes=_status_notes(ticket),
        service_name=ticket.category,
        service_code=ticket.category,
        description=scrub_phones(ticket.content),
        agency_responsible=ticket.handling_unit if closed else ticket.dispatched_unit,
        service_notice=request.service_notice,
        requested_datetime=ticket.accepted_at,
        updated_datetime=(ticket.closed_at if closed and ticket.closed_at else ticket.updated_at),
        expected_datetime=None if closed else ticket.deadline,
        address=scrub_phones(ticket.address) if ticket.address else None,
        address_id=ticket.location_code,
        zipcode=None,
        lat=request.lat,
        long=request.long,
        media_url=request.media_url,
    )


def _status_notes(ticket: Ticket) -> str | None:
    """More than open/closed says: how it closed, who holds it, or what it waits on."""
    if ticket.status == "closed":
        return scrub_phones(ticket.resolution) if ticket.resolution else None
    if ticket.status == "awaiting_closure" and ticket.repeat_of:
        return f"与工单{ticket.repeat_of}反映同一问题，随原工单办结"
    if ticket.dispatched_unit:
        return f"已转交{ticket.dispatched_unit}办理"
    return "已受理，待转交承办单位"


# Numbers a citizen or a unit may have written into a text shown to anyone: masked.
scrub_phones = phones.mask_numbers_in


def _error(field: str, message: str, code: str = "400") -> dict[str, str]:
    return {"field": field, "message": message, "code": code}
