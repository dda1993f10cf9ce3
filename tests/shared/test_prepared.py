"""Prepared statements run on the session's asyncpg connection inside the session's transaction:
what the session rolls back, they never wrote; their values go through the column types."""

from collections.abc import AsyncIterator
from uuid import uuid4

import pytest
from sqlalchemy import (
    ARRAY,
    Column,
    Integer,
    MetaData,
    Numeric,
    Table,
    Text,
    bindparam,
    cast,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from hotline.shared.prepared import Prepared


@pytest.fixture
async def notes(engine: AsyncEngine) -> AsyncIterator[Table]:
    schema = f"prepared_{uuid4().hex[:8]}"
    table = Table(
        "notes",
        MetaData(schema=schema),
        Column("id", Integer, primary_key=True),
        Column("body", JSONB),
        Column("tags", ARRAY(Text)),
    )
    async with engine.begin() as connection:
        await connection.execute(text(f"CREATE SCHEMA {schema}"))
        await connection.run_sync(table.metadata.create_all)
    yield table
    async with engine.begin() as connection:
        await connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))


def add_note(notes: Table) -> Prepared:
    return Prepared(
        insert(notes)
        .values(id=bindparam("id"), body=bindparam("body", type_=JSONB), tags=bindparam("tags"))
        .returning(notes.c.id)
    )


async def count(engine: AsyncEngine, notes: Table) -> int:
    async with engine.connect() as connection:
        return int(await connection.scalar(select(func.count()).select_from(notes)) or 0)


async def test_what_the_session_rolls_back_a_prepared_statement_never_wrote(
    engine: AsyncEngine, notes: Table
) -> None:
    sessions = async_sessionmaker(engine)
    statement = add_note(notes)
    async with sessions() as session:
        transaction = await session.begin()
        # The first statement of the transaction: the transaction must be begun for it.
        assert await statement.fetchval(session, {"id": 1, "body": {}, "tags": []}) == 1
        await transaction.rollback()
    assert await count(engine, notes) == 0

    async with sessions() as session, session.begin():
        await session.execute(text("SELECT 1"))
        await statement.fetchval(session, {"id": 2, "body": {}, "tags": []})
        # The session sees it: one transaction, one connection.
        assert await session.scalar(select(func.count()).select_from(notes)) == 1
    assert await count(engine, notes) == 1


async def test_values_go_through_the_column_types_and_rows_come_back_as_sqlalchemy_would(
    engine: AsyncEngine, notes: Table
) -> None:
    async with async_sessionmaker(engine)() as session, session.begin():
        body = {"content": "燃气表漏气", "n": 3}
        await add_note(notes).fetchval(session, {"id": 7, "body": body, "tags": ["燃气", "漏气"]})
        rows = await Prepared(
            select(notes.c.body, notes.c.tags).where(notes.c.id == bindparam("id"))
        ).fetch(session, {"id": 7})
        assert [(row["body"], row["tags"]) for row in rows] == [(body, ["燃气", "漏气"])]
        assert (await session.execute(select(notes.c.body))).scalar_one() == body


async def test_a_misnamed_or_missing_value_is_an_error_not_a_null(
    engine: AsyncEngine, notes: Table
) -> None:
    statement = add_note(notes)
    async with async_sessionmaker(engine)() as session, session.begin():
        with pytest.raises(KeyError, match="tag"):
            await statement.fetchval(session, {"id": 1, "body": {}, "tag": []})
    async with AsyncSession(engine) as session, session.begin():
        with pytest.raises(KeyError, match="tags"):
            await statement.fetchval(session, {"id": 1, "body": {}})


async def test_statements_it_cannot_run_as_sqlalchemy_would_are_refused(
    engine: AsyncEngine, notes: Table
) -> None:
    async with async_sessionmaker(engine)() as session, session.begin():
        with pytest.raises(TypeError, match="expanding"):
            await Prepared(select(notes.c.id).where(notes.c.id.in_(bindparam("ids")))).fetch(
                session, {"ids": [1]}
            )
        with pytest.raises(TypeError, match="processing"):
            # asyncpg returns a Decimal, which SQLAlchemy would turn into a float.
            await Prepared(select(cast(notes.c.id, Numeric(asdecimal=False)))).fetch(session)


async def test_a_statement_run_alone_is_a_transaction_of_its_own_unless_one_was_begun(
    engine: AsyncEngine, notes: Table
) -> None:
    statement = add_note(notes)
    async with async_sessionmaker(engine)() as session:
        transaction = await session.begin()
        await statement.fetchval(session, {"id": 1, "body": {}, "tags": []}, alone=True)
        # Written already: nothing was begun, so the session's rollback has nothing to undo.
        assert await count(engine, notes) == 1
        await transaction.rollback()
    assert await count(engine, notes) == 1

    async with async_sessionmaker(engine)() as session:
        transaction = await session.begin()
        await session.execute(text("SELECT 1"))
        await statement.fetchval(session, {"id": 2, "body": {}, "tags": []}, alone=True)
        await transaction.rollback()
    assert await count(engine, notes) == 1
