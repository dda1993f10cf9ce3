"""Plays a plan against the suite's public HTTP APIs: an event queue ordered by business time,
the shared clock moved in steps (or, with the real clock, no waiting at all), one keep-alive
HTTP client with bounded concurrency, and retries like a real sender's (5xx, lost connections:
the same webhook id again, so a retry never doubles)."""

import asyncio
import heapq
import itertools
import json
import os
import re
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from standardwebhooks.webhooks import Webhook

from hotline.shared import secrets
from hotline.shared.domain.working_days import LOCAL_TIME
from hotline.shared.simulator import texts
from hotline.shared.simulator.plan import CallPlan, NoticePlan, Plan, TicketPlan
from hotline.shared.stack.services import PROVINCE_PORT, SERVICES_BY_NAME

# Business times in bodies are this far behind the clock, so a process that has not yet seen
# the latest move does not take them for the future.
STAMP_MARGIN = timedelta(seconds=30)
# Simulated time before a step that found the other side not ready yet is tried again.
RETRY_LATER = timedelta(minutes=10)
UNREACHABLE_RETRY = timedelta(minutes=125)  # callback tries again 120 minutes later
MAX_TRIES = 60
GIVE_UP_AFTER = 300.0
REAL_PAUSE = 1.0  # seconds of wall time before a step the other side was not ready for
# A jump of the clock longer than this waits for every answer first (see `run`).
QUIET_STRETCH = timedelta(hours=2)
# The longest stride of the clock between two batches of steps: a unit's step is taken at
# most this much later than planned (an on-time reply is planned 3 hours before its deadline).
MAX_STEP = timedelta(hours=1)
DUE_AT = re.compile(r"due at (\S+?)\.?$")


@dataclass(frozen=True)
class Endpoints:
    intake: str
    dispatch: str
    callback: str
    scoring: str
    sync: str
    province: str

    @classmethod
    def local(cls, host: str = "127.0.0.1", offset: int | None = None) -> "Endpoints":
        """The suite's default URLs, shifted by HOTLINE_PORT_OFFSET as `hotline up` shifts them."""
        if offset is None:
            offset = int(os.environ.get("HOTLINE_PORT_OFFSET", "0"))

        def url(port: int) -> str:
            return f"http://{host}:{port + offset}"

        ports = {name: entry.port for name, entry in SERVICES_BY_NAME.items()}
        return cls(
            intake=url(ports["intake"]),
            dispatch=url(ports["dispatch"]),
            callback=url(ports["callback"]),
            scoring=url(ports["scoring"]),
            sync=url(ports["provincial-sync"]),
            province=url(PROVINCE_PORT),
        )

    @property
    def services(self) -> dict[str, str]:
        return {
            "intake": self.intake,
            "dispatch": self.dispatch,
            "callback": self.callback,
            "scoring": self.scoring,
            "provincial-sync": self.sync,
        }


@dataclass(frozen=True)
class Credentials:
    """The development secrets and tokens by default; HOTLINE_SIMULATE_* for others."""

    call_centre_secret: str = secrets.DEVELOPMENT_CALL_CENTRE_SECRET
    callback_secret: str = secrets.DEVELOPMENT_CALLBACK_SECRET
    dispatch_supervisor: str = secrets.DEVELOPMENT_DISPATCH_SUPERVISOR_TOKEN
    scoring_reader: str = secrets.DEVELOPMENT_SCORING_READER_TOKEN
    operator: str = secrets.DEVELOPMENT_OPERATOR_TOKEN
    province_admin: str = secrets.DEVELOPMENT_PROVINCE_ADMIN_TOKEN

    @classmethod
    def from_environment(cls) -> "Credentials":
        names = {
            "call_centre_secret": "HOTLINE_SIMULATE_CALL_CENTRE_SECRET",
            "callback_secret": "HOTLINE_SIMULATE_CALLBACK_SECRET",
            "dispatch_supervisor": "HOTLINE_SIMULATE_DISPATCH_SUPERVISOR_TOKEN",
            "scoring_reader": "HOTLINE_SIMULATE_SCORING_READER_TOKEN",
            "operator": "HOTLINE_OPERATOR_TOKEN",
            "province_admin": "HOTLINE_SIMULATE_PROVINCE_ADMIN_TOKEN",
        }
        given = {key: os.environ[name] for key, name in names.items() if os.environ.get(name)}
        return cls(**given)


class SimulationError(Exception):
    """The suite cannot be simulated against as it is: the message says why."""


@dataclass
class TicketRun:
    """What the driver learned of one planned ticket as it went."""

    plan: TicketPlan
    ticket_no: str | None = None
    holder: str | None = None
    deadline: datetime | None = None
    returned: bool = False
    extended: bool = False
    perfunctory_done: bool = False
    reopened: bool = False
    unreachable_done: bool = False
    tries: Counter[str] = field(default_factory=Counter)
    first_tried: dict[str, float] = field(default_factory=dict)


@dataclass
class Stats:
    requests: int = 0
    retries: int = 0
    by_kind: Counter[str] = field(default_factory=Counter)
    answers: Counter[str] = field(default_factory=Counter)  # "survey 409"
    deviations: list[str] = field(default_factory=list)
    clock_moves: int = 0

    def deviate(self, message: str) -> None:
        if len(self.deviations) < 200:
            self.deviations.append(message)


Step = Callable[[], Awaitable[None]]


class Timeline:
    """Business time as the driver sees it: the suite's shared clock, moved in steps."""

    margin = STAMP_MARGIN

    def __init__(self, driver: "Driver", step: timedelta) -> None:
        self.driver, self.step = driver, step
        self.now: datetime = datetime.now(UTC)

    def stamp(self, planned: datetime) -> datetime:
        return planned

    def soon(self, moment: datetime) -> datetime:
        """When a step planned for `moment` is taken."""
        return moment

    def later(self, delay: timedelta) -> datetime:
        return self.now + delay

    async def start(self, first: datetime) -> None:
        answer = await self.driver.clock_request("PUT", {"now": first.isoformat(), "force": True})
        self.now = answer

    async def reach(self, moment: datetime) -> None:
        """Move the clock to `moment` and a margin past it, a step at a time at most."""
        target = max(moment + STAMP_MARGIN, self.now)
        seconds = (target - self.now).total_seconds()
        if seconds > 0:
            self.now = await self.driver.clock_request("ADVANCE", {"seconds": seconds})


class RealTimeline(Timeline):
    """The real clock (a today-period only): the plan's day squeezed into the hours already
    gone, every step taken at once, and retries waited out in real time."""

    def __init__(self, driver: "Driver", first: datetime) -> None:
        super().__init__(driver, timedelta(seconds=1))
        self.margin = timedelta(0)
        self.first, self.squeeze = first, 1.0
        self.real_start = datetime.now(UTC)

    def stamp(self, planned: datetime) -> datetime:
        return self.first + (planned - self.first) * self.squeeze

    def later(self, delay: timedelta) -> datetime:
        return self.soon(self.now + delay)

    def soon(self, moment: datetime) -> datetime:
        return min(moment, self.now + timedelta(seconds=1))

    async def start(self, first: datetime) -> None:
        gone = datetime.now(UTC) - self.first - timedelta(minutes=1)
        if gone < timedelta(minutes=5):
            raise SimulationError("the real clock leaves less than 5 minutes of today to play")
        self.squeeze = gone / timedelta(days=1)
        self.now = datetime.now(UTC)

    async def reach(self, moment: datetime) -> None:
        wait = (self.stamp(moment) - datetime.now(UTC)).total_seconds()
        if moment > self.now and wait > 0:
            await asyncio.sleep(min(wait, 1.0))
        self.now = max(self.now, datetime.now(UTC))


class Driver:
    def __init__(
        self,
        plan: Plan,
        endpoints: Endpoints,
        credentials: Credentials,
        *,
        concurrency: int = 16,
        rate: float | None = None,
        step: timedelta = timedelta(minutes=10),
        real_clock: bool = False,
        on_progress: Callable[["Driver"], None] | None = None,
    ) -> None:
        self.plan, self.endpoints, self.credentials = plan, endpoints, credentials
        self.stats = Stats()
        self.rate = rate
        self.concurrency = concurrency
        # Steps on the wire, and retries waiting their real pause: the clock moves on only
        # while few of them are left, so it never runs far ahead of what the suite has heard.
        self.inflight: set[asyncio.Task[None]] = set()
        self.limit = asyncio.Semaphore(concurrency)
        self.http = httpx.AsyncClient(
            timeout=httpx.Timeout(30.0),
            limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
        )
        self.call_centre = Webhook(credentials.call_centre_secret)
        self.callback_sender = Webhook(credentials.callback_secret)
        self.queue: list[tuple[datetime, int, Step]] = []
        self.order = itertools.count()
        self.runs = {ticket.key: TicketRun(ticket) for ticket in plan.tickets}
        self.unit_ids: dict[str, str] = {}
        self.unit_keys: dict[str, dict[str, str]] = {}
        self.timeline: Timeline = (
            RealTimeline(self, plan.first_moment) if real_clock else Timeline(self, step)
        )
        self.real_clock = real_clock
        # In every id the suite keeps (webhook ids, the desk's and the switch's own ids): the
        # same seed plays the same bodies under the same ids, so a run sent again doubles
        # nothing; on the real clock the stamps differ from run to run, and so do the ids.
        self.tag = f"{plan.seed}" if not real_clock else f"{plan.seed}r{int(time.time())}"
        self.on_progress = on_progress
        self.planned_steps = len(plan.calls) + len(plan.tickets) + len(plan.notices)
        self.done_steps = 0
        self._sent_at: list[float] = []

    # --- the queue -------------------------------------------------------------------------

    def at(self, moment: datetime, step: Step) -> None:
        heapq.heappush(self.queue, (self.timeline.soon(moment), next(self.order), step))

    def later(self, delay: timedelta, step: Step) -> None:
        self.at(self.timeline.later(delay), step)

    async def run(self) -> Stats:
        """Play the whole plan; returns once every planned step is done (or given up)."""
        try:
            await self._prepare()
            for notice in self.plan.notices:
                self.at(notice.posted_at, self._notice_step(notice))
            for call in self.plan.calls:
                self.at(call.started_at + _call_length(call), self._call_step(call))
            for ticket in self.plan.tickets:
                self.at(ticket.accepted_at, self._ticket_step(self.runs[ticket.key]))
            await self.timeline.start(self.plan.first_moment - timedelta(hours=1))
            inflight = self.inflight
            step = self.timeline.step
            while self.queue or inflight:
                margin = self.timeline.margin
                due = self.queue and self.queue[0][0] <= self.timeline.now - margin
                if not due:
                    # The clock moves on only once what was started is on the wire (none left
                    # waiting for a connection), and across a quiet stretch only once all of it
                    # is answered: its follow-ups may come before the next planned step.
                    far = not self.queue or self.queue[0][0] > self.timeline.now + QUIET_STRETCH
                    while inflight and (far or len(inflight) > self.concurrency):
                        await self._finish(inflight)
                    if not self.queue:
                        continue
                    head = self.queue[0][0]
                    if head > self.timeline.now - margin:
                        window = max(head, self.timeline.now - margin + step)
                        await self.timeline.reach(window)
                        self.stats.clock_moves += 1
                taken = 0
                while self.queue and self.queue[0][0] <= self.timeline.now - margin:
                    task = asyncio.create_task(self._guarded(heapq.heappop(self.queue)[2]))
                    inflight.add(task)
                    taken += 1
                # Each move costs a round trip: where steps are sparse the clock takes longer
                # strides (up to MAX_STEP), where they crowd it goes back to the smallest.
                if taken and taken < self.concurrency:
                    step = min(step * 2, max(MAX_STEP, self.timeline.step))
                elif taken > 4 * self.concurrency:
                    step = max(step / 2, self.timeline.step)
                if self.on_progress:
                    self.on_progress(self)
                await asyncio.sleep(0)
            await self._spot_checks()
        finally:
            await self.http.aclose()
        return self.stats

    async def _finish(self, inflight: set[asyncio.Task[None]]) -> None:
        done, _ = await asyncio.wait(inflight, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            inflight.discard(task)
            task.result()  # a step that failed for good stops the run with its reason

    async def _guarded(self, step: Step) -> None:
        async with self.limit:
            await step()

    # --- HTTP ------------------------------------------------------------------------------

    async def send(
        self,
        kind: str,
        method: str,
        url: str,
        *,
        body: Any = None,
        headers: dict[str, str] | None = None,
        signer: Webhook | None = None,
        webhook_id: str | None = None,
    ) -> httpx.Response:
        """One request, sent again on a 5xx or a lost connection (signed anew each time, under
        the same webhook id) until it gets an answer that is not a server error."""
        content = None if body is None else json.dumps(body, ensure_ascii=False).encode()
        for attempt in itertools.count():
            await self._pace()
            sent = dict(headers or {})
            if content is not None:
                sent["content-type"] = "application/json"
            if signer is not None and content is not None and webhook_id is not None:
                moment = datetime.now(UTC)  # transport stays on wall time
                sent["webhook-id"] = webhook_id
                sent["webhook-timestamp"] = str(int(moment.timestamp()))
                sent["webhook-signature"] = signer.sign(webhook_id, moment, content.decode())
            self.stats.requests += 1
            self.stats.by_kind[kind] += 1
            try:
                response = await self.http.request(method, url, content=content, headers=sent)
            except httpx.HTTPError:
                response = None
            if response is not None and response.status_code < 500:
                self.stats.answers[f"{kind} {response.status_code}"] += 1
                return response
            if attempt >= 20:
                raise SimulationError(f"{kind}: {url} kept failing")
            self.stats.retries += 1
            retry_after = response.headers.get("retry-after") if response is not None else None
            await asyncio.sleep(min(float(retry_after or 0.5 * 2 ** min(attempt, 4)), 10.0))
        raise AssertionError("unreachable")

    async def _pace(self) -> None:
        if not self.rate:
            return
        now = time.monotonic()
        self._sent_at = [moment for moment in self._sent_at if now - moment < 1.0]
        while len(self._sent_at) >= self.rate:
            await asyncio.sleep(max(0.001, 1.0 - (now - self._sent_at[0])))
            now = time.monotonic()
            self._sent_at = [moment for moment in self._sent_at if now - moment < 1.0]
        self._sent_at.append(now)

    def _supervisor(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.credentials.dispatch_supervisor}"}

    async def clock_request(self, how: str, body: dict[str, Any]) -> datetime:
        headers = {"Authorization": f"Bearer {self.credentials.operator}"}
        if how == "PUT":
            response = await self.send(
                "clock", "PUT", f"{self.endpoints.intake}/v1/clock", body=body, headers=headers
            )
        else:
            response = await self.send(
                "clock",
                "POST",
                f"{self.endpoints.intake}/v1/clock/advance",
                body=body,
                headers=headers,
            )
        if response.status_code != 200:
            raise SimulationError(f"moving the clock: {response.status_code} {response.text}")
        return datetime.fromisoformat(response.json()["now"])

    async def _prepare(self) -> None:
        """The units' ids and one API key each (issued by the supervisors' route)."""
        response = await self.send(
            "units", "GET", f"{self.endpoints.dispatch}/v1/units", headers=self._supervisor()
        )
        if response.status_code != 200:
            raise SimulationError(f"dispatch's units: {response.status_code} {response.text}")
        self.unit_ids = {unit["name"]: unit["unit_id"] for unit in response.json()}
        wanted = {run.plan.unit for run in self.runs.values() if run.plan.forwarded}
        wanted |= {run.plan.first_unit for run in self.runs.values() if run.plan.first_unit}
        missing = sorted(name for name in wanted if name not in self.unit_ids)
        if missing:
            raise SimulationError(f"dispatch does not know these units: {', '.join(missing)}")

        async def issue(name: str) -> None:
            unit_id = self.unit_ids[name]
            issued = await self.send(
                "credentials",
                "POST",
                f"{self.endpoints.dispatch}/v1/units/{unit_id}/credentials",
                headers=self._supervisor(),
            )
            if issued.status_code != 201:
                raise SimulationError(f"a key for {name}: {issued.status_code} {issued.text}")
            self.unit_keys[name] = {"Authorization": f"Bearer {issued.json()['api_key']}"}

        await asyncio.gather(*(issue(name) for name in sorted(wanted)))

    # --- the call centre -------------------------------------------------------------------

    def _notice_step(self, notice: NoticePlan) -> Step:
        async def step() -> None:
            body = {
                "source_notice_id": f"{notice.source_notice_id}-{self.tag}",
                "issuer": "邵阳市燃气总公司",
                "category": "生活服务类",
                "area_codes": [notice.area_code],
                "keywords": ["停气", "燃气"],
                "starts_at": self.timeline.stamp(notice.starts_at).isoformat(),
                "ends_at": self.timeline.stamp(notice.ends_at).isoformat(),
                "text": texts.GAS_NOTICE_TEXT,
            }
            response = await self.send(
                "notice",
                "POST",
                f"{self.endpoints.intake}/v1/notices",
                body=body,
                signer=self.call_centre,
                webhook_id=f"msg_sim_{self.tag}_{notice.source_notice_id}",
            )
            if response.status_code not in (201, 409):
                self.stats.deviate(f"notice refused: {response.status_code} {response.text}")
            self._done()

        return step

    def _call_step(self, call: CallPlan) -> Step:
        async def step() -> None:
            started = self.timeline.stamp(call.started_at)
            body: dict[str, Any] = {
                "call_id": f"{call.call_id}-{self.tag}",
                "line": call.line,
                "direction": call.direction,
                "caller_number": call.citizen_number if call.direction == "in" else "12345",
                "callee_number": call.line if call.direction == "in" else call.citizen_number,
                "started_at": started.isoformat(),
                "queued_at": (started + timedelta(seconds=5)).isoformat(),
                "ended_at": (started + _call_length(call)).isoformat(),
                "outcome": "answered" if call.answered else "abandoned",
                "talk_seconds": call.talk_seconds,
            }
            if call.answered:
                connected = started + timedelta(seconds=20)
                body |= {
                    "agent_id": call.agent_id,
                    "ringing_at": (started + timedelta(seconds=15)).isoformat(),
                    "connected_at": connected.isoformat(),
                    "recording_url": f"https://recordings.example/sim/{body['call_id']}.wav",
                }
            response = await self.send(
                "call",
                "POST",
                f"{self.endpoints.intake}/v1/calls",
                body=body,
                signer=self.call_centre,
                webhook_id=f"msg_sim_{body['call_id']}",
            )
            if response.status_code not in (200, 201):
                self.stats.deviate(f"call {call.call_id}: {response.status_code} {response.text}")
            self._done()

        return step

    def _ticket_step(self, run: TicketRun) -> Step:
        async def step() -> None:
            ticket = run.plan
            body: dict[str, Any] = {
                "source_ticket_id": f"sim-{self.tag}-{self.plan.start:%Y%m%d}-{ticket.key}",
                "call_id": f"{ticket.call.call_id}-{self.tag}" if ticket.call else None,
                "channel": ticket.channel,
                "caller": {"salutation": ticket.salutation, "number": ticket.caller_number},
                "request_type": ticket.request_type,
                "category": ticket.category,
                "location_code": ticket.location_code,
                "content": ticket.content,
                "handling_mode": "answered" if ticket.handling == "answered" else "forward",
                "agent_id": ticket.call.agent_id if ticket.call else None,
                "accepted_at": self.timeline.stamp(ticket.accepted_at).isoformat(),
                "new_facts": False,
            }
            if ticket.handling == "answered":
                body["resolution"] = ticket.resolution
            if ticket.handling in ("forward", "notice"):
                body["suggested_unit"] = ticket.first_unit or ticket.unit
                if ticket.handling == "notice":
                    body["suggested_unit"] = "市燃气总公司"
            if ticket.repeat_of is not None:
                first = self.runs[ticket.repeat_of].ticket_no
                if first is None:
                    self.stats.deviate(f"ticket {ticket.key}: its first ticket was never taken")
                    body["handling_mode"], body["resolution"] = "answered", "已告知市民办理进度"
                else:
                    body["repeat_of"] = first
            response = await self.send(
                "ticket",
                "POST",
                f"{self.endpoints.intake}/v1/tickets",
                body=body,
                signer=self.call_centre,
                webhook_id=f"msg_{body['source_ticket_id']}",
            )
            self._done()
            if response.status_code not in (200, 201):
                self.stats.deviate(f"ticket {ticket.key}: {response.status_code} {response.text}")
                return
            answer = response.json()
            run.ticket_no = answer["ticket_no"]
            mode = answer["handling_mode"]
            wanted = {"answered": "answered", "notice": "answered", "repeat": "not_accepted"}
            if mode != wanted.get(ticket.handling, "forward"):
                self.stats.deviate(f"{run.ticket_no}: planned {ticket.handling}, intake {mode}")
            if answer["status"] == "closed":
                self.at(ticket.accepted_at + timedelta(minutes=65), self._survey_step(run))
            else:
                run.holder = ticket.first_unit or ticket.unit
                self.at(ticket.accepted_at + ticket.sign_after, self._sign_step(run))

        return step

    # --- the units and the hotline's reviews -----------------------------------------------

    def _unit(self, run: TicketRun, action: str) -> str:
        return f"{self.endpoints.dispatch}/v1/unit/tickets/{run.ticket_no}/{action}"

    def _not_yet(self, run: TicketRun, what: str, step: Step, response: httpx.Response) -> bool:
        """The service may not have heard of the ticket (or its latest state) yet: try again a
        little later, and give up after MAX_TRIES tries and GIVE_UP_AFTER real seconds (at full
        speed the clock may pass MAX_TRIES retries while a consumer catches up)."""
        run.tries[what] += 1
        first = run.first_tried.setdefault(what, time.monotonic())
        if run.tries[what] > MAX_TRIES and time.monotonic() - first > GIVE_UP_AFTER:
            self.stats.deviate(f"{run.ticket_no}: {what} gave up: {response.status_code}")
            return False
        self.inflight.add(asyncio.create_task(self._retry(step)))
        return True

    async def _retry(self, step: Step) -> None:
        """A step tried again once a consumer has had a real moment to catch up (at full speed
        ten simulated minutes pass in a fraction of a second) and the clock has moved on."""
        await asyncio.sleep(REAL_PAUSE)
        self.later(RETRY_LATER, step)

    def _sign_step(self, run: TicketRun) -> Step:
        async def step() -> None:
            assert run.holder is not None
            response = await self.send(
                "sign", "POST", self._unit(run, "sign"), headers=self.unit_keys[run.holder]
            )
            if response.status_code in (404, 409):
                self._not_yet(run, "sign", step, response)
                return
            if response.status_code != 200:
                self.stats.deviate(f"{run.ticket_no}: sign {response.status_code}")
                return
            self._deadline(run, response)
            ticket = run.plan
            if ticket.returns and not run.returned:
                self.later(timedelta(minutes=40), self._return_step(run))
            elif ticket.extension and not run.extended:
                self.later(timedelta(hours=2), self._extension_step(run))
            else:
                self._schedule_reply(run)

        return step

    def _deadline(self, run: TicketRun, response: httpx.Response) -> None:
        deadline = response.json().get("deadline")
        run.deadline = datetime.fromisoformat(deadline) if deadline else None

    def _schedule_reply(self, run: TicketRun) -> None:
        now, ticket = self.timeline.now, run.plan
        when = now + ticket.reply_after
        if run.deadline is not None:
            if ticket.late and not run.reopened:
                when = run.deadline + timedelta(hours=2) + ticket.reply_after / 3
            else:
                when = max(
                    min(when, run.deadline - timedelta(hours=3)), now + timedelta(minutes=10)
                )
        if run.reopened:
            when = now + timedelta(hours=4)
        self.at(when, self._reply_step(run))

    def _return_step(self, run: TicketRun) -> Step:
        async def step() -> None:
            assert run.holder is not None
            response = await self.send(
                "return",
                "POST",
                self._unit(run, "return"),
                body={"reason": texts.RETURN_REASON},
                headers=self.unit_keys[run.holder],
            )
            if response.status_code != 200:
                self.stats.deviate(f"{run.ticket_no}: return {response.status_code}")
                self._schedule_reply(run)
                return
            run.returned = True
            self.later(timedelta(hours=2), self._return_review_step(run))

        return step

    def _return_review_step(self, run: TicketRun) -> Step:
        async def step() -> None:
            ticket = run.plan
            accept = ticket.returns == "accepted"
            body: dict[str, Any] = {"accept": accept}
            if accept:
                body["unit_id"] = self.unit_ids[ticket.unit]
                body["note"] = "经核实属该单位职责，改派办理"
            else:
                body["note"] = "经核实属本单位职责（见本单位此前的答复），请继续办理"
            response = await self.send(
                "return-review",
                "POST",
                f"{self.endpoints.dispatch}/v1/tickets/{run.ticket_no}/return-review",
                body=body,
                headers=self._supervisor(),
            )
            if response.status_code in (404, 409):
                self._not_yet(run, "return-review", step, response)
                return
            if response.status_code != 200:
                self.stats.deviate(f"{run.ticket_no}: return review {response.status_code}")
                return
            if accept:
                run.holder = ticket.unit
                self.later(ticket.sign_after, self._sign_step(run))
            else:
                self._deadline(run, response)
                self._schedule_reply(run)

        return step

    def _extension_step(self, run: TicketRun) -> Step:
        async def step() -> None:
            assert run.holder is not None
            if run.deadline is None:  # nothing to extend
                self._schedule_reply(run)
                return
            requested = run.deadline + timedelta(days=5)
            response = await self.send(
                "extension",
                "POST",
                self._unit(run, "extension"),
                body={
                    "reason": texts.EXTENSION_REASON,
                    "requested_deadline": requested.isoformat(),
                },
                headers=self.unit_keys[run.holder],
            )
            run.extended = True
            if response.status_code != 200:
                self.stats.deviate(f"{run.ticket_no}: extension {response.status_code}")
                self._schedule_reply(run)
                return
            self.later(timedelta(hours=3), self._extension_review_step(run))

        return step

    def _extension_review_step(self, run: TicketRun) -> Step:
        async def step() -> None:
            accept = run.plan.extension == "approved"
            response = await self.send(
                "extension-review",
                "POST",
                f"{self.endpoints.dispatch}/v1/tickets/{run.ticket_no}/extension-review",
                body={
                    "accept": accept,
                    "note": "同意延期" if accept else "时限内可以办结，请按期办理",
                },
                headers=self._supervisor(),
            )
            if response.status_code in (404, 409):
                self._not_yet(run, "extension-review", step, response)
                return
            if response.status_code == 200:
                self._deadline(run, response)
            else:
                self.stats.deviate(f"{run.ticket_no}: extension review {response.status_code}")
            self._schedule_reply(run)

        return step

    def _reply_step(self, run: TicketRun) -> Step:
        async def step() -> None:
            assert run.holder is not None
            ticket = run.plan
            sloppy = ticket.perfunctory and not run.perfunctory_done
            where = texts.place_of(ticket.key)
            if sloppy:
                actions, result = texts.PERFUNCTORY
            else:
                actions, result = texts.REPLIES[ticket.key % len(texts.REPLIES)]
                actions = actions.format(place=where)
            response = await self.send(
                "reply",
                "POST",
                self._unit(run, "reply"),
                body={"actions": actions, "result": result, "citizen_contacted": True},
                headers=self.unit_keys[run.holder],
            )
            if sloppy:
                run.perfunctory_done = True
                if response.status_code != 422:
                    self.stats.deviate(f"{run.ticket_no}: a perfunctory reply was taken")
                self.later(timedelta(hours=3), step)
                return
            if response.status_code == 409 and await self._closed(run):
                self.later(timedelta(minutes=65), self._survey_step(run))  # a retry's answer lost
                return
            if response.status_code in (404, 409):
                self._not_yet(run, "reply", step, response)
                return
            if response.status_code != 200:
                self.stats.deviate(f"{run.ticket_no}: reply {response.status_code} {response.text}")
                return
            answer = response.json()
            if answer.get("held_for_review"):
                self.later(timedelta(hours=2), self._reply_review_step(run))
            elif answer["state"] == "closed":
                self.later(timedelta(minutes=65), self._survey_step(run))
            else:
                self.stats.deviate(f"{run.ticket_no}: a reply left it {answer['state']}")

        return step

    async def _closed(self, run: TicketRun) -> bool:
        assert run.holder is not None
        response = await self.send(
            "unit-ticket",
            "GET",
            f"{self.endpoints.dispatch}/v1/unit/tickets/{run.ticket_no}",
            headers=self.unit_keys[run.holder],
        )
        return response.status_code == 200 and response.json().get("state") == "closed"

    def _reply_review_step(self, run: TicketRun) -> Step:
        async def step() -> None:
            response = await self.send(
                "reply-review",
                "POST",
                f"{self.endpoints.dispatch}/v1/tickets/{run.ticket_no}/reply-review",
                body={"accept": True, "supersede_earlier": True, "note": "以本次答复为准"},
                headers=self._supervisor(),
            )
            if response.status_code in (404, 409):
                self._not_yet(run, "reply-review", step, response)
                return
            if response.status_code != 200:
                self.stats.deviate(f"{run.ticket_no}: reply review {response.status_code}")
                return
            self.later(timedelta(minutes=65), self._survey_step(run))

        return step

    # --- the surveys -----------------------------------------------------------------------

    def _survey_step(self, run: TicketRun) -> Step:
        async def step() -> None:
            ticket = run.plan
            method = "manual" if ticket.request_type in ("complaint", "report") else "automatic"
            body: dict[str, Any]
            if ticket.unreachable_first and not run.unreachable_done:
                body = {"outcome": "unreachable", "method": method}
            elif run.reopened or ticket.verdict != "unsatisfied":
                verdict = "satisfied" if run.reopened else ticket.verdict
                body = {
                    "outcome": "answered",
                    "satisfaction": verdict,
                    "unit_contacted": True,
                    "resolved": True,
                    "method": method,
                }
            else:
                body = {
                    "outcome": "answered",
                    "satisfaction": "unsatisfied",
                    "unit_contacted": False,
                    "resolved": False,
                    "comment": "没人与我沟通联系",
                    "method": method,
                }
            run.tries["survey-try"] += 1
            attempt = run.tries["survey-try"]
            response = await self.send(
                "survey",
                "POST",
                f"{self.endpoints.callback}/v1/callbacks/{run.ticket_no}/result",
                body=body,
                signer=self.callback_sender,
                webhook_id=f"msg_sim_survey_{run.ticket_no}_{int(run.reopened)}_{attempt}",
            )
            if response.status_code == 409 and (due := _due_at(response)) is not None:
                self.at(max(due + timedelta(minutes=1), self.timeline.now), step)
                return
            if response.status_code in (404, 409):
                self._not_yet(run, "survey", step, response)
                return
            if response.status_code != 200:
                self.stats.deviate(f"{run.ticket_no}: survey {response.status_code}")
                return
            run.tries["survey-sent"] += 1
            if body["outcome"] == "unreachable":
                run.unreachable_done = True
                self.later(UNREACHABLE_RETRY, step)
            elif response.json().get("reopened"):
                run.reopened = True
                self.later(ticket.sign_after, self._sign_step(run))

        return step

    async def _spot_checks(self) -> None:
        """The province's spot checks (Attachment 3): queued on the simulated province's admin
        API, which pushes them to provincial-sync as the real platform would."""
        checks = [
            {
                "ticket_no": run.ticket_no,
                "satisfaction": "unsatisfied",
                "comment": "抽查回访：市民表示问题未解决",
                "checked_at": self.timeline.now.isoformat(),  # the province keeps wall time
            }
            for run in self.runs.values()
            if run.plan.spot_checked and run.ticket_no
        ]
        if not checks:
            return
        response = await self.send(
            "spot-checks",
            "POST",
            f"{self.endpoints.province}/admin/spot-checks",
            body={"checks": checks},
            headers={"Authorization": f"Bearer {self.credentials.province_admin}"},
        )
        if response.status_code != 200:
            self.stats.deviate(f"spot checks: {response.status_code} {response.text}")

    def _done(self) -> None:
        self.done_steps += 1


def _call_length(call: CallPlan) -> timedelta:
    return timedelta(seconds=call.talk_seconds + (25 if call.answered else 30))


def _due_at(response: httpx.Response) -> datetime | None:
    try:
        detail = response.json().get("detail", "")
    except ValueError:
        return None
    match = DUE_AT.search(detail or "")
    if match is None:
        return None
    try:
        return datetime.fromisoformat(match.group(1)).astimezone(LOCAL_TIME)
    except ValueError:
        return None
