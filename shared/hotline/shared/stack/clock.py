"""`hotline clock show|set|advance`: read and move the simulated business clock through a
service's admin endpoint (`/v1/clock`), as a driver outside the stack does."""

import argparse
import json
import os
import re
import sys
from typing import Any

import httpx

from hotline.shared.secrets import DEVELOPMENT_OPERATOR_TOKEN

DEFAULT_URL = "http://127.0.0.1:8001"  # intake; every service answers /v1/clock
TOKEN_VARIABLE = "HOTLINE_OPERATOR_TOKEN"
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 7 * 86_400}
DURATION = re.compile(r"(\d+(?:\.\d+)?)([smhdw]?)")


def duration_seconds(text: str) -> float:
    """`3600`, `90m`, `2h`, `1d`, `1d12h` → seconds."""
    compact = text.strip().lower().replace(" ", "")
    parts = DURATION.findall(compact)
    if not compact or "".join(number + unit for number, unit in parts) != compact:
        raise argparse.ArgumentTypeError(
            f"not a duration: {text!r} (seconds, or like 90m, 2h, 1d, 1d12h)"
        )
    return sum(float(number) * UNITS[unit or "s"] for number, unit in parts)


def add_parser(commands: Any) -> None:
    clock = commands.add_parser("clock", help="the simulated business clock: show, set, advance")
    where = argparse.ArgumentParser(add_help=False)
    where.add_argument("--url", default=DEFAULT_URL, help=f"a service (default {DEFAULT_URL})")
    actions = clock.add_subparsers(dest="action", required=True)
    actions.add_parser(
        "show", parents=[where], help="business time now, and whether the clock is simulated"
    )
    moved = actions.add_parser(
        "set", parents=[where], help="put the clock at a time (ISO 8601 with offset)"
    )
    moved.add_argument("now", help="e.g. 2022-01-05T09:00:00+08:00")
    moved.add_argument("--force", action="store_true", help="allow a time earlier than now")
    advance = actions.add_parser("advance", parents=[where], help="move the clock forward")
    advance.add_argument("duration", type=duration_seconds, help="3600, 90m, 2h, 1d …")


def run(args: argparse.Namespace) -> int:
    token = os.environ.get(TOKEN_VARIABLE) or DEVELOPMENT_OPERATOR_TOKEN
    headers = {"Authorization": f"Bearer {token}"}
    base = args.url.rstrip("/")
    try:
        if args.action == "show":
            response = httpx.get(f"{base}/v1/clock", timeout=10)
        elif args.action == "set":
            body = {"now": args.now, "force": args.force}
            response = httpx.put(f"{base}/v1/clock", json=body, headers=headers, timeout=10)
        else:
            body = {"seconds": args.duration}
            response = httpx.post(
                f"{base}/v1/clock/advance", json=body, headers=headers, timeout=10
            )
    except httpx.HTTPError as error:
        print(f"hotline clock: {base} does not answer ({error})", file=sys.stderr)
        return 1
    if response.status_code != 200:
        print(f"hotline clock: {response.status_code} {_detail(response)}", file=sys.stderr)
        return 1
    answer = response.json()
    print(f"{answer['now']} ({answer['mode']})")
    return 0


def _detail(response: httpx.Response) -> str:
    try:
        problem = response.json()
    except json.JSONDecodeError:
        return response.text[:300]
    return str(problem.get("detail", problem))
