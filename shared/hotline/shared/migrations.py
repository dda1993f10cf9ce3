"""Alembic, one migration history per service, each in its own schema with its own version table.

A service's `migrations/env.py` calls `run_migrations`; `upgrade` applies a service's history
from code (the CLI and the tests), on a connection they hand over or on a URL, then the
service's data step (`<package>.seed:seed`, if it has one): reference data such as dispatch's
unit registry, which is application data and so never part of the frozen schema history.
"""

import asyncio
import importlib
import importlib.util
from importlib import resources
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import Connection, MetaData, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

VERSION_TABLE = "alembic_version"


def alembic_config(package: str, database_url: str | None = None) -> Config:
    """The Alembic configuration of the service whose package is `package`."""
    config = Config()
    config.set_main_option(
        "script_location", str(Path(str(resources.files(package))) / "migrations")
    )
    if database_url is not None:
        config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def run_migrations(target_metadata: MetaData) -> None:
    """The body of every service's `env.py`: online migrations, in the metadata's schema."""
    schema = target_metadata.schema
    assert schema is not None, "every service keeps its tables in its own schema"

    def migrate(connection: Connection) -> None:
        connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            version_table=VERSION_TABLE,
            version_table_schema=schema,
            # Compare only this service's schema: the others belong to other services.
            include_schemas=True,
            include_name=lambda name, kind, _parent: kind != "schema" or name == schema,
        )
        with context.begin_transaction():
            context.run_migrations()

    handed_over = context.config.attributes.get("connection")
    if handed_over is not None:
        migrate(handed_over)
        return

    async def migrate_on_url() -> None:
        engine = create_async_engine(context.config.get_main_option("sqlalchemy.url") or "")
        async with engine.begin() as connection:
            await connection.run_sync(migrate)
        await engine.dispose()

    asyncio.run(migrate_on_url())


async def upgrade(engine: AsyncEngine, package: str, revision: str = "head") -> None:
    """Apply the service's migrations up to `revision` on `engine`."""
    config = alembic_config(package)

    def upgrade_on(connection: Connection) -> None:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
        if revision == "head" and importlib.util.find_spec(f"{package}.seed") is not None:
            importlib.import_module(f"{package}.seed").seed(connection)

    async with engine.begin() as connection:
        await connection.run_sync(upgrade_on)
