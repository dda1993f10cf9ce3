"""The intake service's application: `uvicorn hotline.intake.main:app`."""

from hotline.intake.api import router
from hotline.intake.config import IntakeSettings
from hotline.intake.consumers import consumers
from hotline.intake.deps import build_context
from hotline.intake.knowledge_api import router as knowledge_router
from hotline.intake.models import messaging, webhook_deliveries
from hotline.intake.open311.api import router as open311_router
from hotline.shared.messaging.deliveries import forget_old_deliveries
from hotline.shared.runtime import ServiceDefinition
from hotline.shared.web.app import create_service_app

app = create_service_app(
    ServiceDefinition(
        name="intake",
        settings_factory=IntakeSettings,
        tables=messaging,
        consumers=consumers,
        housekeeping=lambda settings: [
            forget_old_deliveries(webhook_deliveries, settings.webhook_retention_hours)
        ],
        context=build_context,
    ),
    title="12345 hotline — intake",
    description="Receives the call centre's webhooks: call records (话单) and tickets (工单).",
    routers=[router, open311_router, knowledge_router],
)
