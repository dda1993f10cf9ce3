"""The OpenAPI documents a vendor codes against: errors as problem+json with `errors[]`, every
request body with an example the model accepts, the webhook headers and tokens as security
schemes, enums listed; and the session-wide check that routes document what they answer."""

from collections import defaultdict
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel

from hotline.callback.main import app as callback
from hotline.dispatch.main import app as dispatch
from hotline.intake.main import app as intake
from hotline.provincial_sync.main import app as provincial_sync
from hotline.scoring.main import app as scoring
from hotline.shared.web.openapi import (
    OWN_ERROR_FORMAT,
    ProblemDetails,
    install_openapi,
    problem_responses,
)
from hotline.shared.web.problems import Problem, install_problem_handlers
from tests.documented_statuses import recording, undocumented

APPS = {
    "intake": intake,
    "dispatch": dispatch,
    "callback": callback,
    "scoring": scoring,
    "provincial-sync": provincial_sync,
}
PROBLEM = {"$ref": "#/components/schemas/ProblemDetails"}


def operations(app: FastAPI) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, methods in app.openapi()["paths"].items()
        for method, operation in methods.items()
    ]


def body_models(app: FastAPI) -> list[type[BaseModel]]:
    """The models of every request body the document names (one `$ref`, or a union of them)."""
    by_name = {model.__name__: model for model in _our_models(BaseModel)}
    names = {
        ref.rsplit("/", 1)[1]
        for _, _, operation in operations(app)
        for content in operation.get("requestBody", {}).get("content", {}).values()
        for ref in _refs(content["schema"])
    }
    return [by_name[name] for name in sorted(names)]


def _refs(schema: dict[str, Any]) -> list[str]:
    if "$ref" in schema:
        return [schema["$ref"]]
    return [ref for part in schema.get("oneOf", schema.get("anyOf", [])) for ref in _refs(part)]


def _our_models(base: type[BaseModel]) -> list[type[BaseModel]]:
    found = []
    for model in base.__subclasses__():
        if model.__module__.startswith("hotline."):
            found.append(model)
        found += _our_models(model)
    return found


@pytest.mark.parametrize("app", APPS.values(), ids=APPS.keys())
def test_every_error_is_documented_as_the_problem_json_the_server_sends(app: FastAPI) -> None:
    document = app.openapi()

    assert "HTTPValidationError" not in document["components"]["schemas"]
    for method, path, operation in operations(app):
        if operation.get(OWN_ERROR_FORMAT):  # Open311's: the spec's list, tested with it
            continue
        for status, response in operation["responses"].items():
            if status[0] in "45":
                assert response["content"] == {"application/problem+json": {"schema": PROBLEM}}, (
                    method,
                    path,
                    status,
                )
        assert {"500", "503"} <= set(operation["responses"]), (method, path)
        if operation.get("requestBody") or operation.get("parameters"):
            assert "422" in operation["responses"], (method, path)
        if operation.get("requestBody"):
            assert "400" in operation["responses"], (method, path)
    errors = document["components"]["schemas"]["ProblemDetails"]["properties"]["errors"]
    assert errors["items"] == {"$ref": "#/components/schemas/ProblemError"}


@pytest.mark.parametrize("app", APPS.values(), ids=APPS.keys())
def test_every_request_body_has_an_example_its_model_accepts(app: FastAPI) -> None:
    models = body_models(app)

    assert models
    for model in models:
        extra = model.model_config.get("json_schema_extra")
        examples = extra.get("examples") if isinstance(extra, dict) else None
        assert isinstance(examples, list), f"{model.__name__} has no example"
        assert examples, f"{model.__name__} has no example"
        for example in examples:
            model.model_validate(example)


@pytest.mark.parametrize("app", APPS.values(), ids=APPS.keys())
def test_secured_operations_declare_their_scheme_and_its_401(app: FastAPI) -> None:
    schemes = app.openapi()["components"].get("securitySchemes", {})

    if app in (intake, callback):
        for header in ("webhook-id", "webhook-timestamp", "webhook-signature"):
            assert schemes[header] == schemes[header] | {"type": "apiKey", "in": "header"}
    assert schemes["HTTPBearer"]["scheme"] == "bearer"
    for method, path, operation in operations(app):
        for requirement in operation.get("security", []):
            assert set(requirement) <= set(schemes), (method, path)
            assert "401" in operation["responses"], (method, path)


def test_the_webhooks_name_their_headers_and_show_a_shaoyang_example() -> None:
    ticket = intake.openapi()["paths"]["/v1/tickets"]["post"]

    assert ticket["security"] == [
        {"webhook-id": [], "webhook-timestamp": [], "webhook-signature": []}
    ]
    (first, *_) = ticket["requestBody"]["content"]["application/json"]["examples"].values()
    assert "邵阳" in first["value"]["address"]
    assert set(ticket["responses"]["201"]["headers"]) == {
        "webhook-replayed",
        "Hotline-Ignored-Fields",
    }
    result = callback.openapi()["paths"]["/v1/callbacks/{ticket_no}/result"]["post"]
    assert set(result["responses"]["200"]["headers"]) == {"webhook-replayed"}  # a strict body
    assert "TicketIn" not in callback.openapi()["components"]["schemas"]


def test_the_provinces_callbacks_show_the_body_they_check_and_read() -> None:
    document = provincial_sync.openapi()

    for path, model in (("spot-checks", "SpotCheckBatch"), ("findings", "FindingBatch")):
        operation = document["paths"][f"/v1/province/{path}"]["post"]
        content = operation["requestBody"]["content"]["application/json"]
        assert content["schema"] == {"$ref": f"#/components/schemas/{model}"}
        assert content["examples"]
        assert operation["security"] == [
            {"X-App-Key": [], "X-Timestamp": [], "X-Nonce": [], "X-Signature": []}
        ]
        assert model in document["components"]["schemas"]


def test_enums_are_listed() -> None:
    schemas = intake.openapi()["components"]["schemas"]

    assert "complaint" in schemas["TicketIn"]["properties"]["request_type"]["enum"]
    assert "phone" in schemas["TicketIn"]["properties"]["channel"]["enum"]
    assert "closed_same_caller" in schemas["RepeatRule"]["enum"]
    assert set(schemas["TicketAccepted"]["properties"]["handling_mode"]["enum"]) >= {
        "answered",
        "forward",
    }


def toy_app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)
    install_openapi(app)

    @app.get("/things/{n}", responses=problem_responses(404))
    async def thing(n: int) -> dict[str, int]:
        if n == 0:
            raise Problem(404, "not-found", "No such thing.", field="n")
        if n == 1:
            raise Problem(409, "conflict", "It is busy.")
        return {"n": n}

    @app.post("/things")
    async def make(thing: Thing) -> dict[str, int]:
        return {"n": thing.n}

    return app


class Thing(BaseModel):
    n: int


async def test_a_body_that_is_not_utf8_is_a_documented_400() -> None:
    app = toy_app()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://toy") as http:
        response = await http.post(
            "/things", content=b"\xff\xfe{", headers={"content-type": "application/json"}
        )

    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert "400" in app.openapi()["paths"]["/things"]["post"]["responses"]


async def test_the_session_check_finds_a_status_a_route_does_not_document() -> None:
    app, recorded = toy_app(), defaultdict[FastAPI, set[tuple[str, str, int]]](set)
    transport = httpx.ASGITransport(app=recording(app, seen=recorded))
    async with httpx.AsyncClient(transport=transport, base_url="http://toy") as http:
        for n in ("0", "1", "2", "x"):
            await http.get(f"/things/{n}")

    seen = recorded[app]
    assert seen == {("GET", "/things/{n}", s) for s in (404, 409, 200, 422)}
    assert undocumented(app.openapi(), seen) == [("GET", "/things/{n}", 409)]


async def test_a_refusal_is_what_the_document_says() -> None:
    transport = httpx.ASGITransport(app=toy_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://toy") as http:
        response = await http.get("/things/x")

    assert response.headers["content-type"] == "application/problem+json"
    problem = ProblemDetails.model_validate(response.json())
    assert problem.errors[0].field == "path.n"
