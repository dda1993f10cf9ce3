"""A routing priority per unit: among units that fit a ticket equally (one category, one area),
the higher takes it instead of the supervisors' queue. The seeded lead bureaus get theirs here
(values copied from units.csv as it stood; a unit a supervisor renamed is left alone).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "dispatch"
LEAD_UNITS = {
    "U006": "市市场监督管理局",
    "U009": "市住房和城乡建设局",
    "U012": "市教育局",
    "U015": "市公安局",
    "U033": "市交通运输局",
    "U040": "市民政局",
    "U044": "市农业农村局",
}


def upgrade() -> None:
    op.add_column(
        "units",
        sa.Column("priority", sa.Integer(), server_default="0", nullable=False),
        schema=SCHEMA,
    )
    units = sa.table(
        "units", sa.column("unit_id"), sa.column("name"), sa.column("priority"), schema=SCHEMA
    )
    for unit_id, name in LEAD_UNITS.items():
        op.execute(
            units.update()
            .where(units.c.unit_id == unit_id, units.c.name == name)
            .values(priority=10)
        )


def downgrade() -> None:
    op.drop_column("units", "priority", schema=SCHEMA)
