"""What intake's routes receive: the verified sender of a webhook, and intake's options."""

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import SecretStr

from hotline.intake.config import IntakeOptions, IntakeSettings
from hotline.shared.web.tokens import bearer, token_owner, unauthorized
from hotline.shared.web.webhooks import VerifiedWebhook, WebhookVerifier


@dataclass(frozen=True)
class IntakeContext:
    options: IntakeOptions
    verifier: WebhookVerifier
    reader_tokens: Mapping[str, SecretStr]


def build_context(settings: IntakeSettings) -> IntakeContext:
    options = settings.intake
    assert options.webhook_senders is not None  # the settings fill or refuse them
    assert options.reader_tokens is not None
    return IntakeContext(options, WebhookVerifier(options.webhook_senders), options.reader_tokens)


def get_context(request: Request) -> IntakeContext:
    context: IntakeContext = request.app.state.context
    return context


Context = Annotated[IntakeContext, Depends(get_context)]


def verified_sender(scope: str) -> Callable[[Request, IntakeContext], Awaitable[VerifiedWebhook]]:
    """A dependency that authenticates the webhook before its body is even validated."""

    async def verify(request: Request, context: Context) -> VerifiedWebhook:
        return context.verifier.verify(await request.body(), request.headers, scope)

    return verify


async def current_reader(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)], context: Context
) -> str:
    """Whoever may read tickets back: a token from HOTLINE_INTAKE_READER_TOKENS."""
    token = credentials.credentials if credentials else None
    if name := token_owner(token, context.reader_tokens):
        return name
    raise unauthorized("A reader token is required.")


Reader = Annotated[str, Depends(current_reader)]
CallsWebhook = Annotated[VerifiedWebhook, Depends(verified_sender("calls"))]
TicketsWebhook = Annotated[VerifiedWebhook, Depends(verified_sender("tickets"))]
NoticesWebhook = Annotated[VerifiedWebhook, Depends(verified_sender("notices"))]
