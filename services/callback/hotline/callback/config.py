"""The callback service's settings (environment variables `HOTLINE_*`)."""

from hotline.shared.settings import ServiceSettings


class CallbackSettings(ServiceSettings):
    """Shared settings only, for now; callback's own settings join here."""
