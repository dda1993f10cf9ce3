"""`hotline clock`: a driver outside the stack shows and moves the business clock over HTTP."""

import asyncio
from datetime import datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.shared.migrations import upgrade
from hotline.shared.stack.cli import main
from hotline.shared.stack.embedded import free_port
from hotline.shared.stack.up import CLOCK_PACKAGE
from tests.conftest import Servers
from tests.support import serving


async def test_the_command_sets_advances_and_shows_the_clock_of_a_running_service(
    engine: AsyncEngine, servers: Servers, capsys: pytest.CaptureFixture[str]
) -> None:
    await upgrade(engine, CLOCK_PACKAGE)
    await upgrade(engine, "hotline.intake")
    from hotline.intake.main import app

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    async with serving(app, servers, port, clock="simulated"):
        # The command is synchronous: it runs beside the server, as it would in a terminal.
        codes = [
            await asyncio.to_thread(main, ["clock", *arguments, "--url", url])
            for arguments in (
                ["set", "2022-01-05T09:00:00+08:00", "--force"],
                ["advance", "1d2h"],
                ["show"],
                ["set", "2022-01-01T00:00:00+08:00"],  # back, without --force
            )
        ]
    output, errors = capsys.readouterr()

    assert codes == [0, 0, 0, 1]
    set_line, advanced_line, shown_line = output.splitlines()
    assert set_line.startswith("2022-01-05T01:00:")
    advanced = datetime.fromisoformat(advanced_line.split()[0])
    expected = datetime.fromisoformat("2022-01-06T11:00:00+08:00")
    assert timedelta(0) <= advanced - expected < timedelta(seconds=30)
    assert shown_line.endswith("(simulated)")
    assert "409" in errors
    assert "force" in errors
