"""What the province sends back: its spot checks of our tickets (Attachment 3), announced as
`callback.spot_checked` for callback and scoring, and its findings on records we uploaded,
announced as `upload.finding_reported` for scoring to count.

Every item is kept with what became of it, keyed so that an item sent twice is applied once;
an item about a record we never uploaded is kept as `unknown-record` for a person to look at,
and announced to no one.
"""

from collections.abc import Sequence
from datetime import UTC
from typing import Any, cast
from uuid import NAMESPACE_URL, uuid5

from sqlalchemy import Table, select, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.provincial_sync import metrics
from hotline.provincial_sync.adapters import FindingReport, SpotCheckReport
from hotline.provincial_sync.models import Document, ProvinceReport, messaging
from hotline.shared.db import after_commit
from hotline.shared.messaging.events import (
    CallbackSpotChecked,
    Event,
    ProvinceFindingData,
    ProvinceFindingReported,
    SpotCheckedData,
)
from hotline.shared.messaging.outbox import add_events

SOURCE = "/hotline/provincial-sync"
REPORTS = cast(Table, ProvinceReport.__table__)
Item = tuple[str, str, str, dict[str, Any], Event | None]  # key, kind, record, payload, event


async def take_spot_checks(
    session: AsyncSession, checks: Sequence[SpotCheckReport]
) -> list[dict[str, Any]]:
    """Each check's fate, in the order they came: applied, duplicate or unknown-record."""
    held = await _documents(session, [("ticket", check.ticket_no) for check in checks])
    items: list[Item] = []
    for check in checks:
        # One instant, one key, whatever offset the province wrote it in.
        key = f"spot-check:{check.ticket_no}:{check.checked_at.astimezone(UTC).isoformat()}"
        document = held.get(("ticket", check.ticket_no))
        event = None
        if document is not None:
            event = CallbackSpotChecked(
                id=uuid5(NAMESPACE_URL, key),
                source=SOURCE,
                subject=check.ticket_no,
                ticketid=check.ticket_no,
                version=document.version,
                data=SpotCheckedData(
                    ticket_no=check.ticket_no,
                    unit_id=document.unit_id,
                    satisfaction=check.satisfaction,
                    comment=check.comment,
                    checked_at=check.checked_at,
                ),
            )
        payload = {
            "ticket_no": check.ticket_no,
            "satisfaction": check.satisfaction,
            "comment": check.comment,
            "checked_at": check.checked_at.isoformat(),
        }
        items.append((key, "spot-check", check.ticket_no, payload, event))
    return await _keep(session, items)


async def take_findings(
    session: AsyncSession, findings: Sequence[FindingReport]
) -> list[dict[str, Any]]:
    """Each finding's fate, in the order they came: applied, duplicate or unknown-record."""
    held = await _documents(session, [(f.kind, f.record_id) for f in findings])
    items: list[Item] = []
    for finding in findings:
        key = (
            f"finding:{finding.kind}:{finding.record_id}:{finding.version or '-'}:"
            f"{finding.code}:{finding.field or '-'}"
        )
        document = held.get((finding.kind, finding.record_id))
        event = None
        if document is not None:
            event = ProvinceFindingReported(
                id=uuid5(NAMESPACE_URL, key),
                source=SOURCE,
                subject=finding.record_id,
                ticketid=finding.record_id if finding.kind == "ticket" else None,
                version=document.version,
                data=ProvinceFindingData(
                    kind=finding.kind,
                    record_id=finding.record_id,
                    record_version=finding.version,
                    code=finding.code,
                    field=finding.field,
                    message=finding.message,
                    unit_name=document.unit_name,
                    found_at=finding.found_at,
                ),
            )
        payload = {
            "kind": finding.kind,
            "record_id": finding.record_id,
            "version": finding.version,
            "code": finding.code,
            "field": finding.field,
            "message": finding.message,
            "found_at": finding.found_at.isoformat(),
        }
        items.append((key, "finding", finding.record_id, payload, event))
    return await _keep(session, items)


async def _documents(session: AsyncSession, keys: list[tuple[str, str]]) -> dict[Any, Any]:
    rows = await session.execute(
        select(
            Document.kind,
            Document.record_id,
            Document.version,
            Document.unit_id,
            Document.unit_name,
        ).where(tuple_(Document.kind, Document.record_id).in_(sorted(set(keys))))
    )
    return {(row.kind, row.record_id): row for row in rows}


async def _keep(session: AsyncSession, items: list[Item]) -> list[dict[str, Any]]:
    unique = {item[0]: item for item in items}
    inserted = set(
        await session.scalars(
            pg_insert(REPORTS).on_conflict_do_nothing().returning(REPORTS.c.report_key),
            [
                {
                    "report_key": key,
                    "kind": kind,
                    "record_id": record_id,
                    "status": "applied" if event else "unknown-record",
                    "payload": payload,
                }
                for key, kind, record_id, payload, event in unique.values()
            ],
        )
    )
    announced = [item[4] for key, item in unique.items() if key in inserted and item[4]]
    await add_events(session, messaging, *announced)
    results, seen = [], set()
    for index, (key, _kind, record_id, _payload, event) in enumerate(items):
        if key in inserted and key not in seen:
            status = "applied" if event else "unknown-record"
        else:
            status = "duplicate"
        seen.add(key)
        results.append({"index": index, "record_id": record_id, "status": status})

    def count() -> None:
        for result, item in zip(results, items, strict=True):
            metrics.PROVINCE_REPORTS.labels(item[1], result["status"]).inc()

    after_commit(session, count)
    return results
