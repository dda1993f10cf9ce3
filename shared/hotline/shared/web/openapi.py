"""The OpenAPI document every service publishes: errors as the server really sends them
(problem+json with `errors[]`), the Standard Webhooks headers and bearer tokens as security
schemes, and the bodies read after their signature, so a vendor can code against `/docs`."""

import json
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict, Field

from hotline.shared.web.problems import PROBLEM_MEDIA_TYPE, PROBLEM_TYPE_BASE
from hotline.shared.web.webhooks import IGNORED_FIELDS_HEADER, SIGNED_BODY_MODELS, WEBHOOK_SCHEMES


class ProblemError(BaseModel):
    field: str = Field(
        description="The input at fault: a body path (`caller.number`), a header "
        "(`webhook-signature`, `Authorization`), a path or query parameter, or `body`"
    )
    message: str
    code: str | None = Field(
        default=None,
        description="For schema errors, the kind (`missing`, `literal_error`, `string_too_long` …)",
    )


class ProblemDetails(BaseModel):
    """RFC 9457 problem details: every error any service answers (`application/problem+json`)."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "type": PROBLEM_TYPE_BASE + "validation-error",
                    "title": "Unprocessable Content",
                    "status": 422,
                    "detail": "Invalid input: caller.salutation",
                    "instance": "/v1/tickets",
                    "errors": [
                        {
                            "field": "caller.salutation",
                            "message": "T07: 称呼不能为数字或符号",
                            "code": "value_error",
                        }
                    ],
                }
            ]
        },
    )

    type: str = Field(description=f"`{PROBLEM_TYPE_BASE}<code>`: what went wrong, stable")
    title: str = Field(description="The HTTP status's phrase")
    status: int
    detail: str = Field(description="For a person")
    instance: str = Field(description="The path that was called")
    errors: list[ProblemError] = Field(
        default_factory=list, description="Each input at fault (absent when none is)"
    )


STATUS_DESCRIPTIONS: dict[int, str] = {
    400: "The request cannot be read (a body that is not UTF-8, say)",
    401: "Missing or wrong credentials; `errors[].field` names the header",
    403: "These credentials may not do this",
    404: "No such resource (or not one these credentials may see)",
    409: "Conflicts with the resource's current state",
    413: "The body is too large",
    422: "Invalid input: `errors[]` names each field at fault",
    500: "The server failed to answer",
    503: "The database is unavailable; nothing was stored: send the same request again "
    "after `Retry-After` seconds (a webhook with the same `webhook-id`)",
}
PROBLEM_REF = {"$ref": "#/components/schemas/ProblemDetails"}
# Headers other signed exchanges use (the province's callbacks, the shape of DB36/T 1180-2019).
HEADER_SCHEMES = WEBHOOK_SCHEMES | {
    "X-App-Key": "The exchange: the app key the province issued the city",
    "X-Timestamp": "The exchange: Unix milliseconds, near our clock",
    "X-Nonce": "The exchange: used once",
    "X-Signature": "The exchange: hex HMAC-SHA256 under the app secret of "
    "`{X-App-Key}\\n{X-Timestamp}\\n{X-Nonce}\\n{hex SHA-256 of the body}`",
}


def header_security(*headers: str) -> dict[str, Any]:
    """`openapi_extra` for a route authenticated by signed headers (see `HEADER_SCHEMES`)."""
    unknown = set(headers) - set(HEADER_SCHEMES)
    assert not unknown, f"describe {unknown} in HEADER_SCHEMES"
    return {"security": [{header: [] for header in headers}]}


# Bodies a route reads raw, to check their signature first, whose schema the document shows.
RAW_BODY_MODELS: dict[str, type[BaseModel]] = {}


def raw_body_security(model: type[BaseModel], *headers: str) -> dict[str, Any]:
    """`openapi_extra` for a route that reads its body raw and checks the signed `headers`
    first: the body's schema (required) and examples, and the headers as its security."""
    RAW_BODY_MODELS[model.__name__] = model
    content: dict[str, Any] = {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}
    extra = model.model_config.get("json_schema_extra")
    if isinstance(extra, dict) and isinstance(examples := extra.get("examples"), list):
        content["examples"] = {
            f"example {n}": {"value": example} for n, example in enumerate(examples, 1)
        }
    return {
        "requestBody": {"required": True, "content": {"application/json": content}},
    } | header_security(*headers)


# Every operation can meet these whatever it does; 422 only where there is input.
EVERYWHERE = (500, 503)


def problem_responses(
    *statuses: int, descriptions: Mapping[int, str] | None = None
) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route: each status answered as problem+json, described."""
    descriptions = descriptions or {}
    responses: dict[int | str, dict[str, Any]] = {}
    for status in (*statuses, *descriptions):
        responses[status] = _problem_response(descriptions.get(status), status)
    return responses


def _problem_response(description: str | None, status: int | None = None) -> dict[str, Any]:
    return {
        "description": description or STATUS_DESCRIPTIONS.get(status or 0, "Refused"),
        "content": {PROBLEM_MEDIA_TYPE: {"schema": PROBLEM_REF}},
    }


def install_openapi(app: FastAPI) -> None:
    """Replace the app's document with ours, built once, on first request of `/openapi.json`."""
    default_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = customise(default_openapi())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def customise(document: dict[str, Any]) -> dict[str, Any]:
    """FastAPI's document, corrected to what the server does."""
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    # The signed bodies of this app's routes only (the registry holds every imported service's).
    written = json.dumps(document)
    signed = {
        name: model for name, model in SIGNED_BODY_MODELS.items() if _request_ref(name) in written
    }
    read_raw = [model for name, model in RAW_BODY_MODELS.items() if _request_ref(name) in written]
    models: list[type[BaseModel]] = [*signed.values(), *read_raw, ProblemDetails]
    for model in models:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(schema.pop("$defs", {}))
        schemas.setdefault(model.__name__, schema)
    schemes = components.setdefault("securitySchemes", {})
    used = {
        name
        for path in document.get("paths", {}).values()
        for operation in path.values()
        for requirement in operation.get("security", [])
        for name in requirement
    }
    for header, description in HEADER_SCHEMES.items():
        if header not in used:
            continue
        schemes[header] = {
            "type": "apiKey",
            "in": "header",
            "name": header,
            "description": description,
        }
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            _correct_responses(operation)
            _webhook_answer_headers(operation, signed)
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    return document


# An operation marked so answers errors in a format of its own (Open311's list): its document
# keeps them as the route declares them.
OWN_ERROR_FORMAT = "x-own-error-format"


def _correct_responses(operation: dict[str, Any]) -> None:
    if operation.get(OWN_ERROR_FORMAT):
        return
    responses: dict[str, Any] = operation.setdefault("responses", {})
    security = [name for requirement in operation.get("security", []) for name in requirement]
    wanted = list(EVERYWHERE)
    if operation.get("parameters") or operation.get("requestBody"):
        wanted.append(422)
    if operation.get("requestBody"):  # FastAPI's own answer to a body it cannot decode
        wanted.append(400)
    if security:
        wanted.append(401)
    if "webhook-signature" in security:
        wanted += [400, 403]
    for code in wanted:
        responses.setdefault(str(code), _problem_response(None, code))
    for status, response in responses.items():
        if not status.startswith(("4", "5")):
            continue
        description = response.get("description")
        if status == "422" and description == "Validation Error":  # FastAPI's own
            description = None
        responses[status] = _problem_response(description, int(status)) | {
            key: value for key, value in response.items() if key not in ("content", "description")
        }
    if "503" in responses:
        responses["503"]["headers"] = {
            "Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}
        }


def _request_ref(name: str) -> str:
    return f'"#/components/schemas/{name}"'


REPLAYED_HEADER = {
    "description": "`true` when this answers a redelivery (the same webhook-id): the first "
    "answer, again; nothing was changed",
    "schema": {"type": "string", "enum": ["true"]},
}
IGNORED_HEADER = {
    "description": "The body's fields we do not know and ignored (dotted paths, comma-separated); "
    "absent when there were none",
    "schema": {"type": "string"},
    "example": "priority, caller.wechat_openid",
}


def _webhook_answer_headers(
    operation: dict[str, Any], signed: Mapping[str, type[BaseModel]]
) -> None:
    """A signed webhook's answers carry `webhook-replayed`, and a tolerant body's the ignored
    fields (`Hotline-Ignored-Fields`)."""
    content = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
    name = str(content.get("schema", {}).get("$ref", "")).rsplit("/", 1)[-1]
    if name not in signed:
        return
    headers: dict[str, Any] = {"webhook-replayed": REPLAYED_HEADER}
    if signed[name].model_config.get("extra") == "allow":
        headers[IGNORED_FIELDS_HEADER] = IGNORED_HEADER
    for status, response in operation.get("responses", {}).items():
        if status.startswith("2"):
            response.setdefault("headers", {}).update(headers)
