"""Each HTTP request's id and trace: on every log line written while it is handled, and the trace
on the events it announces.

The id is the sender's `X-Request-ID` when it is a sane one (up to 128 letters, digits and
`._:-`), else a new one; it is returned in the response's `X-Request-ID`. The trace continues
the sender's W3C `traceparent` (a new span of it), or starts.
"""

import re

from asgi_correlation_id import CorrelationIdMiddleware, correlation_id
from fastapi import FastAPI
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from hotline.shared import tracing
from hotline.shared.logs import service_context

REQUEST_ID_HEADER = "X-Request-ID"
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def is_sane_request_id(value: str) -> bool:
    return _SANE_REQUEST_ID.fullmatch(value) is not None


class RequestContextMiddleware:
    """The request's trace in effect while it is handled; the request id (set inside, by
    `CorrelationIdMiddleware`) forgotten after, so nothing after the request carries it."""

    def __init__(self, app: ASGIApp, *, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        trace = tracing.continued(Headers(scope=scope).get(tracing.TRACEPARENT))
        request_id = correlation_id.set(None)
        try:
            with tracing.use(trace), service_context(self.service):
                await self.app(scope, receive, send)
        finally:
            correlation_id.reset(request_id)


def install_request_context(app: FastAPI, *, service: str) -> None:
    """Around all of the app's middleware, Starlette's error handler too, so the line that logs
    an unhandled error and the 500 it answers carry the request's id and trace."""
    build = app.build_middleware_stack

    def build_middleware_stack() -> ASGIApp:
        with_id = CorrelationIdMiddleware(
            build(), header_name=REQUEST_ID_HEADER, validator=is_sane_request_id
        )
        return RequestContextMiddleware(with_id, service=service)

    app.build_middleware_stack = build_middleware_stack  # type: ignore[method-assign]
