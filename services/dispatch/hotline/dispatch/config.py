"""The dispatch service's settings (environment variables `HOTLINE_*`)."""

from hotline.shared.settings import ServiceSettings


class DispatchSettings(ServiceSettings):
    """Shared settings only, for now; dispatch's own settings join here."""
