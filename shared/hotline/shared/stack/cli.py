"""The `hotline` command: `up` runs the embedded suite, `serve` one service, `migrate` schemas."""

import argparse
import asyncio
import os
import sys

import uvicorn

from hotline.shared.db import create_engine
from hotline.shared.migrations import upgrade
from hotline.shared.settings import ServiceSettings
from hotline.shared.stack.services import SERVICES, SERVICES_BY_NAME


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hotline", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("up", help="start the embedded stack and all five services")
    serve = commands.add_parser("serve", help="run one service on configured PostgreSQL and Kafka")
    serve.add_argument("service", choices=sorted(SERVICES_BY_NAME))
    serve.add_argument("--port", type=int, help="default: HOTLINE_PORT, else the service's port")
    migrate = commands.add_parser("migrate", help="apply migrations on HOTLINE_DATABASE_URL")
    migrate.add_argument("services", nargs="*", choices=[[], *sorted(SERVICES_BY_NAME)])
    args = parser.parse_args(argv)

    if args.command == "up":
        from hotline.shared.stack.up import run_stack

        return run_stack()
    if args.command == "serve":
        entry = SERVICES_BY_NAME[args.service]
        settings = ServiceSettings()
        port = args.port or int(os.environ.get("HOTLINE_PORT", entry.port))
        uvicorn.run(
            entry.asgi_app,
            host=settings.host,
            port=port,
            log_level=settings.log_level,
            timeout_graceful_shutdown=10,
        )
        return 0
    return _migrate(args.services or [service.name for service in SERVICES])


def _migrate(names: list[str]) -> int:
    async def run() -> None:
        settings = ServiceSettings()
        engine = create_engine(settings.database_url.get_secret_value(), pool_size=1)
        try:
            for name in names:
                await upgrade(engine, SERVICES_BY_NAME[name].package)
                print(f"migrated {name}")
        finally:
            await engine.dispose()

    asyncio.run(run())
    return 0


if __name__ == "__main__":
    sys.exit(main())
