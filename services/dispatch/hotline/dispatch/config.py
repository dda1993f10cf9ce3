"""The dispatch service's settings: the shared `HOTLINE_*` ones and its own `HOTLINE_DISPATCH_*`."""

from datetime import date

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from hotline.shared.messaging.events import RequestType
from hotline.shared.settings import ServiceSettings

DEVELOPMENT_SUPERVISOR_TOKEN = "development-only-supervisor-token"

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
    supervisor_tokens: dict[str, SecretStr] = Field(
        default_factory=lambda: {"supervisor": SecretStr(DEVELOPMENT_SUPERVISOR_TOKEN)}
    )
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
    def _refuse_development_token_in_production(self) -> "DispatchSettings":
        tokens = [token.get_secret_value() for token in self.dispatch.supervisor_tokens.values()]
        if self.environment == "production" and DEVELOPMENT_SUPERVISOR_TOKEN in tokens:
            raise ValueError("HOTLINE_DISPATCH_SUPERVISOR_TOKENS must be set in production")
        return self
