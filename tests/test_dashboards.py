"""The Grafana dashboards query only metrics the services actually export."""

import json
from pathlib import Path

from tests.exported_metrics import exported_series, uses

DASHBOARDS = Path(__file__).resolve().parent.parent / "deploy" / "grafana" / "dashboards"


def test_every_metric_a_dashboard_queries_is_exported() -> None:
    exported = exported_series()
    queried = {
        name
        for path in DASHBOARDS.glob("*.json")
        for panel in json.loads(path.read_text())["panels"]
        for target in panel.get("targets", [])
        for name in uses(target["expr"]).series
    }

    assert queried, "no dashboard queries found"
    assert queried - exported.keys() == set()
