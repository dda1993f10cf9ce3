"""The simulated province's settings (environment variables `HOTLINE_PROVINCE_*`, and the shared
`HOTLINE_ENVIRONMENT`, `HOTLINE_HOST`, `HOTLINE_LOG_LEVEL`, `HOTLINE_LOG_FORMAT`)."""

import re
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from hotline.shared import secrets
from hotline.shared.logs import LogFormat


class ProvinceSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="HOTLINE_PROVINCE_", extra="ignore", populate_by_name=True
    )

    # Shared with the services (same variables): production unless development is asked for.
    environment: Literal["development", "test", "production"] = Field(
        default="production", validation_alias="HOTLINE_ENVIRONMENT"
    )
    host: str = Field(default="127.0.0.1", validation_alias="HOTLINE_HOST")
    log_level: str = Field(default="info", validation_alias="HOTLINE_LOG_LEVEL")
    log_format: LogFormat | None = Field(default=None, validation_alias="HOTLINE_LOG_FORMAT")

    # The key pairs the province issued (JSON app key → secret): uploads are signed with one,
    # and so are the callbacks it pushes (with `callback_app_key`, default the first).
    app_keys: dict[str, SecretStr] | None = None
    # Who may use /admin (JSON name → bearer token).
    admin_tokens: dict[str, SecretStr] | None = None
    # Provincial-sync's base URL, where spot checks and findings are pushed; unset: none are.
    callback_url: str | None = Field(default=None, pattern=r"^https?://[^\s/]+(/\S*)?$")
    callback_app_key: str | None = None
    # The share of accepted closed tickets the province spot-checks (抽查) by itself.
    spot_check_share: float = Field(default=0.0, ge=0, le=1)
    # Check accepted records with the province's data-quality rules and push the findings.
    audit: bool = True
    push_interval_seconds: float = Field(default=1.0, gt=0)
    push_timeout_seconds: float = Field(default=10.0, gt=0)

    @model_validator(mode="after")
    def _secrets_set_outside_development(self) -> "ProvinceSettings":
        self.app_keys = secrets.token_map(
            self.environment,
            "HOTLINE_PROVINCE_APP_KEYS",
            self.app_keys,
            {secrets.DEVELOPMENT_PROVINCE_APP_KEY: secrets.DEVELOPMENT_PROVINCE_APP_SECRET},
        )
        self.admin_tokens = secrets.token_map(
            self.environment,
            "HOTLINE_PROVINCE_ADMIN_TOKENS",
            self.admin_tokens,
            {"operator": secrets.DEVELOPMENT_PROVINCE_ADMIN_TOKEN},
        )
        if not self.app_keys:
            raise ValueError("HOTLINE_PROVINCE_APP_KEYS must name at least one app key")
        if self.callback_app_key is None:
            self.callback_app_key = next(iter(self.app_keys))
        elif self.callback_app_key not in self.app_keys:
            raise ValueError(
                "HOTLINE_PROVINCE_CALLBACK_APP_KEY must be one of HOTLINE_PROVINCE_APP_KEYS"
            )
        if self.callback_url is not None:
            self.callback_url = re.sub(r"/+$", "", self.callback_url)
        return self

    def signing_secrets(self) -> dict[str, str]:
        """App key → secret, as `generic_v1.verify` takes them."""
        return {key: secret.get_secret_value() for key, secret in (self.app_keys or {}).items()}

    def callback_key_pair(self) -> tuple[str, str]:
        key = self.callback_app_key or next(iter(self.signing_secrets()))
        return key, self.signing_secrets()[key]

    def admin_secrets(self) -> list[str]:
        return [token.get_secret_value() for token in (self.admin_tokens or {}).values()]
