"""The dispatch service's settings: the shared `HOTLINE_*` ones and its own `HOTLINE_DISPATCH_*`."""

from datetime import date

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from hotline.shared import secrets
from hotline.shared.messaging.events import RequestType
from hotline.shared.settings import ServiceSettings

DEVELOPMENT_SUPERVISOR_TOKEN = "development-only-supervisor-token"
secrets.published(DEVELOPMENT_SUPERVISOR_TOKEN)

# Working days a unit has to reply, by request type: our own product decision, to be replaced by
# the city's rules (the bulletin names none; we found no provincial figure we could cite).
DEFAULT_DEADLINE_DAYS: dict[RequestType, int] = {
    "consultation": 2,
    "help": 5,
    "complaint": 10,
    "report": 10,
    "suggestion": 15,
    "praise": 3,
    "other": 5,
}


class DispatchOptions(BaseSettings):
    """Dispatch's own settings, from `HOTLINE_DISPATCH_*`."""

    model_config = SettingsConfigDict(env_prefix="HOTLINE_DISPATCH_", extra="ignore")

    # JSON: {"supervisor-name": "token", …}; each supervisor's actions are recorded under the name.
    # Unset: the development token in development, else dispatch refuses to start.
    supervisor_tokens: dict[str, SecretStr] | None = None
    deadline_days: dict[RequestType, int] = Field(
        default_factory=lambda: dict(DEFAULT_DEADLINE_DAYS)
    )
    # The State Council announces next year's holidays and make-up working days (调休) late in
    # the year; until the calendar library knows them, list them here.
    extra_holidays: set[date] = Field(default_factory=set)
    extra_working_days: set[date] = Field(default_factory=set)
    reminder_hours: float = Field(default=24.0, gt=0)
    auto_accept_replies: bool = True
    scheduler_interval_seconds: float = Field(default=30.0, gt=0)


class DispatchSettings(ServiceSettings):
    dispatch: DispatchOptions = Field(default_factory=DispatchOptions)

    @model_validator(mode="after")
    def _secrets_set_outside_development(self) -> "DispatchSettings":
        options = self.dispatch
        options.supervisor_tokens = secrets.required(
            self.environment,
            "HOTLINE_DISPATCH_SUPERVISOR_TOKENS",
            options.supervisor_tokens,
            {"supervisor": SecretStr(DEVELOPMENT_SUPERVISOR_TOKEN)},
        )
        secrets.check(
            self.environment,
            "HOTLINE_DISPATCH_SUPERVISOR_TOKENS",
            options.supervisor_tokens.values(),
        )
        return self
