"""RFC 9457 problem details for every error a service returns."""

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from prometheus_client import Counter
from starlette.exceptions import HTTPException as StarletteHTTPException

from hotline.shared.db import database_unavailable
from hotline.shared.web.metrics import WEBHOOK_ENDPOINT_KEY, WEBHOOKS_REFUSED, route_template

log = logging.getLogger(__name__)

PROBLEMS = Counter(
    "hotline_problems_total",
    "Requests refused or failed, by problem type and the first field at fault",
    ["service", "route", "code", "field"],
)

PROBLEM_MEDIA_TYPE = "application/problem+json"
DATABASE_RETRY_AFTER_SECONDS = 2
PROBLEM_TYPE_BASE = "https://hotline.example/problems/"


# RFC 9457's members and our `errors`: what `extra` may add to, never replace.
PROBLEM_MEMBERS = frozenset({"type", "title", "status", "detail", "instance", "errors"})


class Problem(Exception):
    """An error the client can act on; `field` names the input at fault, if one is."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        *,
        field: str | None = None,
        errors: list[dict[str, str]] | None = None,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        if clashing := (extra or {}).keys() & PROBLEM_MEMBERS:
            raise ValueError(f"a problem's extra members may not replace {sorted(clashing)}")
        self.status = status
        self.code = code
        self.detail = detail
        self.errors = errors or ([{"field": field, "message": detail}] if field else [])
        self.extra = extra or {}
        self.headers = headers or {}

    @classmethod
    def invalid(cls, errors: list[dict[str, str]]) -> "Problem":
        """A 422 for input that is well-formed but breaks a rule, each error naming its field."""
        fields = ", ".join(dict.fromkeys(error["field"] for error in errors))
        return cls(422, "validation-error", f"Invalid input: {fields}", errors=errors)


def database_unavailable_problem() -> Problem:
    """503 while PostgreSQL is away: nothing was stored, the client should send it again."""
    return Problem(
        503,
        "database-unavailable",
        "The database is unavailable; nothing was stored. Send the request again shortly.",
        headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)},
    )


def problem_response(
    request: Request,
    status: int,
    code: str,
    detail: str,
    *,
    errors: list[dict[str, Any]] | None = None,
    extra: dict[str, Any] | None = None,
) -> JSONResponse:
    service = getattr(request.app.state, "service_name", request.app.title)
    PROBLEMS.labels(service, route_template(request.scope), code, _metric_field(errors)).inc()
    if endpoint := request.scope.get(WEBHOOK_ENDPOINT_KEY):
        WEBHOOKS_REFUSED.labels(service, endpoint, code).inc()
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + code,
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
    }
    if errors:
        body["errors"] = errors
    body.update(extra or {})
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE)


def _metric_field(errors: list[dict[str, Any]] | None) -> str:
    """The first field at fault, top level only; a field the schema does not know is named by
    the client, so it is counted as "unknown" to keep the label set bounded."""
    if not errors:
        return ""
    first = errors[0]
    if first.get("code") == "extra_forbidden":
        return "unknown"
    return str(first["field"]).split(".")[0][:40]


def _location(item: Any) -> tuple[Any, ...]:
    """Where an error is; for a tagged union with an unknown or missing tag, the tag's field."""
    location = tuple(item["loc"])
    if item["type"] in ("union_tag_invalid", "union_tag_not_found"):
        return (*location, str(item["ctx"]["discriminator"]).strip("'"))
    return location


def _field_path(location: tuple[Any, ...] | list[Any]) -> str:
    """`("body", "caller", "number")` -> `caller.number`; the location kind is kept for others."""
    parts = [str(part) for part in location]
    if parts and parts[0] == "body":
        parts = parts[1:]
    return ".".join(parts) or "body"


async def _on_validation_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    errors = [
        {
            # Malformed JSON is one problem of the body, not one per offset it failed at.
            "field": "body" if item["type"] == "json_invalid" else _field_path(_location(item)),
            "message": item["msg"],
            "code": item["type"],
        }
        for item in error.errors()
    ]
    fields = ", ".join(dict.fromkeys(e["field"] for e in errors))
    return problem_response(
        request, 422, "validation-error", f"Invalid input: {fields}", errors=errors
    )


async def _on_problem(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, Problem)
    response = problem_response(
        request, error.status, error.code, error.detail, errors=error.errors, extra=error.extra
    )
    response.headers.update(error.headers)
    return response


async def _on_http_exception(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    code = HTTPStatus(error.status_code).phrase.lower().replace(" ", "-")
    response = problem_response(request, error.status_code, code, str(error.detail))
    if error.headers:
        response.headers.update(error.headers)
    return response


async def _on_unexpected_error(request: Request, error: Exception) -> JSONResponse:
    if database_unavailable(error):
        log.warning("database unavailable on %s %s: %r", request.method, request.url.path, error)
        return await _on_problem(request, database_unavailable_problem())
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return problem_response(request, 500, "internal-error", "The server failed to answer.")


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(Problem, _on_problem)
    app.add_exception_handler(StarletteHTTPException, _on_http_exception)
    app.add_exception_handler(Exception, _on_unexpected_error)
