"""Open311's API keys follow the other secrets' rules: outside development a missing, published
or short key stops intake naming the variable, and one key serves one channel only."""

import json
import os

import pytest
from pydantic import ValidationError

from hotline.intake.config import IntakeSettings
from hotline.shared import secrets
from hotline.shared.stack.cli import fresh_secrets_env
from tests.test_compose_environment import dotenv

VARIABLE = "HOTLINE_INTAKE_OPEN311_API_KEYS"
DATABASE = "postgresql+asyncpg://hotline:a-real-password-from-a-vault@db:5432/hotline"


@pytest.fixture
def production(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """Production, with every secret `hotline secrets` makes set (so only ours can fail)."""
    for name in list(os.environ):
        if name.startswith("HOTLINE_"):
            monkeypatch.delenv(name)
    for name, value in dotenv(fresh_secrets_env()).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("HOTLINE_ENVIRONMENT", "production")
    monkeypatch.setenv("HOTLINE_DATABASE_URL", DATABASE)
    return monkeypatch


def test_hotline_secrets_gives_each_channel_a_key_production_accepts(
    production: pytest.MonkeyPatch,
) -> None:
    keys = IntakeSettings().intake.open311_api_keys

    assert keys is not None
    assert set(keys) == {"web", "app", "wechat"}
    assert all(len(key.get_secret_value()) >= 24 for found in keys.values() for key in found)


def test_left_out_in_production_intake_refuses_to_start_naming_it(
    production: pytest.MonkeyPatch,
) -> None:
    production.delenv(VARIABLE)

    with pytest.raises(ValidationError, match=VARIABLE):
        IntakeSettings()


@pytest.mark.parametrize(
    "key",
    [
        secrets.DEVELOPMENT_OPEN311_KEYS["web"],
        secrets.EXAMPLE_PLACEHOLDER,
        "short-key",
    ],
)
def test_a_published_or_short_key_is_refused(production: pytest.MonkeyPatch, key: str) -> None:
    production.setenv(VARIABLE, json.dumps({"web": [key]}))

    with pytest.raises(ValidationError, match=VARIABLE):
        IntakeSettings()


def test_one_key_on_two_channels_is_refused(production: pytest.MonkeyPatch) -> None:
    key = secrets.new_token()
    production.setenv(VARIABLE, json.dumps({"web": [key], "wechat": [key]}))

    with pytest.raises(ValidationError, match="one channel only"):
        IntakeSettings()


def test_a_channel_the_domain_does_not_know_is_refused(production: pytest.MonkeyPatch) -> None:
    production.setenv(VARIABLE, json.dumps({"phone": [secrets.new_token()]}))

    with pytest.raises(ValidationError, match="open311_api_keys"):
        IntakeSettings()


def test_development_gets_a_key_per_channel(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(VARIABLE, raising=False)
    monkeypatch.setenv("HOTLINE_ENVIRONMENT", "development")

    keys = IntakeSettings().intake.open311_api_keys

    assert keys is not None
    assert {channel: [k.get_secret_value() for k in found] for channel, found in keys.items()} == {
        channel: [key] for channel, key in secrets.DEVELOPMENT_OPEN311_KEYS.items()
    }
