"""The scoring service's application: `uvicorn hotline.scoring.main:app`."""

from hotline.scoring.config import ScoringSettings
from hotline.scoring.models import messaging
from hotline.shared.web.app import create_service_app

app = create_service_app(
    name="scoring",
    title="12345 hotline — scoring",
    description="Per-unit statistics, the bulletin's tables and the provincial data-quality rules.",
    settings_factory=ScoringSettings,
    tables=messaging,
)
