"""The Grafana dashboards query only metrics the services actually export."""

import importlib
import json
import re
from pathlib import Path

from prometheus_client import REGISTRY

from hotline.shared.stack.services import SERVICES

DASHBOARDS = Path(__file__).resolve().parent.parent / "deploy" / "grafana" / "dashboards"
METRIC = re.compile(r"\bhotline_[a-z0-9_]+")


SUFFIXES = {
    "counter": ("_total",),
    "gauge": ("",),
    "histogram": ("_bucket", "_count", "_sum"),
}


def exported_series() -> set[str]:
    """Every series name the services' metrics produce, whether or not observed yet."""
    for service in SERVICES:
        importlib.import_module(f"{service.package}.main")
    return {
        family.name + suffix
        for family in REGISTRY.collect()
        for suffix in SUFFIXES.get(family.type, ("",))
    }


def test_every_metric_a_dashboard_queries_is_exported() -> None:
    exported = exported_series()
    queried = {
        name
        for path in DASHBOARDS.glob("*.json")
        for panel in json.loads(path.read_text())["panels"]
        for target in panel.get("targets", [])
        for name in METRIC.findall(target["expr"])
    }

    assert queried, "no dashboard queries found"
    assert queried - exported == set()
