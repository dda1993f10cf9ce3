"""The simulated province's HTTP app: `uvicorn hotline.provincial_sync.province.app:app`, or
`hotline province`.

`POST /api/v1/records` takes uploads in the `generic-v1` format; a background task pushes spot
checks and findings to provincial-sync; `/admin` (a bearer admin token) makes the province
misbehave, shows what it holds, and pushes on demand. Every answer is the format's
`{code, message, data}` envelope, errors included.
"""

import asyncio
import hmac
import logging
import os
import random
from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

import httpx
from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from hotline.provincial_sync.adapters import SignatureError
from hotline.provincial_sync.adapters.generic_v1 import (
    BAD_REQUEST,
    BAD_SIGNATURE,
    OK,
    PLATFORM_ERROR,
    RATE_LIMITED,
    STALE_REQUEST,
    UPLOAD_PATH,
    Envelope,
    ProvinceFinding,
    SeenNonces,
    SpotCheck,
    UploadBatch,
    verify,
)
from hotline.provincial_sync.province.config import ProvinceSettings
from hotline.provincial_sync.province.push import Pusher
from hotline.provincial_sync.province.store import Behaviour, Province
from hotline.shared import loops
from hotline.shared.logs import configure_logging, default_log_format
from hotline.shared.web.app import NO_OPENTELEMETRY
from hotline.shared.web.correlation import install_request_context

log = logging.getLogger(__name__)

# The admin API's own code for a missing or wrong token (not part of the exchange format).
UNAUTHORIZED = "4010"
SUCCESS = "成功"
STOP_GRACE_SECONDS = 5.0

M = TypeVar("M", bound=BaseModel)


class Refusal(Exception):
    """An answer other than success, as an envelope."""

    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers


def envelope(
    status: int,
    code: str,
    message: str,
    data: Any = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body = Envelope(code=code, message=message, data=data).model_dump(mode="json")
    return JSONResponse(body, status_code=status, headers=headers)


def success(data: Any = None) -> JSONResponse:
    return envelope(200, OK, SUCCESS, data)


def create_app(
    settings: ProvinceSettings | None = None,
    *,
    push_client: httpx.AsyncClient | None = None,
    rng: random.Random | None = None,
) -> FastAPI:
    """The app; `settings` default to the environment's (read at start), `push_client` to a
    client of its own (tests pass one that reaches an in-process receiver)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        resolved = settings or ProvinceSettings()
        if settings is None:
            configure_logging(
                service="province",
                level=resolved.log_level,
                log_format=resolved.log_format or default_log_format(resolved.environment),
            )
        province = Province(
            audit=resolved.audit, spot_check_share=resolved.spot_check_share, rng=rng
        )
        async with AsyncExitStack() as stack:
            client = push_client
            if client is None:
                client = httpx.AsyncClient(timeout=resolved.push_timeout_seconds)
                await stack.enter_async_context(client)
            pusher = Pusher(
                province,
                client,
                callback_url=resolved.callback_url,
                key_pair=resolved.callback_key_pair(),
            )
            app.state.settings, app.state.province, app.state.pusher = resolved, province, pusher
            app.state.nonces = SeenNonces()
            stop = asyncio.Event()
            task = asyncio.create_task(
                loops.every(stop, resolved.push_interval_seconds, pusher.flush, "province push"),
                name="province-push",
            )
            try:
                yield
            finally:
                stop.set()
                try:
                    await asyncio.wait_for(task, STOP_GRACE_SECONDS)
                except TimeoutError:
                    log.warning("province: a push still ran at shutdown; it was cancelled")

    app = FastAPI(
        title="12345 provincial platform (simulated)",
        description=__doc__ or "",
        version="0.1.0",
        lifespan=lifespan,
        telemetry=NO_OPENTELEMETRY,
    )
    install_request_context(app, service="province")
    _install_envelope_handlers(app)
    app.include_router(router)
    app.include_router(admin)
    return app


def _province(request: Request) -> Province:
    province: Province = request.app.state.province
    return province


def _pusher(request: Request) -> Pusher:
    pusher: Pusher = request.app.state.pusher
    return pusher


ProvinceDep = Annotated[Province, Depends(_province)]
PusherDep = Annotated[Pusher, Depends(_pusher)]

router = APIRouter()


@router.get("/healthz")
async def healthz() -> JSONResponse:
    return success({"status": "ok", "pid": os.getpid()})


@router.post(UPLOAD_PATH)
async def upload(request: Request, province: ProvinceDep) -> JSONResponse:
    """An `UploadBatch`, signed: one result per record (see `generic_v1`)."""

    def answer(
        status: int,
        code: str,
        message: str,
        data: Any = None,
        headers: dict[str, str] | None = None,
    ) -> JSONResponse:
        province.uploads_by_code[code] += 1
        return envelope(status, code, message, data, headers)

    body = await request.body()
    behaviour = province.behaviour
    if behaviour.delay_seconds:
        await asyncio.sleep(behaviour.delay_seconds)
    if behaviour.mode == "timeout":
        await asyncio.sleep(behaviour.timeout_seconds)
        return answer(504, PLATFORM_ERROR, "省平台超时 (simulated timeout)")
    if behaviour.mode == "rate_limit":
        retry_after = f"{behaviour.retry_after_seconds:g}"
        return answer(
            429,
            RATE_LIMITED,
            "请求过于频繁 (simulated rate limit)",
            headers={"Retry-After": retry_after},
        )
    if behaviour.mode == "down" or (
        behaviour.error_rate and province.random.random() < behaviour.error_rate
    ):
        return answer(behaviour.down_status, PLATFORM_ERROR, "省平台不可用 (simulated outage)")

    settings: ProvinceSettings = request.app.state.settings
    try:
        verify(request.headers, body, settings.signing_secrets(), request.app.state.nonces)
    except SignatureError as error:
        reason = str(error)
        stale = reason.startswith(("X-Timestamp", "X-Nonce"))
        return answer(401, STALE_REQUEST if stale else BAD_SIGNATURE, reason)
    try:
        batch = UploadBatch.model_validate_json(body)
    except ValidationError as error:
        first = error.errors()[0]
        field = "body" if first["type"] == "json_invalid" else ".".join(map(str, first["loc"]))
        return answer(400, BAD_REQUEST, f"{field or 'body'}: {first['msg']}")
    now = datetime.now(UTC)
    results = [answer.model_dump() for answer in province.receive_batch(batch.records, now)]
    return answer(200, OK, SUCCESS, {"results": results})


# --- admin ---------------------------------------------------------------------------------------


def _admin_token(request: Request) -> None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    settings: ProvinceSettings = request.app.state.settings
    known = settings.admin_secrets()
    if scheme.lower() != "bearer" or not any(
        hmac.compare_digest(token.encode(), secret.encode()) for secret in known
    ):
        raise Refusal(
            401,
            UNAUTHORIZED,
            "Authorization: a bearer admin token (HOTLINE_PROVINCE_ADMIN_TOKENS) is required",
            {"WWW-Authenticate": "Bearer"},
        )


admin = APIRouter(prefix="/admin", tags=["admin"], dependencies=[Depends(_admin_token)])


class QueuedSpotChecks(BaseModel):
    checks: list[dict[str, Any]] = Field(
        min_length=1, description="SpotCheck-shaped; checked_at defaults to now"
    )


class QueuedFindings(BaseModel):
    findings: list[dict[str, Any]] = Field(
        min_length=1, description="ProvinceFinding-shaped; found_at defaults to now"
    )


class RawCallback(BaseModel):
    path: str = Field(pattern=r"^/\S*$", examples=["/v1/province/spot-checks"])
    body: str
    # False: signed with a wrong secret. `headers` replace the signed ones (e.g. X-Timestamp).
    sign: bool = True
    headers: dict[str, str] = Field(default_factory=dict)


@admin.get("/behaviour")
async def get_behaviour(province: ProvinceDep) -> JSONResponse:
    return success(province.behaviour.model_dump())


@admin.put("/behaviour")
async def put_behaviour(behaviour: Behaviour, province: ProvinceDep) -> JSONResponse:
    """Replace the misbehaviour: fields left out take their defaults (normal)."""
    province.behaviour = behaviour
    return success(behaviour.model_dump())


@admin.post("/reset")
async def reset(province: ProvinceDep) -> JSONResponse:
    """Forget every record, key, arrival and queued push, and behave normally."""
    province.reset()
    return success()


@admin.get("/records")
async def records(
    province: ProvinceDep,
    record_type: str | None = None,
    record_id: str | None = None,
    include_payload: bool = False,
    limit: Annotated[int, Query(ge=1, le=100_000)] = 1000,
) -> JSONResponse:
    """The records held, each at its highest accepted version."""
    held = [
        record
        for record in province.records.values()
        if (record_type is None or record.record_type == record_type)
        and (record_id is None or record.record_id == record_id)
    ]
    return success(
        {
            "total": len(held),
            "records": [
                {
                    "record_type": record.record_type,
                    "record_id": record.record_id,
                    "version": record.version,
                    "keys": record.keys,
                    "changed_at": record.changed_at.isoformat(),
                    "received_at": record.received_at.isoformat(),
                    **({"payload": record.payload} if include_payload else {}),
                }
                for record in held[:limit]
            ],
        }
    )


@admin.get("/arrivals")
async def arrivals(
    province: ProvinceDep,
    record_id: str | None = None,
    record_type: str | None = None,
    limit: Annotated[int, Query(ge=1, le=100_000)] = 1000,
) -> JSONResponse:
    """Every record that came (invalid ones aside), in order; the last `limit` of them."""
    matching = [
        arrival
        for arrival in province.arrivals
        if (record_id is None or arrival.record_id == record_id)
        and (record_type is None or arrival.record_type == record_type)
    ]
    return success(
        {
            "total": len(matching),
            "arrivals": [
                {
                    "record_type": arrival.record_type,
                    "record_id": arrival.record_id,
                    "version": arrival.version,
                    "idempotency_key": arrival.idempotency_key,
                    "code": arrival.code,
                    "received_at": arrival.received_at.isoformat(),
                }
                for arrival in matching[-limit:]
            ],
        }
    )


@admin.get("/summary")
async def summary(province: ProvinceDep) -> JSONResponse:
    return success(province.summary())


@admin.post("/spot-checks")
async def queue_spot_checks(body: QueuedSpotChecks, province: ProvinceDep) -> JSONResponse:
    """Queue spot checks to push (as if the province's staff had made them)."""
    now = datetime.now(UTC).isoformat()
    checks = [
        _valid(SpotCheck, {"checked_at": now} | item, f"checks.{index}")
        for index, item in enumerate(body.checks)
    ]
    province.spot_checks.extend(checks)
    return success({"queued": len(checks), "pending": len(province.spot_checks)})


@admin.post("/findings")
async def queue_findings(body: QueuedFindings, province: ProvinceDep) -> JSONResponse:
    """Queue findings to push (as if the province's own checks had found them)."""
    now = datetime.now(UTC).isoformat()
    findings = [
        _valid(ProvinceFinding, {"found_at": now} | item, f"findings.{index}")
        for index, item in enumerate(body.findings)
    ]
    province.findings.extend(findings)
    return success({"queued": len(findings), "pending": len(province.findings)})


@admin.post("/push")
async def push(request: Request, pusher: PusherDep) -> JSONResponse:
    """Push what is queued now; what each request to the callback answered."""
    _callback_url(request)
    deliveries = await pusher.flush()
    return success({"pushes": [delivery.as_dict() for delivery in deliveries]})


@admin.post("/raw-callback")
async def raw_callback(body: RawCallback, request: Request, pusher: PusherDep) -> JSONResponse:
    """POST any text to the callback, signed or not: what it answered."""
    _callback_url(request)
    delivery = await pusher.post_raw(
        body.path, body.body.encode(), sign=body.sign, extra_headers=body.headers
    )
    return success({"status": delivery.status, "body": delivery.body})


def _callback_url(request: Request) -> str:
    settings: ProvinceSettings = request.app.state.settings
    if settings.callback_url is None:
        raise Refusal(409, BAD_REQUEST, "HOTLINE_PROVINCE_CALLBACK_URL is not set: no callback")
    return settings.callback_url


def _valid(model: type[M], value: dict[str, Any], where: str) -> M:
    try:
        return model.model_validate(value)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join([where, *map(str, first["loc"])])
        raise Refusal(422, BAD_REQUEST, f"{field}: {first['msg']}") from None


# --- every error as an envelope -----------------------------------------------------------------


def _install_envelope_handlers(app: FastAPI) -> None:
    async def refusal(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, Refusal)
        return envelope(error.status, error.code, error.message, headers=error.headers)

    async def http_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, StarletteHTTPException)
        code = PLATFORM_ERROR if error.status_code >= 500 else BAD_REQUEST
        return envelope(error.status_code, code, str(error.detail), headers=error.headers)

    async def invalid_request(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, RequestValidationError)
        messages = []
        for problem in error.errors()[:3]:
            location = [str(part) for part in problem["loc"]]
            if location and location[0] in ("body", "query", "path", "header"):
                location = location[1:]
            messages.append(f"{'.'.join(location) or 'body'}: {problem['msg']}")
        return envelope(422, BAD_REQUEST, "; ".join(messages))

    async def failure(request: Request, error: Exception) -> JSONResponse:
        log.exception("province: %s %s failed", request.method, request.url.path)
        return envelope(500, PLATFORM_ERROR, "省平台内部错误 (internal error)")

    app.add_exception_handler(Refusal, refusal)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(Exception, failure)


app = create_app()
