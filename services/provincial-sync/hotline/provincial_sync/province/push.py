"""Pushing spot checks and findings to provincial-sync, signed as the province signs callbacks.

What the callback does not take (it is away, or answers other than 2xx) stays queued, in order,
and goes again on the next round.
"""

import asyncio
import logging
import math
import time
import uuid
from collections import deque
from dataclasses import dataclass
from itertools import islice
from typing import Any

import httpx

from hotline.provincial_sync.adapters.generic_v1 import (
    FindingBatch,
    SpotCheckBatch,
    Wire,
    signed_headers,
)
from hotline.provincial_sync.province.store import FINDINGS_PATH, SPOT_CHECKS_PATH, Province
from hotline.shared.domain.phones import mask_mobiles_in

log = logging.getLogger(__name__)

PUSH_BATCH = 500
# While pushes keep failing the same way, say so again at most this often.
WARN_EVERY_SECONDS = 60.0


@dataclass(frozen=True)
class Delivery:
    """One request to the callback and what it answered (status None: it never answered)."""

    path: str
    items: int
    status: int | None
    body: str

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    def as_dict(self) -> dict[str, Any]:
        return {"path": self.path, "items": self.items, "status": self.status, "body": self.body}


class Pusher:
    def __init__(
        self,
        province: Province,
        client: httpx.AsyncClient,
        *,
        callback_url: str | None,
        key_pair: tuple[str, str],
    ) -> None:
        self.province = province
        self.client = client
        self.callback_url = callback_url
        self.app_key, self._secret = key_pair
        self._lock = asyncio.Lock()
        self._last_warning: tuple[str, float] | None = None

    async def flush(self) -> list[Delivery]:
        """Push what is queued, in batches of `PUSH_BATCH`, until a push fails."""
        if self.callback_url is None:
            return []
        deliveries: list[Delivery] = []
        async with self._lock:
            for push, queued in (
                (self._push_spot_checks, len(self.province.spot_checks)),
                (self._push_findings, len(self.province.findings)),
            ):
                # What was queued when the flush began; what comes meanwhile waits a round.
                for _ in range(math.ceil(queued / PUSH_BATCH)):
                    delivery = await push()
                    if delivery is None:
                        break
                    deliveries.append(delivery)
                    if not delivery.delivered:
                        break
        return deliveries

    async def _push_spot_checks(self) -> Delivery | None:
        checks = list(islice(self.province.spot_checks, PUSH_BATCH))
        if not checks:
            return None
        batch = SpotCheckBatch(batch_id=_batch_id(), checks=checks)
        return await self._deliver(SPOT_CHECKS_PATH, batch, self.province.spot_checks, len(checks))

    async def _push_findings(self) -> Delivery | None:
        findings = list(islice(self.province.findings, PUSH_BATCH))
        if not findings:
            return None
        batch = FindingBatch(batch_id=_batch_id(), findings=findings)
        return await self._deliver(FINDINGS_PATH, batch, self.province.findings, len(findings))

    async def _deliver(self, path: str, batch: Wire, queue: deque[Any], items: int) -> Delivery:
        generation = self.province.generation
        delivery = await self.post_raw(path, batch.model_dump_json().encode(), items)
        if delivery.delivered:
            if generation == self.province.generation:  # not reset meanwhile
                for _ in range(items):
                    queue.popleft()
                self.province.pushed[path] += items
            if self._last_warning is not None:
                log.info("province: pushes to %s go through again", self.callback_url)
                self._last_warning = None
        else:
            self.province.push_failures += 1
            body = mask_mobiles_in(delivery.body[:200])  # a refusal may quote what it refused
            self._warn(f"{path}: {delivery.status or 'no answer'} {body}")
        return delivery

    async def post_raw(
        self,
        path: str,
        content: bytes,
        items: int = 0,
        *,
        sign: bool = True,
        extra_headers: dict[str, str] | None = None,
    ) -> Delivery:
        """POST `content` to the callback, signed (or, `sign=False`, with a wrong signature)."""
        if self.callback_url is None:
            raise LookupError("HOTLINE_PROVINCE_CALLBACK_URL is not set: there is no callback")
        secret = self._secret if sign else self._secret + "-wrong"
        headers = signed_headers(self.app_key, secret, content) | (extra_headers or {})
        try:
            response = await self.client.post(
                self.callback_url + path, content=content, headers=headers
            )
        except httpx.HTTPError as error:
            return Delivery(path, items, None, f"{type(error).__name__}: {error}")
        return Delivery(path, items, response.status_code, response.text)

    def _warn(self, reason: str) -> None:
        now = time.monotonic()
        if self._last_warning is not None:
            last_reason, at = self._last_warning
            if last_reason == reason and now - at < WARN_EVERY_SECONDS:
                return
        self._last_warning = (reason, now)
        log.warning(
            "province: push to %s failed (%s); kept for the next round", self.callback_url, reason
        )


def _batch_id() -> str:
    return f"province-{uuid.uuid4().hex[:16]}"
