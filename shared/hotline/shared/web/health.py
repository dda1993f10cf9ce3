"""Liveness and readiness: `/healthz` says the process answers, `/readyz` that it can work."""

import os
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from hotline.shared.db import database_is_reachable

router = APIRouter(tags=["operations"])


@router.get("/healthz")
async def healthz() -> dict[str, str | int]:
    """The process is up and its event loop answers (with its process id, for operators)."""
    return {"status": "ok", "pid": os.getpid()}


@router.get("/readyz", responses={503: {"description": "A dependency is unreachable"}})
async def readyz(request: Request) -> JSONResponse:
    """The database and the broker both answer; 503 names the one that does not."""
    runtime = request.app.state.runtime
    checks: dict[str, Any] = {
        "database": "ok" if await database_is_reachable(runtime.engine) else "unreachable",
        "broker": "ok" if await runtime.broker.is_reachable() else "unreachable",
    }
    ready = all(value == "ok" for value in checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "not ready", "checks": checks},
        status_code=200 if ready else 503,
    )
