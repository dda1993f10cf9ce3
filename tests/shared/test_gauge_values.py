"""`set_gauge_values`: a labelled gauge refreshed from a query reads 0 for the label sets that
left it, with one worker and with several (Prometheus multiprocess mode)."""

import subprocess
import sys
import textwrap
from pathlib import Path

# Multiprocess mode is chosen when prometheus_client is imported: a process of its own.
REFRESH_TWICE = textwrap.dedent(
    """
    import sys
    from prometheus_client import CollectorRegistry, Gauge, multiprocess
    from hotline.shared.web.metrics import set_gauge_values

    open_tickets = Gauge("open", "Open tickets", ["unit_id"], multiprocess_mode="mostrecent")
    set_gauge_values(open_tickets, {("U1",): 3, ("U2",): 1})
    set_gauge_values(open_tickets, {("U1",): 2})  # U2's last ticket closed

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    for unit in ("U1", "U2"):
        print(unit, registry.get_sample_value("open", {"unit_id": unit}))
    """
)


def test_a_label_set_that_left_reads_zero_with_one_worker() -> None:
    from prometheus_client import CollectorRegistry, Gauge

    from hotline.shared.web.metrics import set_gauge_values

    registry = CollectorRegistry()
    gauge = Gauge("open", "Open tickets", ["unit_id"], registry=registry)

    set_gauge_values(gauge, {("U1",): 3, ("U2",): 1})
    set_gauge_values(gauge, {("U1",): 2})

    assert registry.get_sample_value("open", {"unit_id": "U1"}) == 2
    assert registry.get_sample_value("open", {"unit_id": "U2"}) == 0


def test_a_label_set_that_left_reads_zero_across_workers_too(tmp_path: Path) -> None:
    # With clear() instead, U2 would still read 1: prometheus_client's multiprocess mode does
    # not support remove() or clear(), the workers' files keep what was written.
    result = subprocess.run(
        [sys.executable, "-c", REFRESH_TWICE],
        env={"PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "PATH": ""},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:2] == ["U1 2.0", "U2 0.0"]
