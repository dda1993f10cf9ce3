"""The scoring service's settings (environment variables `HOTLINE_*`)."""

from hotline.shared.settings import ServiceSettings


class ScoringSettings(ServiceSettings):
    """Shared settings only, for now; scoring's own settings join here."""
