"""The dispatch service's application: `uvicorn hotline.dispatch.main:app`."""

from hotline.dispatch.api import directory_router, supervisor_router, unit_router
from hotline.dispatch.config import DispatchSettings
from hotline.dispatch.consumers import consumers
from hotline.dispatch.deps import build_context
from hotline.dispatch.models import messaging
from hotline.dispatch.scheduled import timers
from hotline.shared.runtime import ServiceDefinition
from hotline.shared.web.app import create_service_app

app = create_service_app(
    ServiceDefinition(
        name="dispatch",
        settings_factory=DispatchSettings,
        tables=messaging,
        consumers=consumers,
        context=build_context,
        timers=timers,
    ),
    title="12345 hotline — dispatch",
    description="Forwards tickets to handling units (承办单位) and tracks their deadlines.",
    routers=[unit_router, supervisor_router, directory_router],
)
