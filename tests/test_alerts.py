"""The Prometheus alert rules: loaded by prometheus.yml, each one actionable, tested by promtool
on series the services really export."""

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from hotline.shared.messaging.events import CONSUMER_GROUPS
from hotline.shared.stack.services import SERVICES
from tests.exported_metrics import exported_series, unknown_names, uses

ROOT = Path(__file__).resolve().parent.parent
PROMETHEUS = ROOT / "deploy" / "prometheus"
WEB = ROOT / "shared" / "hotline" / "shared" / "web"
RULES = PROMETHEUS / "alerts.yml"
RULE_TESTS = PROMETHEUS / "alerts.test.yml"
SEVERITIES = {"critical", "warning"}


def alert_rules() -> list[dict[str, Any]]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]


def rule_tests() -> list[dict[str, Any]]:
    return list(yaml.safe_load(RULE_TESTS.read_text())["tests"])


def test_prometheus_loads_the_alert_rules() -> None:
    config = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text())

    assert config["rule_files"] == [RULES.name]
    assert yaml.safe_load(RULE_TESTS.read_text())["rule_files"] == [RULES.name]


def test_the_alerts_the_operators_asked_for_are_there() -> None:
    watched = {name for rule in alert_rules() for name in uses(rule["expr"]).series}

    assert {
        "up",
        "hotline_dispatch_overdue_total",
        "hotline_outbox_oldest_unpublished_age_seconds",
        "hotline_consumer_lag_messages",
        "hotline_parked_events",
        "hotline_intake_burst_alerts_total",
        "hotline_callback_survey_request_failures_total",
        "hotline_webhook_deliveries_refused_total",
    } <= watched


@pytest.mark.parametrize("rule", alert_rules(), ids=lambda rule: rule["alert"])
def test_each_alert_waits_says_how_bad_and_tells_the_operator_what_to_do(
    rule: dict[str, Any],
) -> None:
    assert rule.get("for"), "an alert without `for:` pages on a single bad scrape"
    assert rule["labels"]["severity"] in SEVERITIES
    assert rule["annotations"]["summary"].strip()
    assert len(rule["annotations"]["description"].split()) >= 20, "say what to check"


@pytest.mark.parametrize("rule", alert_rules(), ids=lambda rule: rule["alert"])
def test_each_alert_watches_series_and_labels_the_services_export(rule: dict[str, Any]) -> None:
    assert unknown_names(rule["expr"], exported_series()) == []


def test_every_alert_fires_in_a_promtool_test_and_is_quiet_in_another() -> None:
    cases = [case for test in rule_tests() for case in test["alert_rule_test"]]
    firing = {case["alertname"] for case in cases if case["exp_alerts"]}
    quiet = {case["alertname"] for case in cases if not case["exp_alerts"]}
    alerts = {rule["alert"] for rule in alert_rules()}

    assert firing == alerts
    assert quiet == alerts


def test_the_problem_codes_the_webhook_alerts_match_are_codes_the_services_answer() -> None:
    source = "".join(path.read_text() for path in WEB.glob("*.py"))
    matched = {
        code
        for rule in alert_rules()
        for codes in re.findall(r'reason=~"([^"]+)"', rule["expr"])
        for code in codes.split("|")
    }

    assert matched, "no webhook alert matches problem codes"
    assert {code for code in matched if f'"{code}"' not in source} == set()


def test_the_label_values_the_alerts_and_dashboards_rely_on_are_the_real_ones() -> None:
    scrape = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text())["scrape_configs"]
    groups = {group for readers in CONSUMER_GROUPS.values() for group in readers}

    # `up{app="hotline"}` finds every service; `group=~"$service"` a service's consumers.
    assert {job["job_name"] for job in scrape} == {service.name for service in SERVICES}
    assert all(
        target["labels"] == {"app": "hotline"} for job in scrape for target in job["static_configs"]
    )
    assert groups <= {service.name for service in SERVICES}


def test_the_promtool_tests_feed_only_series_the_services_export() -> None:
    exported = exported_series()
    for test in rule_tests():
        for series in test["input_series"]:
            assert unknown_names(series["series"], exported) == [], series["series"]


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool absent (make alert-tools)")
def test_promtool_finds_the_config_and_rules_valid_and_every_rule_test_passing() -> None:
    checks = [
        ["promtool", "check", "config", "prometheus.yml"],
        ["promtool", "check", "rules", RULES.name],
        ["promtool", "test", "rules", RULE_TESTS.name],
    ]
    for check in checks:
        result = subprocess.run(check, cwd=PROMETHEUS, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stdout + result.stderr
