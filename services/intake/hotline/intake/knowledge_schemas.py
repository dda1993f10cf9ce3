"""The bodies of the knowledge base's API: entries as supervisors write them, as the agents'
desk finds them, and the tickets that were given an entry's answer."""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from hotline.intake.schemas import Category, Identifier, Strict
from hotline.shared.messaging.events import HandlingMode, RequestType, TicketStatus
from hotline.shared.web.schemas import IDENTIFIER_PATTERN, BusinessDatetime, LocalDatetime

KnowledgeStatus = Literal["draft", "published", "retired"]
EntryId = Annotated[str, StringConstraints(pattern=IDENTIFIER_PATTERN, max_length=64)]
UnitCode = Annotated[str, StringConstraints(pattern=IDENTIFIER_PATTERN, max_length=64)]
Question = Annotated[str, StringConstraints(strip_whitespace=True, min_length=4, max_length=1000)]
AnswerText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=4, max_length=4000)]
Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]
SEARCH_LIMIT_MAX = 50


class KnowledgeEntryIn(Strict):
    """An entry as a supervisor writes it (a new one, or the next version of one)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "question": "更换发动机后办理机动车变更登记需要哪些材料？",
                    "answer": "需携带机动车登记证书、行驶证、机动车所有人身份证明、发动机来历凭证"
                    "和车辆识别代号拓印膜，到市车管所办事大厅办理，当场办结。",
                    "unit_id": "U008",
                    "category": "交通运输类",
                    "valid_from": "2026-12-01T00:00:00+08:00",
                    "source_ticket": "SY202612010000123",
                    "note": "按市公安局交警支队2026年12月的答复更新",
                }
            ]
        }
    )

    question: Question = Field(description="The question as the entry puts it")
    answer: AnswerText = Field(description="The one answer the hotline gives to it")
    unit_id: Identifier = Field(description="The handling unit that owns the answer (U001 …)")
    category: Category
    valid_from: BusinessDatetime | None = Field(default=None, description="Unset: from publication")
    valid_until: BusinessDatetime | None = Field(default=None, description="Unset: until retired")
    source_ticket: Identifier | None = Field(
        default=None, description="The ticket whose accepted reply this answer comes from"
    )
    note: Note | None = Field(default=None, description="Why this version (shown in its history)")


class KnowledgeVersionPublic(BaseModel):
    version: int
    question: str
    answer: str
    unit_id: str
    category: str
    valid_from: LocalDatetime | None
    valid_until: LocalDatetime | None
    edited_by: str
    note: str | None
    created_at: LocalDatetime


class KnowledgeEntryPublic(BaseModel):
    """An entry: its state and its current version's content."""

    entry_id: str
    status: KnowledgeStatus
    current_version: int
    question: str
    answer: str
    unit_id: str
    category: str
    valid_from: LocalDatetime | None
    valid_until: LocalDatetime | None
    source_ticket: str | None
    published_at: LocalDatetime | None
    retired_at: LocalDatetime | None


class KnowledgeEntries(BaseModel):
    entries: list[KnowledgeEntryPublic]


class KnowledgeEntryDetail(KnowledgeEntryPublic):
    versions: list[KnowledgeVersionPublic] = Field(description="Every version, the oldest first")


class KnowledgeHit(BaseModel):
    """A published entry valid at the time asked, with how well it matched (BM25)."""

    entry_id: str
    version: int
    question: str
    answer: str
    unit_id: str
    category: str
    valid_until: LocalDatetime | None
    score: float


class KnowledgeSearchResult(BaseModel):
    query: str
    terms: list[str] = Field(description="The words searched for, once the question is cut")
    at: LocalDatetime
    hits: list[KnowledgeHit]


class KnowledgeTicket(BaseModel):
    """A ticket the agent answered with an entry's answer, and which version it was."""

    ticket_no: str
    knowledge_version: int
    request_type: RequestType
    handling_mode: HandlingMode
    status: TicketStatus
    accepted_at: LocalDatetime


class KnowledgeTickets(BaseModel):
    entry_id: str
    tickets: list[KnowledgeTicket]
