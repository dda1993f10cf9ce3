"""W3C Trace Context: the `traceparent` a request or an event carries, and the one in effect.

An HTTP request continues the trace of the `traceparent` it was sent with, or starts one; a
consumer continues the trace of the event it handles. Each continuation is a span of its own (the
same trace id, a new span id), and the events written while it is in effect carry it, so one
ticket is followed across services by one trace id.
"""

import re
import secrets
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

TRACEPARENT = "traceparent"
# version-traceid-parentid-flags, lowercase hex; a later version may append fields after a dash.
_TRACEPARENT = re.compile(r"([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?")
_ZERO_TRACE_ID, _ZERO_SPAN_ID = "0" * 32, "0" * 16
SAMPLED = "01"


@dataclass(frozen=True)
class TraceContext:
    trace_id: str
    span_id: str
    flags: str = SAMPLED

    @classmethod
    def parse(cls, header: str | bytes | None) -> "TraceContext | None":
        """The header's context, or None unless it is a valid `traceparent` (version 00
        exactly as specified; a later version read by its first four fields)."""
        if isinstance(header, bytes):
            header = header.decode("ascii", errors="replace")
        if not header:
            return None
        match = _TRACEPARENT.fullmatch(header.strip())
        if match is None:
            return None
        version, trace_id, span_id, flags, rest = match.groups()
        if version == "ff" or (version == "00" and rest is not None):
            return None
        if trace_id == _ZERO_TRACE_ID or span_id == _ZERO_SPAN_ID:
            return None
        return cls(trace_id, span_id, flags)

    @classmethod
    def start(cls) -> "TraceContext":
        """A new trace, its first span."""
        return cls(_random_hex(16), _random_hex(8))

    def child(self) -> "TraceContext":
        """A span of this trace whose parent is this one."""
        return TraceContext(self.trace_id, _random_hex(8), self.flags)

    @property
    def header(self) -> str:
        return f"00-{self.trace_id}-{self.span_id}-{self.flags}"


def continued(header: str | bytes | None) -> TraceContext:
    """A span continuing the header's trace, or the first span of a new one."""
    parent = TraceContext.parse(header)
    return parent.child() if parent is not None else TraceContext.start()


def from_headers(headers: Iterable[tuple[str, bytes]]) -> TraceContext:
    """A span continuing the trace a Kafka record's headers carry, or a new trace."""
    return continued(next((value for name, value in headers if name == TRACEPARENT), None))


_current: ContextVar[TraceContext | None] = ContextVar("hotline_trace", default=None)
# A batch of events applied together: each incoming event's span by its key (a ticket's id), so
# what is announced about a ticket continues the trace of the event about it.
_by_key: ContextVar[Mapping[str, TraceContext] | None] = ContextVar(
    "hotline_trace_by_key", default=None
)


def current() -> TraceContext | None:
    """The span in effect (a request's, an event's), if any."""
    return _current.get()


def for_key(key: str) -> TraceContext | None:
    """The span an event about `key` is announced under."""
    by_key = _by_key.get()
    return (by_key.get(key) if by_key else None) or _current.get()


@contextmanager
def use(
    trace: TraceContext | None, by_key: Mapping[str, TraceContext] | None = None
) -> Iterator[None]:
    """`trace` in effect (and `by_key`'s spans for the keys they name) while the block runs."""
    token = _current.set(trace)
    key_token = _by_key.set(by_key)
    try:
        yield
    finally:
        _by_key.reset(key_token)
        _current.reset(token)


def _random_hex(size: int) -> str:
    while (value := secrets.token_hex(size)) == "0" * (2 * size):
        pass  # an all-zero id is invalid; one in 2**64 at worst
    return value
