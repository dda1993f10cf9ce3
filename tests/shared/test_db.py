"""The engine's checkout: a pooled connection the server let go is replaced, not handed out."""

import asyncio

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.shared import db
from tests.conftest import Servers


async def backend_of_the_pooled_connection(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return int(await connection.scalar(text("SELECT pg_backend_pid()")) or 0)


async def run(servers: Servers, sql: str) -> object:
    """`sql` on a connection of its own, committed."""
    other = db.create_engine(servers.database_url, pool_size=1)
    try:
        async with other.begin() as connection:
            result = await connection.execute(text(sql))
            return result.scalar() if result.returns_rows else None
    finally:
        await other.dispose()


async def test_a_pooled_connection_the_server_closed_is_replaced_at_checkout(
    servers: Servers,
) -> None:
    engine = db.create_engine(servers.database_url, pool_size=1)
    try:
        pid = await backend_of_the_pooled_connection(engine)
        await run(servers, f"SELECT pg_terminate_backend({pid})")
        await asyncio.sleep(0.1)

        assert await backend_of_the_pooled_connection(engine) not in (0, pid)
    finally:
        await engine.dispose()
