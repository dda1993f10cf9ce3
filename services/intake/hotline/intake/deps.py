"""What intake's routes receive: the verified sender of a webhook, and intake's options."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from hotline.intake.config import IntakeOptions, IntakeSettings
from hotline.shared.webhooks import VerifiedWebhook, WebhookVerifier


@dataclass(frozen=True)
class IntakeContext:
    options: IntakeOptions
    verifier: WebhookVerifier


def build_context(settings: IntakeSettings) -> IntakeContext:
    return IntakeContext(settings.intake, WebhookVerifier(settings.intake.webhook_senders))


def get_context(request: Request) -> IntakeContext:
    context: IntakeContext = request.app.state.context
    return context


Context = Annotated[IntakeContext, Depends(get_context)]


def verified_sender(scope: str) -> Callable[[Request, IntakeContext], Awaitable[VerifiedWebhook]]:
    """A dependency that authenticates the webhook before its body is even validated."""

    async def verify(request: Request, context: Context) -> VerifiedWebhook:
        return context.verifier.verify(await request.body(), request.headers, scope)

    return verify


CallsWebhook = Annotated[VerifiedWebhook, Depends(verified_sender("calls"))]
TicketsWebhook = Annotated[VerifiedWebhook, Depends(verified_sender("tickets"))]
NoticesWebhook = Annotated[VerifiedWebhook, Depends(verified_sender("notices"))]
