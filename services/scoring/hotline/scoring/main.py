"""The scoring service's application: `uvicorn hotline.scoring.main:app`."""

from hotline.scoring.api import quality_router, reports_router
from hotline.scoring.config import ScoringSettings
from hotline.scoring.consumers import consumers
from hotline.scoring.deps import build_context
from hotline.scoring.models import messaging
from hotline.scoring.scheduled import timers
from hotline.shared.runtime import ServiceDefinition
from hotline.shared.web.app import create_service_app

app = create_service_app(
    ServiceDefinition(
        name="scoring",
        settings_factory=ScoringSettings,
        tables=messaging,
        consumers=consumers,
        context=build_context,
        timers=timers,
    ),
    title="12345 hotline — scoring",
    description="The bulletin and its attachments, the province's data-quality rules and score.",
    routers=[reports_router, quality_router],
)
