"""A ticket as the bulletin counts it and the province receives it, folded from every event about
it: a pure function of the set of events, so duplicates and any order of arrival give the same
row and document (ticket events apply in version order; of its surveys, the first completed
counts). Scoring keeps its read model with it, provincial-sync its upload documents."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from hotline.shared.domain.quality import (
    CallDocument,
    ExtensionDocument,
    SurveyDocument,
    TicketBundle,
    TicketDocument,
)
from hotline.shared.domain.units import HOTLINE_UNIT
from hotline.shared.domain.working_days import LOCAL_TIME
from hotline.shared.messaging.events import CallbackCompleted, CallRecordedData, Event

# The ticket events a ticket's document is folded from.
TICKET_EVENT_TYPES = (
    "ticket.created",
    "ticket.handed_over",
    "ticket.dispatched",
    "ticket.signed",
    "ticket.replied",
    "ticket.reply_reviewed",
    "ticket.return_requested",
    "ticket.return_reviewed",
    "ticket.extension_requested",
    "ticket.extension_reviewed",
    "ticket.overdue",
    "ticket.closed",
    "ticket.reopened",
    "ticket.merged",
    "ticket.corrected",
)


@dataclass(frozen=True)
class StoredEvent:
    event_type: str
    version: int
    occurred_at: datetime
    data: dict[str, Any]


@dataclass
class Folded:
    """The ticket row's values, and the document the rules read (None until it was created)."""

    values: dict[str, Any]
    bundle: TicketBundle | None
    units_seen: dict[str, str] = field(default_factory=dict)  # unit id → name


def _time(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value)


def fold(ticket_no: str, events: list[StoredEvent]) -> Folded:
    created: dict[str, Any] | None = None
    state: dict[str, Any] = {
        "status": None,
        "handling_mode": None,
        "repeat_of": None,
        "repeat_rule": None,
        "resolution": None,
        "closed_at": None,
        "handling_unit": None,
    }
    dispatched_to: list[str] = []
    units: dict[str, str] = {}
    dispatched_at = deadline = replied_at = None
    replied_by: str | None = None
    overdue = False
    reopened = 0
    extensions: list[dict[str, Any]] = []
    approved_without_request = 0
    version = 0
    updated: datetime | None = None
    ticket_events = sorted(
        (e for e in events if e.event_type.startswith("ticket.")), key=lambda e: e.version
    )
    for event in ticket_events:
        data, kind = event.data, event.event_type
        version = max(version, event.version)
        updated = max(updated, event.occurred_at) if updated else event.occurred_at
        if kind in ("ticket.created", "ticket.handed_over"):
            created = created or dict(data)
            if kind == "ticket.created":
                state |= {
                    key: data.get(key)
                    for key in ("status", "handling_mode", "resolution", "repeat_of", "repeat_rule")
                }
            else:
                state |= {"status": "open", "handling_mode": "forward"}
        elif kind == "ticket.dispatched":
            units[data["unit_id"]] = data["unit_name"]
            dispatched_to.append(data["unit_name"])
            dispatched_at = dispatched_at or _time(data["dispatched_at"])
            deadline = _time(data["deadline"])
            state["status"], state["handling_mode"] = "open", "forward"
        elif kind == "ticket.replied":
            replied_at, replied_by = _time(data["at"]), data["unit_id"]
            # Overdue once, for good: a later round (a reopening) does not undo a late reply.
            overdue = overdue or bool(deadline and replied_at and replied_at > deadline)
        elif kind == "ticket.reply_reviewed" and data["outcome"] == "rejected":
            replied_at = replied_by = None
        elif kind == "ticket.overdue":
            overdue = True
        elif kind == "ticket.extension_requested":
            extensions.append(
                {
                    "requested_at": data["at"],
                    "current_deadline": data["current_deadline"],
                    "requested_deadline": data["requested_deadline"],
                    "outcome": "pending",
                }
            )
        elif kind == "ticket.extension_reviewed":
            pending = [e for e in extensions if e["outcome"] == "pending"]
            if pending:
                pending[-1]["outcome"] = data["outcome"]
            elif data["outcome"] == "accepted":
                approved_without_request += 1
            if data["outcome"] == "accepted" and data.get("new_deadline"):
                deadline = _time(data["new_deadline"])
        elif kind == "ticket.closed":
            state |= {
                "status": "closed",
                "closed_at": _time(data["closed_at"]),
                "resolution": data["resolution"],
                "handling_unit": data["handling_unit"],
            }
        elif kind == "ticket.reopened":
            reopened += 1
            state |= {"status": "open", "closed_at": None}
        elif kind == "ticket.corrected" and created is not None:
            created |= data["changes"]
        elif kind == "ticket.merged":
            state |= {
                key: data.get(key)
                for key in ("repeat_of", "repeat_rule", "handling_mode", "status", "resolution")
            }
    surveys = sorted(
        (e for e in events if e.event_type == "callback.completed"),
        key=lambda e: _time(e.data["completed_at"]) or e.occurred_at,
    )
    answered = [e.data for e in surveys if e.data["outcome"] == "answered"]
    first_survey = answered[0] if answered else None
    forwarded = bool(dispatched_to) and state["handling_mode"] == "forward"
    unit_name = dispatched_to[-1] if forwarded else HOTLINE_UNIT
    accepted_at = _time(created["accepted_at"]) if created else None
    values: dict[str, Any] = {
        "ticket_no": ticket_no,
        "period": accepted_at.astimezone(LOCAL_TIME).date() if accepted_at else None,
        "accepted_at": accepted_at,
        "channel": created and created["channel"],
        "request_type": created and created["request_type"],
        "category": created and created["category"],
        "handling_mode": state["handling_mode"],
        "status": state["status"],
        "forwarded": forwarded,
        "unit_name": unit_name if created else None,
        "deadline": deadline,
        "replied_at": replied_at,
        "closed_at": state["closed_at"],
        "marked_overdue": overdue,
        "reopen_count": reopened,
        "satisfaction": first_survey["satisfaction"] if first_survey else None,
        "call_id": created and created.get("call_id"),
        "version": version,
    }
    if created is None:
        return Folded(values, None, units)
    caller = created.get("caller") or {}
    document = TicketDocument(
        ticket_no=ticket_no,
        channel=created["channel"],
        call_id=created.get("call_id"),
        caller_salutation=created["caller_salutation"],
        caller_number=caller.get("number"),
        request_type=created["request_type"],
        category=created["category"],
        business_environment=created.get("business_environment", False),
        location_code=created.get("location_code"),
        address=created.get("address"),
        content=created["content"],
        handling_mode=state["handling_mode"] or created["handling_mode"],
        status=state["status"] or created["status"],
        resolution=state["resolution"],
        repeat_of=state["repeat_of"],
        repeat_rule=state["repeat_rule"],
        accepted_at=created["accepted_at"],
        updated_at=updated,
        dispatched_at=dispatched_at,
        dispatched_to=dispatched_to,
        replied_by=units.get(replied_by, replied_by) if replied_by else None,
        replied_at=replied_at,
        closed_at=state["closed_at"],
        handling_unit=state["handling_unit"],
        reported_satisfaction=first_survey["satisfaction"] if first_survey else None,
        extensions=[ExtensionDocument.model_validate(e) for e in extensions],
        approved_extensions_without_request=approved_without_request,
    )
    survey = (
        SurveyDocument(
            outcome="answered",
            satisfaction=first_survey["satisfaction"],
            completed_at=first_survey["completed_at"],
        )
        if first_survey
        else None
    )
    return Folded(values, TicketBundle(ticket=document, survey=survey), units)


def ticket_of(event: Event) -> str | None:
    """The ticket an event folds into, if it folds into one."""
    if event.type in TICKET_EVENT_TYPES:
        return event.subject
    if isinstance(event, CallbackCompleted):
        return event.data.ticket_no
    return None


def stored_row(event: Event) -> dict[str, Any]:
    """An event as kept for folding: a row of an event table keyed by the event's id."""
    return {
        "event_id": event.id,
        "ticket_no": ticket_of(event),
        "event_type": event.type,
        "version": event.version,
        "occurred_at": event.time,
        "data": event.model_dump(mode="json")["data"],
    }


def call_document(data: CallRecordedData) -> CallDocument:
    """A call record as the rules read it and the province receives it."""
    return CallDocument(
        call_id=data.call_id,
        line=data.line,
        direction=data.direction,
        caller_number=data.caller.number,
        callee_number=data.callee.number,
        agent_id=data.agent_id,
        started_at=data.started_at,
        queued_at=data.queued_at,
        ringing_at=data.ringing_at,
        connected_at=data.connected_at,
        ended_at=data.ended_at,
        talk_seconds=data.talk_seconds,
        recording_url=data.recording_url,
    )
