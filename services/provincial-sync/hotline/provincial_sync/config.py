"""The provincial-sync service's settings (environment variables `HOTLINE_*`)."""

from hotline.shared.settings import ServiceSettings


class ProvincialSyncSettings(ServiceSettings):
    """Shared settings only, for now; provincial-sync's own settings join here."""
