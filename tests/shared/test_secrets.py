"""Development secrets only where development was asked for; anywhere else a missing, published
or short secret stops the service with the variable's name."""

import json
import subprocess
import sys

import pytest
from pydantic import ValidationError

from hotline.callback.config import CallbackSettings
from hotline.dispatch.config import DEVELOPMENT_SUPERVISOR_TOKEN, DispatchSettings
from hotline.intake.config import DEVELOPMENT_CALL_CENTRE_SECRET, IntakeSettings
from hotline.provincial_sync.config import SyncSettings
from hotline.provincial_sync.province.config import ProvinceSettings
from hotline.scoring.config import ScoringSettings
from hotline.shared import secrets
from hotline.shared.stack.cli import fresh_secrets_env
from tests.test_compose_environment import dotenv

DATABASE = "postgresql+asyncpg://hotline:a-real-password-from-a-vault@db:5432/hotline"


@pytest.fixture(autouse=True)
def no_hotline_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(__import__("os").environ):
        if name.startswith("HOTLINE_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOTLINE_DATABASE_URL", DATABASE)


@pytest.mark.parametrize("environment", [None, "production"])
@pytest.mark.parametrize(
    ("settings", "variable"),
    [
        (IntakeSettings, "HOTLINE_INTAKE_WEBHOOK_SENDERS"),
        (DispatchSettings, "HOTLINE_DISPATCH_SUPERVISOR_TOKENS"),
        (CallbackSettings, "HOTLINE_CALLBACK_WEBHOOK_SENDERS"),
        (ScoringSettings, "HOTLINE_SCORING_READER_TOKENS"),
        (SyncSettings, "HOTLINE_SYNC_READER_TOKENS"),
        (ProvinceSettings, "HOTLINE_PROVINCE_APP_KEYS"),
    ],
)
def test_outside_development_a_missing_secret_stops_the_service_naming_it(
    monkeypatch: pytest.MonkeyPatch, environment: str | None, settings: type, variable: str
) -> None:
    if environment:
        monkeypatch.setenv("HOTLINE_ENVIRONMENT", environment)

    with pytest.raises(ValidationError, match=variable):
        settings()


def test_development_gets_the_development_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_ENVIRONMENT", "development")

    intake, dispatch = IntakeSettings(), DispatchSettings()

    assert intake.intake.webhook_senders is not None
    secret = intake.intake.webhook_senders["callcentre"].secrets[0].get_secret_value()
    assert secret == DEVELOPMENT_CALL_CENTRE_SECRET
    assert dispatch.dispatch.supervisor_tokens is not None


@pytest.mark.parametrize(
    "token", [DEVELOPMENT_SUPERVISOR_TOKEN, secrets.EXAMPLE_PLACEHOLDER, "short-token"]
)
def test_a_published_or_short_secret_is_refused_in_production(
    monkeypatch: pytest.MonkeyPatch, token: str
) -> None:
    monkeypatch.setenv("HOTLINE_ENVIRONMENT", "production")
    monkeypatch.setenv("HOTLINE_DISPATCH_SUPERVISOR_TOKENS", json.dumps({"王主任": token}))

    with pytest.raises(ValidationError, match="HOTLINE_DISPATCH_SUPERVISOR_TOKENS"):
        DispatchSettings()


def test_a_published_database_password_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_ENVIRONMENT", "production")
    monkeypatch.setenv(
        "HOTLINE_DATABASE_URL", "postgresql+asyncpg://postgres:hotline-local-dev@postgres/hotline"
    )
    for name, value in dotenv(fresh_secrets_env()).items():
        monkeypatch.setenv(name, value)

    with pytest.raises(ValidationError, match="HOTLINE_DATABASE_URL holds a password"):
        IntakeSettings()


def test_hotline_secrets_makes_a_set_production_accepts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_ENVIRONMENT", "production")
    for name, value in dotenv(fresh_secrets_env()).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("HOTLINE_SYNC_PROVINCE_URL", "http://province:8009")  # as compose sets it

    for settings in (
        IntakeSettings,
        DispatchSettings,
        CallbackSettings,
        ScoringSettings,
        SyncSettings,
        ProvinceSettings,
    ):
        assert settings().environment == "production"
    sync, province = SyncSettings().sync, ProvinceSettings()
    assert sync.app_key is not None
    assert province.app_keys is not None
    assert sync.app_secret == province.app_keys[sync.app_key]  # one pair, shared


def test_every_published_default_is_refused_whatever_a_process_imports() -> None:
    """A process runs one service: it must refuse the other services' defaults too."""
    probe = (
        "from hotline.shared import secrets; "
        "print('development-only-scoring-reader-token' in secrets.PUBLISHED, "
        "'development-only-agent-token' in secrets.PUBLISHED)"
    )
    answer = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert answer.stdout.split() == ["True", "True"]
