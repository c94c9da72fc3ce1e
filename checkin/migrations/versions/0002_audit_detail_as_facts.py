"""Keep audit details as JSON facts; earlier entries keep their English text under "text"."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Wrap each detail text as {"text": ...} and make the column JSON."""
    if op.get_bind().dialect.name == "sqlite":
        # SQLite copies the table to change a type: wrap the texts first, the copy keeps them.
        op.execute("UPDATE audit_entry SET detail = json_object('text', detail)")
    with op.batch_alter_table("audit_entry") as batch:
        batch.alter_column(
            "detail",
            existing_type=sa.String(length=500),
            type_=sa.JSON(),
            existing_nullable=False,
            postgresql_using="json_build_object('text', detail)",
        )


def downgrade() -> None:
    """Make the column text again; entries lose their facts and keep a JSON rendering of them."""
    with op.batch_alter_table("audit_entry") as batch:
        batch.alter_column(
            "detail",
            existing_type=sa.JSON(),
            type_=sa.String(length=500),
            existing_nullable=False,
            postgresql_using="left(detail::text, 500)",
        )
