"""PostgreSQL access: one async engine per process, one schema per service, and what to do while
the database cannot be reached."""

import logging
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager

from sqlalchemy import MetaData, event, text
from sqlalchemy.engine import AdaptedConnection
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection

log = logging.getLogger(__name__)

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
# SQLSTATEs that say the server is away, not that the statement was wrong: connection
# exceptions (class 08), shutdown and start-up (57P01-57P03), too many connections (53300).
UNAVAILABLE_SQLSTATES = frozenset({"57P01", "57P02", "57P03", "53300"})

SessionFactory = async_sessionmaker[AsyncSession]


def service_metadata(schema: str) -> MetaData:
    """Metadata whose tables all live in the service's own PostgreSQL schema."""
    return MetaData(schema=schema, naming_convention=NAMING_CONVENTION)


def create_engine(
    database_url: str,
    *,
    pool_size: int = 10,
    connect_timeout: float = 5.0,
    pool_timeout: float = 10.0,
) -> AsyncEngine:
    """An asyncpg engine: each connection is pinged as it is checked out, so a restarted
    database is survived, not reported; bounded waits for a connection; and `hide_parameters`
    so no phone number reaches a log through an SQL error."""
    engine = create_async_engine(
        database_url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_timeout=pool_timeout,
        hide_parameters=True,
        connect_args={"timeout": connect_timeout},
    )
    event.listen(engine.sync_engine.pool, "checkout", _ping)
    return engine


# One round trip (`pool_pre_ping` takes three with asyncpg, BEGIN, its ping and ROLLBACK, for
# PgBouncer's transaction mode, which we do not use).
_PING = "SELECT 1"


def _ping(
    dbapi_connection: AdaptedConnection, record: ConnectionPoolEntry, proxy: PoolProxiedConnection
) -> None:
    """A connection the server closed or that no longer answers is discarded, and the pool
    checks out another (a new one if need be)."""
    try:
        if dbapi_connection.driver_connection.is_closed():
            raise ConnectionError("closed by the server")
        dbapi_connection.run_async(lambda driver: driver.execute(_PING))
    except Exception as error:
        raise DisconnectionError("a pooled connection no longer answers") from error


def create_session_factory(engine: AsyncEngine) -> SessionFactory:
    return async_sessionmaker(engine, expire_on_commit=False)


AFTER_COMMIT = "hotline.after_commit"


def after_commit(session: AsyncSession, action: Callable[[], None]) -> None:
    """Run `action` (count a metric, say) only once the session's transaction has committed."""
    session.info.setdefault(AFTER_COMMIT, []).append(action)


@asynccontextmanager
async def unit_of_work(sessions: SessionFactory) -> AsyncIterator[AsyncSession]:
    """One transaction: committed when the block ends, rolled back if it raises; then what was
    deferred with `after_commit` runs."""
    async with sessions() as session:
        async with session.begin():
            yield session
        for action in session.info.pop(AFTER_COMMIT, []):
            action()


async def database_is_reachable(engine: AsyncEngine) -> bool:
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception:
        return False
    return True


def _causes(error: BaseException) -> Iterator[BaseException]:
    """The error and what it wraps: SQLAlchemy's `orig`, then `__cause__` and `__context__`."""
    seen: set[int] = set()
    pending: list[BaseException] = [error]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        for inner in (getattr(current, "orig", None), current.__cause__, current.__context__):
            if isinstance(inner, BaseException):
                pending.append(inner)


def database_unavailable(error: BaseException) -> bool:
    """The database could not be reached, is shutting down or starting up, or dropped the
    connection: wait and retry; the statement and the event are not at fault."""
    for cause in _causes(error):
        if isinstance(cause, DBAPIError) and cause.connection_invalidated:
            return True
        # OSError: the socket file is gone (FileNotFoundError), refused, reset, unreachable,
        # timed out; a connection asyncpg lost has sqlstate 08003 (below).
        if isinstance(cause, OSError | PoolTimeoutError | DisconnectionError):
            return True
        sqlstate = getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)
        if isinstance(sqlstate, str) and (
            sqlstate.startswith("08") or sqlstate in UNAVAILABLE_SQLSTATES
        ):
            return True
    return False


class DatabaseGate:
    """While the database is unreachable, HTTP requests are refused at once (503) but for one
    probe every `probe_interval` seconds, so no client waits on a server that is down."""

    def __init__(self, probe_interval: float = 0.5) -> None:
        self.probe_interval = probe_interval
        self._down_since: float | None = None
        self._last_probe = 0.0

    def admit(self) -> bool:
        """Whether this request may try the database now."""
        if self._down_since is None:
            return True
        now = time.monotonic()
        if now - self._last_probe >= self.probe_interval:
            self._last_probe = now
            return True
        return False

    def failed(self) -> None:
        if self._down_since is None:
            self._down_since = self._last_probe = time.monotonic()
            log.warning("the database is unreachable: refusing requests with 503 until it is back")

    def succeeded(self) -> None:
        if self._down_since is not None:
            log.warning("the database is back after %.1fs", time.monotonic() - self._down_since)
            self._down_since = None
