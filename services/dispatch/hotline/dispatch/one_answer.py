"""One answer per question, in the unit workflow: a reply that contradicts the unit's earlier
answers to the same question is held for a supervisor with them beside it; a return comes with
the unit's own earlier answers on such questions; the supervisors' queue shows both, with how
often the unit gave a second answer and had a return overturned."""

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.dispatch import queries
from hotline.dispatch.answers import contradict
from hotline.dispatch.config import DispatchOptions
from hotline.dispatch.evidence import Evidence, Question, answer_text, find_evidence
from hotline.dispatch.models import DispatchTicket, Reply, UnitRequest
from hotline.dispatch.schemas import EarlierAnswer, PendingReply, PendingRequest
from hotline.shared.messaging.events import ContradictedAnswer


async def contradicted_answers(
    session: AsyncSession,
    ticket: DispatchTicket,
    unit_id: str,
    actions: str,
    result: str,
    options: DispatchOptions,
    now: datetime,
) -> list[dict[str, Any]]:
    """The unit's earlier answers to this question (same category and request type) that the
    new one contradicts, each with the differences; empty if it contradicts none."""
    if ticket.request_type not in options.two_answers_request_types:
        return []
    question = Question(
        ticket_no=ticket.ticket_no,
        unit_id=unit_id,
        content=ticket.content,
        address=ticket.address,
        category=ticket.category,
        request_types=frozenset({ticket.request_type}),
    )
    new = answer_text(actions, result)
    held = []
    for evidence in await find_evidence(
        session, question, now=now, lookback_days=options.answers_lookback_days
    ):
        differences = contradict(evidence.answered.answer, new)
        if differences:
            held.append(_earlier(evidence, [vars(d) for d in differences]))
    return held


async def return_evidence(
    session: AsyncSession,
    ticket: DispatchTicket,
    unit_id: str,
    options: DispatchOptions,
    now: datetime,
) -> list[dict[str, Any]]:
    """The unit's own earlier answers to questions that are this one, in any category: a unit
    that answered it before can hardly say it is not its remit."""
    question = Question(
        ticket_no=ticket.ticket_no,
        unit_id=unit_id,
        content=ticket.content,
        address=ticket.address,
        category=None,
        request_types=None,
    )
    found = await find_evidence(
        session, question, now=now, lookback_days=options.answers_lookback_days
    )
    return [_earlier(evidence, []) for evidence in found]


def contradicted_refs(earlier: Sequence[dict[str, Any]]) -> list[ContradictedAnswer]:
    """The held reply's earlier answers as the event announces them."""
    return [
        ContradictedAnswer(
            ticket_no=answer["ticket_no"],
            entry_id=answer.get("entry_id"),
            facets=list(dict.fromkeys(d["facet"] for d in answer["differences"])),
        )
        for answer in earlier
    ]


async def supersede(session: AsyncSession, answer: Reply) -> None:
    """The supervisor prefers the new answer: the earlier ones it contradicts stop counting as
    the unit's answer (they leave the look-back) and point to it."""
    reply_ids = [a["reply_id"] for a in answer.earlier_answers or [] if a.get("reply_id")]
    if reply_ids:
        await session.execute(
            update(Reply)
            .where(Reply.reply_id.in_(reply_ids), Reply.status == "accepted")
            .values(status="superseded", superseded_by=answer.reply_id)
        )


async def pending_requests(
    session: AsyncSession, rows: Iterable[UnitRequest]
) -> list[PendingRequest]:
    """Returns and extensions waiting, a return with its evidence and its unit's overturned
    returns."""
    rows = list(rows)
    overturned = await _counts(session, queries.overturned_returns, rows)
    return [
        PendingRequest.model_validate(row).model_copy(
            update={
                "contradicted_by_evidence": row.kind == "return" and bool(row.evidence),
                "overturned_returns": overturned.get(row.unit_id, 0),
            }
        )
        for row in rows
    ]


async def pending_replies(session: AsyncSession, rows: Iterable[Reply]) -> list[PendingReply]:
    """Replies waiting, with the earlier answers a held one contradicts and its unit's count."""
    rows = list(rows)
    held = await _counts(session, queries.two_answers_counts, rows)
    return [
        PendingReply.model_validate(row).model_copy(
            update={"two_answers": held.get(row.unit_id, 0)}
        )
        for row in rows
    ]


async def _counts(
    session: AsyncSession, query: Any, rows: Sequence[Reply | UnitRequest]
) -> dict[str, int]:
    unit_ids = sorted({row.unit_id for row in rows})
    if not unit_ids:
        return {}
    return {unit: count for unit, count in (await session.execute(query(unit_ids))).all()}


def _earlier(evidence: Evidence, differences: list[dict[str, Any]]) -> dict[str, Any]:
    answered = evidence.answered
    return EarlierAnswer(
        source=answered.source,
        ticket_no=answered.ref if answered.source == "reply" else None,
        entry_id=answered.ref if answered.source == "knowledge" else None,
        reply_id=answered.reply_id,
        question=answered.question,
        answer=answered.answer,
        answered_at=answered.answered_at,
        score=evidence.score,
        shared=list(evidence.shared),
        differences=differences,
    ).model_dump(mode="json")
