"""What docker compose gives each service: with the example `.env` (placeholders) every service
refuses to start naming the variable; with a `.env` made by `hotline secrets` every service
starts and is ready. Each runs as `hotline serve`, with compose's environment read from
docker-compose.yml, only the addresses of PostgreSQL and Kafka pointed at the test servers."""

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import yaml

from hotline.shared.stack.cli import fresh_secrets_env
from hotline.shared.stack.embedded import free_port
from hotline.shared.stack.services import SERVICES, ServiceEntry
from tests.conftest import Servers

pytestmark = [pytest.mark.slow, pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)]
INTERPOLATION = re.compile(r"\$\{(\w+)(?::?[-?][^}]*)?\}")


def dotenv(text: str) -> dict[str, str]:
    """An .env file as docker compose reads it: NAME=value, single quotes literal."""
    values = {}
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, _, value = line.partition("=")
        if value.startswith("'") and value.endswith("'"):
            value = value[1:-1]
        values[name.strip()] = value
    return values


def compose_environment(
    repo_root: Path, service: ServiceEntry, env_file: dict[str, str]
) -> dict[str, str]:
    compose = yaml.safe_load((repo_root / "docker-compose.yml").read_text())
    definition = compose["services"][service.name]
    assert definition.get("env_file") == ".env"
    environment = {
        name: INTERPOLATION.sub(lambda match: env_file[match.group(1)], str(value))
        for name, value in definition["environment"].items()
    }
    return {**env_file, **environment}


def run_as_compose_would(
    repo_root: Path, servers: Servers, service: ServiceEntry, env_file: dict[str, str]
) -> tuple[subprocess.Popen[str], str]:
    environment = compose_environment(repo_root, service, env_file)
    assert environment["HOTLINE_ENVIRONMENT"] == "production"
    port = free_port()
    environment |= {
        # The containers' addresses, and what Apache Kafka has but the embedded broker lacks.
        "HOTLINE_DATABASE_URL": servers.database_url,
        "HOTLINE_KAFKA_BOOTSTRAP": servers.kafka_bootstrap,
        "HOTLINE_KAFKA_ENABLE_IDEMPOTENCE": "false",
        "HOTLINE_HOST": "127.0.0.1",
        "HOTLINE_PORT": str(port),
    }
    inherited = {
        name: value for name, value in os.environ.items() if not name.startswith("HOTLINE_")
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "hotline.shared.stack.cli", "serve", service.name],
        env=inherited | environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    return process, f"http://127.0.0.1:{port}"


def test_the_example_env_is_refused_naming_a_variable(
    repo_root: Path, servers: Servers, service: ServiceEntry
) -> None:
    example = dotenv((repo_root / ".env.example").read_text())

    process, _url = run_as_compose_would(repo_root, servers, service, example)
    output, _ = process.communicate(timeout=60)

    assert process.returncode == 2, output
    assert re.search(r"HOTLINE_[A-Z_]+ holds a (secret|password) published", output), output


def test_a_made_env_starts_the_service_ready(
    repo_root: Path, servers: Servers, service: ServiceEntry
) -> None:
    made = dotenv(fresh_secrets_env())
    # The example lists exactly what `hotline secrets` makes.
    assert set(made) == set(dotenv((repo_root / ".env.example").read_text()))

    process, url = run_as_compose_would(repo_root, servers, service, made)
    try:
        deadline, status = time.monotonic() + 60, None
        while time.monotonic() < deadline and process.poll() is None:
            try:
                status = httpx.get(f"{url}/readyz", timeout=2).status_code
            except httpx.HTTPError:
                status = None
            if status == 200:
                break
            time.sleep(0.3)
        output = process.stdout.read() if process.stdout and process.poll() is not None else ""
        assert status == 200, output or status
    finally:
        process.terminate()
        process.wait(timeout=20)
