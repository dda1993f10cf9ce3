"""The knowledge base's HTTP API: the agents' desk searches and reads (reader tokens),
supervisors write, publish and retire (supervisor tokens)."""

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from hotline.intake import knowledge
from hotline.intake.deps import Context, Reader, Supervisor
from hotline.intake.knowledge_schemas import (
    SEARCH_LIMIT_MAX,
    EntryId,
    KnowledgeEntries,
    KnowledgeEntryDetail,
    KnowledgeEntryIn,
    KnowledgeSearchResult,
    KnowledgeTickets,
    UnitCode,
)
from hotline.intake.schemas import Category
from hotline.shared.web.deps import DbSession, Runtime
from hotline.shared.web.schemas import BusinessDatetime

router = APIRouter(prefix="/v1/knowledge", tags=["knowledge"])

EntryPath = Annotated[EntryId, Path(description="The entry's id (K…)")]
READ_PROBLEMS: dict[int | str, dict[str, Any]] = {
    401: {"description": "No reader token"},
    404: {"description": "No such entry"},
    422: {"description": "Invalid input; `errors` names each field"},
}
WRITE_PROBLEMS: dict[int | str, dict[str, Any]] = {
    401: {"description": "No supervisor token"},
    404: {"description": "No such entry"},
    409: {"description": "The entry is not in a state that allows this"},
    422: {"description": "Invalid input; `errors` names each field"},
}


@router.get("", responses=READ_PROBLEMS)
async def search_knowledge(
    reader: Reader,
    session: DbSession,
    runtime: Runtime,
    context: Context,
    q: Annotated[str, Query(min_length=1, max_length=200, description="The caller's question")],
    category: Annotated[Category | None, Query()] = None,
    unit: Annotated[UnitCode | None, Query(description="The owning unit's id")] = None,
    limit: Annotated[int, Query(ge=1, le=SEARCH_LIMIT_MAX)] = 10,
    at: Annotated[
        BusinessDatetime | None, Query(description="Valid at this time; unset: now")
    ] = None,
) -> KnowledgeSearchResult:
    """Search the published entries valid at the time asked, best match first (BM25)."""
    return await knowledge.search(
        session,
        context.knowledge,
        runtime.sessions,
        query=q,
        category=category,
        unit=unit,
        limit=limit,
        at=at,
        options=context.options,
    )


@router.post("", status_code=201, responses=WRITE_PROBLEMS)
async def create_entry(
    body: KnowledgeEntryIn, supervisor: Supervisor, session: DbSession, context: Context
) -> KnowledgeEntryDetail:
    """Write a new entry: a draft (version 1) until a supervisor publishes it."""
    return await knowledge.create_entry(session, body, supervisor, context.options)


@router.get("/drafts", responses=WRITE_PROBLEMS)
async def list_drafts(
    supervisor: Supervisor,
    session: DbSession,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> KnowledgeEntries:
    """The drafts waiting to be published, the oldest first (those made from units' replies
    name their `source_ticket`)."""
    return await knowledge.list_drafts(session, limit)


@router.get("/{entry_id}", responses=READ_PROBLEMS)
async def get_entry(
    entry_id: EntryPath, reader: Reader, session: DbSession
) -> KnowledgeEntryDetail:
    """An entry, its current content and its version history."""
    return await knowledge.get_entry(session, entry_id)


@router.put("/{entry_id}", responses=WRITE_PROBLEMS)
async def edit_entry(
    entry_id: EntryPath,
    body: KnowledgeEntryIn,
    supervisor: Supervisor,
    session: DbSession,
    context: Context,
) -> KnowledgeEntryDetail:
    """Correct an entry: its next version, the earlier ones kept."""
    return await knowledge.edit_entry(session, entry_id, body, supervisor, context.options)


@router.post("/{entry_id}/publish", responses=WRITE_PROBLEMS)
async def publish_entry(
    entry_id: EntryPath, supervisor: Supervisor, session: DbSession
) -> KnowledgeEntryDetail:
    """Publish a draft: the desk finds it from now (or from its `valid_from`)."""
    return await knowledge.publish_entry(session, entry_id, supervisor)


@router.post("/{entry_id}/retire", responses=WRITE_PROBLEMS)
async def retire_entry(
    entry_id: EntryPath, supervisor: Supervisor, session: DbSession
) -> KnowledgeEntryDetail:
    """Retire an entry: search finds it no more."""
    return await knowledge.retire_entry(session, entry_id, supervisor)


@router.get("/{entry_id}/tickets", responses=READ_PROBLEMS)
async def entry_tickets(
    entry_id: EntryPath,
    reader: Reader,
    session: DbSession,
    version: Annotated[int | None, Query(ge=1, le=1_000_000)] = None,
) -> KnowledgeTickets:
    """The tickets answered with this entry (of one version, if asked), oldest first."""
    return await knowledge.tickets_of(session, entry_id, version)
