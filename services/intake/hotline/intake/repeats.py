"""Repeat calls in the database: the earlier tickets a call may repeat, the table applied to the
one the agent names or the one that matches beyond doubt, and merges (并单) decided by a person.
The decision table and the evidence rules are `repeat_calls`."""

from datetime import timedelta
from functools import cache
from typing import Literal

from sqlalchemy import ColumnElement, and_, bindparam, false, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.intake import metrics
from hotline.intake.config import IntakeOptions
from hotline.intake.events import SOURCE, closed_event
from hotline.intake.models import Ticket, messaging
from hotline.intake.repeat_calls import (
    Candidate,
    Original,
    RepeatDecision,
    RepeatPolicy,
    assess,
    decide,
)
from hotline.intake.schemas import MergeIn, RepeatCandidate, TicketIn, TicketPublic
from hotline.shared.clock import business_now
from hotline.shared.db import after_commit
from hotline.shared.domain.text import decode_terms, text_matcher
from hotline.shared.domain.units import HOTLINE_UNIT
from hotline.shared.messaging.events import TicketMerged, TicketMergedData
from hotline.shared.messaging.outbox import add_events
from hotline.shared.prepared import Prepared
from hotline.shared.web.problems import Problem

MAX_CANDIDATES = 50
PRECISE_CODE_DIGITS = 9


def policy(options: IntakeOptions) -> RepeatPolicy:
    return RepeatPolicy(
        auto_coverage=options.repeat_auto_coverage, suggest_score=options.repeat_suggest_score
    )


async def named_original(session: AsyncSession, ticket_no: str, *, field: str) -> Ticket:
    """The earlier ticket an agent or supervisor named, under a share lock (it cannot close
    between our reading its state and our committing a ticket that waits on it)."""
    original = await session.scalar(
        select(Ticket).where(Ticket.ticket_no == ticket_no).with_for_update(read=True)
    )
    if original is None:
        raise Problem(422, "no-such-original", f"No ticket {ticket_no}.", field=field)
    if original.handling_mode == "not_accepted" or original.status == "awaiting_closure":
        first = original.repeat_of or "the first ticket"
        raise Problem(
            422,
            "not-an-original",
            f"{ticket_no} is itself a repeat; name {first} instead.",
            field=field,
            extra={"original": original.repeat_of},
        )
    return original


def decision_on(original: Ticket, *, caller_number: str | None, new_facts: bool) -> RepeatDecision:
    return decide(
        Original(
            original.ticket_no,
            "closed" if original.status == "closed" else "in_progress",
            original.resolution,
        ),
        same_caller=caller_number is not None and original.caller_number == caller_number,
        new_facts=new_facts,
    )


async def find_repeat(
    session: AsyncSession,
    ticket: TicketIn,
    caller_number: str | None,
    substance: dict[str, float],
    options: IntakeOptions,
) -> tuple[RepeatDecision | None, list[Candidate]]:
    """The table's decision if an earlier ticket matches beyond doubt, and the candidates to
    show the agent otherwise. The same issue can only be the same caller's, or another caller's
    at the same precise place (a village-level code or the same address), in one category."""
    place = _place_kind(ticket)
    if not caller_number and place is None:
        return None, []
    since = ticket.accepted_at - timedelta(days=options.repeat_window_days)
    by_caller = bool(caller_number)
    values = {"category": ticket.category, "since": since, "until": ticket.accepted_at}
    if by_caller:
        values["caller"] = caller_number
    if place is not None:
        values["code"] = ticket.location_code
    if place == "code and address":
        values["address"] = ticket.address
    rows = await _candidates_query(by_caller, place).fetch(session, values, alone=True)
    matcher = text_matcher()
    candidates = [
        Candidate(
            row["ticket_no"],
            same_caller=row["same_caller"],
            same_place=row["same_place"],
            match=matcher.similarity(decode_terms(row["substance"]), substance),
        )
        for row in rows
    ]
    chosen, shown = assess(candidates, policy(options))
    if chosen is None:
        return None, shown
    original = await named_original(session, chosen.ticket_no, field="content")
    return decision_on(original, caller_number=caller_number, new_facts=ticket.new_facts), shown


def public_candidates(candidates: list[Candidate]) -> list[RepeatCandidate]:
    return [
        RepeatCandidate(
            ticket_no=c.ticket_no,
            score=c.match.score,
            same_caller=c.same_caller,
            same_place=c.same_place,
            why=c.why(),
        )
        for c in candidates
    ]


async def merge(
    session: AsyncSession, ticket_no: str, body: MergeIn, supervisor: str
) -> TicketPublic:
    """A person found `ticket_no` to repeat `body.repeat_of`: apply Attachment 5 now
    (`ticket.merged`, and `ticket.closed` when the table closes it)."""
    ticket = await session.scalar(
        select(Ticket).where(Ticket.ticket_no == ticket_no).with_for_update()
    )
    if ticket is None:
        raise Problem(404, "ticket-not-found", f"No ticket {ticket_no}.", field="ticket_no")
    if ticket.status != "open" or ticket.repeat_rule is not None:
        raise Problem(
            409,
            "not-mergeable",
            f"{ticket_no} is {ticket.status}"
            + (f" and already joined to {ticket.repeat_of}" if ticket.repeat_of else "")
            + "; only an open ticket not yet joined can be merged.",
            extra={"ticket_status": ticket.status, "repeat_of": ticket.repeat_of},
        )
    if body.repeat_of == ticket_no:
        raise Problem(422, "merge-into-itself", "A ticket cannot repeat itself.", field="repeat_of")
    original = await named_original(session, body.repeat_of, field="repeat_of")
    decision = decision_on(original, caller_number=ticket.caller_number, new_facts=body.new_facts)
    ticket.repeat_of, ticket.repeat_rule = original.ticket_no, decision.rule.value
    ticket.merged_by = supervisor
    if decision.handling_mode is not None:
        ticket.handling_mode = decision.handling_mode
    if decision.status is not None:
        ticket.status = decision.status
    if decision.status == "closed":
        ticket.resolution, ticket.closed_at = decision.resolution, business_now()
        ticket.handling_unit = HOTLINE_UNIT  # closed by the hotline, as at acceptance
    ticket.version += 1
    await add_events(session, messaging, _merged_event(ticket, decision, supervisor, body.note))
    if ticket.status == "closed":
        ticket.version += 1
        await add_events(session, messaging, closed_event(ticket))
    after_commit(session, metrics.REPEAT_DECISIONS.labels(decision.rule.value).inc)
    after_commit(session, metrics.MERGES.labels(decision.rule.value).inc)
    return TicketPublic.model_validate(ticket, from_attributes=True)


def _merged_event(
    ticket: Ticket, decision: RepeatDecision, supervisor: str, note: str | None
) -> TicketMerged:
    return TicketMerged(
        source=SOURCE,
        subject=ticket.ticket_no,
        ticket_id=ticket.ticket_no,
        version=ticket.version,
        data=TicketMergedData(
            ticket_no=ticket.ticket_no,
            repeat_of=decision.links_to,
            repeat_rule=decision.rule.value,
            handling_mode=ticket.handling_mode,
            status=ticket.status,
            resolution=ticket.resolution,
            merged_by=supervisor,
            note=note,
            merged_at=business_now(),
        ),
    )


PlaceKind = Literal["code", "code and address"]


def _place_kind(ticket: TicketIn) -> PlaceKind | None:
    """A district code alone covers too many people; a village code or an address does not."""
    if ticket.location_code is not None and len(ticket.location_code) >= PRECISE_CODE_DIGITS:
        return "code"
    if ticket.location_code is not None and ticket.address:
        return "code and address"
    return None


@cache
def _candidates_query(by_caller: bool, place: PlaceKind | None) -> Prepared:
    """Earlier originals of one category in the window, by the same caller or at the same
    precise place (built once per shape; the values are parameters)."""
    same_caller = Ticket.caller_number == bindparam("caller") if by_caller else None
    same_place: ColumnElement[bool] | None = None
    if place == "code":
        same_place = Ticket.location_code == bindparam("code")
    elif place == "code and address":
        same_place = and_(
            Ticket.location_code == bindparam("code"), Ticket.address == bindparam("address")
        )
    matches = [condition for condition in (same_caller, same_place) if condition is not None]
    return Prepared(
        select(
            Ticket.ticket_no,
            Ticket.substance,
            (same_caller if same_caller is not None else false()).label("same_caller"),
            (same_place if same_place is not None else false()).label("same_place"),
        )
        .where(
            or_(*matches),
            Ticket.category == bindparam("category"),
            Ticket.accepted_at.between(bindparam("since"), bindparam("until")),
            # Originals only: not the refused repeats, nor those waiting on another ticket.
            Ticket.handling_mode != "not_accepted",
            Ticket.status != "awaiting_closure",
            Ticket.request_type != "consultation",
        )
        .order_by(Ticket.accepted_at.desc())
        .limit(MAX_CANDIDATES)
    )
