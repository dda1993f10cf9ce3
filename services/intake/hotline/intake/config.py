"""The intake service's settings: the shared `HOTLINE_*` ones and its own `HOTLINE_INTAKE_*`."""

from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from hotline.shared import secrets
from hotline.shared.settings import ServiceSettings
from hotline.shared.web.webhooks import WebhookSender

# The request categories the seed names (社会服务类 … 生活服务类) and the other common families
# of the provincial catalogue; configuration, since each city keeps its own list.
DEFAULT_CATEGORIES = (
    "社会服务类",
    "人力资源与社会保障类",
    "突发事件类",
    "金融商贸财经类",
    "生活服务类",
    "城乡建设类",
    "交通运输类",
    "教育文化类",
    "医疗卫生类",
    "公共安全类",
    "生态环境类",
    "农业农村类",
    "政务服务类",
    "其他类",
)
DEVELOPMENT_READER_TOKEN = secrets.DEVELOPMENT_INTAKE_READER_TOKEN
DEVELOPMENT_SUPERVISOR_TOKEN = secrets.DEVELOPMENT_INTAKE_SUPERVISOR_TOKEN
DEVELOPMENT_CALL_CENTRE_SECRET = secrets.DEVELOPMENT_CALL_CENTRE_SECRET
OPEN311_KEYS_VARIABLE = "HOTLINE_INTAKE_OPEN311_API_KEYS"
# The channels a citizen reaches the hotline through an Open311 client on (受理渠道).
Open311Channel = Literal["web", "app", "wechat"]


def development_senders() -> dict[str, WebhookSender]:
    return {
        "callcentre": WebhookSender(
            secrets=[SecretStr(DEVELOPMENT_CALL_CENTRE_SECRET)],
            scopes={"calls", "tickets", "notices"},
        )
    }


def development_open311_keys() -> dict[Open311Channel, list[SecretStr]]:
    keys = secrets.DEVELOPMENT_OPEN311_KEYS
    return {
        "web": [SecretStr(keys["web"])],
        "app": [SecretStr(keys["app"])],
        "wechat": [SecretStr(keys["wechat"])],
    }


class IntakeOptions(BaseSettings):
    """Intake's own settings, from `HOTLINE_INTAKE_*`."""

    model_config = SettingsConfigDict(env_prefix="HOTLINE_INTAKE_", extra="ignore")

    # JSON: {"callcentre": {"secrets": ["whsec_…", "whsec_…"], "scopes": ["calls", "tickets"]}}
    # Unset: the development sender in development, else intake refuses to start.
    webhook_senders: dict[str, WebhookSender] | None = None
    # Who may read tickets back (GET /v1/tickets/{no}): the call centre's desk, say.
    reader_tokens: dict[str, SecretStr] | None = None
    ticket_prefix: str = Field(default="SY", pattern=r"^[A-Z]{1,6}$")
    # GB/T 2260 prefix of the city (邵阳市 4305): location codes outside it are refused.
    city_code: str = Field(default="4305", pattern=r"^\d{2,6}$")
    categories: tuple[str, ...] = DEFAULT_CATEGORIES
    repeat_window_days: int = Field(default=30, ge=1)
    # Attachment 5 is applied without a person only when each text names (nearly) every weighty
    # word of the other; below, earlier tickets scoring at least `suggest` are shown to the agent.
    repeat_auto_coverage: float = Field(default=0.9, ge=0.5, le=1)
    repeat_suggest_score: float = Field(default=0.25, ge=0, le=1)
    # Who may merge (并单) a ticket into an earlier one: hotline supervisors.
    supervisor_tokens: dict[str, SecretStr] | None = None
    burst_window_minutes: int = Field(default=60, ge=5)
    burst_threshold: int = Field(default=8, ge=2)
    burst_similarity: float = Field(default=0.3, ge=0, le=1)
    # Open311 (GeoReport v2) API keys by channel, several during a rotation: JSON
    # {"web": ["…"], "app": ["…"], "wechat": ["…"]}; `{}` accepts no request at all.
    open311_api_keys: dict[Open311Channel, list[SecretStr]] | None = None


class IntakeSettings(ServiceSettings):
    intake: IntakeOptions = Field(default_factory=IntakeOptions)

    @model_validator(mode="after")
    def _secrets_set_outside_development(self) -> "IntakeSettings":
        options, environment = self.intake, self.environment
        options.webhook_senders = secrets.required(
            environment,
            "HOTLINE_INTAKE_WEBHOOK_SENDERS",
            options.webhook_senders,
            development_senders(),
        )
        secrets.check(
            environment,
            "HOTLINE_INTAKE_WEBHOOK_SENDERS",
            [secret for sender in options.webhook_senders.values() for secret in sender.secrets],
        )
        options.reader_tokens = secrets.token_map(
            environment,
            "HOTLINE_INTAKE_READER_TOKENS",
            options.reader_tokens,
            {"callcentre": DEVELOPMENT_READER_TOKEN},
        )
        options.supervisor_tokens = secrets.token_map(
            environment,
            "HOTLINE_INTAKE_SUPERVISOR_TOKENS",
            options.supervisor_tokens,
            {"supervisor": DEVELOPMENT_SUPERVISOR_TOKEN},
        )
        options.open311_api_keys = secrets.required(
            environment,
            OPEN311_KEYS_VARIABLE,
            options.open311_api_keys,
            development_open311_keys(),
        )
        keys = [key for keys in options.open311_api_keys.values() for key in keys]
        secrets.check(environment, OPEN311_KEYS_VARIABLE, keys)
        if len({key.get_secret_value() for key in keys}) < len(keys):
            # One key on two channels would leave the channel of its tickets to chance.
            raise ValueError(f"{OPEN311_KEYS_VARIABLE}: each key belongs to one channel only")
        return self
