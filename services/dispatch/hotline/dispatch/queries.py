"""The queries behind dispatch's lists, queues, counts and timers, each served by an index
(tests EXPLAIN them at 100,000 tickets)."""

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import Select, func, select

from hotline.dispatch.models import DispatchTicket, Reply, UnitRequest
from hotline.dispatch.schemas import OPEN_WORK, ListedStates

# The unit's clock runs while the ticket is with it; not while the hotline reviews its return.
CLOCK_STATES = ("dispatched", "signed")


def _unit_filter(unit_id: str, state: ListedStates, overdue: bool | None) -> list[object]:
    where: list[object] = [DispatchTicket.unit_id == unit_id]
    if state == "open":
        where.append(DispatchTicket.state.in_(OPEN_WORK))
    elif state != "all":
        where.append(DispatchTicket.state == state)
    if overdue is not None:
        where.append(DispatchTicket.overdue.is_(overdue))
    return where


def unit_tickets(
    unit_id: str, state: ListedStates, overdue: bool | None, *, offset: int, limit: int
) -> Select[DispatchTicket]:
    """A unit's tickets, nearest deadline first; by default its open work only."""
    return (
        select(DispatchTicket)
        .where(*_unit_filter(unit_id, state, overdue))  # type: ignore[arg-type]
        .order_by(DispatchTicket.deadline.asc().nulls_last(), DispatchTicket.ticket_no)
        .offset(offset)
        .limit(limit)
    )


def unit_ticket_count(unit_id: str, state: ListedStates, overdue: bool | None) -> Select[int]:
    return (
        select(func.count())
        .select_from(DispatchTicket)
        .where(*_unit_filter(unit_id, state, overdue))  # type: ignore[arg-type]
    )


def pending_requests(ticket_nos: Sequence[str]) -> Select[UnitRequest]:
    return (
        select(UnitRequest)
        .where(UnitRequest.ticket_no.in_(ticket_nos), UnitRequest.status == "pending")
        .order_by(UnitRequest.created_at)
    )


def manual_queue(limit: int) -> Select[DispatchTicket]:
    return (
        select(DispatchTicket)
        .where(DispatchTicket.state == "manual")
        .order_by(DispatchTicket.accepted_at)
        .limit(limit)
    )


def waiting_requests(limit: int) -> Select[UnitRequest]:
    return (
        select(UnitRequest)
        .where(UnitRequest.status == "pending")
        .order_by(UnitRequest.created_at)
        .limit(limit)
    )


def waiting_replies(limit: int) -> Select[Reply]:
    return select(Reply).where(Reply.status == "pending").order_by(Reply.created_at).limit(limit)


def open_counts() -> Select[str, str, int]:
    """Open tickets by unit ("-" for the manual queue) and state, for the gauge."""
    return (
        select(func.coalesce(DispatchTicket.unit_id, "-"), DispatchTicket.state, func.count())
        .where(DispatchTicket.state != "closed", DispatchTicket.state != "merged")
        .group_by(DispatchTicket.unit_id, DispatchTicket.state)
    )


def past_deadline(now: datetime, limit: int) -> Select[DispatchTicket]:
    return (
        select(DispatchTicket)
        .where(
            DispatchTicket.state.in_(CLOCK_STATES),
            DispatchTicket.state != "closed",  # lets the planner use the open-deadline index
            DispatchTicket.deadline < now,
            DispatchTicket.overdue.is_(False),
        )
        .limit(limit)
        .with_for_update(skip_locked=True)
    )


def deadline_near(now: datetime, hours: float, limit: int) -> Select[DispatchTicket]:
    return (
        select(DispatchTicket)
        .where(
            DispatchTicket.state.in_(CLOCK_STATES),
            DispatchTicket.state != "closed",
            DispatchTicket.deadline.between(now, now + timedelta(hours=hours)),
            DispatchTicket.reminded_at.is_(None),
        )
        .limit(limit)
        .with_for_update(skip_locked=True)
    )


def earlier_answers(
    unit_id: str,
    since: datetime,
    *,
    category: str | None,
    request_types: frozenset[str] | None,
    excluding: str,
    limit: int,
) -> Select[Reply, str, str | None]:
    """A unit's accepted replies since a time, newest first, with the questions they answered
    (the unit's answered-replies index, then each ticket by its key)."""
    query = (
        select(Reply, DispatchTicket.content, DispatchTicket.address)
        .join(DispatchTicket, DispatchTicket.ticket_no == Reply.ticket_no)
        .where(
            Reply.unit_id == unit_id,
            Reply.status == "accepted",
            Reply.created_at >= since,
            Reply.ticket_no != excluding,
        )
        .order_by(Reply.created_at.desc())
        .limit(limit)
    )
    if category is not None:
        query = query.where(DispatchTicket.category == category)
    if request_types is not None:
        query = query.where(DispatchTicket.request_type.in_(sorted(request_types)))
    return query


def two_answers_counts(unit_ids: Sequence[str]) -> Select[str, int]:
    """Replies held as a second, different answer, by unit."""
    return (
        select(Reply.unit_id, func.count())
        .where(Reply.unit_id.in_(unit_ids), Reply.earlier_answers.is_not(None))
        .group_by(Reply.unit_id)
    )


def overturned_returns(unit_ids: Sequence[str]) -> Select[str, int]:
    """Returns the hotline rejected (the ticket was the unit's after all), by unit."""
    return (
        select(UnitRequest.unit_id, func.count())
        .where(
            UnitRequest.unit_id.in_(unit_ids),
            UnitRequest.kind == "return",
            UnitRequest.status == "rejected",
        )
        .group_by(UnitRequest.unit_id)
    )
