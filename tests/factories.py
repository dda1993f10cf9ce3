"""Events as the services announce them, for tests and benchmarks: a citizen's phone ticket,
forwarded and open, unless the caller says otherwise."""

from datetime import UTC, datetime
from typing import Any

from hotline.shared.messaging.events import PhoneNumber, TicketCreated, TicketCreatedData


def ticket_created_data(ticket_no: str, **overrides: Any) -> TicketCreatedData:
    data: dict[str, Any] = {
        "ticket_no": ticket_no,
        "source_ticket_id": f"desk-{ticket_no}",
        "call_id": f"call-{ticket_no}",
        "channel": "phone",
        "caller_salutation": "李女士",
        "caller": PhoneNumber(number="13912345678", masked="139****5678"),
        "request_type": "complaint",
        "category": "生活服务类",
        "business_environment": False,
        "location_code": "430503001002",
        "address": "大祥区翠园小区",
        "content": "翠园小区从昨天起停气，燃气公司没有提前通知，家里老人没法做饭",
        "handling_mode": "forward",
        "status": "open",
        "resolution": None,
        "suggested_unit": "市燃气总公司",
        "agent_id": "A017",
        "accepted_at": datetime.now(UTC),
        "new_facts": False,
    } | overrides
    return TicketCreatedData(**data)


def ticket_created(
    ticket_no: str, *, source: str = "/tests", version: int = 1, **overrides: Any
) -> TicketCreated:
    """`ticket.created` of `ticket_no` (its subject and key), the data as above but `overrides`."""
    return TicketCreated(
        source=source,
        subject=ticket_no,
        ticket_id=ticket_no,
        version=version,
        data=ticket_created_data(ticket_no, **overrides),
    )
