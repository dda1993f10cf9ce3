"""The Grafana dashboards: one per audience, each with its variables, querying only series and
labels the services export, period totals in stat panels and rates in time series."""

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.exported_metrics import exported_series, unknown_names

DASHBOARDS = Path(__file__).resolve().parent.parent / "deploy" / "grafana" / "dashboards"
# Each audience's dashboard, and the variables its panels are filtered by.
AUDIENCES = {
    "hotline-supervisors": {"unit", "category"},
    "hotline-units": {"unit"},
    "hotline-operators": {"service"},
}
BUILT_IN = {"__range", "__rate_interval", "__interval", "__all"}
VARIABLE = re.compile(r"\$\{?([a-zA-Z_][a-zA-Z0-9_]*)")
COUNTER = re.compile(r"\bhotline_[a-z0-9_]+(?:_total|_bucket|_count|_sum)\b")


def dashboards() -> list[dict[str, Any]]:
    return [json.loads(path.read_text()) for path in sorted(DASHBOARDS.glob("*.json"))]


def panels(dashboard: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel, those inside (collapsed) rows too."""
    for panel in dashboard["panels"]:
        yield panel
        yield from panel.get("panels", [])


def queries(dashboard: dict[str, Any]) -> Iterator[str]:
    """Every panel's expressions and every variable's query."""
    for panel in panels(dashboard):
        for target in panel.get("targets", []):
            yield target["expr"]
    for variable in dashboard["templating"]["list"]:
        yield variable["query"]["query"]


BY_UID = {dashboard["uid"]: dashboard for dashboard in dashboards()}
ALL_PANELS = [
    pytest.param(panel, id=f"{dashboard['uid']}: {panel['title']}")
    for dashboard in BY_UID.values()
    for panel in panels(dashboard)
    if panel["type"] != "row"
]


def test_there_is_one_dashboard_per_audience() -> None:
    assert BY_UID.keys() == AUDIENCES.keys()
    assert len({dashboard["title"] for dashboard in BY_UID.values()}) == len(AUDIENCES)


@pytest.mark.parametrize("uid", AUDIENCES)
def test_each_dashboard_has_its_variables_and_every_panel_query_uses_only_declared_ones(
    uid: str,
) -> None:
    dashboard = BY_UID[uid]
    declared = {variable["name"] for variable in dashboard["templating"]["list"]}
    panel_queries = [
        target["expr"] for panel in panels(dashboard) for target in panel.get("targets", [])
    ]
    used = {name for expr in panel_queries for name in VARIABLE.findall(expr)}

    assert declared == AUDIENCES[uid]
    assert used - BUILT_IN == declared, "a variable no panel uses, or one not declared"


@pytest.mark.parametrize("uid", AUDIENCES)
def test_every_query_names_series_and_labels_the_services_export(uid: str) -> None:
    exported = exported_series()
    unknown = {expr: unknown_names(expr, exported) for expr in queries(BY_UID[uid])}

    assert unknown, "no queries found"
    assert {expr: names for expr, names in unknown.items() if names} == {}


@pytest.mark.parametrize("panel", ALL_PANELS)
def test_time_series_show_rates_and_period_totals_are_stat_panels(panel: dict[str, Any]) -> None:
    exprs = [target["expr"] for target in panel["targets"]]
    assert exprs, "a panel with no query"
    for expr in exprs:
        if panel["type"] == "timeseries":
            assert "$__range" not in expr, "a time series of totals over the whole range"
            assert "increase(" not in expr, "time series of counters plot rate()"
            if COUNTER.search(expr):
                assert "rate(" in expr, "a counter plotted raw climbs for ever"
        elif "increase(" in expr:
            assert panel["type"] == "stat"
            assert "[$__range]" in expr, "a stat's total is over the dashboard's range"


@pytest.mark.parametrize("panel", ALL_PANELS)
def test_nothing_shows_no_data_where_the_answer_is_zero(panel: dict[str, Any]) -> None:
    assert panel["fieldConfig"]["defaults"].get("noValue"), "Grafana would say No data"
    for target in panel["targets"]:
        expr = target["expr"]
        one_value = panel["type"] == "stat" and re.match(r"(sum|max)\(", expr)
        if one_value and panel["fieldConfig"]["defaults"]["noValue"] == "0":
            assert expr.endswith("or vector(0)"), "a single total with no series yet is 0"
