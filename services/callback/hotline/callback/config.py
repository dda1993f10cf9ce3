"""The callback service's settings: the shared `HOTLINE_*` ones and its own `HOTLINE_CALLBACK_*`."""

from datetime import date, time

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from hotline.shared import secrets
from hotline.shared.messaging.events import RequestType
from hotline.shared.settings import ServiceSettings
from hotline.shared.web.webhooks import WebhookSender

DEVELOPMENT_SECRET = secrets.DEVELOPMENT_CALLBACK_SECRET
DEVELOPMENT_AGENT_TOKEN = secrets.DEVELOPMENT_AGENT_TOKEN


class CallbackOptions(BaseSettings):
    """Callback's own settings, from `HOTLINE_CALLBACK_*`."""

    model_config = SettingsConfigDict(env_prefix="HOTLINE_CALLBACK_", extra="ignore")

    delay_minutes: float = Field(default=60.0, ge=0, description="After closure, before calling")
    calling_hours_start: time = time(8, 0)
    calling_hours_end: time = time(20, 0)
    call_on_weekends: bool = True
    call_on_public_holidays: bool = False
    extra_holidays: set[date] = Field(default_factory=set)
    extra_working_days: set[date] = Field(default_factory=set)
    # Complaints and reports are surveyed by an agent; the rest by the IVR/SMS survey.
    manual_request_types: set[RequestType] = Field(default={"complaint", "report"})
    max_attempts: int = Field(default=3, ge=1, description="Tries before a citizen is unreachable")
    retry_after_minutes: float = Field(default=120.0, gt=0)
    # Where the call-centre software takes survey requests (None: every survey is manual).
    survey_webhook_url: str | None = None
    # Signs survey requests; needed (outside development) only with a survey webhook URL.
    survey_webhook_secret: SecretStr | None = None
    # Who may post results (the call-centre software), as intake's senders.
    webhook_senders: dict[str, WebhookSender] | None = None
    agent_tokens: dict[str, SecretStr] | None = None
    scheduler_interval_seconds: float = Field(default=30.0, gt=0)
    # A request the call centre took but never answered goes back to be asked again after this
    # much calling time.
    request_timeout_minutes: float = Field(default=180.0, gt=0)
    # Survey requests in flight at once.
    survey_request_concurrency: int = Field(default=8, ge=1, le=100)

    @model_validator(mode="after")
    def _calling_hours_open_before_they_close(self) -> "CallbackOptions":
        if self.calling_hours_start >= self.calling_hours_end:
            raise ValueError("calling_hours_start must be before calling_hours_end")
        return self


class CallbackSettings(ServiceSettings):
    callback: CallbackOptions = Field(default_factory=CallbackOptions)

    @model_validator(mode="after")
    def _secrets_set_outside_development(self) -> "CallbackSettings":
        options, environment = self.callback, self.environment
        options.webhook_senders = secrets.required(
            environment,
            "HOTLINE_CALLBACK_WEBHOOK_SENDERS",
            options.webhook_senders,
            {
                "callcentre": WebhookSender(
                    secrets=[SecretStr(DEVELOPMENT_SECRET)], scopes={"callbacks"}
                )
            },
        )
        options.agent_tokens = secrets.token_map(
            environment,
            "HOTLINE_CALLBACK_AGENT_TOKENS",
            options.agent_tokens,
            {"agents": DEVELOPMENT_AGENT_TOKEN},
        )
        if options.survey_webhook_url is not None or secrets.in_development(environment):
            options.survey_webhook_secret = secrets.required(
                environment,
                "HOTLINE_CALLBACK_SURVEY_WEBHOOK_SECRET",
                options.survey_webhook_secret,
                SecretStr(DEVELOPMENT_SECRET),
            )
        secrets.check(
            environment,
            "HOTLINE_CALLBACK_WEBHOOK_SENDERS",
            [secret for sender in options.webhook_senders.values() for secret in sender.secrets],
        )
        if options.survey_webhook_secret is not None:
            secrets.check(
                environment,
                "HOTLINE_CALLBACK_SURVEY_WEBHOOK_SECRET",
                [options.survey_webhook_secret],
            )
        return self
