"""Each of the five services starts on the real servers and answers health, metrics and docs."""

import ast
import importlib
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from fastapi import FastAPI
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.shared.messaging.events import CONSUMER_GROUPS
from hotline.shared.migrations import alembic_config, upgrade
from hotline.shared.stack.embedded import free_port
from hotline.shared.stack.services import SERVICES, ServiceEntry
from tests.conftest import Servers
from tests.support import running

pytestmark = pytest.mark.parametrize("service", SERVICES, ids=[s.name for s in SERVICES])

MESSAGING_TABLES = {"alembic_version", "outbox", "outbox_relay_state", "processed_events"}


def app_of(service: ServiceEntry) -> FastAPI:
    app: FastAPI = importlib.import_module(f"{service.package}.main").app
    return app


async def test_migrations_create_the_schema_with_its_own_version_table(
    service: ServiceEntry, engine: AsyncEngine
) -> None:
    await upgrade(engine, service.package)
    await upgrade(engine, service.package)  # a second run changes nothing

    schema = service.package.rsplit(".", 1)[1]
    async with engine.connect() as connection:
        tables = set(
            (
                await connection.execute(
                    text(
                        "SELECT table_name FROM information_schema.tables WHERE table_schema = :s"
                    ),
                    {"s": schema},
                )
            ).scalars()
        )
        version = await connection.scalar(
            text(f'SELECT version_num FROM "{schema}".alembic_version')
        )
    assert tables >= MESSAGING_TABLES
    assert (
        version == ScriptDirectory.from_config(alembic_config(service.package)).get_current_head()
    )


async def test_the_migrations_create_exactly_what_the_models_declare(
    service: ServiceEntry, engine: AsyncEngine
) -> None:
    await upgrade(engine, service.package)
    metadata = importlib.import_module(f"{service.package}.models").metadata

    def differences(connection: Connection) -> list[object]:
        context = MigrationContext.configure(
            connection,
            opts={
                "include_schemas": True,
                "include_name": lambda name, kind, _: (
                    name == metadata.schema if kind == "schema" else name != "alembic_version"
                ),
            },
        )
        return list(compare_metadata(context, metadata))

    async with engine.connect() as connection:
        assert await connection.run_sync(differences) == []


async def test_the_service_is_live_ready_and_measured(
    service: ServiceEntry, servers: Servers, engine: AsyncEngine
) -> None:
    await upgrade(engine, service.package)
    async with running(app_of(service), servers) as client:
        live = await client.get("/healthz")
        ready = await client.get("/readyz")
        metrics = await client.get("/metrics")
        docs = await client.get("/openapi.json")

    assert live.status_code == 200
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"] == {"database": "ok", "broker": "ok"}
    assert f'route="/healthz",service="{service.name}",status="200"' in metrics.text
    assert docs.json()["info"]["title"].endswith(service.name.replace("-", " "))


async def test_readiness_names_the_broker_when_it_is_unreachable(
    service: ServiceEntry, servers: Servers, engine: AsyncEngine
) -> None:
    await upgrade(engine, service.package)
    nowhere = {"kafka_bootstrap": f"127.0.0.1:{free_port()}", "kafka_request_timeout_ms": "1000"}
    async with running(app_of(service), servers, **nowhere) as client:
        ready = await client.get("/readyz")
        unknown = await client.get("/no-such-route")

    assert ready.status_code == 503
    assert ready.json()["checks"] == {"database": "ok", "broker": "unreachable"}
    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == "application/problem+json"
    assert unknown.json()["status"] == 404


FROZEN_IMPORTS = ("alembic", "sqlalchemy", "hotline.shared.messaging.table_migrations")


def test_migrations_never_import_application_code_or_read_data_files(
    service: ServiceEntry,
) -> None:
    """A migration must do tomorrow what it did when written: it imports only Alembic,
    SQLAlchemy and the frozen messaging operations, and reads no file."""
    folder = Path(alembic_config(service.package).get_main_option("script_location") or "")
    for migration in sorted((folder / "versions").glob("*.py")):
        tree = ast.parse(migration.read_text())
        imported = [
            node.module if isinstance(node, ast.ImportFrom) else alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.Import | ast.ImportFrom)
            for alias in node.names
        ]
        foreign = [
            name
            for name in imported
            if name
            and name not in ("collections.abc", "__future__")
            and not name.startswith(FROZEN_IMPORTS)
        ]
        source = migration.read_text()
        assert foreign == [], f"{migration.name} imports {foreign}"
        assert "open(" not in source
        assert "resources" not in source


def test_the_consumer_groups_table_names_every_group_that_reads_each_topic(
    service: ServiceEntry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The relay's low-water mark is only as good as CONSUMER_GROUPS: every group a service
    runs must be there for each topic it reads, and nothing else for this service."""
    monkeypatch.setenv("HOTLINE_ENVIRONMENT", "test")
    definition = app_of(service).state.definition
    specs = definition.consumers(definition.context(definition.settings_factory()))
    reads = {(spec.name, topic) for spec in specs for topic in spec.topics}
    groups = {spec.name for spec in specs}
    declared = {
        (group, topic)
        for topic, names in CONSUMER_GROUPS.items()
        for group in names
        if group in groups or group == service.name
    }
    assert reads == declared


def test_every_consumer_applies_a_fetched_batch_in_one_transaction(
    service: ServiceEntry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One commit and one insert of processed ids per fetched batch, not per event."""
    monkeypatch.setenv("HOTLINE_ENVIRONMENT", "test")
    definition = app_of(service).state.definition
    specs = definition.consumers(definition.context(definition.settings_factory()))
    assert all(spec.batch is not None for spec in specs), [s.name for s in specs if not s.batch]
