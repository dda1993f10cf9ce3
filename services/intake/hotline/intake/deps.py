"""What intake's routes receive: the verified sender of a webhook, and intake's options."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request
from pydantic import SecretStr

from hotline.intake.config import IntakeOptions, IntakeSettings
from hotline.intake.knowledge_index import KnowledgeIndex
from hotline.intake.schemas import CallRecordIn, NoticeIn, TicketIn
from hotline.shared.domain.text import text_matcher
from hotline.shared.web.tokens import token_holder
from hotline.shared.web.webhooks import SignedBody, WebhookVerifier, signed_body


@dataclass(frozen=True)
class IntakeContext:
    options: IntakeOptions
    verifier: WebhookVerifier
    reader_tokens: Mapping[str, SecretStr]
    supervisor_tokens: Mapping[str, SecretStr]
    # The process's search index of the knowledge base, rebuilt when entries change.
    knowledge: KnowledgeIndex = field(default_factory=KnowledgeIndex)


def build_context(settings: IntakeSettings) -> IntakeContext:
    options = settings.intake
    assert options.webhook_senders is not None  # the settings fill or refuse them
    assert options.reader_tokens is not None
    assert options.supervisor_tokens is not None
    text_matcher().warm_up()
    return IntakeContext(
        options,
        WebhookVerifier(options.webhook_senders),
        options.reader_tokens,
        options.supervisor_tokens,
    )


def context_of(request: Request) -> IntakeContext:
    context: IntakeContext = request.app.state.context
    return context


async def get_context(request: Request) -> IntakeContext:
    # async: FastAPI runs a plain `def` dependency in a worker thread, on every request.
    return context_of(request)


Context = Annotated[IntakeContext, Depends(get_context)]


def _verifier(request: Request) -> WebhookVerifier:
    return context_of(request).verifier


# Whoever may read tickets back (HOTLINE_INTAKE_READER_TOKENS), and the hotline's supervisors
# (HOTLINE_INTAKE_SUPERVISOR_TOKENS).
current_reader = token_holder(
    lambda request: context_of(request).reader_tokens, "A reader token is required."
)
current_supervisor = token_holder(
    lambda request: context_of(request).supervisor_tokens, "A supervisor token is required."
)


Reader = Annotated[str, Depends(current_reader)]
Supervisor = Annotated[str, Depends(current_supervisor)]
# Each webhook: the signature checked first, then the body validated.
CallWebhook = Annotated[
    SignedBody[CallRecordIn], Depends(signed_body(CallRecordIn, "calls", _verifier))
]
TicketWebhook = Annotated[
    SignedBody[TicketIn], Depends(signed_body(TicketIn, "tickets", _verifier))
]
NoticeWebhook = Annotated[
    SignedBody[NoticeIn], Depends(signed_body(NoticeIn, "notices", _verifier))
]
