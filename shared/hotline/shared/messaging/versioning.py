"""Keeping the newest version of an entity whatever order its events arrive in."""

from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession


async def save_if_newer(session: AsyncSession, table: Table, values: dict[str, Any]) -> bool:
    """Insert the row, or overwrite it only if `values["version"]` is higher than the stored one.

    Returns whether the row was written. The table's primary key identifies the entity and it
    must have an integer `version` column.
    """
    insert = pg_insert(table).values(**values)
    key = [column.name for column in table.primary_key.columns]
    upsert = insert.on_conflict_do_update(
        index_elements=key,
        set_={name: insert.excluded[name] for name in values if name not in key},
        where=table.c.version < insert.excluded.version,
    )
    return (await session.scalar(upsert.returning(table.c.version))) is not None
