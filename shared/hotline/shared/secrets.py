"""Secrets: development defaults only where development was asked for explicitly
(`HOTLINE_ENVIRONMENT=development` or `test`: `make run` and the tests set it); everywhere else a
secret that is missing, published in this repository, or too short stops the service at start
with a message naming the variable. `hotline secrets` makes a fresh set.
"""

import base64
import secrets
from collections.abc import Iterable
from typing import TypeVar

from pydantic import SecretStr

MIN_SECRET_LENGTH = 24
DEVELOPMENT_ENVIRONMENTS = frozenset({"development", "test"})
# The placeholder `.env.example` carries for every token: valid in form, refused as published.
EXAMPLE_PLACEHOLDER = "replace-me-with-a-secret-from-hotline-secrets"
EXAMPLE_WEBHOOK_PLACEHOLDER = "whsec_cmVwbGFjZS1tZS13aXRoLWhvdGxpbmUtc2VjcmV0cw=="

# The development defaults, all here, so that every process refuses every one of them (not
# only those of the services it happened to import).
DEVELOPMENT_OPERATOR_TOKEN = "development-only-operator-token"
DEVELOPMENT_INTAKE_READER_TOKEN = "development-only-reader-token"
DEVELOPMENT_INTAKE_SUPERVISOR_TOKEN = "development-only-intake-supervisor-token"
DEVELOPMENT_CALL_CENTRE_SECRET = "whsec_ZGV2ZWxvcG1lbnQtb25seS1jYWxsLWNlbnRyZS1zZWNyZXQ="
# Open311 API keys, one per channel (the city's website, its app, its WeChat account).
DEVELOPMENT_OPEN311_KEYS = {
    "web": "development-only-open311-web-key",
    "app": "development-only-open311-app-key",
    "wechat": "development-only-open311-wechat-key",
}
DEVELOPMENT_DISPATCH_SUPERVISOR_TOKEN = "development-only-supervisor-token"
DEVELOPMENT_CALLBACK_SECRET = "whsec_ZGV2ZWxvcG1lbnQtb25seS1jYWxsYmFjay1zZWNyZXQ="
DEVELOPMENT_AGENT_TOKEN = "development-only-agent-token"
DEVELOPMENT_SCORING_READER_TOKEN = "development-only-scoring-reader-token"
DEVELOPMENT_SYNC_READER_TOKEN = "development-only-sync-reader-token"
DEVELOPMENT_SYNC_SUPERVISOR_TOKEN = "development-only-sync-supervisor-token"
# The key pair the city and `hotline province` (the province's side, run here) share.
DEVELOPMENT_PROVINCE_APP_KEY = "hotline-4305-development"
DEVELOPMENT_PROVINCE_APP_SECRET = "development-only-province-app-secret"
DEVELOPMENT_PROVINCE_ADMIN_TOKEN = "development-only-province-admin-token"
FORMER_COMPOSE_PASSWORD = "hotline-local-dev"  # compose's database password before .env

# Every secret value this repository publishes (development defaults, example placeholders).
PUBLISHED = frozenset(
    {
        EXAMPLE_PLACEHOLDER,
        EXAMPLE_WEBHOOK_PLACEHOLDER,
        DEVELOPMENT_OPERATOR_TOKEN,
        DEVELOPMENT_INTAKE_READER_TOKEN,
        DEVELOPMENT_INTAKE_SUPERVISOR_TOKEN,
        DEVELOPMENT_CALL_CENTRE_SECRET,
        *DEVELOPMENT_OPEN311_KEYS.values(),
        DEVELOPMENT_DISPATCH_SUPERVISOR_TOKEN,
        DEVELOPMENT_CALLBACK_SECRET,
        DEVELOPMENT_AGENT_TOKEN,
        DEVELOPMENT_SCORING_READER_TOKEN,
        DEVELOPMENT_SYNC_READER_TOKEN,
        DEVELOPMENT_SYNC_SUPERVISOR_TOKEN,
        DEVELOPMENT_PROVINCE_APP_SECRET,
        DEVELOPMENT_PROVINCE_ADMIN_TOKEN,
        FORMER_COMPOSE_PASSWORD,
    }
)

T = TypeVar("T")


def new_token() -> str:
    return secrets.token_urlsafe(32)


def new_webhook_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def in_development(environment: str) -> bool:
    return environment in DEVELOPMENT_ENVIRONMENTS


def required(environment: str, variable: str, value: T | None, development_default: T) -> T:
    """The configured value; the development default when unset in development; else stop."""
    if value is not None:
        return value
    if in_development(environment):
        return development_default
    raise ValueError(f"{variable} must be set (make one with `hotline secrets`)")


def check(environment: str, variable: str, values: Iterable[SecretStr | str]) -> None:
    """Outside development, refuse published and short secrets, naming the variable."""
    if in_development(environment):
        return
    for value in values:
        secret = value.get_secret_value() if isinstance(value, SecretStr) else value
        if secret in PUBLISHED:
            raise ValueError(
                f"{variable} holds a secret published in the hotline repository; "
                "make a new one with `hotline secrets`"
            )
        if len(secret) < MIN_SECRET_LENGTH:
            raise ValueError(f"{variable}: secrets have at least {MIN_SECRET_LENGTH} characters")


def token_map(
    environment: str,
    variable: str,
    value: dict[str, SecretStr] | None,
    development_default: dict[str, str],
) -> dict[str, SecretStr]:
    """A map of name → token: `required`, then `check`ed."""
    tokens = required(
        environment,
        variable,
        value,
        {name: SecretStr(token) for name, token in development_default.items()},
    )
    check(environment, variable, tokens.values())
    return tokens
