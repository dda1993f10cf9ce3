"""The data step run after intake's migrations: tickets within the repeat window that were
accepted before intake kept their substance get it now, so repeat calls can be matched to them."""

from sqlalchemy import Connection, func, select, update

from hotline.intake.models import Ticket
from hotline.shared.domain.text import encode_terms, text_matcher

BACKFILL_DAYS = 60
BATCH = 1000


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
        for ticket_no, content, address in rows:
            terms = matcher.substance(content, places=[address or ""])
            connection.execute(
                update(Ticket)
                .where(Ticket.ticket_no == ticket_no)
                .values(substance=encode_terms(terms) or " ")
            )
