"""The events intake announces about a ticket, built from its row."""

from hotline.intake.models import Ticket
from hotline.shared.domain import phones
from hotline.shared.domain.units import HOTLINE_UNIT
from hotline.shared.messaging.events import (
    PhoneNumber,
    TicketClosed,
    TicketClosedData,
    TicketCreated,
    TicketCreatedData,
)

SOURCE = "/hotline/intake"


def created_data(row: Ticket) -> TicketCreatedData:
    return TicketCreatedData(
        ticket_no=row.ticket_no,
        source_ticket_id=row.source_ticket_id,
        call_id=row.call_id,
        channel=row.channel,
        caller_salutation=row.caller_salutation,
        caller=phone(row.caller_number) if row.caller_number else None,
        request_type=row.request_type,
        category=row.category,
        business_environment=row.business_environment,
        location_code=row.location_code,
        address=row.address,
        content=row.content,
        handling_mode=row.handling_mode,
        status=row.status,
        resolution=row.resolution,
        suggested_unit=row.suggested_unit,
        agent_id=row.agent_id,
        accepted_at=row.accepted_at,
        new_facts=row.new_facts,
        repeat_of=row.repeat_of,
        repeat_rule=row.repeat_rule,
        notice_id=row.notice_id,
        knowledge_entry_id=row.knowledge_entry_id,
        knowledge_version=row.knowledge_version,
    )


def accepted_events(row: Ticket) -> list[TicketCreated | TicketClosed]:
    """`ticket.created` (version 1), and `ticket.closed` (2) when intake closed it at once."""
    created = TicketCreated(
        source=SOURCE,
        subject=row.ticket_no,
        ticket_id=row.ticket_no,
        version=1,
        data=created_data(row),
    )
    return [created, closed_event(row)] if row.status == "closed" else [created]


def closed_event(row: Ticket) -> TicketClosed:
    assert row.closed_at is not None
    assert row.resolution is not None
    return TicketClosed(
        source=SOURCE,
        subject=row.ticket_no,
        ticket_id=row.ticket_no,
        version=row.version,
        data=TicketClosedData(
            ticket_no=row.ticket_no,
            closed_at=row.closed_at,
            handling_unit=row.handling_unit or HOTLINE_UNIT,
            resolution=row.resolution,
        ),
    )


def phone(number: str) -> PhoneNumber:
    return PhoneNumber(number=number, masked=phones.mask(number))
