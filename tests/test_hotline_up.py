"""`hotline up` (what `make run` runs) brings all five services to ready and stops cleanly."""

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from hotline.shared.embedded import free_port
from hotline.shared.services import SERVICES

READY_WITHIN_SECONDS = 60
PORT_OFFSET = 20_000


@pytest.mark.slow
def test_hotline_up_serves_all_five_services_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "HOTLINE_VAR_DIR": str(tmp_path / "var"),
        "HOTLINE_PORT_OFFSET": str(PORT_OFFSET),
        "HOTLINE_EMBEDDED_KAFKA_PORT": str(free_port()),
    }
    up = subprocess.Popen(
        [sys.executable, "-m", "hotline.shared.cli", "up"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        output = _read_until(up, "Press Ctrl-C to stop.", READY_WITHIN_SECONDS)
        for service in SERVICES:
            url = f"http://127.0.0.1:{service.port + PORT_OFFSET}"
            assert url in output
            assert httpx.get(f"{url}/readyz", timeout=5).status_code == 200
    finally:
        up.send_signal(signal.SIGINT)
        code = up.wait(timeout=60)

    assert code == 0
    assert not (tmp_path / "var" / "postgres" / "postmaster.pid").exists()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{SERVICES[0].port + PORT_OFFSET}/healthz", timeout=2)


def _read_until(process: subprocess.Popen[str], marker: str, timeout: float) -> str:
    """Collect the process's output until `marker` appears (a thread reads, so none is lost)."""
    assert process.stdout is not None
    lines: queue.Queue[str] = queue.Queue()
    stdout = process.stdout

    def pump() -> None:
        for line in stdout:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.monotonic() + timeout
    seen: list[str] = []
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.5)
        except queue.Empty:
            if process.poll() is not None:
                break
            continue
        seen.append(line)
        if marker in line:
            return "".join(seen)
    raise AssertionError(f"not ready within {timeout}s:\n{''.join(seen)[-3000:]}")
