"""The bare ceiling intake is measured against: a minimal FastAPI endpoint doing one insert.

Same stack as the services (uvicorn, FastAPI, SQLAlchemy async on asyncpg, one process), no
signature, no rules, no outbox.
"""

import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from sqlalchemy import text

from hotline.shared.db import create_engine

engine = create_engine(os.environ["HOTLINE_DATABASE_URL"])


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    async with engine.begin() as connection:
        await connection.execute(
            text("CREATE TABLE IF NOT EXISTS bench_ceiling (id bigserial PRIMARY KEY, body jsonb)")
        )
    yield
    await engine.dispose()


app = FastAPI(lifespan=lifespan)


@app.post("/v1/tickets", status_code=201)
async def insert_one(body: dict[str, Any]) -> dict[str, int]:
    async with engine.begin() as connection:
        row_id = await connection.scalar(
            text("INSERT INTO bench_ceiling (body) VALUES (CAST(:body AS jsonb)) RETURNING id"),
            {"body": json.dumps(body, ensure_ascii=False)},
        )
    return {"id": int(row_id or 0)}
