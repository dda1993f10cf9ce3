"""Settings every service shares; each service subclasses `ServiceSettings` with its own fields."""

from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from hotline.shared import secrets
from hotline.shared.logs import LogFormat, default_log_format

DEFAULT_DATABASE_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/hotline"
DEFAULT_KAFKA_BOOTSTRAP = "127.0.0.1:9092"
DEVELOPMENT_OPERATOR_TOKEN = secrets.DEVELOPMENT_OPERATOR_TOKEN


class KafkaSettings(BaseSettings):
    """How a service reaches the Kafka-protocol broker, and how it is tuned.

    Defaults suit Apache Kafka; the embedded stack lowers the session timeout and the fetch wait
    because the Tansu broker joins a group after half the session timeout and answers a fetch
    only when `fetch_max_wait_ms` expires.
    """

    model_config = SettingsConfigDict(env_prefix="HOTLINE_KAFKA_", extra="ignore")

    bootstrap: str = DEFAULT_KAFKA_BOOTSTRAP
    session_timeout_ms: int = Field(default=10_000, ge=1_000)
    heartbeat_interval_ms: int = Field(default=3_000, ge=100)
    fetch_max_wait_ms: int = Field(default=500, ge=1)
    request_timeout_ms: int = Field(default=30_000, ge=1_000)
    # Tansu refuses idempotent producers; turn this on against Apache Kafka.
    enable_idempotence: bool = False


class OutboxSettings(BaseSettings):
    """The outbox relay's pace, and how long published events are kept for replay."""

    model_config = SettingsConfigDict(env_prefix="HOTLINE_OUTBOX_", extra="ignore")

    # Small enough that serialising a batch never holds the event loop for long.
    batch_size: int = Field(default=100, ge=1)
    idle_poll_seconds: float = Field(default=0.1, gt=0)
    max_backoff_seconds: float = Field(default=5.0, gt=0)
    # Published events stay this long so they can be replayed to a broker that lost its log;
    # consumers remember processed event ids at least as long.
    retention_hours: float = Field(default=72.0, gt=0)
    broker_check_seconds: float = Field(default=5.0, gt=0)
    # How often the relay records the consumers' low-water mark (what a broker that lost its
    # log must be sent again); what is published after the mark is replayed anyway.
    low_water_mark_seconds: float = Field(default=30.0, gt=0)


class ConsumerSettings(BaseSettings):
    """How consumers retry a failing event before parking it on the dead-letter topic."""

    model_config = SettingsConfigDict(env_prefix="HOTLINE_CONSUMER_", extra="ignore")

    max_attempts: int = Field(default=5, ge=1)
    initial_backoff_seconds: float = Field(default=0.2, ge=0)
    max_backoff_seconds: float = Field(default=10.0, gt=0)
    batch_max_records: int = Field(default=500, ge=1)


class ServiceSettings(BaseSettings):
    """The settings of one service process, read from `HOTLINE_*` environment variables."""

    model_config = SettingsConfigDict(env_prefix="HOTLINE_", extra="ignore")

    # Production unless development is asked for: a deployment that forgets this variable
    # never accepts the development secrets published in the repository.
    environment: Literal["development", "test", "production"] = "production"
    database_url: SecretStr = SecretStr(DEFAULT_DATABASE_URL)
    database_pool_size: int = Field(default=10, ge=1)
    # Bounded waits: a request never hangs on a database that is away.
    database_connect_timeout_seconds: float = Field(default=5.0, gt=0)
    database_pool_timeout_seconds: float = Field(default=10.0, gt=0)
    host: str = "127.0.0.1"
    log_level: str = "info"
    # `json` (one object per line) or `console` (readable); unset: console in development only.
    log_format: LogFormat | None = None
    # Processes `hotline serve` runs the service in (each with its own relay, consumers and
    # timers; their metrics exposed together).
    workers: int = Field(default=1, ge=1, le=16)
    # False: this process serves HTTP only, and another process of the service, with it true,
    # runs the relay, the consumers and the timers (the HTTP process then has its core to
    # itself). The simulated clock is followed either way.
    background_work: bool = True
    # At shutdown the relay, consumers and timers finish what they hold; whatever still runs
    # after this is logged (with where it waits) and cancelled: the outbox and the processed
    # ids make that as safe as a crash.
    shutdown_grace_seconds: float = Field(default=20.0, gt=0)
    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    outbox: OutboxSettings = Field(default_factory=OutboxSettings)
    consumer: ConsumerSettings = Field(default_factory=ConsumerSettings)
    # Webhook ids answered are remembered this long: past every sender's retries and far past
    # the five-minute timestamp window that refuses older deliveries anyway.
    webhook_retention_hours: float = Field(default=24.0, ge=0.1)
    # JSON {"name": "token"}: who may list, replay and discard parked events over HTTP. Unset:
    # nobody may (outside development), and the `hotline dead-letters` command still works.
    operator_tokens: dict[str, SecretStr] = Field(default_factory=dict)
    # Business time (deadlines, timers, stamps): `real`, or `simulated` — one clock for the
    # whole stack kept in PostgreSQL, moved over HTTP (`/v1/clock`), for demonstrations and
    # tests only. `HOTLINE_CLOCK`.
    clock: Literal["real", "simulated"] = "real"
    # How often a process re-reads the simulated clock besides being told of moves (NOTIFY).
    clock_refresh_seconds: float = Field(default=5.0, gt=0)

    @model_validator(mode="after")
    def _log_format_by_environment(self) -> "ServiceSettings":
        if self.log_format is None:
            self.log_format = default_log_format(self.environment)
        return self

    @model_validator(mode="after")
    def _refuse_the_simulated_clock_in_production(self) -> "ServiceSettings":
        if self.clock == "simulated" and not secrets.in_development(self.environment):
            raise ValueError(
                "HOTLINE_CLOCK=simulated is for development and tests only: with "
                f"HOTLINE_ENVIRONMENT={self.environment} business time is the real clock"
            )
        return self

    @model_validator(mode="after")
    def _refuse_development_defaults_outside_development(self) -> "ServiceSettings":
        if not secrets.in_development(self.environment) and (
            self.database_url.get_secret_value() == DEFAULT_DATABASE_URL
        ):
            raise ValueError(
                "HOTLINE_DATABASE_URL must be set (the default is for development only)"
            )
        try:
            password = make_url(self.database_url.get_secret_value()).password
        except ArgumentError as error:
            raise ValueError(f"HOTLINE_DATABASE_URL is not a database URL: {error}") from None
        if not secrets.in_development(self.environment) and password in secrets.PUBLISHED:
            raise ValueError(
                "HOTLINE_DATABASE_URL holds a password published in the hotline repository; "
                "make a new one with `hotline secrets`"
            )
        if not self.operator_tokens and secrets.in_development(self.environment):
            self.operator_tokens = {"operator": SecretStr(DEVELOPMENT_OPERATOR_TOKEN)}
        secrets.check(self.environment, "HOTLINE_OPERATOR_TOKENS", self.operator_tokens.values())
        return self
