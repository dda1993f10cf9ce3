"""Events are CloudEvents 1.0 with typed data, told apart by their `type`."""

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from hotline.shared.domain.units import HOTLINE_UNIT, seed_units
from hotline.shared.messaging.events import (
    CALLS_TOPIC,
    TICKETS_TOPIC,
    CallRecorded,
    CallRecordedData,
    PhoneNumber,
    TicketClosed,
    TicketClosedData,
    parse_event,
    serialize_event,
)

NOW = datetime(2022, 1, 31, 9, 30, tzinfo=UTC)


def closed_event() -> TicketClosed:
    return TicketClosed(
        source="/hotline/dispatch",
        subject="SY2201310001",
        ticket_id="SY2201310001",
        version=4,
        data=TicketClosedData(
            ticket_no="SY2201310001",
            closed_at=NOW,
            handling_unit="市燃气总公司",
            resolution="已联系诉求人，燃气已于当日18时恢复供应。",
        ),
    )


def test_an_event_survives_the_wire_as_its_own_type() -> None:
    event = closed_event()

    parsed = parse_event(serialize_event(event))

    assert isinstance(parsed, TicketClosed)
    assert parsed == event


def test_the_wire_form_uses_cloudevents_attribute_names() -> None:
    wire = closed_event().model_dump(mode="json")

    assert wire["specversion"] == "1.0"
    assert wire["ticketid"] == "SY2201310001"
    assert "ticket_id" not in wire
    assert {"id", "source", "type", "time", "subject", "version", "data"} <= wire.keys()


def test_a_ticket_event_is_keyed_by_its_ticket_and_a_call_by_its_id() -> None:
    call = CallRecorded(
        source="/hotline/intake",
        subject="CALL-1",
        version=1,
        data=CallRecordedData(
            call_id="CALL-1",
            line="12345",
            direction="in",
            caller=PhoneNumber(number="13812341234", masked="138****1234"),
            callee=PhoneNumber(number="12345", masked="12345"),
            agent_id="A01",
            started_at=NOW,
            queued_at=NOW,
            ringing_at=NOW,
            connected_at=NOW,
            ended_at=NOW,
            talk_seconds=0,
            recording_url=None,
            outcome="answered",
        ),
    )

    assert (closed_event().key, closed_event().topic) == ("SY2201310001", TICKETS_TOPIC)
    assert (call.key, call.topic) == ("CALL-1", CALLS_TOPIC)


def test_an_unknown_event_type_is_refused() -> None:
    wire = closed_event().model_dump(mode="json") | {"type": "ticket.vanished"}

    with pytest.raises(ValidationError):
        parse_event(str(wire).replace("'", '"'))


def test_event_times_must_carry_an_offset() -> None:
    with pytest.raises(ValidationError, match="timezone"):
        TicketClosedData(
            ticket_no="T", closed_at=datetime(2022, 1, 31, 9, 30), handling_unit="u", resolution="r"
        )


def test_the_hotline_row_is_the_hotline_unit_of_the_registry() -> None:
    hotline = [unit for unit in seed_units() if unit.kind == "hotline"]
    assert [unit.name for unit in hotline] == [HOTLINE_UNIT]
