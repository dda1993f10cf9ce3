"""The business clock of every service: read it; on the simulated clock, set it or move it
forward (operators). A move is stored in PostgreSQL, applied to this process before the answer,
and announced to every other process at once (NOTIFY)."""

from collections.abc import Awaitable, Callable
from typing import Annotated, Literal

from fastapi import APIRouter, Body
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from hotline.shared import clock
from hotline.shared.clock import store
from hotline.shared.clock.follower import ClockFollower
from hotline.shared.clock.reading import ClockReading, ClockRefused
from hotline.shared.runtime import ServiceRuntime
from hotline.shared.web.deps import Runtime
from hotline.shared.web.openapi import problem_responses
from hotline.shared.web.operations import Operator
from hotline.shared.web.problems import Problem

router = APIRouter(prefix="/v1/clock", tags=["operations"])

# A century: the clock stands between 2000 and 2100 anyway.
MAX_ADVANCE_SECONDS = 100 * 366 * 86_400


class ClockPublic(BaseModel):
    """Where business time stands in this service."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"mode": "simulated", "now": "2022-01-05T01:00:00Z"}]}
    )

    mode: Literal["real", "simulated"] = Field(description="`HOTLINE_CLOCK`")
    now: AwareDatetime = Field(description="Business time now, UTC")


class ClockSet(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"now": "2022-01-05T09:00:00+08:00", "force": False}]},
    )

    now: AwareDatetime = Field(
        description="The business time to put the clock at, with offset (2000 to 2099)"
    )
    force: bool = Field(
        default=False, description="Allow a time earlier than the clock's (timers assume forward)"
    )


class ClockAdvance(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"seconds": 86400}]})

    seconds: float = Field(gt=0, le=MAX_ADVANCE_SECONDS, description="How far forward to move")


MOVE_PROBLEMS = problem_responses(
    401,
    422,
    descriptions={
        409: "The clock is real (`HOTLINE_CLOCK=real`), or the time is earlier than the "
        "clock's without `force`",
    },
)


@router.get("")
async def read_clock(runtime: Runtime) -> ClockPublic:
    """Business time now, and whether the clock is real or simulated."""
    return _public(runtime)


@router.put("", responses=MOVE_PROBLEMS)
async def set_clock(
    body: Annotated[ClockSet, Body()], operator: Operator, runtime: Runtime
) -> ClockPublic:
    """Put the simulated clock at a time, for every service (operators)."""
    follower = _simulated(runtime)
    moved = await _moving(
        lambda: store.set_clock(runtime.engine, body.now, force=body.force, by=operator)
    )
    follower.apply(moved)
    return _public(runtime)


@router.post("/advance", responses=MOVE_PROBLEMS)
async def advance_clock(
    body: Annotated[ClockAdvance, Body()], operator: Operator, runtime: Runtime
) -> ClockPublic:
    """Move the simulated clock forward, for every service (operators)."""
    follower = _simulated(runtime)
    moved = await _moving(lambda: store.advance_clock(runtime.engine, body.seconds, by=operator))
    follower.apply(moved)
    return _public(runtime)


def _public(runtime: ServiceRuntime) -> ClockPublic:
    now = runtime.clock.now() if runtime.clock is not None else clock.wall_now()
    return ClockPublic(mode=runtime.settings.clock, now=now)


def _simulated(runtime: ServiceRuntime) -> ClockFollower:
    if runtime.clock is None:
        raise Problem(
            409,
            "clock-not-simulated",
            "The clock is real (HOTLINE_CLOCK=real): it cannot be moved. Start the stack with "
            "HOTLINE_CLOCK=simulated to move business time.",
        )
    return runtime.clock


async def _moving(move: Callable[[], Awaitable[ClockReading]]) -> ClockReading:
    try:
        reading = await move()
    except ClockRefused as refused:
        if refused.conflict:
            raise Problem(409, "clock-backwards", str(refused), field=refused.field) from None
        raise Problem.invalid([{"field": refused.field, "message": str(refused)}]) from None
    return reading
