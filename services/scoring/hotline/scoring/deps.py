"""What scoring's routes receive: its context, the reader, and a validated period."""

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated

from fastapi import Depends, Query, Request

from hotline.scoring.config import ScoringOptions, ScoringSettings
from hotline.scoring.readmodel import RuleSettings
from hotline.shared.domain.classifier import default_classifier
from hotline.shared.web.problems import Problem
from hotline.shared.web.tokens import token_holder


@dataclass(frozen=True)
class ScoringContext:
    options: ScoringOptions
    rules: RuleSettings


def build_context(settings: ScoringSettings) -> ScoringContext:
    options = settings.scoring
    default_classifier()  # its dictionary loads now, not on the first event
    return ScoringContext(
        options,
        RuleSettings(
            city_code=options.city_code,
            call_grace=timedelta(minutes=options.call_grace_minutes),
        ),
    )


def context_of(request: Request) -> ScoringContext:
    context: ScoringContext = request.app.state.context
    return context


async def get_context(request: Request) -> ScoringContext:
    # async: FastAPI runs a plain `def` dependency in a worker thread, on every request.
    return context_of(request)


Context = Annotated[ScoringContext, Depends(get_context)]


# A supervisor or clerk: a token from HOTLINE_SCORING_READER_TOKENS.
current_reader = token_holder(
    lambda request: context_of(request).options.reader_tokens,
    "A reader token is required (HOTLINE_SCORING_READER_TOKENS).",
)


Reader = Annotated[str, Depends(current_reader)]


@dataclass(frozen=True)
class Period:
    start: date
    end: date


async def period(
    context: Context,
    start: Annotated[date, Query(alias="from", description="First local date, inclusive")],
    end: Annotated[date, Query(alias="to", description="Last local date, inclusive")],
) -> Period:
    """Inclusive local dates; `from` after `to`, or a range longer than the longest allowed,
    is a problem naming the field."""
    if start > end:
        raise Problem(422, "bad-period", "from is after to.", field="from")
    if (end - start).days + 1 > context.options.max_report_days:
        raise Problem(
            422,
            "period-too-long",
            f"A report covers at most {context.options.max_report_days} days.",
            field="to",
        )
    return Period(start, end)


ReportPeriod = Annotated[Period, Depends(period)]
