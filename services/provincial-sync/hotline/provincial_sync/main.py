"""The provincial-sync service's application: `uvicorn hotline.provincial_sync.main:app`."""

from hotline.provincial_sync.api import province_router, sync_router
from hotline.provincial_sync.config import SyncSettings
from hotline.provincial_sync.consumers import consumers
from hotline.provincial_sync.deps import build_context
from hotline.provincial_sync.models import messaging
from hotline.provincial_sync.scheduled import timers
from hotline.shared.runtime import ServiceDefinition
from hotline.shared.web.app import create_service_app

app = create_service_app(
    ServiceDefinition(
        name="provincial-sync",
        settings_factory=SyncSettings,
        tables=messaging,
        consumers=consumers,
        context=build_context,
        timers=timers,
    ),
    title="12345 hotline — provincial sync",
    description=(
        "Uploads tickets (with their call records, dispatch steps and surveys) and call records "
        "to the provincial platform, after checking them against the province's data-quality "
        "rules; takes the province's spot checks and findings back."
    ),
    routers=[sync_router, province_router],
)
