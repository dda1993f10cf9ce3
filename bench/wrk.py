"""Driving a service with `wrk` (Debian's package; `make bench-tools` installs it): a compiled
load generator fed with requests prepared and signed before the run, so the generator is not
what is measured. Each run reports the generator's CPU share (wrk's own rusage) and the
server's (from /proc), and says when the generator, not the server, was the limit.
"""

import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench.harness import cpu_seconds, machine_busy_idle

# One wrk thread: the generator stays on one core, leaving the other to the server.
THREADS = 1
# Above this share of its one core, wrk itself may be the bottleneck: no ratio is reported.
GENERATOR_SATURATED = 0.9

SCRIPT = r"""
local requests = {}
local sent = 0
local pause = 0

function init(args)
  local file = assert(io.open(args[1], "rb"))
  local data = file:read("*a")
  file:close()
  local at = 1
  while at <= #data do
    local newline = data:find("\n", at, true)
    local size = tonumber(data:sub(at, newline - 1))
    requests[#requests + 1] = data:sub(newline + 1, newline + size)
    at = newline + 1 + size
  end
  pause = tonumber(args[2] or "0")
end

function request()
  sent = sent + 1
  if sent > #requests then
    wrk.thread:stop()
    sent = #requests
  end
  return requests[sent]
end

function delay()
  return pause
end

function done(summary, latency, requests)
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_us": %d, "status_errors": %d, "socket_errors": %d,' ..
    ' "p50_us": %d, "p99_us": %d}\n',
    summary.requests, summary.duration, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


@dataclass
class WrkRun:
    target: str
    mode: str
    seconds: float
    requests: int
    errors: int
    rate: float
    p50_ms: float
    p99_ms: float
    generator_cpu: float  # share of one core
    server_cpu: float  # cores
    machine_idle: float  # share of all cores
    background_cpu: float = 0.0  # cores: the service's process that relays and consumes, if apart

    @property
    def generator_bound(self) -> bool:
        return self.generator_cpu >= GENERATOR_SATURATED

    def as_dict(self) -> dict[str, object]:
        return asdict(self) | {"generator_bound": self.generator_bound}


def wrk_binary() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise SystemExit("wrk is not installed: run `make bench-tools` (apt-get install wrk)")
    return found


def write_requests(url: str, requests: Iterable[tuple[str, dict[str, str], bytes]]) -> Path:
    """Raw HTTP/1.1 requests (path, headers, body), each prefixed by its length, in a file."""
    host = urlsplit(url).netloc
    handle, name = tempfile.mkstemp(prefix="wrk-requests-", suffix=".bin")
    with os.fdopen(handle, "wb") as file:
        for path, headers, body in requests:
            lines = [f"POST {path} HTTP/1.1", f"Host: {host}", f"Content-Length: {len(body)}"]
            lines += [f"{name}: {value}" for name, value in headers.items()]
            raw = ("\r\n".join(lines) + "\r\n\r\n").encode() + body
            file.write(f"{len(raw)}\n".encode() + raw)
    return Path(name)


def run(
    url: str,
    requests_file: Path,
    *,
    seconds: float,
    connections: int,
    target: str,
    server_pid: int,
    pause_ms: int = 0,
    background_pid: int | None = None,
) -> WrkRun:
    """wrk against `url` for `seconds` with `connections`, each request from the file once."""
    script = Path(tempfile.mkstemp(prefix="wrk-", suffix=".lua")[1])
    script.write_text(SCRIPT)
    command = [
        wrk_binary(),
        *("-t", str(THREADS), "-c", str(connections), "-d", f"{seconds:g}s"),
        *("--timeout", "10s", "-s", str(script), url, "--", str(requests_file), str(pause_ms)),
    ]

    def background() -> float:
        return cpu_seconds(background_pid) if background_pid else 0.0

    server_before, machine_before = cpu_seconds(server_pid), machine_busy_idle()
    background_before = background()
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    # wait4 gives wrk's own rusage (its summary is a few lines: the pipe cannot fill first).
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    assert process.stdout is not None
    output = process.stdout.read()
    process.stdout.close()
    elapsed = time.perf_counter() - started
    server_cpu = (cpu_seconds(server_pid) - server_before) / elapsed
    background_cpu = (background() - background_before) / elapsed
    (busy_after, idle_after), (busy_before, idle_before) = machine_busy_idle(), machine_before
    busy, idle = busy_after - busy_before, idle_after - idle_before
    line = next((ln for ln in output.splitlines() if ln.startswith("WRK_JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk said:\n{output}")
    figures = json.loads(line.removeprefix("WRK_JSON "))
    generator = usage.ru_utime + usage.ru_stime
    duration = figures["duration_us"] / 1e6
    mode = f"wrk, {connections} connections" + (f", {pause_ms} ms pause" if pause_ms else "")
    return WrkRun(
        target=target,
        mode=mode,
        seconds=round(duration, 1),
        requests=figures["requests"],
        errors=figures["status_errors"] + figures["socket_errors"],
        rate=round(figures["requests"] / duration, 1),
        p50_ms=round(figures["p50_us"] / 1000, 1),
        p99_ms=round(figures["p99_us"] / 1000, 1),
        generator_cpu=round(generator / elapsed, 2),
        server_cpu=round(server_cpu, 2),
        machine_idle=round(idle / (busy + idle), 3) if busy + idle else 0.0,
        background_cpu=round(background_cpu, 2),
    )


def replay(url: str, requests_file: Path, **options: Any) -> WrkRun:
    """`run`, then the request file is removed: each of its requests is sent once."""
    try:
        return run(url, requests_file, **options)
    finally:
        requests_file.unlink()
