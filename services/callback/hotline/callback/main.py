"""The callback service's application: `uvicorn hotline.callback.main:app`."""

from hotline.callback.api import router
from hotline.callback.config import CallbackSettings
from hotline.callback.consumers import consumers
from hotline.callback.deps import CallbackState
from hotline.callback.models import messaging, webhook_deliveries
from hotline.callback.scheduled import timers
from hotline.shared.messaging.deliveries import forget_old_deliveries
from hotline.shared.runtime import ServiceDefinition
from hotline.shared.web.app import create_service_app

app = create_service_app(
    ServiceDefinition(
        name="callback",
        settings_factory=CallbackSettings,
        tables=messaging,
        consumers=consumers,
        housekeeping=lambda settings: [
            forget_old_deliveries(webhook_deliveries, settings.webhook_retention_hours)
        ],
        context=CallbackState,
        timers=timers,
    ),
    title="12345 hotline — callback",
    description="Satisfaction surveys (回访) of closed tickets.",
    routers=[router],
)
