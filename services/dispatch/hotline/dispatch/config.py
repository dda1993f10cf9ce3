"""The dispatch service's settings: the shared `HOTLINE_*` ones and its own `HOTLINE_DISPATCH_*`."""

from datetime import date
from typing import Annotated, Any

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from hotline.shared import secrets
from hotline.shared.messaging.events import RequestType
from hotline.shared.settings import ServiceSettings

DEVELOPMENT_SUPERVISOR_TOKEN = secrets.DEVELOPMENT_DISPATCH_SUPERVISOR_TOKEN

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
    # JSON: only the types to change, e.g. {"complaint": 7}; the rest keep their defaults.
    deadline_days: dict[RequestType, Annotated[int, Field(ge=1, le=365)]] = Field(
        default_factory=lambda: dict(DEFAULT_DEADLINE_DAYS)
    )
    # The State Council announces next year's holidays and make-up working days (调休) late in
    # the year; until the calendar library knows them, list them here.
    extra_holidays: set[date] = Field(default_factory=set)
    extra_working_days: set[date] = Field(default_factory=set)
    reminder_hours: float = Field(default=24.0, gt=0)
    auto_accept_replies: bool = True
    # "Two answers": a reply to these request types is compared with the unit's earlier answers
    # to the same question (a complaint's answer is about its own incident, not a rule).
    two_answers_request_types: set[RequestType] = Field(
        default_factory=lambda: set[RequestType](["consultation"])
    )
    # How far back a unit's earlier answers count, for replies and returns alike.
    answers_lookback_days: int = Field(default=730, ge=1, le=3650)
    scheduler_interval_seconds: float = Field(default=30.0, gt=0)

    @field_validator("deadline_days", mode="before")
    @classmethod
    def _merge_over_the_defaults(cls, value: Any) -> Any:
        """A partial map changes only what it names: no request type is ever left without a
        deadline (which would fail the next ticket of that type, not the start-up)."""
        return {**DEFAULT_DEADLINE_DAYS, **value} if isinstance(value, dict) else value

    @field_validator("deadline_days", mode="after")
    @classmethod
    def _every_request_type_has_a_deadline(cls, value: dict[str, int]) -> dict[str, int]:
        missing = set(DEFAULT_DEADLINE_DAYS) - set(value)
        if missing:
            raise ValueError(f"no deadline for {', '.join(sorted(missing))}")
        return value


class DispatchSettings(ServiceSettings):
    dispatch: DispatchOptions = Field(default_factory=DispatchOptions)

    @model_validator(mode="after")
    def _secrets_set_outside_development(self) -> "DispatchSettings":
        options = self.dispatch
        options.supervisor_tokens = secrets.token_map(
            self.environment,
            "HOTLINE_DISPATCH_SUPERVISOR_TOKENS",
            options.supervisor_tokens,
            {"supervisor": DEVELOPMENT_SUPERVISOR_TOKEN},
        )
        return self
