"""`hotline sign`: the Standard Webhooks headers for a JSON body, or the body signed and posted,
so a call-centre vendor can try a webhook before writing a line of code."""

import argparse
import os
import sys
from pathlib import Path

import httpx

from hotline.shared import secrets
from hotline.shared.web.webhooks import signature_headers

SECRET_VARIABLE = "HOTLINE_SIGN_SECRET"


def add_parser(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    sign = commands.add_parser(
        "sign",
        help="print the webhook-* headers that sign a JSON file, or sign and post it",
        description="Signs the file's bytes exactly as they are: post those same bytes. "
        f"The secret is --secret, else ${SECRET_VARIABLE}, else the development call-centre "
        "secret `make run` accepts.",
    )
    sign.add_argument("file", type=Path, help="the JSON body (- for standard input)")
    sign.add_argument("--secret", help=f"a whsec_ secret (default: ${SECRET_VARIABLE})")
    sign.add_argument("--id", dest="webhook_id", help="webhook-id (default: a new one)")
    sign.add_argument("--post", metavar="URL", help="post it there and print the answer")


def run(args: argparse.Namespace) -> int:
    body = sys.stdin.buffer.read() if str(args.file) == "-" else args.file.read_bytes()
    secret = (
        args.secret or os.environ.get(SECRET_VARIABLE) or secrets.DEVELOPMENT_CALL_CENTRE_SECRET
    )
    headers = signature_headers(secret, body.decode(), webhook_id=args.webhook_id)
    if not args.post:
        print("\n".join(f"{name}: {value}" for name, value in headers.items()))
        return 0
    answer = httpx.post(args.post, content=body, headers=headers, timeout=30)
    print(f"HTTP {answer.status_code}")
    for name, value in answer.headers.items():
        if name.startswith(("webhook-", "hotline-", "retry-after")):
            print(f"{name}: {value}")
    print(answer.text)
    return 0 if answer.is_success else 1
