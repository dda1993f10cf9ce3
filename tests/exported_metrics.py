"""The series the services export, with their label names, and the series and labels a PromQL
expression uses: what the Grafana dashboards and the Prometheus alert rules are checked against.

No PromQL parser is packaged for Python, so expressions are read with patterns that cover the
PromQL written in deploy/: selectors `name{label op "value", …}`, and label lists after `by`,
`without`, `on`, `ignoring`, `group_left` and `group_right`, and in Grafana's `label_values`.
"""

import importlib
import re
from dataclasses import dataclass, field

from prometheus_client import REGISTRY
from prometheus_client.metrics import MetricWrapperBase

from hotline.shared.stack.services import SERVICES

SUFFIXES = {
    "counter": ("_total",),
    "gauge": ("",),
    "histogram": ("_bucket", "_count", "_sum"),
}
# Labels Prometheus adds to every scraped series (deploy/prometheus/prometheus.yml), and the
# series it makes of each scrape.
TARGET_LABELS = frozenset({"job", "instance", "app"})
SCRAPE_SERIES = {"up": TARGET_LABELS}

SELECTOR = re.compile(r"\b(hotline_[a-z0-9_]+|up)\b(?!\s*\()\s*(?:\{([^}]*)\})?")
MATCHER = re.compile(r"([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)\s*\"")
GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)")
LABEL_VALUES = re.compile(r"label_values\(\s*([a-z_:][a-z0-9_:]*)\s*,\s*([a-zA-Z_][a-zA-Z0-9_]*)\)")
# Quoted strings hold label values and template text, never series or label names.
STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


def exported_series() -> dict[str, frozenset[str]]:
    """Every series the services' metrics produce, whether or not observed yet, with the label
    names a scraped sample of it carries (its own, `le` for histogram buckets, the target's)."""
    for service in SERVICES:
        importlib.import_module(f"{service.package}.main")
    series: dict[str, frozenset[str]] = dict(SCRAPE_SERIES)
    # A labelled metric not yet observed has no samples to read its labels from: its label
    # names are only on the metric object, which the registry keeps privately.
    for collector in list(REGISTRY._collector_to_names):
        if not isinstance(collector, MetricWrapperBase):
            continue
        for suffix in SUFFIXES.get(str(collector._type), ("",)):
            labels = set(collector._labelnames) | TARGET_LABELS
            if suffix == "_bucket":
                labels.add("le")
            series[collector._name + suffix] = frozenset(labels)
    return series


@dataclass
class Uses:
    """What one expression asks of the exported series."""

    series: set[str] = field(default_factory=set)
    # (series, label) for labels matched in a series' own selector.
    matched: set[tuple[str, str]] = field(default_factory=set)
    # Labels grouped or joined on, which one of the expression's series must carry.
    grouped: set[str] = field(default_factory=set)


def uses(expression: str) -> Uses:
    """The series, matched labels and grouping labels of a PromQL (or Grafana query) expression."""
    found = Uses()
    for name, label in LABEL_VALUES.findall(expression):
        found.series.add(name)
        found.matched.add((name, label))
    for name, matchers in SELECTOR.findall(expression):
        found.series.add(name)
        found.matched.update((name, label) for label in MATCHER.findall(matchers))
    for labels in GROUPING.findall(STRING.sub('""', expression)):
        found.grouped.update(label.strip() for label in labels.split(",") if label.strip())
    return found


def unknown_names(expression: str, exported: dict[str, frozenset[str]]) -> list[str]:
    """What `expression` names that the services do not export (empty when all is known)."""
    found = uses(expression)
    problems = [f"series {name}" for name in sorted(found.series - exported.keys())]
    problems += [
        f"label {label} of {name}"
        for name, label in sorted(found.matched)
        if name in exported and label not in exported[name]
    ]
    carried = set().union(*(exported.get(name, frozenset()) for name in found.series))
    problems += [f"grouping label {label}" for label in sorted(found.grouped - carried)]
    if not found.series:
        problems.append("no series at all")
    return problems
