"""The uploader: claims due documents, sends them to the province in batches, and records what
came of every one.

A claim leases documents (oldest change first) under the request's batch id, so that no two
requests carry one record at once, and only that request gives the lease back; the request is
cut off well before its lease runs out. Each record carries an idempotency key per version and
content, so a request sent again after a timeout is answered "already received" and counts as
accepted. The province accepting a version marks it uploaded (and, when it is still the newest,
synced) and announces `upload.accepted` with the delay since the oldest change it had not yet
received. A refused version, or one the answer leaves out, is tried again with a growing,
jittered delay and parked after a few tries. A request that fails because the province is away
trips the circuit breaker; one it refuses as a whole (a 4xx) is split in halves until the record
at fault is found, and that record is treated as refused.
"""

import asyncio
import logging
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID, uuid4

import httpx
from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.provincial_sync import metrics
from hotline.provincial_sync.adapters import (
    BatchAnswer,
    OutgoingRecord,
    ProvinceAdapter,
    RecordResult,
)
from hotline.provincial_sync.breaker import STATE_NUMBERS, CircuitBreaker
from hotline.provincial_sync.config import SyncOptions
from hotline.provincial_sync.models import UploadAttempt, messaging
from hotline.shared.backoff import Backoff, sleep_unless_stopped
from hotline.shared.clock import business_now, wall_now
from hotline.shared.db import SessionFactory, database_unavailable, unit_of_work
from hotline.shared.domain.phones import mask_mobiles_in
from hotline.shared.messaging.events import UploadAccepted, UploadAcceptedData
from hotline.shared.messaging.outbox import add_events

log = logging.getLogger(__name__)

CLAIM = text(
    """
    UPDATE provincial_sync.documents d
    SET leased_until = now() + make_interval(secs => :lease_seconds), lease_id = :lease
    FROM (
        SELECT kind, record_id FROM provincial_sync.documents
        WHERE status = 'pending' AND next_attempt_at <= now()
          AND (leased_until IS NULL OR leased_until < now())
        ORDER BY changed_at
        LIMIT :limit
        FOR UPDATE SKIP LOCKED
    ) due
    WHERE d.kind = due.kind AND d.record_id = due.record_id
    RETURNING d.kind, d.record_id, d.version, d.changed_at, d.content, d.content_hash,
              d.refusals, COALESCE(d.pending_since, d.changed_at) AS pending_since
    """
)
# The rows an answer changes, locked in one order (the consumer's too), so the two never wait
# on each other in a circle.
LOCK = text(
    """
    SELECT 1 FROM provincial_sync.documents
    WHERE (kind, record_id) IN (
        SELECT * FROM unnest(CAST(:kinds AS text[]), CAST(:ids AS text[])))
    ORDER BY kind, record_id
    FOR UPDATE
    """
)
# A version the province holds: uploaded, and synced when it is still the newest. The
# `uploaded_version <` guard makes a second acknowledgement of one version change nothing.
ACCEPT = text(
    """
    UPDATE provincial_sync.documents d
    SET uploaded_version = v.version, accepted_at = :accepted_at,
        last_code = v.code, last_message = v.message,
        status = CASE WHEN d.version <= v.version THEN 'synced' ELSE d.status END,
        refusals = CASE WHEN d.version <= v.version THEN 0 ELSE d.refusals END,
        -- a newer version waits: it counts from its own change (no earlier one is known)
        pending_since = CASE WHEN d.version <= v.version THEN NULL ELSE d.changed_at END,
        leased_until = CASE WHEN d.lease_id = :lease THEN NULL ELSE d.leased_until END,
        lease_id = CASE WHEN d.lease_id = :lease THEN NULL ELSE d.lease_id END
    FROM unnest(CAST(:kinds AS text[]), CAST(:ids AS text[]), CAST(:versions AS int[]),
                CAST(:codes AS text[]), CAST(:messages AS text[]))
         AS v(kind, record_id, version, code, message)
    WHERE d.kind = v.kind AND d.record_id = v.record_id AND d.uploaded_version < v.version
    RETURNING d.kind, d.record_id, v.version, d.accepted_at
    """
)
# A refused version waits, or is parked; a newer version (come meanwhile) keeps its own state.
REFUSE = text(
    """
    UPDATE provincial_sync.documents d
    SET last_code = v.code, last_message = v.message,
        refusals = CASE WHEN d.version = v.version THEN v.refusals ELSE d.refusals END,
        next_attempt_at = CASE WHEN d.version = v.version THEN v.retry_at
                          ELSE d.next_attempt_at END,
        status = CASE WHEN d.version = v.version AND v.park THEN 'parked' ELSE d.status END,
        leased_until = CASE WHEN d.lease_id = :lease THEN NULL ELSE d.leased_until END,
        lease_id = CASE WHEN d.lease_id = :lease THEN NULL ELSE d.lease_id END
    FROM unnest(CAST(:kinds AS text[]), CAST(:ids AS text[]), CAST(:versions AS int[]),
                CAST(:codes AS text[]), CAST(:messages AS text[]), CAST(:refusals AS int[]),
                CAST(:retry_at AS timestamptz[]), CAST(:park AS boolean[]))
         AS v(kind, record_id, version, code, message, refusals, retry_at, park)
    WHERE d.kind = v.kind AND d.record_id = v.record_id
    """
)
# The request failed as a whole: due again at `retry_at`.
RELEASE = text(
    """
    UPDATE provincial_sync.documents d
    SET last_code = :code, last_message = :message,
        next_attempt_at = GREATEST(d.next_attempt_at, :retry_at),
        leased_until = CASE WHEN d.lease_id = :lease THEN NULL ELSE d.leased_until END,
        lease_id = CASE WHEN d.lease_id = :lease THEN NULL ELSE d.lease_id END
    FROM unnest(CAST(:kinds AS text[]), CAST(:ids AS text[])) AS v(kind, record_id)
    WHERE d.kind = v.kind AND d.record_id = v.record_id
    """
)
# Outcomes that mean the province holds the version.
HELD = ("accepted", "duplicate")


@dataclass(frozen=True)
class Claimed:
    record: OutgoingRecord
    refusals: int
    pending_since: datetime


def retry_delay(refusals: int, initial: float, ceiling: float, rng: random.Random) -> float:
    """Exponential backoff with equal jitter: half the doubled delay fixed, half random, so
    refused documents do not come back all at once."""
    delay: float = min(ceiling, initial * 2 ** max(0, refusals - 1))
    return delay / 2 + rng.uniform(0, delay / 2)


class Uploader:
    def __init__(
        self,
        *,
        sessions: SessionFactory,
        options: SyncOptions,
        adapter: ProvinceAdapter,
        breaker: CircuitBreaker,
        rng: random.Random | None = None,
    ) -> None:
        self.sessions = sessions
        self.options = options
        self.adapter = adapter
        self.breaker = breaker
        self.rng = rng or random.Random()
        self.lease_seconds = options.request_timeout_seconds * 3 + 10
        self._quiet_until = 0.0  # the province asked us to slow down (rate limit) until then
        # Shrinks while the province refuses whole requests (a record in them at fault).
        self._limit = options.batch_size

    async def run(self, stop: asyncio.Event, client: httpx.AsyncClient) -> None:
        """`concurrency` workers, each sending one batch at a time, until `stop` is set."""
        await asyncio.gather(*(self._work(stop, client) for _ in range(self.options.concurrency)))

    async def _work(self, stop: asyncio.Event, client: httpx.AsyncClient) -> None:
        backoff = Backoff(self.options.idle_poll_seconds, 5.0)
        while not stop.is_set():
            try:
                sent = await self.step(client)
            except Exception as error:
                delay = backoff.next_delay()
                if database_unavailable(error):
                    log.warning("the uploader waits %.1fs for the database (%r)", delay, error)
                else:
                    log.exception("an upload step failed; trying again in %.1fs", delay)
                await sleep_unless_stopped(stop, delay)
                continue
            backoff.reset()
            if not sent:
                pause = self.breaker.seconds_until_probe() or self.options.idle_poll_seconds
                await sleep_unless_stopped(stop, min(pause, 1.0))

    async def step(self, client: httpx.AsyncClient) -> int:
        """Claim one batch, send it, record the answer; returns how many documents went."""
        if time.monotonic() < self._quiet_until:
            return 0
        admitted = self.breaker.admit()
        metrics.BREAKER_STATE.set(STATE_NUMBERS[self.breaker.state])
        if admitted is None:
            return 0
        probe, settled = admitted == "probe", False
        try:
            batch_id = uuid4()
            claimed = await self.claim(batch_id, 1 if probe else self._limit)
            if not claimed:
                return 0
            answer, status, seconds = await self.send(client, batch_id, claimed)
            self._judge(answer, probe, len(claimed))
            settled = True
            await self.record(batch_id, claimed, answer, status, seconds)
            return len(claimed)
        finally:
            if probe and not settled:
                self.breaker.probe_not_sent()
            metrics.BREAKER_STATE.set(STATE_NUMBERS[self.breaker.state])

    def _judge(self, answer: BatchAnswer, probe: bool, size: int) -> None:
        """What the answer says of the province (the breaker) and of the batch's size."""
        if answer.failure == "rate-limited":
            self.breaker.succeeded(probe=probe)  # it answered: up, only busy
            wait = min(answer.retry_after_seconds or 1.0, 60.0)
            self._quiet_until = max(self._quiet_until, time.monotonic() + wait)
        elif answer.outage:
            self.breaker.failed(probe=probe)
        elif answer.failure:
            self.breaker.succeeded(probe=probe)  # up, but refusing this request
            self._limit = max(1, size // 2)
        else:
            self.breaker.succeeded(probe=probe)
            self._limit = min(self.options.batch_size, self._limit * 2)

    async def claim(self, batch_id: UUID, limit: int) -> list[Claimed]:
        async with unit_of_work(self.sessions) as session:
            rows = await session.execute(
                CLAIM, {"limit": limit, "lease_seconds": self.lease_seconds, "lease": batch_id}
            )
            claimed = [
                Claimed(
                    OutgoingRecord(
                        row.kind,
                        row.record_id,
                        row.version,
                        row.changed_at,
                        row.content,
                        row.content_hash,
                    ),
                    row.refusals,
                    row.pending_since,
                )
                for row in rows
            ]
        claimed.sort(key=lambda item: item.record.changed_at)
        return claimed

    async def send(
        self, client: httpx.AsyncClient, batch_id: UUID, claimed: list[Claimed]
    ) -> tuple[BatchAnswer, int | None, float]:
        request = self.adapter.upload_request(str(batch_id), [item.record for item in claimed])
        started = time.perf_counter()
        status: int | None = None
        try:
            # httpx's timeout is per phase: a slow trickle could outlast the lease without this.
            async with asyncio.timeout(self.lease_seconds / 2):
                response = await client.post(
                    request.path, content=request.content, headers=request.headers
                )
            status = response.status_code
            answer = self.adapter.read_upload_answer(
                status, response.headers, response.content, len(claimed)
            )
        except (httpx.TimeoutException, TimeoutError) as error:
            answer = BatchAnswer({}, "timeout", detail=repr(error), outage=True)
        except httpx.HTTPError as error:
            answer = BatchAnswer({}, "unreachable", detail=repr(error), outage=True)
        seconds = time.perf_counter() - started
        metrics.REQUESTS.labels(answer.failure or "ok").observe(seconds)
        if answer.failure:
            metrics.FAILURES.labels(answer.failure).inc()
            log.warning(  # the province's answer may quote a record, and so its caller
                "upload of %d records failed: %s %s",
                len(claimed),
                answer.failure,
                mask_mobiles_in(answer.detail),
            )
        return answer, status, seconds

    async def record(
        self,
        batch_id: UUID,
        claimed: list[Claimed],
        answer: BatchAnswer,
        status: int | None,
        seconds: float,
    ) -> None:
        """Every attempt, and each document's new state, in one transaction."""
        now = wall_now()  # attempts and retries are transport; acceptance is business time
        attempts: list[dict[str, object]] = []
        accepted: list[tuple[Claimed, RecordResult]] = []
        refused: list[tuple[Claimed, RecordResult]] = []
        released: list[Claimed] = []
        for item in claimed:
            record = item.record
            result = self._result_of(item, answer, len(claimed))
            if result is None:
                outcome = "rate-limited" if answer.failure == "rate-limited" else "failed"
                code, message = answer.failure or "failed", _clean(answer.detail)
                released.append(item)
            else:
                outcome, code, message = result.outcome, result.code, _clean(result.message)
                (accepted if result.outcome in HELD else refused).append((item, result))
            attempts.append(
                {
                    "batch_id": batch_id,
                    "kind": record.kind,
                    "record_id": record.record_id,
                    "version": record.version,
                    "idempotency_key": record.idempotency_key,
                    "attempted_at": now,
                    "outcome": outcome,
                    "http_status": status,
                    "code": code,
                    "message": message,
                    "latency_ms": round(seconds * 1000, 2),
                }
            )
            metrics.UPLOADED.labels(record.kind, outcome).inc()
        async with unit_of_work(self.sessions) as session:
            await session.execute(
                LOCK,
                {
                    "kinds": [item.record.kind for item in claimed],
                    "ids": [item.record.record_id for item in claimed],
                },
            )
            await session.execute(insert(UploadAttempt), attempts)
            if accepted:
                await self._accept(session, batch_id, accepted)
            if refused:
                await self._refuse(session, batch_id, refused, now)
            if released:
                wait = answer.retry_after_seconds or 0.0
                await session.execute(
                    RELEASE,
                    {
                        "kinds": [item.record.kind for item in released],
                        "ids": [item.record.record_id for item in released],
                        "code": answer.failure or "failed",
                        "message": _clean(answer.detail),
                        "retry_at": now + timedelta(seconds=min(wait, 300.0)),
                        "lease": batch_id,
                    },
                )

    @staticmethod
    def _result_of(item: Claimed, answer: BatchAnswer, size: int) -> RecordResult | None:
        """The record's own result; None when the request failed for all of them alike. A lone
        record refused as a whole request is that record's refusal; one the answer leaves out
        is counted as refused too (tried again later, then parked), never sent again at once."""
        if answer.failure:
            if size == 1 and not answer.outage and answer.failure != "rate-limited":
                return RecordResult("refused", answer.failure, answer.detail)
            return None
        found = answer.results.get(item.record.idempotency_key)
        return found or RecordResult("refused", "unanswered", "the answer left this record out")

    async def _accept(
        self,
        session: AsyncSession,
        lease: UUID,
        accepted: Sequence[tuple[Claimed, RecordResult]],
    ) -> None:
        by_key = {(item.record.kind, item.record.record_id): item for item, _ in accepted}
        rows = await session.execute(
            ACCEPT,
            {
                "kinds": [item.record.kind for item, _ in accepted],
                "ids": [item.record.record_id for item, _ in accepted],
                "versions": [item.record.version for item, _ in accepted],
                "codes": [result.code for _, result in accepted],
                "messages": [_clean(result.message) for _, result in accepted],
                "lease": lease,
                "accepted_at": business_now(),
            },
        )
        events = []
        for row in rows:
            item = by_key[(row.kind, row.record_id)]
            delay = (row.accepted_at - item.pending_since).total_seconds()
            metrics.UPLOAD_DELAY.labels(item.record.kind).observe(max(delay, 0.0))
            events.append(_accepted_event(item.record, row.accepted_at, delay))
        if events:
            metrics.LAST_SUCCESS.set(time.time())
            await add_events(session, messaging, *events)

    async def _refuse(
        self,
        session: AsyncSession,
        lease: UUID,
        refused: Sequence[tuple[Claimed, RecordResult]],
        now: datetime,
    ) -> None:
        options = self.options
        refusals = [item.refusals + 1 for item, _ in refused]
        for item, result in refused:
            metrics.FAILURES.labels("refused").inc()
            log.info(
                "the province refused %s: %s %s",
                item.record.idempotency_key,
                result.code,
                mask_mobiles_in(result.message),
            )
        await session.execute(
            REFUSE,
            {
                "kinds": [item.record.kind for item, _ in refused],
                "ids": [item.record.record_id for item, _ in refused],
                "versions": [item.record.version for item, _ in refused],
                "codes": [result.code for _, result in refused],
                "messages": [_clean(result.message) for _, result in refused],
                "refusals": refusals,
                "retry_at": [
                    now
                    + timedelta(
                        seconds=retry_delay(
                            n, options.retry_initial_seconds, options.retry_max_seconds, self.rng
                        )
                    )
                    for n in refusals
                ],
                "park": [n >= options.park_after_refusals for n in refusals],
                "lease": lease,
            },
        )


def _clean(text: str, limit: int = 500) -> str:
    """The province's words as PostgreSQL can keep them: no NUL, at most `limit` characters."""
    return text.replace("\x00", "")[:limit]


def _accepted_event(record: OutgoingRecord, accepted_at: datetime, delay: float) -> UploadAccepted:
    return UploadAccepted(
        source="/hotline/provincial-sync",
        subject=record.record_id,
        ticketid=record.record_id if record.kind == "ticket" else None,
        version=record.version,
        data=UploadAcceptedData(
            kind=record.kind,
            record_id=record.record_id,
            record_version=record.version,
            changed_at=record.changed_at,
            accepted_at=accepted_at,
            delay_seconds=round(delay, 3),
        ),
    )
