"""Provincial-sync's HTTP API: the upload's status, the worklist of blocked documents and the
decisions on them (supervisors), and the province's callbacks (spot checks, findings)."""

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.provincial_sync import reports, service
from hotline.provincial_sync.adapters import ReportError, SignatureError
from hotline.provincial_sync.adapters.generic_v1 import FindingBatch, SpotCheckBatch
from hotline.provincial_sync.deps import Context, Reader, Supervisor
from hotline.provincial_sync.schemas import (
    Count,
    DocumentOut,
    DocumentState,
    ParkedPage,
    ReleaseAllIn,
    ReleaseIn,
    RequeueAllIn,
    RequeueIn,
    SyncStatus,
    Worklist,
)
from hotline.shared.db import after_commit
from hotline.shared.messaging.events import RecordKind
from hotline.shared.web.deps import DbSession
from hotline.shared.web.openapi import raw_body_security
from hotline.shared.web.problems import Problem
from hotline.shared.web.schemas import QueryText

PROBLEMS: dict[int | str, dict[str, Any]] = {
    401: {"description": "No reader or supervisor token"},
    422: {"description": "A bad filter or body; `errors` names the field"},
}
sync_router = APIRouter(prefix="/v1/sync", tags=["sync"], responses=PROBLEMS)
province_router = APIRouter(
    prefix="/v1/province",
    tags=["province callbacks"],
    responses={
        401: {"description": "A bad signature, app key, timestamp or nonce (names the header)"},
        422: {"description": "A body the exchange format does not allow (names the field)"},
    },
)

Kind = Annotated[RecordKind, Path(description="ticket or call")]
RuleCode = Annotated[str | None, Query(pattern=r"^[A-Z]\d{2}$", description="A rule: T07")]
Cursor = Annotated[str | None, Query(max_length=200, description="`next_after` of a page")]
RecordId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[\w.:-]+$")]


@sync_router.get("/status")
async def status(reader: Reader, session: DbSession, context: Context) -> SyncStatus:
    """Backlog by kind and status, the oldest pending change, the last success, failures of
    the last 24 hours by reason, and the circuit breaker."""
    return SyncStatus(
        backlog=await service.backlog(session),
        oldest_pending_seconds=await service.oldest_pending_seconds(session),
        last_success_at=await service.last_success(session),
        failures_last_24h=await service.failures_since(session),
        breaker=context.breaker.state,
        province_url=context.options.province_url or "",
    )


@sync_router.get("/worklist")
async def worklist(
    reader: Reader,
    session: DbSession,
    code: RuleCode = None,
    unit: Annotated[
        QueryText | None, Query(max_length=100, description="The handling unit")
    ] = None,
    kind: RecordKind | None = None,
    after: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Worklist:
    """Documents the gate blocked, to be fixed where the record lives (intake, dispatch) or
    released by a supervisor; with counts by rule and by unit."""
    return await service.worklist(
        session, code=code, unit=unit, kind=kind, after=after, limit=limit
    )


@sync_router.get("/parked")
async def parked(
    reader: Reader,
    session: DbSession,
    after: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> ParkedPage:
    """Documents the province kept refusing, with its reason, oldest change first."""
    return await service.parked(session, after=after, limit=limit)


@sync_router.get(
    "/documents/{kind}/{record_id}",
    responses={404: {"description": "No document of this record"}},
)
async def document(
    kind: Kind, record_id: RecordId, reader: Reader, session: DbSession
) -> DocumentOut:
    """One document: its newest version, the gate's findings, and its latest attempts."""
    return await service.document(session, kind, record_id)


@sync_router.post(
    "/documents/{kind}/{record_id}/release",
    responses={
        404: {"description": "No such document"},
        409: {"description": "Not blocked, or a newer version came"},
    },
)
async def release(
    kind: Kind,
    record_id: RecordId,
    body: Annotated[ReleaseIn, Body()],
    supervisor: Supervisor,
    session: DbSession,
) -> DocumentState:
    """Send a blocked version as it is, with the reason (kept with the document)."""
    return await service.release(
        session, kind, record_id, version=body.version, reason=body.reason, by=supervisor
    )


@sync_router.post(
    "/documents/{kind}/{record_id}/requeue",
    responses={404: {"description": "No such document"}, 409: {"description": "Not parked"}},
)
async def requeue(
    kind: Kind,
    record_id: RecordId,
    supervisor: Supervisor,
    session: DbSession,
    body: Annotated[RequeueIn | None, Body()] = None,
) -> DocumentState:
    """Send a parked document again, its refusals counted from zero."""
    return await service.requeue(
        session, kind, record_id, by=supervisor, note=body.note if body else None
    )


@sync_router.post("/worklist/release")
async def release_all(
    body: Annotated[ReleaseAllIn, Body()], supervisor: Supervisor, session: DbSession
) -> Count:
    """Send every document one rule blocks (in a unit, of a kind) as it is, with one reason."""
    return Count(
        documents=await service.release_all(
            session,
            code=body.code,
            unit=body.unit,
            kind=body.kind,
            reason=body.reason,
            by=supervisor,
        )
    )


@sync_router.post("/parked/requeue")
async def requeue_all(
    body: Annotated[RequeueAllIn, Body()], supervisor: Supervisor, session: DbSession
) -> Count:
    """Send every parked document (refused with one code, of a unit, of a kind) again."""
    return Count(
        documents=await service.requeue_all(
            session, code=body.code, unit=body.unit, kind=body.kind, by=supervisor, note=body.note
        )
    )


async def _verified_body(request: Request, context: Context, session: AsyncSession) -> bytes:
    """The callback's body, its signature checked; its nonce is used up only once what it
    carried is committed (the province may send a request that failed again, as it was)."""
    body = await request.body()
    try:
        nonce = context.adapter.verify_callback(request.headers, body)
    except SignatureError as error:
        header = str(error).split(":", 1)[0]
        raise Problem(401, "bad-signature", str(error), field=header) from None
    after_commit(session, lambda: context.adapter.remember_nonce(nonce))
    return body


def _unreadable(error: ReportError) -> Problem:
    detail = f"Invalid input: {error.field}: {error}"
    return Problem(422, "validation-error", detail, field=error.field)


PROVINCE_HEADERS = ("X-App-Key", "X-Timestamp", "X-Nonce", "X-Signature")


@province_router.post(
    "/spot-checks", openapi_extra=raw_body_security(SpotCheckBatch, *PROVINCE_HEADERS)
)
async def spot_checks(request: Request, context: Context, session: DbSession) -> dict[str, Any]:
    """The province's spot checks of our tickets (the exchange format's `SpotCheckBatch`),
    signed with the city's key pair; each answered applied, duplicate or unknown-record."""
    body = await _verified_body(request, context, session)
    try:
        checks = context.adapter.read_spot_checks(body)
    except ReportError as error:
        raise _unreadable(error) from None
    return context.adapter.callback_answer(await reports.take_spot_checks(session, checks))


@province_router.post("/findings", openapi_extra=raw_body_security(FindingBatch, *PROVINCE_HEADERS))
async def findings(request: Request, context: Context, session: DbSession) -> dict[str, Any]:
    """The province's findings on records we uploaded (`FindingBatch`), signed likewise."""
    body = await _verified_body(request, context, session)
    try:
        found = context.adapter.read_findings(body)
    except ReportError as error:
        raise _unreadable(error) from None
    return context.adapter.callback_answer(await reports.take_findings(session, found))
