"""What every request and answer body shares: input that refuses what PostgreSQL cannot store,
and times written one way (local, with its offset).

`InputModel` is the base of every request body: unknown fields are refused, and a NUL character
(U+0000) anywhere in a string, however deeply nested, is a 422 naming the field, not a 500 from
the database (`QueryText` does the same for a query parameter). Each field still says its own
bounds (`max_length` on every string and list).
`TolerantInputModel` is the base of the webhook bodies a vendor's software sends: a field a newer
release of it adds is ignored (and reported, see `webhooks.strip_unknown_fields`), not refused.
"""

from datetime import datetime
from typing import Annotated, Any

from fastapi import Path
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    PlainSerializer,
    field_validator,
)

from hotline.shared.domain.working_days import LOCAL_TIME

NUL = "\x00"


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, dict):
        return any(_has_nul(key) or _has_nul(item) for key, item in value.items())
    if isinstance(value, list | tuple | set):
        return any(_has_nul(item) for item in value)
    return False


class InputModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _refuse_nul(cls, value: Any) -> Any:
        if _has_nul(value):
            raise ValueError("contains a NUL character (U+0000)")
        return value


def _without_nul(value: str) -> str:
    if NUL in value:
        raise ValueError("contains a NUL character (U+0000)")
    return value


# A query parameter compared in SQL: a NUL in it is a 422 naming the parameter, not a 500.
QueryText = Annotated[str, AfterValidator(_without_nul)]


class TolerantInputModel(InputModel):
    # Kept only until `strip_unknown_fields` has named and dropped them.
    model_config = ConfigDict(extra="allow")


def local_iso(moment: datetime) -> str:
    return moment.astimezone(LOCAL_TIME).isoformat()


# Every time in an answer is written in the hotline's local time with its offset (+08:00).
LocalDatetime = Annotated[datetime, PlainSerializer(local_iso, return_type=str, when_used="json")]


def _in_business_years(moment: datetime) -> datetime:
    if not EARLIEST_YEAR <= moment.year <= LATEST_YEAR:
        raise ValueError(f"must be between the years {EARLIEST_YEAR} and {LATEST_YEAR}")
    return moment


# A moment a hotline's record can be about: year 1 or 9999 overflow PostgreSQL's and the local
# time zone's conversions, which would answer a 500 instead of naming the field.
EARLIEST_YEAR, LATEST_YEAR = 2000, 2100
BusinessDatetime = Annotated[AwareDatetime, AfterValidator(_in_business_years)]

# Identifiers in paths: ticket numbers, unit ids, key ids. Anything else is a 422 naming them.
IDENTIFIER_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$"
TicketNo = Annotated[
    str, Path(pattern=IDENTIFIER_PATTERN, max_length=64, description="The hotline's ticket number")
]
