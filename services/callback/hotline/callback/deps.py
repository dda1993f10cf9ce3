"""What callback's routes receive: the verified sender of a result, an agent, the context."""

from typing import Annotated

from fastapi import Depends, Request

from hotline.callback.config import CallbackSettings
from hotline.callback.schemas import SurveyResultIn
from hotline.callback.service import CallbackContext, build_context
from hotline.shared.web.tokens import token_holder
from hotline.shared.web.webhooks import SignedBody, WebhookVerifier, signed_body


class CallbackState:
    def __init__(self, settings: CallbackSettings) -> None:
        self.context: CallbackContext = build_context(settings.callback)
        self.verifier = WebhookVerifier(settings.callback.webhook_senders or {})


def state_of(request: Request) -> CallbackState:
    state: CallbackState = request.app.state.context
    return state


async def get_state(request: Request) -> CallbackState:
    # async: FastAPI runs a plain `def` dependency in a worker thread, on every request.
    return state_of(request)


State = Annotated[CallbackState, Depends(get_state)]


async def get_context(state: State) -> CallbackContext:
    return state.context


Context = Annotated[CallbackContext, Depends(get_context)]


def _verifier(request: Request) -> WebhookVerifier:
    return state_of(request).verifier


# The call-centre software signed this result (checked before the body is even parsed).
ResultWebhook = Annotated[
    SignedBody[SurveyResultIn], Depends(signed_body(SurveyResultIn, "callbacks", _verifier))
]


# The agents' desk whose token this is (HOTLINE_CALLBACK_AGENT_TOKENS).
current_agent = token_holder(
    lambda request: state_of(request).context.options.agent_tokens,
    "An agents' desk token is required.",
)


Agent = Annotated[str, Depends(current_agent)]
