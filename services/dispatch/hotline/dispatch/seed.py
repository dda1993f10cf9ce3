"""The data step run after dispatch's migrations: an empty unit registry gets the bulletin's 56
units (hotline.shared.domain.units). A registry with units is the supervisors' and is left as is."""

from sqlalchemy import Connection, func, insert, select

from hotline.dispatch.models import Unit
from hotline.dispatch.units import seed_rows


def seed(connection: Connection) -> None:
    if connection.scalar(select(func.count()).select_from(Unit)):
        return
    connection.execute(insert(Unit), seed_rows())
