"""What a unit has already answered on a question like this one: the evidence beside a new reply
(does it contradict the unit's earlier answers?) and beside a return (退单: the unit answered
such a question before, so is it really not its remit?).

Evidence comes from sources, each a look-up of earlier answers with their questions; the same
matcher decides which questions are this one: the unit's own accepted replies in dispatch's
tables, and the knowledge base's entries it owns, published and valid now (dispatch's copy of
them, `known_answers`).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from hotline.dispatch import known_answers, queries
from hotline.shared.clock import business_now
from hotline.shared.domain.text import text_matcher

# Words every consultation asks with (哪些材料, 需要什么手续, 多少, 什么时候): they say a question
# is a question, not what it is about, and made 新车上牌需要哪些材料 look like 更换发动机需要
# 哪些材料.
QUESTION_WORDS = frozenset(
    {
        "哪些",
        "需要",
        "材料",
        "资料",
        "办理",
        "咨询",
        "需不需要",
        "什么",
        "时候",
        "手续",
        "多少",
        "怎么",
        "如何",
        "是否",
        "可以",
        "询问",
        "请问",
        "想问",
        "有没有",
        "能否",
        "流程",
        "携带",
        "准备",
        "来电",
        "相关",
        "情况",
        "问题",
        "了解",
        "要求",
        "应该",
    }
)
# Two tickets ask one question from this score of their substance (cosine of the weighed
# words): measured on tests/dispatch/test_evidence.py's question pairs, the same questions in
# other words scored 0.356 and up, different questions to the same unit 0.30 and below.
SAME_QUESTION_SCORE = 0.33
MAX_CANDIDATES = 200
MAX_EVIDENCE = 5

Source = Literal["reply", "knowledge"]


@dataclass(frozen=True)
class Question:
    """The ticket a unit replies to or returns."""

    ticket_no: str
    unit_id: str
    content: str
    address: str | None
    category: str | None  # None: any category (a return may come from a misfiled ticket)
    request_types: frozenset[str] | None  # None: any request type


@dataclass(frozen=True)
class Answered:
    """An earlier answer and the question it answered, from one source."""

    source: Source
    ref: str  # the ticket's number; a knowledge entry's id
    reply_id: int | None
    question: str
    address: str | None
    answer: str
    answered_at: datetime


@dataclass(frozen=True)
class Evidence:
    answered: Answered
    score: float
    shared: tuple[str, ...]


class EvidenceSource(Protocol):
    async def answered(
        self, session: AsyncSession, question: Question, since: datetime
    ) -> Sequence[Answered]:
        """Earlier answers that may bear on the question, newest first, at most a bounded few."""
        ...


class UnitReplies:
    """The unit's own replies the hotline accepted (superseded ones no longer count)."""

    async def answered(
        self, session: AsyncSession, question: Question, since: datetime
    ) -> Sequence[Answered]:
        rows = await session.execute(
            queries.earlier_answers(
                question.unit_id,
                since,
                category=question.category,
                request_types=question.request_types,
                excluding=question.ticket_no,
                limit=MAX_CANDIDATES,
            )
        )
        return [
            Answered(
                source="reply",
                ref=reply.ticket_no,
                reply_id=reply.reply_id,
                question=content,
                address=address,
                answer=answer_text(reply.actions, reply.result),
                answered_at=reply.created_at,
            )
            for reply, content, address in rows.all()
        ]


class PublishedEntries:
    """The knowledge base's entries the unit owns, published and valid now: what the hotline
    answers in its name."""

    async def answered(
        self, session: AsyncSession, question: Question, since: datetime
    ) -> Sequence[Answered]:
        entries = await session.scalars(
            known_answers.published_answers(
                question.unit_id, business_now(), category=question.category, limit=MAX_CANDIDATES
            )
        )
        return [
            Answered(
                source="knowledge",
                ref=entry.entry_id,
                reply_id=None,
                question=entry.question,
                address=None,
                answer=entry.answer,
                answered_at=entry.changed_at,
            )
            for entry in entries
        ]


DEFAULT_SOURCES: tuple[EvidenceSource, ...] = (UnitReplies(), PublishedEntries())


def question_terms(text: str, address: str | None) -> dict[str, float]:
    """The substance of a question, without the words every question asks with."""
    terms = text_matcher().substance(text, places=[address] if address else [])
    return {word: weight for word, weight in terms.items() if word not in QUESTION_WORDS}


async def find_evidence(
    session: AsyncSession,
    question: Question,
    *,
    now: datetime,
    lookback_days: int,
    sources: Sequence[EvidenceSource] = DEFAULT_SOURCES,
) -> list[Evidence]:
    """The earlier answers to questions that are this one, likeliest first."""
    since = now - timedelta(days=lookback_days)
    asked = question_terms(question.content, question.address)
    if not asked:
        return []
    found = []
    for source in sources:
        for answered in await source.answered(session, question, since):
            match = text_matcher().similarity(
                asked, question_terms(answered.question, answered.address)
            )
            if match.score >= SAME_QUESTION_SCORE:
                found.append(Evidence(answered, match.score, match.shared))
    found.sort(key=lambda evidence: (evidence.score, evidence.answered.answered_at), reverse=True)
    return found[:MAX_EVIDENCE]


def answer_text(actions: str, result: str) -> str:
    return f"{actions} {result}"
