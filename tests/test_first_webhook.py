"""README's "first webhook in five minutes", from a fresh clone: intake started as `make run`
starts it (development mode), the example ticket signed and posted with `hotline sign` and the
development secret, and read back with the development reader token the README gives."""

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.shared import secrets
from hotline.shared.migrations import upgrade
from hotline.shared.stack.embedded import free_port
from tests.conftest import TEST_KAFKA_TUNING, Servers

HOTLINE = [sys.executable, "-m", "hotline.shared.stack.cli"]


@pytest.fixture
async def intake_schema(engine: AsyncEngine) -> None:
    await upgrade(engine, "hotline.intake")


@pytest.fixture
def clone(repo_root: Path, tmp_path: Path) -> Path:
    """What a newcomer gets: the committed tree, nothing of this working copy's changes."""
    subprocess.run(
        ["git", "clone", "--quiet", str(repo_root), str(tmp_path / "hotline")], check=True
    )
    return tmp_path / "hotline"


@pytest.fixture
def intake_url(servers: Servers, intake_schema: None) -> Iterator[str]:
    port = free_port()
    env = {name: value for name, value in os.environ.items() if not name.startswith("HOTLINE_")}
    env |= {
        "HOTLINE_ENVIRONMENT": "development",  # what `make run` runs: development secrets only
        "HOTLINE_DATABASE_URL": servers.database_url,
        "HOTLINE_KAFKA_BOOTSTRAP": servers.kafka_bootstrap,
        "HOTLINE_PORT": str(port),
        "HOTLINE_LOG_LEVEL": "warning",
    }
    env |= {f"HOTLINE_KAFKA_{name.upper()}": str(v) for name, v in TEST_KAFKA_TUNING.items()}
    process = subprocess.Popen([*HOTLINE, "serve", "intake"], env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/readyz", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert process.poll() is None, "intake stopped before it was ready"
            assert time.monotonic() < deadline, "intake not ready within 60s"
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def five_minute_section(readme: str) -> str:
    start = readme.index("## The first webhook in five minutes")
    return readme[start : readme.index("\n## ", start + 1)]


def test_the_readme_gives_the_development_secret_and_tokens_the_services_accept(
    clone: Path,
) -> None:
    section = five_minute_section((clone / "README.md").read_text())

    for name in ("CALL_CENTRE_SECRET", "CALLBACK_SECRET", "INTAKE_READER_TOKEN", "AGENT_TOKEN"):
        assert getattr(secrets, f"DEVELOPMENT_{name}") in section, name
    assert "hotline sign examples/ticket.json --post" in section


@pytest.mark.slow
def test_a_newcomer_signs_posts_and_reads_back_the_example_ticket(
    clone: Path, intake_url: str
) -> None:
    section = five_minute_section((clone / "README.md").read_text())
    token = re.search(r"Bearer (development-only-reader-token)", section)
    assert token is not None
    example = clone / "examples" / "ticket.json"
    body = json.loads(example.read_text())
    example.write_text(json.dumps(body | {"source_ticket_id": f"desk-{uuid4().hex[:8]}"}))

    posted = subprocess.run(
        [*HOTLINE, "sign", "examples/ticket.json", "--post", f"{intake_url}/v1/tickets"],
        cwd=clone,
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if k != "HOTLINE_SIGN_SECRET"},
        check=False,
    )

    assert posted.returncode == 0, posted.stdout + posted.stderr
    assert posted.stdout.startswith("HTTP 201")
    accepted = json.loads(posted.stdout.splitlines()[-1])
    read = httpx.get(
        f"{intake_url}/v1/tickets/{accepted['ticket_no']}",
        headers={"Authorization": f"Bearer {token.group(1)}"},
        timeout=30,
    )
    assert read.status_code == 200, read.text
    assert read.json()["caller_number"] == "138****2345"
    assert read.json()["category"] == body["category"]


def test_the_printed_headers_sign_the_file_as_it_is(tmp_path: Path) -> None:
    from standardwebhooks.webhooks import Webhook

    body = tmp_path / "call.json"
    body.write_text('{"call_id": "call-1", "note": "话单"}')

    printed = subprocess.run(
        [*HOTLINE, "sign", str(body), "--secret", secrets.DEVELOPMENT_CALLBACK_SECRET],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    headers = dict(line.split(": ", 1) for line in printed.splitlines())

    Webhook(secrets.DEVELOPMENT_CALLBACK_SECRET).verify(body.read_text(), headers)
    with pytest.raises(Exception, match="signature"):
        Webhook(secrets.DEVELOPMENT_CALL_CENTRE_SECRET).verify(body.read_text(), headers)
