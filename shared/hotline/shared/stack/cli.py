"""The `hotline` command: `up` runs the embedded suite, `serve` one service, `province` the
simulated provincial platform, `migrate` schemas, `secrets` makes a fresh set of secrets,
`dead-letters` lists, replays and discards parked events, `sign` signs a webhook body, `clock`
shows and moves the simulated business clock, `simulate` plays a period of traffic against the
running suite."""

import argparse
import asyncio
import getpass
import importlib
import json
import os
import sys
import tempfile
from typing import Any

import uvicorn
from pydantic import ValidationError
from sqlalchemy import select

from hotline.shared import secrets
from hotline.shared.db import create_engine
from hotline.shared.logs import default_log_format, uvicorn_log_config
from hotline.shared.runtime import ServiceDefinition, build_runtime
from hotline.shared.settings import ServiceSettings
from hotline.shared.simulator import command as simulate
from hotline.shared.stack import clock, sign
from hotline.shared.stack.services import PROVINCE_PORT, SERVICES, SERVICES_BY_NAME, ServiceEntry
from hotline.shared.stack.up import PROVINCE_APP, migrate_all


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hotline", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser(
        "up", help="start the embedded stack, the simulated province and all five services"
    )
    serve = commands.add_parser("serve", help="run one service on configured PostgreSQL and Kafka")
    serve.add_argument("service", choices=sorted(SERVICES_BY_NAME))
    serve.add_argument("--port", type=int, help="default: HOTLINE_PORT, else the service's port")
    province = commands.add_parser(
        "province", help="run the provincial platform's side of the exchange (a simulator)"
    )
    province.add_argument("--port", type=int, help=f"default: HOTLINE_PORT, else {PROVINCE_PORT}")
    migrate = commands.add_parser("migrate", help="apply migrations on HOTLINE_DATABASE_URL")
    migrate.add_argument("services", nargs="*", choices=[[], *sorted(SERVICES_BY_NAME)])
    commands.add_parser(
        "secrets", help="print a fresh set of secrets as an .env file (docker compose reads it)"
    )
    rebuild = commands.add_parser(
        "rebuild", help="empty a read model and read its topics again from the start"
    )
    rebuild.add_argument("service", choices=["scoring"])
    parked = commands.add_parser("dead-letters", help="events consumers parked: list, replay")
    actions = parked.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", help="parked events of one service, or of all")
    listing.add_argument("services", nargs="*", choices=[[], *sorted(SERVICES_BY_NAME)])
    replay = actions.add_parser("replay", help="apply a parked event again")
    replay.add_argument("service", choices=sorted(SERVICES_BY_NAME))
    replay.add_argument("id", type=int)
    discard = actions.add_parser("discard", help="give up on a parked event")
    discard.add_argument("service", choices=sorted(SERVICES_BY_NAME))
    discard.add_argument("id", type=int)
    discard.add_argument("--note", required=True, help="why it is given up")
    sign.add_parser(commands)
    clock.add_parser(commands)
    simulate.add_parser(commands)
    args = parser.parse_args(argv)

    if args.command == "up":
        from hotline.shared.stack.up import run_stack

        return run_stack()
    if args.command == "serve":
        return _serve(SERVICES_BY_NAME[args.service], args.port)
    if args.command == "province":
        return _province(args.port)
    if args.command == "sign":
        return sign.run(args)
    if args.command == "clock":
        return clock.run(args)
    if args.command == "simulate":
        return simulate.run(args)
    if args.command == "secrets":
        print(fresh_secrets_env(), end="")
        return 0
    if args.command == "dead-letters":
        return asyncio.run(_dead_letters(args))
    if args.command == "rebuild":
        return asyncio.run(_rebuild(SERVICES_BY_NAME[args.service]))
    return _migrate(args.services or [service.name for service in SERVICES])


def _definition(entry: ServiceEntry) -> ServiceDefinition[Any]:
    definition: ServiceDefinition[Any] = importlib.import_module(
        f"{entry.package}.main"
    ).app.state.definition
    return definition


def _settings(entry: ServiceEntry) -> ServiceSettings:
    """The service's settings, or a message naming each variable at fault and exit code 2."""
    try:
        settings: ServiceSettings = _definition(entry).settings_factory()
    except ValidationError as error:
        for problem in error.errors():
            print(f"hotline {entry.name}: {problem['msg']}", file=sys.stderr)
        raise SystemExit(2) from None
    return settings


def _serve(entry: ServiceEntry, port: int | None) -> int:
    settings = _settings(entry)  # refused settings stop here, before uvicorn starts
    if settings.workers > 1:
        multiprocess_metrics(entry.name)
    uvicorn.run(
        entry.asgi_app,
        host=settings.host,
        port=port or int(os.environ.get("HOTLINE_PORT", entry.port)),
        log_level=settings.log_level,
        log_config=uvicorn_log_config(
            service=entry.name, level=settings.log_level, log_format=settings.log_format or "json"
        ),
        timeout_graceful_shutdown=10,
        workers=settings.workers,
    )
    return 0


def multiprocess_metrics(name: str) -> None:
    """Several worker processes: each writes its metrics where /metrics reads them all
    (prometheus_client's multiprocess mode), in a folder of this start's own."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix=f"hotline-{name}-metrics-")


def _province(port: int | None) -> int:
    from hotline.provincial_sync.province.config import ProvinceSettings

    try:
        settings = ProvinceSettings()  # refused settings stop here, before uvicorn starts
    except ValidationError as error:
        for problem in error.errors():
            print(f"hotline province: {problem['msg']}", file=sys.stderr)
        raise SystemExit(2) from None
    uvicorn.run(
        PROVINCE_APP,
        host=settings.host,
        port=port or int(os.environ.get("HOTLINE_PORT", PROVINCE_PORT)),
        log_level=settings.log_level,
        log_config=uvicorn_log_config(
            service="province",
            level=settings.log_level,
            log_format=settings.log_format or default_log_format(settings.environment),
        ),
        timeout_graceful_shutdown=10,
    )
    return 0


def _migrate(names: list[str]) -> int:
    asyncio.run(
        migrate_all(
            ServiceSettings().database_url.get_secret_value(),
            [SERVICES_BY_NAME[name] for name in names],
            report=lambda name: print(f"migrated {name}"),
        )
    )
    return 0


def fresh_secrets_env() -> str:
    """Every secret the suite needs, new, in the form of `.env.example`."""
    call_centre, results, survey = (secrets.new_webhook_secret() for _ in range(3))
    # The key pair the province issues the city; the simulated province holds the same one.
    app_key, app_secret = "shaoyang-4305", secrets.new_token()
    values = {
        "POSTGRES_PASSWORD": secrets.new_token(),
        "HOTLINE_INTAKE_WEBHOOK_SENDERS": (
            f'{{"callcentre": {{"secrets": ["{call_centre}"], '
            '"scopes": ["calls", "tickets", "notices"]}}'
        ),
        "HOTLINE_INTAKE_READER_TOKENS": f'{{"callcentre": "{secrets.new_token()}"}}',
        "HOTLINE_INTAKE_SUPERVISOR_TOKENS": f'{{"supervisor": "{secrets.new_token()}"}}',
        "HOTLINE_INTAKE_OPEN311_API_KEYS": json.dumps(
            {channel: [secrets.new_token()] for channel in ("web", "app", "wechat")}
        ),
        "HOTLINE_DISPATCH_SUPERVISOR_TOKENS": f'{{"supervisor": "{secrets.new_token()}"}}',
        "HOTLINE_CALLBACK_WEBHOOK_SENDERS": (
            f'{{"callcentre": {{"secrets": ["{results}"], "scopes": ["callbacks"]}}}}'
        ),
        "HOTLINE_CALLBACK_AGENT_TOKENS": f'{{"agents": "{secrets.new_token()}"}}',
        "HOTLINE_CALLBACK_SURVEY_WEBHOOK_SECRET": survey,
        "HOTLINE_SCORING_READER_TOKENS": f'{{"supervisor": "{secrets.new_token()}"}}',
        "HOTLINE_SYNC_READER_TOKENS": f'{{"supervisor": "{secrets.new_token()}"}}',
        "HOTLINE_SYNC_SUPERVISOR_TOKENS": f'{{"supervisor": "{secrets.new_token()}"}}',
        "HOTLINE_SYNC_APP_KEY": app_key,
        "HOTLINE_SYNC_APP_SECRET": app_secret,
        "HOTLINE_PROVINCE_APP_KEYS": f'{{"{app_key}": "{app_secret}"}}',
        "HOTLINE_PROVINCE_ADMIN_TOKENS": f'{{"operator": "{secrets.new_token()}"}}',
        "HOTLINE_OPERATOR_TOKENS": f'{{"operator": "{secrets.new_token()}"}}',
    }
    lines = ["# Made by `hotline secrets`: keep it out of version control and share it wisely."]
    lines += [f"{name}='{value}'" for name, value in values.items()]
    return "\n".join(lines) + "\n"


async def _rebuild(entry: ServiceEntry) -> int:
    from hotline.scoring.rebuild import rebuild

    definition = _definition(entry)
    runtime = build_runtime(definition, _settings(entry))
    try:
        for consumer in runtime.consumers:
            events = await rebuild(
                runtime.engine, runtime.broker, consumer.spec.name, consumer.spec.topics
            )
            print(
                f"{entry.name}: read model emptied; {consumer.spec.name} will read {events} "
                "events again when it starts"
            )
    finally:
        await runtime.close()
    return 0


async def _dead_letters(args: argparse.Namespace) -> int:
    if args.action == "list":
        for name in args.services or [service.name for service in SERVICES]:
            await _list_parked(SERVICES_BY_NAME[name])
        return 0
    entry = SERVICES_BY_NAME[args.service]
    definition = _definition(entry)
    runtime = build_runtime(definition, _settings(entry))
    try:
        if runtime.clock is not None:  # a replayed event is stamped in business time
            await runtime.clock.start()
        consumer = await runtime.parked_owner(args.id)
        if consumer is None:
            print(f"no parked event {args.id} in {entry.name}", file=sys.stderr)
            return 1
        operator = f"cli:{getpass.getuser()}"
        try:
            if args.action == "replay":
                print(await consumer.replay_parked(args.id, by=operator))
            else:
                await consumer.discard_parked(args.id, by=operator, note=args.note)
                print("discarded")
        except LookupError as error:
            print(error, file=sys.stderr)
            return 1
        return 0
    finally:
        await runtime.close()


async def _list_parked(entry: ServiceEntry) -> None:
    definition = _definition(entry)
    settings = _settings(entry)
    parked = definition.tables.parked_events
    engine = create_engine(settings.database_url.get_secret_value(), pool_size=1)
    try:
        async with engine.connect() as connection:
            rows = (
                await connection.execute(
                    select(
                        parked.c.id,
                        parked.c.consumer,
                        parked.c.topic,
                        parked.c.event_type,
                        parked.c.parked_at,
                        parked.c.error,
                    )
                    .where(parked.c.status == "parked")
                    .order_by(parked.c.id)
                )
            ).all()
    finally:
        await engine.dispose()
    for row in rows:
        print(
            f"{entry.name}\t{row.id}\t{row.consumer}\t{row.topic}\t{row.event_type}\t"
            f"{row.parked_at:%Y-%m-%d %H:%M:%S}\t{row.error[:120]}"
        )


if __name__ == "__main__":
    sys.exit(main())
