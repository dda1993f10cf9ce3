"""Standard Webhooks authentication: `webhook-id`, `webhook-timestamp`, `webhook-signature`.

Each sender has one or more secrets (two during a rotation: the sender may sign with either, or
with both, space-separated). The timestamp must be within five minutes of our clock, which
with the stored answers per webhook id makes a replay either refused or harmless.
"""

import hashlib
import json
import re
import threading
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar
from urllib.parse import quote
from uuid import uuid4

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from prometheus_client import Counter
from pydantic import BaseModel, Field, SecretStr, ValidationError
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from hotline.shared.web.metrics import WEBHOOK_ENDPOINT_KEY
from hotline.shared.web.problems import Problem


class WebhookSender(BaseModel):
    """One system allowed to post webhooks: its secrets (several during a rotation) and scopes."""

    secrets: list[SecretStr] = Field(min_length=1)
    scopes: set[str] = Field(default_factory=set)


@dataclass(frozen=True)
class VerifiedWebhook:
    sender: str
    webhook_id: str
    body_sha256: str | None = None


class WebhookVerifier:
    def __init__(self, senders: Mapping[str, WebhookSender]) -> None:
        self._verifiers = [
            (name, sender.scopes, Webhook(secret.get_secret_value()))
            for name, sender in senders.items()
            for secret in sender.secrets
        ]

    def verify(self, body: bytes, headers: Mapping[str, str], scope: str) -> VerifiedWebhook:
        """The sender whose secret signed this body; a 401/403 problem naming the header if none."""
        webhook_id = headers.get("webhook-id")
        if not webhook_id or not headers.get("webhook-timestamp"):
            missing = "webhook-id" if not webhook_id else "webhook-timestamp"
            raise _unauthorized("missing-signature", f"The {missing} header is missing.", missing)
        if not headers.get("webhook-signature"):
            raise _unauthorized(
                "missing-signature", "The webhook-signature header is missing.", "webhook-signature"
            )
        try:
            text = body.decode()
        except UnicodeDecodeError as error:
            raise Problem(400, "not-utf8", "The body is not UTF-8.", field="body") from error
        signature_headers = dict(headers)
        for name, scopes, verifier in self._verifiers:
            try:
                verifier.verify(text, signature_headers, json_parse=False)
            except WebhookVerificationError as error:
                reason = str(error)
                if "Invalid Signature Headers" in reason:
                    raise _unauthorized(
                        "malformed-timestamp",
                        "webhook-timestamp is not a Unix time in seconds.",
                        "webhook-timestamp",
                    ) from error
                if "timestamp" in reason:
                    raise _unauthorized(
                        "stale-webhook",
                        "webhook-timestamp is not within five minutes of now.",
                        "webhook-timestamp",
                    ) from error
                continue
            except ValueError as error:  # a signature that is not `v1,<base64>`
                raise _unauthorized(
                    "bad-signature", "webhook-signature is malformed.", "webhook-signature"
                ) from error
            if scope not in scopes:
                raise Problem(
                    403, "scope-not-allowed", f"{name} may not post {scope}.", field="webhook-id"
                )
            return VerifiedWebhook(
                sender=name, webhook_id=webhook_id, body_sha256=hashlib.sha256(body).hexdigest()
            )
        raise _unauthorized(
            "bad-signature", "No secret we hold signed this body.", "webhook-signature"
        )


def signed_request(
    secret: str, payload: object, *, webhook_id: str | None = None
) -> tuple[bytes, dict[str, str]]:
    """A body and the Standard Webhooks headers that sign it, for webhooks we send; the same
    `webhook_id` for the same message lets the receiver drop a repeat."""
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), default=str)
    return body.encode(), signature_headers(secret, body, webhook_id=webhook_id)


def signature_headers(
    secret: str, body: str, *, webhook_id: str | None = None, sent_at: datetime | None = None
) -> dict[str, str]:
    """The Standard Webhooks headers that sign `body` (a new id, and now, unless given)."""
    webhook_id, sent_at = webhook_id or f"msg_{uuid4().hex}", sent_at or datetime.now(UTC)
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": Webhook(secret).sign(webhook_id, sent_at, body),
        "content-type": "application/json",
    }


def _unauthorized(code: str, detail: str, header: str) -> Problem:
    return Problem(401, code, detail, field=header)


M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class SignedBody(Generic[M]):
    """A webhook's sender and its body, validated only once the signature held, and the
    unknown fields the body carried and we ignored (dotted paths: `caller.nickname`)."""

    webhook: VerifiedWebhook
    body: M
    ignored_fields: tuple[str, ...] = ()

    def answer_headers(self) -> dict[str, str]:
        """`Hotline-Ignored-Fields: a, caller.b` when fields were ignored, else nothing."""
        if not self.ignored_fields:
            return {}
        names = [quote(name, safe="._-[]") for name in self.ignored_fields[:IGNORED_IN_HEADER]]
        more = len(self.ignored_fields) - len(names)
        return {IGNORED_FIELDS_HEADER: ", ".join(names) + (f", (+{more} more)" if more else "")}


IGNORED_FIELDS_HEADER = "Hotline-Ignored-Fields"
IGNORED_IN_HEADER = 20
# A field name is the sender's to choose: counted under its own name only while the names stay
# few and short, else under "other", so a vendor's mistake cannot grow the label set.
IGNORED_FIELD_NAMES_COUNTED = 50
IGNORED_FIELD_NAME = re.compile(r"^[A-Za-z0-9_.\[\]-]{1,60}$")
IGNORED_FIELDS = Counter(
    "hotline_webhook_ignored_fields_total",
    "Fields of webhook bodies we do not know and ignored, by dotted name (past "
    f"{IGNORED_FIELD_NAMES_COUNTED} names, or a long or odd one: other)",
    ["service", "field"],
)
_counted_names: set[str] = set()
_counted_lock = threading.Lock()


def strip_unknown_fields(model: BaseModel, prefix: str = "") -> list[str]:
    """Drop the fields a tolerant model (`extra="allow"`) kept that it does not declare, however
    deeply nested (a list's items are one path: `items[].x`), and return their dotted paths."""
    found: list[str] = []
    extra = model.__pydantic_extra__
    if extra:
        found += [prefix + name for name in extra]
        extra.clear()
    for name in type(model).model_fields:
        found += _strip_value(getattr(model, name), f"{prefix}{name}")
    return found


def _strip_value(value: Any, path: str) -> list[str]:
    if isinstance(value, BaseModel):
        return strip_unknown_fields(value, path + ".")
    if isinstance(value, list | tuple):
        return [name for item in value for name in _strip_value(item, path + "[]")]
    if isinstance(value, dict):
        return [name for item in value.values() for name in _strip_value(item, path + "[]")]
    return []


def count_ignored_fields(service: str, names: list[str]) -> None:
    for name in names:
        IGNORED_FIELDS.labels(service, _bounded_name(name)).inc()


def _bounded_name(name: str) -> str:
    if not IGNORED_FIELD_NAME.match(name):
        return "other"
    with _counted_lock:
        if name in _counted_names:
            return name
        if len(_counted_names) >= IGNORED_FIELD_NAMES_COUNTED:
            return "other"
        _counted_names.add(name)
        return name


# Bodies read by hand (after the signature) still belong in the OpenAPI document.
SIGNED_BODY_MODELS: dict[str, type[BaseModel]] = {}


def signed_body(
    model: type[M], scope: str, verifier: Callable[[Request], WebhookVerifier]
) -> Callable[[Request], Awaitable[SignedBody[M]]]:
    """A dependency: check the Standard Webhooks signature first (an unsigned body is a 401
    before it is even parsed), then validate the body; malformed JSON is one problem, `body`.
    A tolerant model's unknown fields are dropped, counted and kept for the answer's header."""
    SIGNED_BODY_MODELS[model.__name__] = model

    async def verify_then_parse(request: Request) -> SignedBody[M]:
        # A problem answered to this request now counts as a refused webhook (the scope, not
        # request.state: a lifespan's state may be one object shared by every request).
        request.scope[WEBHOOK_ENDPOINT_KEY] = scope
        raw = await request.body()
        webhook = verifier(request).verify(raw, request.headers, scope)
        try:
            body = model.model_validate_json(raw)
        except ValidationError as error:
            raise RequestValidationError(
                [{**item, "loc": ("body", *item["loc"])} for item in error.errors()]
            ) from error
        ignored = strip_unknown_fields(body)
        count_ignored_fields(getattr(request.app.state, "service_name", "unknown"), ignored)
        return SignedBody(webhook, body, tuple(ignored))

    return verify_then_parse


WEBHOOK_SCHEMES = {
    "webhook-id": "Standard Webhooks: the message's id; a redelivery sends the same one",
    "webhook-timestamp": "Standard Webhooks: Unix seconds, within five minutes of our clock",
    "webhook-signature": "Standard Webhooks: `v1,<base64 HMAC-SHA256 of id.timestamp.body>` "
    "under the sender's `whsec_` secret (several, space-separated, during a rotation). "
    "`hotline sign` prints all three headers for a body",
}


def signed_body_openapi(model: type[BaseModel]) -> dict[str, Any]:
    """`openapi_extra` for a route whose body `signed_body` reads: its schema, required, with
    the model's examples, and the three Standard Webhooks headers as its security."""
    content: dict[str, Any] = {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}
    extra = model.model_config.get("json_schema_extra")
    if isinstance(extra, dict) and isinstance(examples := extra.get("examples"), list):
        content["examples"] = {
            f"example {n}": {"value": example} for n, example in enumerate(examples, 1)
        }
    return {
        "requestBody": {"required": True, "content": {"application/json": content}},
        "security": [{header: [] for header in WEBHOOK_SCHEMES}],
    }
