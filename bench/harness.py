"""What the benchmarks share: an embedded stack of their own, services as uvicorn processes,
and latency summaries."""

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

import httpx

from hotline.shared.stack.embedded import free_port
from hotline.shared.stack.up import Servers, Stack, StackSettings

RESULTS = Path(__file__).parent / "results"


@dataclass
class Figures:
    target: str
    mode: str
    seconds: float
    requests: int
    errors: int
    rate: float
    p50_ms: float
    p99_ms: float
    # The benchmark process's own CPU over the run (share of one core): the load generator.
    generator_cpu: float | None = None


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000 if ordered else 0.0


def figures(
    target: str,
    mode: str,
    elapsed: float,
    latencies: list[float],
    errors: int,
    cpu_seconds: float | None = None,
) -> Figures:
    return Figures(
        target,
        mode,
        round(elapsed, 1),
        len(latencies),
        errors,
        round(len(latencies) / elapsed, 1) if elapsed else 0.0,
        round(percentile(latencies, 0.5), 1),
        round(percentile(latencies, 0.99), 1),
        round(cpu_seconds / elapsed, 2) if cpu_seconds is not None and elapsed else None,
    )


@contextmanager
def embedded_stack() -> Iterator[Servers]:
    """A PostgreSQL and a broker for this benchmark alone, in a temporary folder."""
    var_dir = Path(tempfile.mkdtemp(prefix="hotline-bench-"))
    stack = Stack(StackSettings(var_dir=var_dir, embedded_kafka_port=free_port()))
    try:
        servers = stack.start_servers()
        servers.env["HOTLINE_LOG_LEVEL"] = "warning"
        yield servers
    finally:
        stack.stop()


@contextmanager
def served(asgi_app: str, env: dict[str, str], workers: int = 1) -> Iterator[str]:
    """`asgi_app` under uvicorn (one process unless `workers` says more, their metrics together
    as `hotline serve` keeps them); yields its base URL."""
    port = free_port()
    command = [
        *(sys.executable, "-m", "uvicorn", "--log-level", "warning", "--no-access-log"),
        *("--port", str(port), "--workers", str(workers), asgi_app),
    ]
    if workers > 1:
        env = env | {"PROMETHEUS_MULTIPROC_DIR": tempfile.mkdtemp(prefix="bench-metrics-")}
    # Its output to a file, not a pipe nobody reads: a burst of warnings would fill the pipe and
    # stall the server being measured.
    with tempfile.TemporaryFile() as output:
        process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_until_up(url, process, output)
            yield url
        finally:
            process.terminate()
            process.wait(timeout=15)


def _wait_until_up(url: str, process: subprocess.Popen[bytes], output: IO[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/docs", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    output.seek(0)
    raise RuntimeError(f"{url} did not start: {output.read().decode(errors='replace')[-4000:]}")


def report(name: str, runs: list[Figures], extra: dict[str, Any]) -> None:
    header = ("target", "mode", "req", "err", "rate/s", "p50 ms", "p99 ms", "gen cpu")
    print("{:<14} {:<34} {:>6} {:>4} {:>8} {:>8} {:>8} {:>7}".format(*header))
    for run in runs:
        generator = "-" if run.generator_cpu is None else run.generator_cpu
        print(
            f"{run.target:<14} {run.mode:<34} {run.requests:>6} {run.errors:>4} "
            f"{run.rate:>8} {run.p50_ms:>8} {run.p99_ms:>8} {generator:>7}"
        )
    for key, value in extra.items():
        print(f"{key}: {value}")
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"{name}-{time.strftime('%Y%m%dT%H%M%S')}.json"
    out.write_text(json.dumps({"runs": [asdict(r) for r in runs], **extra}, indent=2))
    print(f"written to {out}")


# --- what a run cost: CPU from /proc (Linux) -------------------------------------------------

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """CPU seconds of the process and of its children (the workers of a multi-worker server)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(entry.name) == pid or int(fields[1]) == pid:
            total += (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    return total


def machine_busy_idle() -> tuple[int, int]:
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, idle


def pid_listening(url: str) -> int:
    """The process serving `url` (its port, from /proc/net/tcp and the processes' sockets)."""
    port = urlsplit(url).port
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "0A":
                inodes.add(fields[9])
    holders = set()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
                if target.startswith("socket:[") and target[8:-1] in inodes:
                    holders.add(int(pid))
                    break
        except OSError:
            continue
    # Workers share their parent's socket: the server is the holder whose parent is none.
    for holder in sorted(holders):
        parent = int(Path(f"/proc/{holder}/stat").read_text().rsplit(")", 1)[1].split()[1])
        if parent not in holders:
            return holder
    raise RuntimeError(f"no process listens on port {port}")
