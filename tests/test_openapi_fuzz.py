"""Schemathesis: every operation of every service, called with requests generated from the
service's own OpenAPI document (valid ones, and ones the document says to refuse), signed or
authorized as its real clients would, on the real PostgreSQL and broker. No answer is a 5xx,
and every answer is one the document lists: its status, its content type, its body's schema
and its headers."""

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import httpx
import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core import NOT_SET
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from hotline.callback import deps as callback_deps
from hotline.callback.main import app as callback_app
from hotline.dispatch import deps as dispatch_deps
from hotline.dispatch.main import app as dispatch_app
from hotline.intake import deps as intake_deps
from hotline.intake.main import app as intake_app
from hotline.provincial_sync import deps as sync_deps
from hotline.provincial_sync.adapters.generic_v1 import signed_headers
from hotline.provincial_sync.main import app as sync_app
from hotline.scoring import deps as scoring_deps
from hotline.scoring.main import app as scoring_app
from hotline.shared import secrets
from hotline.shared.web import operations
from hotline.shared.web.openapi import install_openapi, problem_responses
from hotline.shared.web.problems import install_problem_handlers
from hotline.shared.web.webhooks import signature_headers
from tests.callback.conftest import AGENT_TOKEN, RESULT_SECRET, Callback, callback  # noqa: F401
from tests.dispatch.conftest import SUPERVISOR_TOKEN as DISPATCH_SUPERVISOR_TOKEN
from tests.dispatch.conftest import Dispatch, dispatch  # noqa: F401
from tests.intake.conftest import (  # noqa: F401 (fixture)
    GAS_SECRET,
    NEW_SECRET,
    READER_TOKEN,
    SUPERVISOR_TOKEN,
    IntakeClient,
    intake,
    ticket_body,
)
from tests.provincial_sync.conftest import (
    READER_TOKEN as SYNC_READER_TOKEN,
)
from tests.provincial_sync.conftest import (
    SUPERVISOR_TOKEN as SYNC_SUPERVISOR_TOKEN,
)
from tests.provincial_sync.conftest import Sync, province_ports, sync  # noqa: F401
from tests.scoring.conftest import READER_TOKEN as SCORING_READER_TOKEN
from tests.scoring.conftest import Scoring, scoring  # noqa: F401

# Per operation: valid and invalid by the document, naming things that exist, the documented body.
EXAMPLES = 10
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
# The services under test use `random` (the Kafka client's jitter) while examples are drawn.
pytestmark = pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning")

WEBHOOK_SECRETS = {
    ("intake", "/v1/calls"): NEW_SECRET,
    ("intake", "/v1/tickets"): NEW_SECRET,
    ("intake", "/v1/notices"): GAS_SECRET,
    ("callback", "/v1/callbacks/{ticket_no}/result"): RESULT_SECRET,
}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


OPERATOR = bearer(secrets.DEVELOPMENT_OPERATOR_TOKEN)
# Who may call an operation, by the dependency that checks its token.
TOKENS: dict[Callable[..., Any], dict[str, str]] = {
    operations.current_operator: OPERATOR,
    intake_deps.current_reader: bearer(READER_TOKEN),
    intake_deps.current_supervisor: bearer(SUPERVISOR_TOKEN),
    dispatch_deps.current_supervisor: bearer(DISPATCH_SUPERVISOR_TOKEN),
    callback_deps.current_agent: bearer(AGENT_TOKEN),
    scoring_deps.current_reader: bearer(SCORING_READER_TOKEN),
    sync_deps.current_reader: bearer(SYNC_READER_TOKEN),
    sync_deps.current_supervisor: bearer(SYNC_SUPERVISOR_TOKEN),
}


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for dependency in dependant.dependencies:
        if dependency.call is not None:
            yield dependency.call
        yield from _calls(dependency)


@cache
def dependencies_by_operation(app: FastAPI) -> dict[tuple[str, str], set[Callable[..., Any]]]:
    return {
        (method, str(context.path_format)): set(_calls(route.dependant))
        for context in iter_route_contexts(app.routes)
        if isinstance(route := context.original_route, APIRoute)
        for method in route.methods or ()
    }


def operations_of(app: FastAPI) -> list[Any]:
    """Each operation of the app's document, as a test parameter."""
    return [
        pytest.param(method.upper(), path, id=f"{method.upper()} {path}")
        for path, methods in app.openapi()["paths"].items()
        for method in methods
    ]


@dataclass
class Target:
    """One service as a client sees it: its client, and what a real client would know."""

    service: str
    app: FastAPI
    http: httpx.AsyncClient
    # Path parameters naming things that exist, for some of the examples.
    known: dict[str, list[str]] = field(default_factory=dict)
    unit_key: dict[str, str] = field(default_factory=dict)
    after: Callable[[Case[Any], httpx.Response], Awaitable[None]] | None = None


def authorize(target: Target, case: Case[Any], headers: dict[str, str], raw: bytes | None) -> None:
    """The credentials its real caller sends: a signature over the exact body, or a token."""
    method, path = case.method.upper(), case.path
    secret = WEBHOOK_SECRETS.get((target.service, path))
    if secret is not None:
        # A body that is not UTF-8 cannot be signed as text: its signature fails (401).
        headers.update(signature_headers(secret, (raw or b"").decode(errors="replace")))
        return
    if path.startswith("/v1/province/"):
        key, app_secret = (
            secrets.DEVELOPMENT_PROVINCE_APP_KEY,
            secrets.DEVELOPMENT_PROVINCE_APP_SECRET,
        )
        headers.update(signed_headers(key, app_secret, raw or b""))
        return
    needs = dependencies_by_operation(target.app).get((method, path), set())
    if dispatch_deps.current_unit in needs:
        headers.update(target.unit_key)
    for dependency, token in TOKENS.items():
        if dependency in needs:
            headers.update(token)


async def send(target: Target, case: Case[Any]) -> httpx.Response:
    kwargs = case.as_transport_kwargs(base_url="http://service")
    headers = {
        name: value
        for name, value in kwargs.get("headers", {}).items()
        if name.lower() not in ("authorization", "user-agent")
        and not name.lower().startswith(("webhook-", "x-"))
    }
    raw: bytes | None = None
    if "json" in kwargs:
        raw = json.dumps(kwargs["json"], ensure_ascii=False).encode()
        headers["Content-Type"] = "application/json"
    elif isinstance(kwargs.get("data"), str | bytes):
        data = kwargs["data"]
        raw = data.encode() if isinstance(data, str) else data
    form = kwargs.get("data") if isinstance(kwargs.get("data"), dict) else None
    if form is not None and "api_key" in form:  # Open311's key travels in the form
        form = form | {"api_key": secrets.DEVELOPMENT_OPEN311_KEYS["web"]}
    authorize(target, case, headers, raw)
    request = target.http.build_request(
        case.method,
        case.formatted_path,
        params=kwargs.get("params"),
        headers=headers,
        content=raw,
        data=form,
    )
    response = await target.http.send(request)
    if target.after is not None:
        await target.after(case, response)
    return response


@cache
def schema_of(app: FastAPI) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_dict(app.openapi())


def documented_bodies(app: FastAPI, method: str, path: str) -> list[Any]:
    """The request bodies the document shows a vendor (valid, so the deeper code runs)."""
    document = app.openapi()
    operation = document["paths"][path][method.lower()]
    media = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
    bodies = [example["value"] for example in media.get("examples", {}).values()]
    if "example" in media:
        bodies.append(media["example"])
    name = str(media.get("schema", {}).get("$ref", "")).rsplit("/", 1)[-1]
    if name:
        bodies += document["components"]["schemas"][name].get("examples", [])
    return bodies


def cases(target: Target, method: str, path: str) -> st.SearchStrategy[Case[Any]]:
    """Valid and invalid requests by the document; some naming things that exist, some with
    the body the document shows."""
    operation = schema_of(target.app)[path][method]
    known = {name: values for name, values in target.known.items() if "{" + name + "}" in path}
    existing = st.fixed_dictionaries(
        {name: st.sampled_from(values) for name, values in known.items()}
    )
    strategies = [
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    ]

    def existing_with(body: Any = NOT_SET) -> st.SearchStrategy[Case[Any]]:
        def generated(parameters: dict[str, str]) -> st.SearchStrategy[Case[Any]]:
            return operation.as_strategy(
                GenerationMode.POSITIVE, path_parameters=parameters, body=body
            )

        return existing.flatmap(generated)

    if known:
        strategies.append(existing_with())
    strategies += [existing_with(body) for body in documented_bodies(target.app, method, path)]
    return st.one_of(strategies)


async def fuzz(target: Target, method: str, path: str) -> None:
    """Draw the examples in a worker thread; each request goes back to the test's event loop
    (where the service and its database connections live)."""
    loop = asyncio.get_running_loop()

    # Drawing a request and answering it takes more than hypothesis's 200 ms budget, and the
    # document's patterns (ticket numbers, rule codes) filter out many drawn strings. No
    # shrinking: against a database it takes minutes; the failure's curl line reproduces it.
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(cases(target, method, path))
    def answers_as_documented(case: Case[Any]) -> None:
        response = asyncio.run_coroutine_threadsafe(send(target, case), loop).result(timeout=30)
        case.validate_response(response, checks=CHECKS)

    await asyncio.to_thread(answers_as_documented)


@pytest.fixture(autouse=True)
def quiet_client_log() -> Iterator[None]:
    """The test client's own line per request names the generated path, whose digits can look
    like a mobile number to the session's check; the services' logs stay as they are."""
    client_log = logging.getLogger("httpx")
    level = client_log.level
    client_log.setLevel(logging.WARNING)
    yield
    client_log.setLevel(level)


@pytest.fixture(scope="module")
async def intake_target(intake: IntakeClient) -> Target:  # noqa: F811
    created = await intake.post("/v1/tickets", ticket_body())
    assert created.status_code == 201, created.text
    entry = await intake.http.post(
        "/v1/knowledge",
        headers=bearer(SUPERVISOR_TOKEN),
        json={
            "question": "生成的请求如何查询知识库条目？",
            "answer": "按条目编号查询，草稿仅班长可见。",
            "unit_id": "U015",
            "category": "政务服务类",
        },
    )
    assert entry.status_code == 201, entry.text
    return Target(
        "intake",
        intake_app,
        intake.http,
        known={"ticket_no": [created.json()["ticket_no"]], "entry_id": [entry.json()["entry_id"]]},
    )


@pytest.fixture(scope="module")
async def dispatch_target(dispatch: Dispatch) -> AsyncIterator[Target]:  # noqa: F811
    ticket, unit = await dispatch.forwarded(), await dispatch.new_unit()
    created: list[str] = [unit]

    async def note_units(case: Case[Any], response: httpx.Response) -> None:
        if case.method == "POST" and case.path == "/v1/units" and response.status_code == 201:
            created.append(response.json()["unit_id"])

    yield Target(
        "dispatch",
        dispatch_app,
        dispatch.http,
        known={"ticket_no": [ticket], "unit_id": [unit, "U011"]},
        unit_key=await dispatch.key_for("U011"),
        after=note_units,
    )
    for unit_id in created:  # units made up by the fuzzer must not take real tickets afterwards
        await dispatch.http.patch(
            f"/v1/units/{unit_id}", json={"active": False}, headers=dispatch.as_supervisor()
        )


@pytest.fixture(scope="module")
async def callback_target(callback: Callback) -> Target:  # noqa: F811
    closed = await callback.closed_ticket()
    return Target("callback", callback_app, callback.http, known={"ticket_no": [closed]})


@pytest.mark.parametrize(("method", "path"), operations_of(intake_app))
async def test_intake_answers_as_documented(intake_target: Target, method: str, path: str) -> None:
    await fuzz(intake_target, method, path)


@pytest.mark.parametrize(("method", "path"), operations_of(dispatch_app))
async def test_dispatch_answers_as_documented(
    dispatch_target: Target, method: str, path: str
) -> None:
    await fuzz(dispatch_target, method, path)


@pytest.mark.parametrize(("method", "path"), operations_of(callback_app))
async def test_callback_answers_as_documented(
    callback_target: Target, method: str, path: str
) -> None:
    await fuzz(callback_target, method, path)


@pytest.mark.parametrize(("method", "path"), operations_of(scoring_app))
async def test_scoring_answers_as_documented(
    scoring: Scoring,  # noqa: F811
    method: str,
    path: str,
) -> None:
    await fuzz(Target("scoring", scoring_app, scoring.http), method, path)


@pytest.mark.parametrize(("method", "path"), operations_of(sync_app))
async def test_provincial_sync_answers_as_documented(
    sync: Sync,  # noqa: F811
    method: str,
    path: str,
) -> None:
    await fuzz(Target("provincial-sync", sync_app, sync.http), method, path)


def failing_app() -> FastAPI:
    """A route that fails on every input, documented as our routes are."""
    app = FastAPI()
    install_problem_handlers(app)
    install_openapi(app)

    @app.get("/things/{n}", responses=problem_responses(404))
    async def thing(n: int) -> dict[str, int]:
        raise RuntimeError("a bug")

    return app


async def test_a_route_that_answers_500_fails_its_operations_test() -> None:
    app = failing_app()
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://toy") as http:
        with pytest.raises(FailureGroup, match="Server error"):
            await fuzz(Target("toy", app, http), "GET", "/things/{n}")
