"""The intake service's settings (environment variables `HOTLINE_*`)."""

from hotline.shared.settings import ServiceSettings


class IntakeSettings(ServiceSettings):
    """Shared settings only, for now; intake's own settings join here."""
