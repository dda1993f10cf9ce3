"""Every error is an RFC 9457 problem+json body that names the field at fault."""

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel, Field

from hotline.shared.web.problems import Problem, install_problem_handlers


class Caller(BaseModel):
    number: str = Field(pattern=r"^1\d{10}$")


class TicketIn(BaseModel):
    caller: Caller
    content: str = Field(min_length=1)


def app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)

    @app.post("/tickets")
    async def create(ticket: TicketIn) -> dict[str, str]:
        if ticket.content == "duplicate":
            raise Problem(409, "duplicate-ticket", "This ticket exists.", field="content")
        return {"status": "ok"}

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret internals")

    return app


async def call(method: str, path: str, **kwargs: object) -> httpx.Response:
    transport = httpx.ASGITransport(app=app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.request(method, path, **kwargs)  # type: ignore[arg-type]


async def test_invalid_input_names_each_field_at_fault() -> None:
    response = await call("POST", "/tickets", json={"caller": {"number": "12345"}, "content": ""})

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["type"].endswith("/validation-error")
    assert body["instance"] == "/tickets"
    assert [error["field"] for error in body["errors"]] == ["caller.number", "content"]


async def test_a_domain_problem_keeps_its_status_code_and_field() -> None:
    response = await call(
        "POST", "/tickets", json={"caller": {"number": "13812341234"}, "content": "duplicate"}
    )

    assert response.status_code == 409
    body = response.json()
    assert body["type"].endswith("/duplicate-ticket")
    assert body["errors"] == [{"field": "content", "message": "This ticket exists."}]


async def test_an_unexpected_error_is_a_problem_that_reveals_nothing() -> None:
    response = await call("GET", "/boom")

    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert "secret" not in response.text


def test_a_problem_cannot_replace_its_own_members_with_extra_ones() -> None:
    with pytest.raises(ValueError, match="status"):
        Problem(409, "conflict", "taken", extra={"status": "closed"})
