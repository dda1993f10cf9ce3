"""What supervisors and operators ask of provincial-sync: the status of the upload, the worklist
of blocked documents, one document's history, and their decisions (release, send again)."""

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, literal_column, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.provincial_sync.models import DOCUMENT_STATUSES, Document, UploadAttempt
from hotline.provincial_sync.schemas import (
    AttemptOut,
    Backlog,
    DocumentOut,
    DocumentState,
    GateFinding,
    ParkedItem,
    ParkedPage,
    WorkItem,
    Worklist,
)
from hotline.shared.clock import business_now, wall_now
from hotline.shared.messaging.events import RecordKind
from hotline.shared.web.problems import Problem

RECENT_ATTEMPTS = 50


async def backlog(session: AsyncSession) -> dict[str, Backlog]:
    """What waits, by kind and status (synced documents, the great majority, are not counted:
    the status index answers this without reading them)."""
    waiting = [status for status in DOCUMENT_STATUSES if status != "synced"]
    counts: dict[str, dict[str, int]] = {
        kind: dict.fromkeys(waiting, 0) for kind in ("ticket", "call")
    }
    for kind, status, n in await session.execute(
        select(Document.kind, Document.status, func.count())
        .where(Document.status.in_(waiting))
        .group_by(Document.kind, Document.status)
    ):
        counts.setdefault(kind, dict.fromkeys(waiting, 0))[status] = n
    return {kind: Backlog(**by_status) for kind, by_status in counts.items()}


async def oldest_pending_seconds(session: AsyncSession) -> float | None:
    oldest = await session.scalar(
        select(func.min(Document.changed_at)).where(Document.status == "pending")
    )
    return (business_now() - oldest).total_seconds() if oldest else None


async def last_success(session: AsyncSession) -> Any:
    return await session.scalar(select(func.max(Document.accepted_at)))


async def failures_since(session: AsyncSession, hours: float = 24) -> dict[str, int]:
    reason = func.coalesce(UploadAttempt.code, UploadAttempt.outcome)
    rows = await session.execute(
        select(UploadAttempt.outcome, reason, func.count())
        .where(
            UploadAttempt.attempted_at > wall_now() - timedelta(hours=hours),
            UploadAttempt.outcome.in_(("refused", "failed", "rate-limited")),
        )
        .group_by(UploadAttempt.outcome, reason)
    )
    return {f"{outcome}:{code}": n for outcome, code, n in rows}


def _matching(status: str, *also: Any, unit: str | None, kind: RecordKind | None) -> list[Any]:
    """Documents of one status, and of one unit and one kind where those are given."""
    conditions = [Document.status == status, *also]
    if unit is not None:
        conditions.append(Document.unit_name == unit)
    if kind is not None:
        conditions.append(Document.kind == kind)
    return conditions


def _requeued(by: str, note: str | None) -> dict[str, Any]:
    """What a parked document becomes when it is sent again: due now, its refusals forgotten."""
    return {
        "status": "pending",
        "refusals": 0,
        "next_attempt_at": func.now(),
        "last_message": f"re-queued by {by}" + (f": {note}" if note else ""),
    }


def _finding_filter(code: str | None) -> Any:
    if code is None:
        return True
    return Document.findings.contains([{"code": code, "mode": "block"}])


async def worklist(
    session: AsyncSession,
    *,
    code: str | None,
    unit: str | None,
    kind: RecordKind | None,
    after: str | None,
    limit: int,
) -> Worklist:
    """Blocked documents, oldest change first; counts by rule and by unit under the filters."""
    where = and_(*_matching("blocked", _finding_filter(code), unit=unit, kind=kind))
    total = await session.scalar(select(func.count()).where(where)) or 0
    finding = func.jsonb_array_elements(Document.findings).table_valued("value").alias("finding")
    rule = finding.c.value.op("->>")("code")
    by_rule = {
        c: n
        for c, n in await session.execute(
            select(rule, func.count(func.distinct(Document.record_id)))
            .select_from(Document)
            .join(finding, literal_column("true"))
            .where(where, finding.c.value.op("->>")("mode") == "block")
            .group_by(rule)
            .order_by(func.count().desc())
        )
    }
    by_unit = {
        (u or "-"): n
        for u, n in await session.execute(
            select(Document.unit_name, func.count())
            .where(where)
            .group_by(Document.unit_name)
            .order_by(func.count().desc())
        )
    }
    page = select(Document).where(where)
    if after:
        page = page.where(tuple_(Document.changed_at, Document.record_id) > _cursor(after))
    rows = list(
        await session.scalars(page.order_by(Document.changed_at, Document.record_id).limit(limit))
    )
    items = [
        WorkItem(
            kind=row.kind,
            record_id=row.record_id,
            version=row.version,
            unit_name=row.unit_name,
            changed_at=row.changed_at,
            findings=[GateFinding.model_validate(f) for f in row.findings],
        )
        for row in rows
    ]
    last = rows[-1] if len(rows) == limit else None
    return Worklist(
        total=total,
        by_rule=by_rule,
        by_unit=by_unit,
        items=items,
        next_after=f"{last.changed_at.isoformat()}|{last.record_id}" if last else None,
    )


def _cursor(after: str) -> tuple[datetime, str]:
    changed, _, record_id = after.partition("|")
    bad = Problem(422, "bad-cursor", "after is not a cursor this API gave.", field="after")
    try:
        moment = datetime.fromisoformat(changed)
    except ValueError:
        raise bad from None
    if moment.tzinfo is None or not record_id:
        raise bad
    return moment, record_id


async def parked(session: AsyncSession, *, after: str | None, limit: int) -> ParkedPage:
    where = Document.status == "parked"
    total = await session.scalar(select(func.count()).where(where)) or 0
    page = select(Document).where(where)
    if after:
        page = page.where(tuple_(Document.changed_at, Document.record_id) > _cursor(after))
    rows = list(
        await session.scalars(page.order_by(Document.changed_at, Document.record_id).limit(limit))
    )
    last = rows[-1] if len(rows) == limit else None
    return ParkedPage(
        total=total,
        next_after=f"{last.changed_at.isoformat()}|{last.record_id}" if last else None,
        items=[
            ParkedItem(
                kind=row.kind,
                record_id=row.record_id,
                version=row.version,
                unit_name=row.unit_name,
                refusals=row.refusals,
                last_code=row.last_code,
                last_message=row.last_message,
                changed_at=row.changed_at,
            )
            for row in rows
        ],
    )


def _no_such_document(kind: RecordKind, record_id: str) -> Problem:
    return Problem(404, "no-such-document", f"No {kind} document {record_id}.", field="record_id")


async def _held(session: AsyncSession, kind: RecordKind, record_id: str) -> Document:
    document = await session.get(Document, (kind, record_id), with_for_update=True)
    if document is None:
        raise _no_such_document(kind, record_id)
    return document


async def document(session: AsyncSession, kind: RecordKind, record_id: str) -> DocumentOut:
    held = await session.get(Document, (kind, record_id))
    if held is None:
        raise _no_such_document(kind, record_id)
    attempts = await session.scalars(
        select(UploadAttempt)
        .where(UploadAttempt.kind == kind, UploadAttempt.record_id == record_id)
        .order_by(UploadAttempt.attempt_id.desc())
        .limit(RECENT_ATTEMPTS)
    )
    return DocumentOut(
        kind=kind,
        record_id=record_id,
        version=held.version,
        status=held.status,
        uploaded_version=held.uploaded_version,
        changed_at=held.changed_at,
        accepted_at=held.accepted_at,
        unit_name=held.unit_name,
        findings=[GateFinding.model_validate(f) for f in held.findings],
        refusals=held.refusals,
        next_attempt_at=held.next_attempt_at,
        last_code=held.last_code,
        last_message=held.last_message,
        released_version=held.released_version,
        released_by=held.released_by,
        release_reason=held.release_reason,
        content=held.content,
        attempts=[
            AttemptOut(
                batch_id=str(a.batch_id),
                version=a.version,
                attempted_at=a.attempted_at,
                outcome=a.outcome,
                http_status=a.http_status,
                code=a.code,
                message=a.message,
                latency_ms=a.latency_ms,
            )
            for a in attempts
        ],
    )


async def release(
    session: AsyncSession,
    kind: RecordKind,
    record_id: str,
    *,
    version: int,
    reason: str,
    by: str,
) -> DocumentState:
    """A supervisor sends a blocked version as it is, with a reason (a newer version is gated
    again)."""
    held = await _held(session, kind, record_id)
    if held.status != "blocked":
        raise Problem(409, "not-blocked", f"The document is {held.status}, not blocked.")
    if held.version != version:
        raise Problem(
            409,
            "stale-version",
            f"The document is at version {held.version} now; look at it again.",
            field="version",
        )
    held.status, held.released_version = "pending", version
    held.released_by, held.release_reason = by, reason
    held.next_attempt_at = wall_now()
    return DocumentState(kind=kind, record_id=record_id, version=version, status="pending")


async def requeue(
    session: AsyncSession, kind: RecordKind, record_id: str, *, by: str, note: str | None
) -> DocumentState:
    """Send a parked document again (its refusals start over)."""
    held = await _held(session, kind, record_id)
    if held.status != "parked":
        raise Problem(409, "not-parked", f"The document is {held.status}, not parked.")
    await session.execute(
        update(Document)
        .where(Document.kind == kind, Document.record_id == record_id)
        .values(_requeued(by, note))
    )
    return DocumentState(kind=kind, record_id=record_id, version=held.version, status="pending")


async def release_all(
    session: AsyncSession,
    *,
    code: str,
    unit: str | None,
    kind: RecordKind | None,
    reason: str,
    by: str,
) -> int:
    """A supervisor sends every document one rule blocks (in one unit, of one kind) as it is,
    each at its current version, with one reason; returns how many."""
    released = await session.scalars(
        update(Document)
        .where(*_matching("blocked", _finding_filter(code), unit=unit, kind=kind))
        .values(
            status="pending",
            released_version=Document.version,
            released_by=by,
            release_reason=reason,
            next_attempt_at=func.now(),
        )
        .returning(Document.record_id)
    )
    return len(released.all())


async def requeue_all(
    session: AsyncSession,
    *,
    code: str | None,
    unit: str | None,
    kind: RecordKind | None,
    by: str,
    note: str | None,
) -> int:
    """Send every parked document (refused with one code, of one unit, of one kind) again;
    returns how many."""
    refused_so = [Document.last_code == code] if code is not None else []
    requeued = await session.scalars(
        update(Document)
        .where(*_matching("parked", *refused_so, unit=unit, kind=kind))
        .values(_requeued(by, note))
        .returning(Document.record_id)
    )
    return len(requeued.all())
