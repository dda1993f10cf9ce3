"""Every status a test sees a route answer must be in that app's OpenAPI document: the apps the
tests call are wrapped (`recording`), and the session ends failed, listing what is missing."""

from collections import defaultdict
from typing import Any

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# app -> {(method, route path, status)}: what the tests saw.
SEEN: defaultdict[FastAPI, set[tuple[str, str, int]]] = defaultdict(set)


def recording(
    app: FastAPI,
    serving: ASGIApp | None = None,
    seen: defaultdict[FastAPI, set[tuple[str, str, int]]] = SEEN,
) -> ASGIApp:
    """`app` (or `serving`, what wraps it), noting the route and status of every answer in
    `seen` (the session's, unless given)."""
    inner = serving or app

    async def recorded(scope: Scope, receive: Receive, send: Send) -> None:
        status: list[int] = []

        async def noting(message: Message) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
            await send(message)

        try:
            await inner(scope, receive, noting)
        finally:
            route = scope.get("route")  # the router writes the matched route into the scope
            if scope["type"] == "http" and status and route is not None:
                seen[app].add((scope["method"], str(getattr(route, "path", "")), status[0]))

    return recorded


def undocumented(
    document: dict[str, Any], seen: set[tuple[str, str, int]]
) -> list[tuple[str, str, int]]:
    """What was seen of the document's operations that their `responses` do not list."""
    missing = []
    for method, path, status in sorted(seen):
        operation = document.get("paths", {}).get(path, {}).get(method.lower())
        if operation is None:
            continue  # not in the document (`include_in_schema=False`)
        responses = operation.get("responses", {})
        if not {str(status), f"{str(status)[0]}XX", "default"} & set(responses):
            missing.append((method, path, status))
    return missing


def report() -> list[str]:
    """One line per undocumented status the session saw."""
    return [
        f"{app.title}: {method} {path} answered {status}, which its OpenAPI does not document"
        for app, seen in SEEN.items()
        for method, path, status in undocumented(app.openapi(), seen)
    ]
