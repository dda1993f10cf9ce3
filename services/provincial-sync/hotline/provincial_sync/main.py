"""The provincial-sync service's application: `uvicorn hotline.provincial_sync.main:app`."""

from hotline.provincial_sync.config import ProvincialSyncSettings
from hotline.provincial_sync.models import messaging
from hotline.shared.runtime import ServiceDefinition
from hotline.shared.web.app import create_service_app

app = create_service_app(
    ServiceDefinition(
        name="provincial-sync",
        settings_factory=ProvincialSyncSettings,
        tables=messaging,
    ),
    title="12345 hotline — provincial sync",
    description="Uploads tickets, call records and callbacks to the provincial platform.",
)
