"""The scoring service's settings: the shared `HOTLINE_*` ones and its own `HOTLINE_SCORING_*`."""

from datetime import date

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from hotline.shared import secrets
from hotline.shared.settings import ServiceSettings

DEVELOPMENT_READER_TOKEN = secrets.DEVELOPMENT_SCORING_READER_TOKEN


class ScoringOptions(BaseSettings):
    """Scoring's own settings, from `HOTLINE_SCORING_*`."""

    model_config = SettingsConfigDict(env_prefix="HOTLINE_SCORING_", extra="ignore")

    # Who may read reports and findings: the hotline's supervisors and clerks (JSON name → token).
    reader_tokens: dict[str, SecretStr] | None = None
    city_code: str = Field(default="4305", pattern=r"^\d{2,6}$")
    # T01: a phone ticket whose call record has not come this long after acceptance.
    call_grace_minutes: float = Field(default=120.0, gt=0)
    # A rule that fires more than this often in a period deducts double ("频繁出现").
    frequent_findings: int = Field(default=3, ge=1)
    # T17 is reported but deducts nothing before this date ("执行时间待定": not yet).
    t17_deducted_from: date | None = None
    # The seats the city reports to the province (S01 compares them with its call records).
    reported_seats: int | None = Field(default=None, ge=0)
    # Timeliness: a record counts as on time when the province accepted it within this long
    # after it changed (our reading; the seed gives the 10 points, not the limit).
    upload_deadline_hours: float = Field(default=24.0, gt=0)
    # The longest period a report may cover.
    max_report_days: int = Field(default=366, ge=1)
    metrics_interval_seconds: float = Field(default=60.0, gt=0)
    grace_check_interval_seconds: float = Field(default=300.0, gt=0)


class ScoringSettings(ServiceSettings):
    scoring: ScoringOptions = Field(default_factory=ScoringOptions)

    @model_validator(mode="after")
    def _secrets_set_outside_development(self) -> "ScoringSettings":
        options = self.scoring
        options.reader_tokens = secrets.token_map(
            self.environment,
            "HOTLINE_SCORING_READER_TOKENS",
            options.reader_tokens,
            {"supervisor": DEVELOPMENT_READER_TOKEN},
        )
        return self
