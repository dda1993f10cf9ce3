"""Rules across fields that the body's schema cannot say, each error naming its field.

They refuse what the provincial platform would count against the city (rule codes in the
messages) and what cannot be true (a call that ended before it started).
"""

import re
from datetime import datetime, timedelta

from hotline.intake.schemas import CallRecordIn, NoticeIn, TicketIn
from hotline.shared.domain import phones
from hotline.shared.domain.text_quality import garbled, resolution_findings

FieldError = dict[str, str]
CLOCK_SKEW = timedelta(minutes=5)
# A name or a surname with 先生/女士…; anonymous callers are written *先生 / *女士 (rule T07).
SALUTATION = re.compile(r"^(\*|[\u4e00-\u9fa5·A-Za-z]{1,16})[\u4e00-\u9fa5A-Za-z]*$")


def _error(field: str, message: str) -> FieldError:
    return {"field": field, "message": message}


def call_errors(call: CallRecordIn, now: datetime) -> list[FieldError]:
    errors = []
    steps: list[tuple[str, datetime | None]] = [
        ("started_at", call.started_at),
        ("queued_at", call.queued_at),
        ("ringing_at", call.ringing_at),
        ("connected_at", call.connected_at),
        ("ended_at", call.ended_at),
    ]
    previous_name, previous = "started_at", call.started_at
    for name, moment in steps[1:]:
        if moment is None:
            continue
        if moment < previous:
            errors.append(_error(name, f"{name} is earlier than {previous_name}"))
        previous_name, previous = name, moment
    if call.ended_at > now + CLOCK_SKEW:
        errors.append(_error("ended_at", "ended_at is in the future"))
    if call.outcome == "answered":
        if call.connected_at is None:
            errors.append(_error("connected_at", "an answered call has an agent-connect time"))
        if call.agent_id is None:
            errors.append(_error("agent_id", "an answered call names its agent"))
    elif call.talk_seconds > 0:
        errors.append(_error("talk_seconds", f"a call that was {call.outcome} has no talk time"))
    if call.connected_at is not None:
        longest = (call.ended_at - call.connected_at).total_seconds() + 1
        if call.talk_seconds > longest:
            errors.append(_error("talk_seconds", "talk time is longer than connect to hang-up"))
    citizen_field = "caller_number" if call.direction == "in" else "callee_number"
    citizen = phones.normalize(getattr(call, citizen_field))
    if not phones.is_citizen_number(citizen):
        errors.append(_error(citizen_field, "not a mobile or landline number a citizen uses"))
    return errors


def ticket_errors(
    ticket: TicketIn, *, categories: tuple[str, ...], city_prefix: str, now: datetime
) -> list[FieldError]:
    errors = []
    salutation = ticket.caller.salutation
    if not SALUTATION.match(salutation) or salutation == "*":
        errors.append(
            _error("caller.salutation", "T07: a name such as 张先生, or *先生 / *女士 if anonymous")
        )
    if ticket.channel == "phone":
        if ticket.call_id is None:
            errors.append(_error("call_id", "T01: a phone ticket names the call it came from"))
        if ticket.agent_id is None:
            errors.append(_error("agent_id", "a phone ticket names the agent who took it"))
        number = phones.normalize(ticket.caller.number or "")
        if not phones.is_citizen_number(number):
            errors.append(
                _error("caller.number", "T06: the caller's own mobile or landline number")
            )
    elif ticket.caller.number and not phones.is_citizen_number(
        phones.normalize(ticket.caller.number)
    ):
        errors.append(_error("caller.number", "not a mobile or landline number"))
    if ticket.category not in categories:
        errors.append(_error("category", "not in the category catalogue"))
    if ticket.location_code is not None and not ticket.location_code.startswith(city_prefix):
        errors.append(_error("location_code", f"T05: outside this city ({city_prefix}…)"))
    if ticket.handling_mode == "forward" and ticket.location_code is None:
        errors.append(_error("location_code", "T05: a forwarded ticket says where it happened"))
    if garbled(ticket.content):
        errors.append(_error("content", "T09: garbled text or runs of symbols"))
    if ticket.handling_mode == "answered":
        if not ticket.resolution:
            errors.append(_error("resolution", "an answered ticket says what the caller was told"))
        else:
            errors.extend(
                _error("resolution", f"{code}: {message}")
                for code, message in resolution_findings(ticket.content, ticket.resolution)
            )
    if ticket.handling_mode == "not_accepted" and not ticket.resolution:
        errors.append(_error("resolution", "T14: a ticket not accepted says why"))
    if ticket.accepted_at > now + CLOCK_SKEW:
        errors.append(_error("accepted_at", "accepted_at is in the future"))
    return errors


def notice_errors(
    notice: NoticeIn, *, categories: tuple[str, ...], city_prefix: str
) -> list[FieldError]:
    errors = []
    if notice.ends_at <= notice.starts_at:
        errors.append(_error("ends_at", "ends_at is not after starts_at"))
    if notice.category not in categories:
        errors.append(_error("category", "not in the category catalogue"))
    errors.extend(
        _error(f"area_codes.{index}", f"outside this city ({city_prefix}…)")
        for index, code in enumerate(notice.area_codes)
        if not code.startswith(city_prefix)
    )
    return errors
