"""`hotline simulate`: play a period of the seed's traffic against a running suite, then compare
scoring's bulletin with the simulator's own counts (exit code 1 on a mismatch)."""

import argparse
import asyncio
import json
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from hotline.shared.domain.working_days import LOCAL_TIME
from hotline.shared.simulator.compare import UNIT_FIGURES, Figure, compare
from hotline.shared.simulator.driver import (
    Credentials,
    Driver,
    Endpoints,
    SimulationError,
    Stats,
)
from hotline.shared.simulator.plan import Plan, build_plan


def add_parser(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    simulate = commands.add_parser(
        "simulate",
        help="play a period of the seed's traffic against the running suite and check the bulletin",
        description="Calls, tickets, outage notices, units' steps, reviews and surveys shaped "
        "like the Shaoyang bulletin of January-February 2022, sent to the services' public "
        "HTTP APIs (HOTLINE_PORT_OFFSET shifts their ports). Needs the suite on the simulated "
        "clock (HOTLINE_CLOCK=simulated) for any period but today.",
    )
    simulate.add_argument("--from", dest="start", type=date.fromisoformat, required=True)
    simulate.add_argument("--to", dest="end", type=date.fromisoformat, required=True)
    simulate.add_argument("--scale", type=float, default=1.0, help="share of the seed's traffic")
    simulate.add_argument("--seed", type=int, default=1, help="the same seed plays the same period")
    simulate.add_argument(
        "--rate", type=float, help="requests per second at most (default: full speed)"
    )
    simulate.add_argument("--concurrency", type=int, default=16, help="requests in flight at once")
    simulate.add_argument(
        "--step-minutes",
        type=float,
        default=10.0,
        help="simulated minutes per clock move, at least",
    )
    simulate.add_argument(
        "--real-clock",
        action="store_true",
        help="play today on the real clock (no late replies: deadlines cannot pass)",
    )
    simulate.add_argument("--host", default="127.0.0.1")
    simulate.add_argument(
        "--settle-seconds",
        type=float,
        default=60.0,
        help="how long the bulletin may stay unchanged",
    )
    simulate.add_argument("--wait-seconds", type=float, default=600.0, help="longest wait for it")
    simulate.add_argument(
        "--report", type=Path, help="write the figures and the run's counts (JSON)"
    )


def run(args: argparse.Namespace) -> int:
    console = Console()
    if not 0 < args.scale <= 10:
        console.print("hotline simulate: --scale must be above 0 (and at most 10)")
        return 2
    try:
        return asyncio.run(_simulate(args, console))
    except SimulationError as error:
        console.print(f"hotline simulate: {error}")
        return 2


async def _simulate(args: argparse.Namespace, console: Console) -> int:
    endpoints = Endpoints.local(args.host)
    credentials = Credentials.from_environment()
    real = await _clock_mode(endpoints, args.start, args.end, real_clock=args.real_clock)
    started = time.monotonic()
    plan = build_plan(args.start, args.end, scale=args.scale, seed=args.seed)
    if real:
        plan = _without_lateness(plan)
    console.print(
        f"hotline simulate: {args.start}–{args.end} at scale {args.scale}: {len(plan.tickets)} "
        f"tickets, {len(plan.calls)} call records, {len(plan.notices)} notices "
        f"({'real' if real else 'simulated'} clock)"
    )
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[requests]} requests"),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        task = progress.add_task("", total=None, requests=0)

        last_line = [time.monotonic()]

        def show(driver: Driver) -> None:
            moment = driver.timeline.now.astimezone(LOCAL_TIME)
            if not console.is_terminal and time.monotonic() - last_line[0] > 15:
                # Not a terminal (a log, a test): a line now and then instead of the bar.
                last_line[0] = time.monotonic()
                console.print(
                    f"{moment:%Y-%m-%d %H:%M} {driver.done_steps}/{driver.planned_steps} "
                    f"planned steps, {driver.stats.requests} requests"
                )
            progress.update(
                task,
                total=driver.planned_steps,
                completed=driver.done_steps,
                requests=driver.stats.requests,
                description=f"{moment:%Y-%m-%d %H:%M}",
            )

        driver = Driver(
            plan,
            endpoints,
            credentials,
            concurrency=args.concurrency,
            rate=args.rate,
            step=timedelta(minutes=args.step_minutes),
            real_clock=real,
            on_progress=show,
        )
        stats = await driver.run()
    played = time.monotonic() - started
    console.print(f"played in {played:.0f} s; waiting for scoring's bulletin to settle")
    figures = await _settled(endpoints, credentials, plan, args)
    elapsed = time.monotonic() - started
    _print(console, stats, figures, played, elapsed)
    if args.report:
        args.report.write_text(
            json.dumps(_report(plan, stats, figures, played, elapsed), ensure_ascii=False, indent=1)
        )
    return 0 if all(figure.matches for figure in figures) else 1


async def _clock_mode(endpoints: Endpoints, start: date, end: date, *, real_clock: bool) -> bool:
    """True to play on the real clock; refuses a period the real clock cannot play."""
    modes = {}
    async with httpx.AsyncClient(timeout=10) as http:
        for name, url in endpoints.services.items():
            try:
                response = await http.get(f"{url}/v1/clock")
            except httpx.HTTPError as error:
                raise SimulationError(
                    f"{name} does not answer at {url} ({error!r}): is the suite up?"
                ) from None
            modes[name] = response.json().get("mode") if response.status_code == 200 else "real"
    if all(mode == "simulated" for mode in modes.values()):
        return False
    today = datetime.now(UTC).astimezone(LOCAL_TIME).date()
    if real_clock and start == end == today:
        return True
    real = ", ".join(name for name, mode in modes.items() if mode != "simulated")
    raise SimulationError(
        f"the suite runs on the real clock ({real}): a past period cannot be played on it. "
        "Start it with HOTLINE_CLOCK=simulated (make run does: see README), or play today "
        f"with --from {today} --to {today} --real-clock."
    )


def _without_lateness(plan: Plan) -> Plan:
    for ticket in plan.tickets:  # on the real clock no deadline passes, no retry comes due
        ticket.late = ticket.unreachable_first = False
    return Plan(plan.start, plan.end, plan.scale, plan.seed, plan.tickets, plan.calls, plan.notices)


async def _settled(
    endpoints: Endpoints, credentials: Credentials, plan: Plan, args: argparse.Namespace
) -> list[Figure]:
    """The bulletin once it matches, or once it has not changed for the settle time."""
    headers = {"Authorization": f"Bearer {credentials.scoring_reader}"}
    params = {"from": plan.start.isoformat(), "to": plan.end.isoformat(), "top": "5"}
    deadline = time.monotonic() + args.wait_seconds
    last: dict[str, Any] | None = None
    unchanged_since = time.monotonic()
    async with httpx.AsyncClient(timeout=30) as http:
        while True:
            response = await http.get(
                f"{endpoints.scoring}/v1/reports/bulletin", params=params, headers=headers
            )
            bulletin = response.json() if response.status_code == 200 else {}
            figures = compare(plan.expected, bulletin)
            if all(figure.matches for figure in figures):
                return figures
            if bulletin != last:
                last, unchanged_since = bulletin, time.monotonic()
            now = time.monotonic()
            if now - unchanged_since > args.settle_seconds or now > deadline:
                return figures
            await asyncio.sleep(2)


def _print(
    console: Console, stats: Stats, figures: list[Figure], played: float, elapsed: float
) -> None:
    kinds = ", ".join(f"{kind} {n}" for kind, n in stats.by_kind.most_common())
    console.print(
        f"{stats.requests} requests ({stats.retries} sent again) in {played:.0f} s, "
        f"{stats.clock_moves} clock moves: {kinds}"
    )
    for deviation in stats.deviations[:20]:
        console.print(f"  deviation: {deviation}")
    totals = Table(title="the bulletin: expected vs got")
    for column in ("figure", "expected", "got", ""):
        totals.add_column(column, justify="right" if column in ("expected", "got") else "left")
    for figure in figures:
        if figure.where in ("total", "category"):
            name = figure.name if figure.where == "total" else f"category {figure.name}"
            totals.add_row(name, str(figure.expected), str(figure.got), _mark(figure))
    console.print(totals)
    by_unit: dict[str, dict[str, Figure]] = {}
    for figure in figures:
        if figure.where not in ("total", "category"):
            by_unit.setdefault(figure.where, {})[figure.name] = figure
    columns = (*UNIT_FIGURES, "spot checks unsatisfied")
    units = Table(title="Attachments 1–3 by unit: a figure, or expected≠got")
    units.add_column("unit")
    for column in columns:
        units.add_column(column.replace(" unsatisfied", ""), justify="right")
    for unit, named in by_unit.items():
        units.add_row(unit, *(_cell(named.get(column)) for column in columns))
    console.print(units)
    wrong = sum(1 for figure in figures if not figure.matches)
    console.print(f"{len(figures)} figures compared, {wrong} mismatched; {elapsed:.0f} s in all")


def _mark(figure: Figure) -> str:
    return "[green]ok[/]" if figure.matches else "[red]MISMATCH[/]"


def _cell(figure: Figure | None) -> str:
    if figure is None:
        return "0"
    if figure.matches:
        return str(figure.got)
    return f"[red]{figure.expected}≠{figure.got}[/]"


def _report(
    plan: Plan, stats: Stats, figures: list[Figure], played: float, elapsed: float
) -> dict[str, Any]:
    return {
        "from": plan.start.isoformat(),
        "to": plan.end.isoformat(),
        "scale": plan.scale,
        "seed": plan.seed,
        "tickets": len(plan.tickets),
        "calls": len(plan.calls),
        "requests": stats.requests,
        "retries": stats.retries,
        "by_kind": dict(stats.by_kind),
        "answers": dict(stats.answers),
        "clock_moves": stats.clock_moves,
        "played_seconds": round(played, 1),
        "elapsed_seconds": round(elapsed, 1),
        "deviations": stats.deviations,
        "figures": [
            {
                "where": f.where,
                "figure": f.name,
                "expected": f.expected,
                "got": f.got,
                "matches": f.matches,
            }
            for f in figures
        ],
    }
