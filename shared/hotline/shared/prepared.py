"""Statements of a hot path, compiled once and run on the session's own asyncpg connection,
inside the session's transaction.

SQLAlchemy's execution of a statement (cache key, parameter and result processing, the greenlet
hop) costs about 0.1-0.3 ms of CPU; asyncpg's own, a third of that. A `Prepared` statement is
still written in SQLAlchemy Core against the tables' metadata, and its values still go through
the column types' bind processors (JSONB serialised as SQLAlchemy would); only the per-execution
work is skipped. Its rows are asyncpg's records, so a statement whose result columns SQLAlchemy
would convert is refused when it is compiled.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
from sqlalchemy import ARRAY, JSON, ClauseElement, text
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.types import TypeEngine

_BEGIN = text("SELECT 1")


@dataclass(frozen=True)
class _Parameter:
    name: str
    default: Any
    process: Callable[[Any], Any] | None


@dataclass(frozen=True)
class _Compiled:
    dialect: Dialect
    sql: str
    parameters: tuple[_Parameter, ...]
    names: frozenset[str]


class Prepared:
    """A Core statement for asyncpg: `await statement.fetch(session, values)`. Values are
    passed by parameter name; a name the statement lacks is an error, not silently dropped."""

    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement
        self._compiled: _Compiled | None = None

    async def fetch(
        self,
        session: AsyncSession,
        values: Mapping[str, Any] | None = None,
        *,
        alone: bool = False,
    ) -> list[asyncpg.Record]:
        """The rows. `alone`: when the session has not begun a transaction, the statement is
        not the first of one but a transaction of its own (a read, or a write that must be
        atomic by itself); inside a begun transaction it runs there all the same."""
        connection, sql, arguments = await self._bound(session, values or {}, alone)
        rows: list[asyncpg.Record] = await connection.fetch(sql, *arguments)
        return rows

    async def fetchval(
        self,
        session: AsyncSession,
        values: Mapping[str, Any] | None = None,
        *,
        alone: bool = False,
    ) -> Any:
        """The first column of the first row (None without rows); `alone` as for `fetch`."""
        connection, sql, arguments = await self._bound(session, values or {}, alone)
        return await connection.fetchval(sql, *arguments)

    def compiled_for(self, dialect: Dialect) -> _Compiled:
        if self._compiled is None or self._compiled.dialect is not dialect:
            self._compiled = _compile(self.statement, dialect)
        return self._compiled

    async def _bound(
        self, session: AsyncSession, values: Mapping[str, Any], alone: bool
    ) -> tuple[asyncpg.Connection, str, list[Any]]:
        compiled = self.compiled_for(session.get_bind().dialect)
        if unknown := values.keys() - compiled.names:
            raise KeyError(f"the statement has no parameters {sorted(unknown)}")
        arguments = []
        for parameter in compiled.parameters:
            value = values.get(parameter.name, parameter.default)
            if value is _REQUIRED:
                raise KeyError(f"no value for the parameter {parameter.name!r}")
            if parameter.process is not None and value is not None:
                value = parameter.process(value)
            arguments.append(value)
        return await driver_connection(session, begin=not alone), compiled.sql, arguments


async def driver_connection(session: AsyncSession, *, begin: bool = True) -> asyncpg.Connection:
    """The asyncpg connection under the session, in the session's transaction (which
    SQLAlchemy begins only at its first statement: begun here if it has not been, unless
    `begin` is false)."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    driver: asyncpg.Connection = raw.driver_connection
    if begin and not driver.is_in_transaction():
        await connection.execute(_BEGIN)
    return driver


_REQUIRED = object()


def _compile(statement: ClauseElement, dialect: Dialect) -> _Compiled:
    if dialect.paramstyle != "numeric_dollar":
        raise TypeError(f"a Prepared statement is for asyncpg, not {dialect.driver}")
    compiled = statement.compile(dialect=dialect)
    assert isinstance(compiled, SQLCompiler)
    parameters = []
    for name in compiled.positiontup or ():
        bind = compiled.binds[name]
        if bind.expanding:
            raise TypeError(f"{name!r}: an expanding (IN) parameter cannot be prepared")
        parameters.append(
            _Parameter(
                name,
                _REQUIRED if bind.required else bind.effective_value,
                bind.type.dialect_impl(dialect).bind_processor(dialect),
            )
        )
    for column in _result_columns(statement):
        if not _as_the_driver_returns_it(column.type, dialect):
            raise TypeError(f"{column}: its results need SQLAlchemy's processing")
    return _Compiled(
        dialect, compiled.string, tuple(parameters), frozenset(p.name for p in parameters)
    )


def _as_the_driver_returns_it(type_: TypeEngine[Any], dialect: Dialect) -> bool:
    """SQLAlchemy would hand this column's values over as asyncpg returns them: no result
    processing, or JSON (decoded by the dialect's codec), or a list of such values."""
    if isinstance(type_, JSON):
        return True
    if isinstance(type_, ARRAY):
        return not type_.as_tuple and _as_the_driver_returns_it(type_.item_type, dialect)
    try:
        return type_.dialect_impl(dialect).result_processor(dialect, None) is None
    except (TypeError, ValueError):  # a processor that depends on the column's type code
        return False


def _result_columns(statement: ClauseElement) -> Sequence[Any]:
    selected = getattr(statement, "selected_columns", None)
    if selected is not None:
        return list(selected)
    return list(getattr(statement, "_returning", ()))
