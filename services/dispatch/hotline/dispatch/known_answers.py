"""Dispatch's copy of the knowledge base's published entries (intake announces each change as
`knowledge.entry_changed`): what a unit has answered publicly, one of the sources of evidence
beside its replies and returns."""

from datetime import datetime

from sqlalchemy import Select, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.dispatch.models import KnownAnswer
from hotline.shared.messaging.events import KnowledgeEntryChanged


async def on_entry_changed(session: AsyncSession, event: KnowledgeEntryChanged) -> None:
    """Keep the entry as it is now: a later announcement replaces it, an earlier one (arriving
    late, or again) changes nothing."""
    data = event.data
    values = {
        "entry_id": data.entry_id,
        "version": event.version,
        "entry_version": data.entry_version,
        "status": data.status,
        "unit_id": data.unit_id,
        "category": data.category,
        "question": data.question,
        "answer": data.answer,
        "valid_from": data.valid_from,
        "valid_until": data.valid_until,
        "changed_at": data.changed_at,
    }
    statement = insert(KnownAnswer).values(values)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[KnownAnswer.entry_id],
            set_={name: statement.excluded[name] for name in values if name != "entry_id"},
            where=KnownAnswer.version < statement.excluded.version,
        )
    )


def published_answers(
    unit_id: str, at: datetime, *, category: str | None, limit: int
) -> Select[KnownAnswer]:
    """A unit's entries published and valid at a time, the latest changed first (the unit's
    published-entries index)."""
    query = (
        select(KnownAnswer)
        .where(
            KnownAnswer.unit_id == unit_id,
            KnownAnswer.status == "published",
            or_(KnownAnswer.valid_from.is_(None), KnownAnswer.valid_from <= at),
            or_(KnownAnswer.valid_until.is_(None), KnownAnswer.valid_until > at),
        )
        .order_by(KnownAnswer.changed_at.desc())
        .limit(limit)
    )
    if category is not None:
        query = query.where(KnownAnswer.category == category)
    return query
