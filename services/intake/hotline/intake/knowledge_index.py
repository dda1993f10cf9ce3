"""Each process's search index of the knowledge base: BM25 over the published entries' search
terms, with their category, unit and validity beside it for the filters.

PostgreSQL holds the truth; the index only proposes candidates. Every change to what search may
find advances one counter (`knowledge_revision`) in the change's transaction, so each worker
process sees on its next search that its index is stale and rebuilds it from the terms stored
with each version (no segmentation on rebuild). Searches that arrive while it is rebuilt use
the previous index, and every hit is checked again against the entries' current rows, so a
retired or edited entry never shows stale; a newly published one shows once the rebuild is
done."""

import asyncio
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import numpy.typing as npt
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.intake.models import KnowledgeEntry, KnowledgeRevision, KnowledgeVersion
from hotline.shared.db import SessionFactory
from hotline.shared.domain.text import Hit, SearchIndex

log = logging.getLogger(__name__)

ALWAYS = math.inf


@dataclass(frozen=True)
class Snapshot:
    """The published entries as of one revision, and their index."""

    revision: int
    index: SearchIndex
    categories: npt.NDArray[np.int32]
    units: npt.NDArray[np.int32]
    valid_from: npt.NDArray[np.float64]
    valid_until: npt.NDArray[np.float64]
    category_codes: dict[str, int]
    unit_codes: dict[str, int]

    def allowed(
        self, at: datetime, category: str | None, unit: str | None
    ) -> npt.NDArray[np.bool_]:
        """Which entries the filters let through: valid at `at`, of the category and unit."""
        moment = at.timestamp()
        mask = (self.valid_from <= moment) & (moment < self.valid_until)
        if category is not None:
            mask &= self.categories == self.category_codes.get(category, -1)
        if unit is not None:
            mask &= self.units == self.unit_codes.get(unit, -1)
        return mask

    def search(
        self, terms: list[str], *, limit: int, at: datetime, category: str | None, unit: str | None
    ) -> list[Hit]:
        return self.index.search(terms, limit=limit, allowed=self.allowed(at, category, unit))


IndexedRow = tuple[str, str, str, datetime | None, datetime | None, str]


def build_snapshot(revision: int, rows: Sequence[IndexedRow]) -> Snapshot:
    """An index of the published entries `rows` (id, category, unit, from, until, terms)."""
    category_codes: dict[str, int] = {}
    unit_codes: dict[str, int] = {}
    categories = np.fromiter(
        (category_codes.setdefault(row[1], len(category_codes)) for row in rows),
        np.int32,
        len(rows),
    )
    units = np.fromiter(
        (unit_codes.setdefault(row[2], len(unit_codes)) for row in rows), np.int32, len(rows)
    )
    valid_from = np.fromiter(
        (row[3].timestamp() if row[3] else -ALWAYS for row in rows), np.float64, len(rows)
    )
    valid_until = np.fromiter(
        (row[4].timestamp() if row[4] else ALWAYS for row in rows), np.float64, len(rows)
    )
    index = SearchIndex([row[0] for row in rows], [row[5].split() for row in rows])
    return Snapshot(
        revision, index, categories, units, valid_from, valid_until, category_codes, unit_codes
    )


class KnowledgeIndex:
    """The process's current snapshot, rebuilt when the revision counter has moved.

    A rebuild costs about 60 µs an entry (3 s at 50,000, most of it bm25s). Below
    `INLINE_REBUILD_BELOW` entries the search that notices the change waits for it, so a
    supervisor who publishes finds the entry at once; above, it is rebuilt in the background
    and searches meanwhile use the previous snapshot (hits still checked against the rows),
    so no search waits seconds after an edit."""

    INLINE_REBUILD_BELOW = 5000

    def __init__(self) -> None:
        self._snapshot: Snapshot | None = None
        self._rebuilding = asyncio.Lock()
        self._background: set[asyncio.Task[None]] = set()

    async def current(self, session: AsyncSession, sessions: SessionFactory) -> Snapshot:
        """The index as of the latest revision, or the previous one while it is rebuilt."""
        revision = int(await session.scalar(select(KnowledgeRevision.revision)) or 0)
        snapshot = self._snapshot
        if snapshot is not None and snapshot.revision >= revision:
            return snapshot
        if snapshot is not None and (
            self._rebuilding.locked() or len(snapshot.index) >= self.INLINE_REBUILD_BELOW
        ):
            if not self._rebuilding.locked():
                task = asyncio.create_task(self._rebuild_apart(sessions, revision))
                self._background.add(task)
                task.add_done_callback(self._background.discard)
            return snapshot
        return await self._rebuild(session, revision)

    async def _rebuild_apart(self, sessions: SessionFactory, revision: int) -> None:
        try:
            async with sessions() as session:
                await self._rebuild(session, revision)
        except Exception:  # the next search tries again; this one's callers have their answer
            log.exception("rebuilding the knowledge index failed")

    async def _rebuild(self, session: AsyncSession, revision: int) -> Snapshot:
        async with self._rebuilding:
            snapshot = self._snapshot
            if snapshot is not None and snapshot.revision >= revision:
                return snapshot
            rows = await session.execute(
                select(
                    KnowledgeEntry.entry_id,
                    KnowledgeVersion.category,
                    KnowledgeVersion.unit_id,
                    KnowledgeVersion.valid_from,
                    KnowledgeVersion.valid_until,
                    KnowledgeVersion.search_terms,
                )
                .join(
                    KnowledgeVersion,
                    (KnowledgeVersion.entry_id == KnowledgeEntry.entry_id)
                    & (KnowledgeVersion.version == KnowledgeEntry.current_version),
                )
                .where(KnowledgeEntry.status == "published")
                .order_by(KnowledgeEntry.entry_id)
            )
            # The rows are at least as new as `revision` (read before them): at worst the
            # next search rebuilds once more.
            indexed = [tuple(row) for row in rows.all()]
            built = await asyncio.to_thread(build_snapshot, revision, indexed)  # type: ignore[arg-type]
            self._snapshot = built
            return built
