"""The provincial-sync service's settings: the shared `HOTLINE_*` ones and its own
`HOTLINE_SYNC_*`."""

import re
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from hotline.shared import secrets
from hotline.shared.domain import quality
from hotline.shared.settings import ServiceSettings
from hotline.shared.stack.services import PROVINCE_PORT

GateMode = Literal["block", "warn", "off"]
DEVELOPMENT_PROVINCE_URL = f"http://127.0.0.1:{PROVINCE_PORT}"  # `hotline province`
_DEFAULT_RULE_MODES: dict[str, GateMode] = {"T17": "warn"}


class SyncOptions(BaseSettings):
    """Provincial-sync's own settings, from `HOTLINE_SYNC_*`."""

    model_config = SettingsConfigDict(env_prefix="HOTLINE_SYNC_", extra="ignore")

    # Who may read the status and the worklist (JSON name → token), and who may release a
    # blocked document or send a parked one again.
    reader_tokens: dict[str, SecretStr] | None = None
    supervisor_tokens: dict[str, SecretStr] | None = None

    # The province: where it listens, the exchange format, and the key pair it issued the city.
    province_url: str | None = Field(default=None, pattern=r"^https?://[^\s/]+(/\S*)?$")
    province_format: Literal["generic-v1"] = "generic-v1"
    app_key: str | None = Field(default=None, min_length=1)
    app_secret: SecretStr | None = None
    city_code: str = Field(default="4305", pattern=r"^\d{4,6}$")

    # The gate before upload: `block` keeps a document with findings on the worklist, `warn`
    # sends it and records the findings, `off` ignores a rule; per rule code in `rule_modes`.
    gate_mode: Literal["block", "warn"] = "block"
    # T17 is reported but not deducted until the province sets its start: it does not block.
    rule_modes: dict[str, GateMode] = Field(default_factory=lambda: _DEFAULT_RULE_MODES.copy())

    batch_size: int = Field(default=500, ge=1, le=1000)
    # Requests in flight at once (each its own batch of documents).
    concurrency: int = Field(default=2, ge=1, le=16)
    request_timeout_seconds: float = Field(default=10.0, gt=0)
    idle_poll_seconds: float = Field(default=0.2, gt=0)
    # A refused document is tried again after 1 s, 2, 4 … (with jitter) up to the ceiling, and
    # parked after `park_after_refusals` refusals of one version.
    retry_initial_seconds: float = Field(default=1.0, gt=0)
    retry_max_seconds: float = Field(default=300.0, gt=0)
    park_after_refusals: int = Field(default=3, ge=1)
    # The breaker opens after this many failed requests in a row, and lets one small request
    # through after `breaker_open_seconds` (doubling while the province stays down).
    breaker_failures: int = Field(default=3, ge=1)
    breaker_open_seconds: float = Field(default=5.0, gt=0)
    breaker_max_open_seconds: float = Field(default=60.0, gt=0)
    status_interval_seconds: float = Field(default=10.0, gt=0)

    @field_validator("rule_modes")
    @classmethod
    def _known_rules(cls, modes: dict[str, GateMode]) -> dict[str, GateMode]:
        unknown = sorted(code for code in modes if code not in quality.RULES)
        if unknown:
            raise ValueError(f"unknown rule codes: {', '.join(unknown)}")
        return modes

    def mode_of(self, code: str) -> GateMode:
        return self.rule_modes.get(code, self.gate_mode)


class SyncSettings(ServiceSettings):
    sync: SyncOptions = Field(default_factory=SyncOptions)

    @model_validator(mode="after")
    def _province_and_secrets_set_outside_development(self) -> "SyncSettings":
        options, environment = self.sync, self.environment
        options.reader_tokens = secrets.token_map(
            environment,
            "HOTLINE_SYNC_READER_TOKENS",
            options.reader_tokens,
            {"supervisor": secrets.DEVELOPMENT_SYNC_READER_TOKEN},
        )
        options.supervisor_tokens = secrets.token_map(
            environment,
            "HOTLINE_SYNC_SUPERVISOR_TOKENS",
            options.supervisor_tokens,
            {"supervisor": secrets.DEVELOPMENT_SYNC_SUPERVISOR_TOKEN},
        )
        if options.province_url is None:
            if not secrets.in_development(environment):
                raise ValueError("HOTLINE_SYNC_PROVINCE_URL must be set: the provincial platform")
            options.province_url = DEVELOPMENT_PROVINCE_URL
        options.app_key = secrets.required(
            environment,
            "HOTLINE_SYNC_APP_KEY",
            options.app_key,
            secrets.DEVELOPMENT_PROVINCE_APP_KEY,
        )
        options.app_secret = secrets.required(
            environment,
            "HOTLINE_SYNC_APP_SECRET",
            options.app_secret,
            SecretStr(secrets.DEVELOPMENT_PROVINCE_APP_SECRET),
        )
        secrets.check(environment, "HOTLINE_SYNC_APP_SECRET", [options.app_secret])
        options.province_url = re.sub(r"/+$", "", options.province_url)
        return self
