"""Open311 GeoReport v2 routes (`/open311/v2/…json`). Errors are the spec's list of
`{code, description}` with the HTTP status (404 what does not exist, 403 the API key, 400 the
rest), not problem+json: `Open311Route` answers them so for every route here."""

import hashlib
import hmac
import re
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import AwareDatetime, TypeAdapter, ValidationError

from hotline.intake.config import Open311Channel
from hotline.intake.deps import Context, context_of
from hotline.intake.open311 import service
from hotline.intake.open311.schemas import (
    Open311Error,
    Open311Service,
    Open311Status,
    RequestCreated,
    RequestForm,
    ServiceRequestPublic,
)
from hotline.shared.clock import business_now
from hotline.shared.db import database_unavailable
from hotline.shared.web.deps import DbSession
from hotline.shared.web.metrics import route_template
from hotline.shared.web.openapi import OWN_ERROR_FORMAT
from hotline.shared.web.problems import (
    DATABASE_RETRY_AFTER_SECONDS,
    PROBLEMS,
    Problem,
)
from hotline.shared.web.schemas import IDENTIFIER_PATTERN

FORM_MEDIA_TYPE = "application/x-www-form-urlencoded"
MAX_FORM_FIELDS = 100
MAX_IDS = 100
OPEN311_STATUSES: tuple[Open311Status, ...] = ("open", "closed")
ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": list[Open311Error], "description": description}
    for status, description in (
        (400, "Invalid input: one error per field at fault"),
        (403, "Missing or invalid api_key"),
        (404, "No such service_code or service request"),
        (409, "This Idempotency-Key (or the ticket it names) was already used for another request"),
        (500, "An unexpected error; nothing was stored"),
        (503, "The database is away; nothing was stored, send it again"),
    )
}
# Errors in the spec's list, not problem+json: the shared document leaves them as declared.
OWN_ERRORS = {OWN_ERROR_FORMAT: "open311"}


KNOWN_FIELDS = frozenset(
    {*RequestForm.model_fields, "api_key", "Idempotency-Key", "body", "service_request_id", ""}
)


class Open311Route(APIRoute):
    """A route whose refusals are answered as Open311 errors."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def answer(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as error:
                items = [(_query_field(item["loc"]), str(item["msg"])) for item in error.errors()]
                return _errors(request, 400, "validation-error", items)
            except Problem as problem:
                items = [
                    (str(e.get("field", "")), str(e.get("message", problem.detail)))
                    for e in problem.errors
                ] or [("", problem.detail)]
                status = 403 if problem.status in (401, 403) else problem.status
                status = 400 if status == 422 else status
                response = _errors(request, status, problem.code, items)
                response.headers.update(problem.headers)
                return response
            except Exception as error:
                if not database_unavailable(error):
                    raise
                response = _errors(
                    request,
                    503,
                    "database-unavailable",
                    [("", "The database is unavailable; nothing was stored. Send it again.")],
                )
                response.headers["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
                return response

        return answer


def _errors(request: Request, status: int, code: str, items: list[tuple[str, str]]) -> JSONResponse:
    """The spec's error list, each naming its field; counted as every problem is."""
    named = items[0][0]
    # A label of the form's own fields only: a client choosing field names must not choose
    # series.
    field = named if named in KNOWN_FIELDS else "unknown"
    PROBLEMS.labels("intake", route_template(request.scope), code, field).inc()
    body = [
        {"code": status, "description": f"{field}: {message}" if field else message}
        for field, message in items
    ]
    return JSONResponse(body, status_code=status)


def _query_field(location: Any) -> str:
    parts = [str(part) for part in location]
    return ".".join(parts[1:] if parts and parts[0] in ("query", "path", "body") else parts)


router = APIRouter(prefix="/open311/v2", tags=["Open311 GeoReport v2"], route_class=Open311Route)


async def form_fields(request: Request) -> dict[str, str]:
    """The form as the spec sends it (urlencoded UTF-8); a field sent empty is one not sent."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != FORM_MEDIA_TYPE:
        raise Problem(400, "unsupported-media-type", f"send {FORM_MEDIA_TYPE}", field="body")
    raw = await request.body()
    try:
        pairs = parse_qsl(
            raw.decode("utf-8"), keep_blank_values=False, max_num_fields=MAX_FORM_FIELDS
        )
    except (UnicodeDecodeError, ValueError) as error:
        raise Problem(
            400, "malformed-form", "the form is not UTF-8 or too long", field="body"
        ) from error
    fields: dict[str, str] = {}
    for name, value in pairs:
        if name in fields:
            raise Problem(400, "validation-error", f"{name} sent twice", field=name)
        fields[name] = value
    request.state.form_sha256 = hashlib.sha256(raw).hexdigest()
    return fields


Fields = Annotated[dict[str, str], Depends(form_fields)]


async def form_channel(request: Request, fields: Fields) -> Open311Channel:
    """The channel whose API key the form carries (HOTLINE_INTAKE_OPEN311_API_KEYS), checked
    before anything else of the form is: a client without a key learns nothing of it."""
    keys = context_of(request).options.open311_api_keys or {}
    given = fields.get("api_key", "").strip().encode()
    for channel, secrets in keys.items():
        for secret in secrets:
            if given and hmac.compare_digest(given, secret.get_secret_value().encode()):
                return channel
    reason = "api_key was not provided" if not given else "Invalid api_key received"
    raise Problem(403, "invalid-api-key", reason, field="api_key")


Channel = Annotated[Open311Channel, Depends(form_channel)]


async def request_form(fields: Fields, channel: Channel) -> RequestForm:
    """The form's fields validated, once its key held."""
    try:
        return RequestForm.model_validate(fields)
    except ValidationError as error:
        raise Problem(
            400,
            "validation-error",
            "invalid form",
            errors=[
                {"field": ".".join(str(p) for p in item["loc"]) or "body", "message": item["msg"]}
                for item in error.errors()
            ],
        ) from error


Form = Annotated[RequestForm, Depends(request_form)]


W3_TIME = TypeAdapter(AwareDatetime)


def _w3_time(value: str | None, field: str) -> datetime | None:
    """A w3 time with its zone; sent empty, it was not sent (the spec's "optional")."""
    if not value:
        return None
    try:
        return W3_TIME.validate_python(value)
    except ValidationError as error:
        message = "a w3 time with its zone, e.g. 2010-01-01T00:00:00Z"
        raise Problem(400, "validation-error", message, field=field) from error


def _comma_list(value: str | None, field: str, pattern: str | None = None) -> list[str]:
    if value and "\x00" in value:
        raise Problem(400, "validation-error", "contains a NUL character", field=field)
    items = [item.strip() for item in (value or "").split(",") if item.strip()]
    if len(items) > MAX_IDS:
        raise Problem(400, "validation-error", f"at most {MAX_IDS} values", field=field)
    if pattern is not None:
        for item in items:
            if not re.fullmatch(pattern, item):
                raise Problem(400, "validation-error", f"{item} is not valid", field=field)
    return items


@router.get("/services.json", responses=ERRORS, openapi_extra=OWN_ERRORS)
async def list_services(context: Context) -> list[Open311Service]:
    """The service types a request may name: the hotline's categories (public)."""
    return service.services(context.options)


@router.post(
    "/requests.json",
    status_code=201,
    responses=ERRORS,
    # The form is read by hand (`request_form`): its schema still belongs in the docs.
    openapi_extra={
        **OWN_ERRORS,
        "requestBody": {
            "required": True,
            "content": {FORM_MEDIA_TYPE: {"schema": RequestForm.model_json_schema()}},
        },
    },
)
async def post_request(
    form: Form, channel: Channel, request: Request, session: DbSession, context: Context
) -> list[RequestCreated]:
    """Report an issue (form-encoded, with the channel's api_key): it becomes a ticket by the
    ticket webhook's rules. An `Idempotency-Key` header makes a retry return the first answer."""
    key = request.headers.get("idempotency-key")
    if key is not None and not _valid_id(key):
        raise Problem(
            400, "validation-error", "1 to 64 letters, digits, _ . -", field="Idempotency-Key"
        )
    created = await service.create_request(
        session,
        form,
        channel=channel,
        request_key=key,
        body_sha256=request.state.form_sha256,
        options=context.options,
    )
    return [created]


@router.get("/requests.json", responses=ERRORS, openapi_extra=OWN_ERRORS)
async def list_requests(
    session: DbSession,
    service_request_id: Annotated[str | None, Query(max_length=6500)] = None,
    service_code: Annotated[str | None, Query(max_length=2000)] = None,
    start_date: Annotated[str | None, Query(max_length=40)] = None,
    end_date: Annotated[str | None, Query(max_length=40)] = None,
    status: Annotated[str | None, Query(max_length=20)] = None,
) -> list[ServiceRequestPublic]:
    """Requests made through Open311 and where they stand (public; no names or numbers)."""
    statuses = _comma_list(status, "status", r"open|closed")
    return await service.find_requests(
        session,
        ids=_comma_list(service_request_id, "service_request_id", IDENTIFIER_PATTERN[1:-1]),
        codes=_comma_list(service_code, "service_code"),
        start=_w3_time(start_date, "start_date"),
        end=_w3_time(end_date, "end_date"),
        statuses=[s for s in OPEN311_STATUSES if s in statuses],
        now=business_now(),
    )


@router.get("/requests/{service_request_id}.json", responses=ERRORS, openapi_extra=OWN_ERRORS)
async def get_request(service_request_id: str, session: DbSession) -> list[ServiceRequestPublic]:
    """One request and where it stands (public; no names or numbers)."""
    if not _valid_id(service_request_id):
        raise Problem(
            404, "request-not-found", f"service_request_id {service_request_id} was not found"
        )
    return [await service.get_request(session, service_request_id)]


def _valid_id(value: str) -> bool:
    return re.fullmatch(IDENTIFIER_PATTERN, value) is not None
