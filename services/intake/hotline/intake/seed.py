"""The data step run after intake's migrations: tickets within the repeat window that were
accepted before intake kept their substance get it now, so repeat calls can be matched to them."""

from typing import cast

from sqlalchemy import Connection, Table, bindparam, func, select, update

from hotline.intake.models import Ticket
from hotline.shared.domain.text import encode_terms, text_matcher

BACKFILL_DAYS = 60
BATCH = 1000
TICKETS = cast(Table, Ticket.__table__)
# One statement for the batch, its rows as parameters.
KEEP_SUBSTANCE = (
    update(TICKETS)
    .where(TICKETS.c.ticket_no == bindparam("number"))
    .values(substance=bindparam("terms"))
)


def seed(connection: Connection) -> None:
    matcher = text_matcher()
    while True:
        rows = connection.execute(
            select(Ticket.ticket_no, Ticket.content, Ticket.address)
            .where(
                Ticket.substance.is_(None),
                Ticket.accepted_at > func.now() - func.make_interval(0, 0, 0, BACKFILL_DAYS),
            )
            .limit(BATCH)
        ).all()
        if not rows:
            return
        connection.execute(
            KEEP_SUBSTANCE,
            [
                {
                    "number": ticket_no,
                    "terms": encode_terms(matcher.substance(content, places=[address or ""]))
                    or " ",
                }
                for ticket_no, content, address in rows
            ],
        )
