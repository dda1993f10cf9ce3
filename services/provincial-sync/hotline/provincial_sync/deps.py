"""What provincial-sync's routes, consumer and timers share: its settings, the province's
adapter, the circuit breaker; and who may read and who may decide."""

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from hotline.provincial_sync.adapters import ProvinceAdapter
from hotline.provincial_sync.adapters.generic_v1 import GenericV1
from hotline.provincial_sync.breaker import CircuitBreaker
from hotline.provincial_sync.config import SyncOptions, SyncSettings
from hotline.shared.domain.classifier import default_classifier
from hotline.shared.web.tokens import token_holder


@dataclass(frozen=True)
class SyncContext:
    options: SyncOptions
    adapter: ProvinceAdapter
    breaker: CircuitBreaker


def build_context(settings: SyncSettings) -> SyncContext:
    options = settings.sync
    # Both set by the settings (the development pair, or the variables).
    assert options.app_key is not None
    assert options.app_secret is not None
    default_classifier()  # the gate's classifier loads now, not on the first event
    return SyncContext(
        options,
        GenericV1(
            city_code=options.city_code,
            app_key=options.app_key,
            app_secret=options.app_secret.get_secret_value(),
        ),
        CircuitBreaker(
            failures=options.breaker_failures,
            open_seconds=options.breaker_open_seconds,
            max_open_seconds=options.breaker_max_open_seconds,
        ),
    )


def context_of(request: Request) -> SyncContext:
    context: SyncContext = request.app.state.context
    return context


async def get_context(request: Request) -> SyncContext:
    # async: FastAPI runs a plain `def` dependency in a worker thread, on every request.
    return context_of(request)


Context = Annotated[SyncContext, Depends(get_context)]

current_reader = token_holder(
    lambda request: context_of(request).options.reader_tokens,
    "A reader token is required (HOTLINE_SYNC_READER_TOKENS).",
)
current_supervisor = token_holder(
    lambda request: context_of(request).options.supervisor_tokens,
    "A supervisor token is required (HOTLINE_SYNC_SUPERVISOR_TOKENS).",
)
Reader = Annotated[str, Depends(current_reader)]
Supervisor = Annotated[str, Depends(current_supervisor)]
