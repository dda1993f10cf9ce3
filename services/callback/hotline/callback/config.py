"""The callback service's settings: the shared `HOTLINE_*` ones and its own `HOTLINE_CALLBACK_*`."""

from datetime import date, time

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from hotline.shared.messaging.events import RequestType
from hotline.shared.settings import ServiceSettings
from hotline.shared.web.webhooks import WebhookSender

DEVELOPMENT_SECRET = "whsec_ZGV2ZWxvcG1lbnQtb25seS1jYWxsYmFjay1zZWNyZXQ="
DEVELOPMENT_AGENT_TOKEN = "development-only-agent-token"


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
    survey_webhook_secret: SecretStr = SecretStr(DEVELOPMENT_SECRET)
    # Who may post results (the call-centre software), as intake's senders.
    webhook_senders: dict[str, WebhookSender] = Field(
        default_factory=lambda: {
            "callcentre": WebhookSender(
                secrets=[SecretStr(DEVELOPMENT_SECRET)], scopes={"callbacks"}
            )
        }
    )
    agent_tokens: dict[str, SecretStr] = Field(
        default_factory=lambda: {"agents": SecretStr(DEVELOPMENT_AGENT_TOKEN)}
    )
    scheduler_interval_seconds: float = Field(default=30.0, gt=0)
    # A request the call centre took but never answered goes back to be asked again.
    request_timeout_minutes: float = Field(default=180.0, gt=0)

    @model_validator(mode="after")
    def _calling_hours_open_before_they_close(self) -> "CallbackOptions":
        if self.calling_hours_start >= self.calling_hours_end:
            raise ValueError("calling_hours_start must be before calling_hours_end")
        return self


class CallbackSettings(ServiceSettings):
    callback: CallbackOptions = Field(default_factory=CallbackOptions)

    @model_validator(mode="after")
    def _refuse_development_secrets_in_production(self) -> "CallbackSettings":
        options = self.callback
        secrets = [options.survey_webhook_secret.get_secret_value()]
        secrets += [
            s.get_secret_value()
            for sender in options.webhook_senders.values()
            for s in sender.secrets
        ]
        secrets += [token.get_secret_value() for token in options.agent_tokens.values()]
        if self.environment == "production" and (
            DEVELOPMENT_SECRET in secrets or DEVELOPMENT_AGENT_TOKEN in secrets
        ):
            raise ValueError("HOTLINE_CALLBACK_* secrets and tokens must be set in production")
        return self
