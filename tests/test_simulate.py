"""`hotline simulate` against `hotline up` on the simulated clock: two days of January 2022
at a small scale, played on the public APIs only, make the bulletin the simulator counted."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from hotline.shared.stack.embedded import free_port
from tests.support import ProcessOutput

PORT_OFFSET = 25_000
PERIOD = ("--from", "2022-01-10", "--to", "2022-01-11", "--scale", "0.1", "--seed", "3")
WAITS = ("--settle-seconds", "20", "--wait-seconds", "60")
SIMULATE = (sys.executable, "-m", "hotline.shared.stack.cli", "simulate", *PERIOD, *WAITS)


@pytest.mark.slow
def test_two_simulated_days_make_the_bulletin_the_simulator_counted(tmp_path: Path) -> None:
    env = os.environ | {
        "HOTLINE_CLOCK": "simulated",
        "HOTLINE_VAR_DIR": str(tmp_path / "var"),
        "HOTLINE_PORT_OFFSET": str(PORT_OFFSET),
        "HOTLINE_EMBEDDED_KAFKA_PORT": str(free_port()),
        "HOTLINE_LOG_LEVEL": "warning",
    }
    up = subprocess.Popen(
        [sys.executable, "-m", "hotline.shared.stack.cli", "up"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output = ProcessOutput(up, "hotline-up-simulate")
    report = tmp_path / "report.json"
    try:
        output.until("Press Ctrl-C to stop.", 90)
        simulate = subprocess.run(
            [*SIMULATE, "--report", str(report)],
            env=env,
            capture_output=True,
            text=True,
            timeout=150,
        )
    finally:
        up.send_signal(signal.SIGINT)
        assert up.wait(timeout=90) == 0

    assert report.exists(), simulate.stdout[-3000:] + simulate.stderr[-3000:]
    figures = json.loads(report.read_text())
    wrong = [figure for figure in figures["figures"] if not figure["matches"]]
    assert wrong == [], simulate.stdout[-4000:]
    assert simulate.returncode == 0
    by_name = {(f["where"], f["figure"]): f["expected"] for f in figures["figures"]}
    # A tenth of two days of the seed: 110 tickets, most answered on the call.
    assert by_name[("total", "tickets")] == 110
    assert by_name[("total", "forwarded")] > 5
    assert by_name[("total", "inbound calls")] > by_name[("total", "tickets")] * 0.8
    assert figures["by_kind"]["survey"] >= by_name[("total", "callbacks")]
    assert figures["by_kind"]["clock"] > 10
