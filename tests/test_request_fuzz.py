"""Property-based: any body a client can send to any endpoint — well-formed or not, with a NUL
character or a string a thousand times too long — gets an answer, never a 500, and a refusal
names the field. Bodies come from each request model's JSON schema, then are spoiled; webhooks
are signed as their senders would."""

import asyncio
import json
from collections.abc import Callable, Coroutine
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from hotline.callback.schemas import SurveyResultIn
from hotline.dispatch.schemas import (
    DispatchIn,
    ExtensionIn,
    ReplyIn,
    ReturnIn,
    ReviewIn,
    UnitCreate,
    UnitUpdate,
)
from hotline.intake.knowledge_schemas import KnowledgeEntryIn
from hotline.intake.schemas import CallRecordIn, MergeIn, NoticeIn, TicketIn
from hotline.shared.web.operations import DiscardIn
from hotline.shared.web.webhooks import signature_headers
from tests.callback.conftest import RESULT_SECRET, Callback, callback  # noqa: F401 (fixture)
from tests.dispatch.conftest import Dispatch, dispatch  # noqa: F401 (fixture)
from tests.intake.conftest import (  # noqa: F401 (fixture)
    GAS_SECRET,
    NEW_SECRET,
    SUPERVISOR,
    IntakeClient,
    intake,
)
from tests.schema_strategies import from_model_schema

EXAMPLES = 30
NUL = "\x00"
# The services under test use `random` (the Kafka client's jitter) while examples are drawn.
pytestmark = pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning")


def spoiled(model: type[BaseModel]) -> st.SearchStrategy[tuple[dict[str, Any], str]]:
    """(body, how it was spoiled): valid by the schema, or with a NUL, or far too long."""
    bodies = from_model_schema(model.model_json_schema())
    return st.tuples(bodies, st.sampled_from(["as generated", "nul", "bloated"])).map(
        lambda pair: _spoil(pair[0], pair[1])
    )


def _spoil(body: dict[str, Any], how: str) -> tuple[dict[str, Any], str]:
    strings = [key for key, value in body.items() if isinstance(value, str)]
    if how == "as generated" or not strings:
        return body, "as generated"
    key = strings[0]
    value = body[key] + NUL if how == "nul" else body[key] * 1000 + "长" * 100_000
    return body | {key: value}, how


def signed(secret: str, body: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    raw = json.dumps(body, ensure_ascii=False)
    return raw.encode(), signature_headers(secret, raw)


Send = Callable[[dict[str, Any]], Coroutine[Any, Any, httpx.Response]]


async def fuzz(model: type[BaseModel], send: Send) -> None:
    """Run the property in a worker thread; requests go back to the test's own event loop."""
    loop = asyncio.get_running_loop()
    failures: list[str] = []

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        database=None,
    )
    @given(spoiled(model))
    def answers_without_failing(case: tuple[dict[str, Any], str]) -> None:
        body, how = case
        response = asyncio.run_coroutine_threadsafe(send(body), loop).result(timeout=30)
        assert response.status_code < 500, (how, response.text[:500])
        if how == "nul":
            assert 400 <= response.status_code < 500, (how, response.status_code)
        if response.status_code == 422:
            assert all(error["field"] for error in response.json()["errors"]), response.text

    try:
        await asyncio.to_thread(answers_without_failing)
    except AssertionError as error:  # hypothesis re-raises the shrunk failing example
        failures.append(str(error))
    assert failures == []


@pytest.mark.parametrize(
    ("path", "model", "secret"),
    [
        ("/v1/calls", CallRecordIn, NEW_SECRET),
        ("/v1/tickets", TicketIn, NEW_SECRET),
        ("/v1/notices", NoticeIn, GAS_SECRET),
    ],
)
async def test_intakes_webhooks_never_fail_on_any_body(
    intake: IntakeClient,  # noqa: F811
    path: str,
    model: type[BaseModel],
    secret: str,
) -> None:
    async def send(body: dict[str, Any]) -> httpx.Response:
        raw, headers = signed(secret, body)
        return await intake.http.post(path, content=raw, headers=headers)

    await fuzz(model, send)


async def test_merging_never_fails_on_any_body(intake: IntakeClient) -> None:  # noqa: F811
    async def send(body: dict[str, Any]) -> httpx.Response:
        return await intake.http.post("/v1/tickets/SY1/merge", json=body, headers=SUPERVISOR)

    await fuzz(MergeIn, send)


@pytest.mark.parametrize(
    ("method", "path"), [("POST", "/v1/knowledge"), ("PUT", "/v1/knowledge/K1")]
)
async def test_knowledge_writes_never_fail_on_any_body(
    intake: IntakeClient,  # noqa: F811
    method: str,
    path: str,
) -> None:
    async def send(body: dict[str, Any]) -> httpx.Response:
        return await intake.http.request(method, path, json=body, headers=SUPERVISOR)

    await fuzz(KnowledgeEntryIn, send)


@pytest.mark.parametrize(
    ("method", "path", "model", "who"),
    [
        ("POST", "/v1/units", UnitCreate, "supervisor"),
        ("PATCH", "/v1/units/{unit}", UnitUpdate, "supervisor"),
        ("POST", "/v1/tickets/{ticket}/dispatch", DispatchIn, "supervisor"),
        ("POST", "/v1/tickets/{ticket}/return-review", ReviewIn, "supervisor"),
        ("POST", "/v1/tickets/{ticket}/extension-review", ReviewIn, "supervisor"),
        ("POST", "/v1/tickets/{ticket}/reply-review", ReviewIn, "supervisor"),
        ("POST", "/v1/unit/tickets/{ticket}/reply", ReplyIn, "unit"),
        ("POST", "/v1/unit/tickets/{ticket}/return", ReturnIn, "unit"),
        ("POST", "/v1/unit/tickets/{ticket}/extension", ExtensionIn, "unit"),
        ("POST", "/v1/dead-letters/1/discard", DiscardIn, "operator"),
    ],
)
async def test_dispatchs_api_never_fails_on_any_body(
    dispatch: Dispatch,  # noqa: F811
    method: str,
    path: str,
    model: type[BaseModel],
    who: str,
) -> None:
    ticket = await dispatch.forwarded()
    headers = {
        "supervisor": dispatch.as_supervisor(),
        "unit": await dispatch.key_for("U011"),
        "operator": {"Authorization": "Bearer development-only-operator-token"},
    }[who]
    url = path.format(ticket=ticket, unit=await dispatch.new_unit())
    created: list[str] = []

    async def send(body: dict[str, Any]) -> httpx.Response:
        response = await dispatch.http.request(method, url, json=body, headers=headers)
        if method == "POST" and url == "/v1/units" and response.status_code == 201:
            created.append(response.json()["unit_id"])
        return response

    try:
        await fuzz(model, send)
    finally:  # units made up by the fuzzer must not take real tickets afterwards
        for unit_id in created:
            await dispatch.http.patch(
                f"/v1/units/{unit_id}", json={"active": False}, headers=dispatch.as_supervisor()
            )


async def test_survey_results_never_fail_on_any_body(callback: Callback) -> None:  # noqa: F811
    ticket = await callback.closed_ticket()

    async def send(body: dict[str, Any]) -> httpx.Response:
        raw, headers = signed(RESULT_SECRET, body)
        return await callback.http.post(
            f"/v1/callbacks/{ticket}/result", content=raw, headers=headers
        )

    await fuzz(SurveyResultIn, send)
