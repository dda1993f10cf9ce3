"""The knowledge base: entries, their versions, the search's change counter, what the events
said of units' replies; and on each ticket the entry (and version) whose answer the agent gave.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "intake"
NOW = sa.text("now()")


def upgrade() -> None:
    op.create_table(
        "knowledge_entries",
        sa.Column("entry_id", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("current_version", sa.Integer(), nullable=False),
        sa.Column("source_ticket", sa.Text()),
        sa.Column("source_reply_version", sa.Integer()),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("published_by", sa.Text()),
        sa.Column("published_at", sa.DateTime(timezone=True)),
        sa.Column("retired_by", sa.Text()),
        sa.Column("retired_at", sa.DateTime(timezone=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.PrimaryKeyConstraint("entry_id", name="pk_knowledge_entries"),
        sa.UniqueConstraint(
            "source_ticket",
            "source_reply_version",
            name="uq_knowledge_entries_source_ticket_source_reply_version",
        ),
        schema=SCHEMA,
    )
    op.create_table(
        "knowledge_versions",
        sa.Column("entry_id", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("unit_id", sa.Text(), nullable=False),
        sa.Column("category", sa.Text(), nullable=False),
        sa.Column("valid_from", sa.DateTime(timezone=True)),
        sa.Column("valid_until", sa.DateTime(timezone=True)),
        sa.Column("search_terms", sa.Text(), nullable=False),
        sa.Column("edited_by", sa.Text(), nullable=False),
        sa.Column("note", sa.Text()),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.PrimaryKeyConstraint("entry_id", "version", name="pk_knowledge_versions"),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            [f"{SCHEMA}.knowledge_entries.entry_id"],
            name="fk_knowledge_versions_entry_id_knowledge_entries",
        ),
        schema=SCHEMA,
    )
    op.create_table(
        "knowledge_revision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_knowledge_revision"),
        schema=SCHEMA,
    )
    op.execute(f"INSERT INTO {SCHEMA}.knowledge_revision (id, revision) VALUES (1, 0)")
    op.create_table(
        "knowledge_reply_facts",
        sa.Column("ticket_no", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Text(), nullable=False),
        sa.Column("text", sa.Text()),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("ticket_no", "kind", "version", name="pk_knowledge_reply_facts"),
        schema=SCHEMA,
    )
    op.add_column("tickets", sa.Column("knowledge_entry_id", sa.Text()), schema=SCHEMA)
    op.add_column("tickets", sa.Column("knowledge_version", sa.Integer()), schema=SCHEMA)
    op.create_foreign_key(
        "fk_tickets_knowledge_entry_id_knowledge_entries",
        "tickets",
        "knowledge_entries",
        ["knowledge_entry_id"],
        ["entry_id"],
        source_schema=SCHEMA,
        referent_schema=SCHEMA,
    )
    op.create_index(
        "ix_tickets_knowledge_entry_id", "tickets", ["knowledge_entry_id"], schema=SCHEMA
    )


def downgrade() -> None:
    op.drop_index("ix_tickets_knowledge_entry_id", "tickets", schema=SCHEMA)
    op.drop_constraint("fk_tickets_knowledge_entry_id_knowledge_entries", "tickets", schema=SCHEMA)
    op.drop_column("tickets", "knowledge_version", schema=SCHEMA)
    op.drop_column("tickets", "knowledge_entry_id", schema=SCHEMA)
    for table in (
        "knowledge_reply_facts",
        "knowledge_revision",
        "knowledge_versions",
        "knowledge_entries",
    ):
        op.drop_table(table, schema=SCHEMA)
