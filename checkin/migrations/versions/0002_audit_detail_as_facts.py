"""Keep audit details as JSON facts; earlier entries keep their English text under "text"."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# Details written before this migration are sentences, never JSON. A database that the current
# models' create_all made, adopted as 0001 by init-db, already holds facts: they stay as they are.
SQLITE_WRAP_TEXTS = (
    "UPDATE audit_entry SET detail = json_object('text', detail) WHERE NOT json_valid(detail)"
)
SQLITE_UNWRAP_TEXTS = (
    "UPDATE audit_entry SET detail = json_extract(detail, '$.text') "
    "WHERE json_valid(detail) AND json_type(detail, '$.text') = 'text'"
)


def upgrade() -> None:
    """Wrap each detail text as {"text": ...} and make the column JSON."""
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        # SQLite copies the table to change a type: wrap the texts first, the copy keeps them.
        op.execute(SQLITE_WRAP_TEXTS)
    elif detail_is_json(bind):
        return
    with op.batch_alter_table("audit_entry") as batch:
        batch.alter_column(
            "detail",
            existing_type=sa.String(length=500),
            type_=sa.JSON(),
            existing_nullable=False,
            postgresql_using="json_build_object('text', detail)",
        )


def downgrade() -> None:
    """Make the column text again: earlier entries get their text back, facts stay as JSON."""
    with op.batch_alter_table("audit_entry") as batch:
        batch.alter_column(
            "detail",
            existing_type=sa.JSON(),
            type_=sa.String(length=500),
            existing_nullable=False,
            postgresql_using="coalesce(detail->>'text', left(detail::text, 500))",
        )
    if op.get_bind().dialect.name == "sqlite":
        op.execute(SQLITE_UNWRAP_TEXTS)


def detail_is_json(bind: sa.Connection) -> bool:
    """Tell whether the detail column already holds JSON."""
    columns = sa.inspect(bind).get_columns("audit_entry")
    return any(
        column["name"] == "detail" and isinstance(column["type"], sa.JSON) for column in columns
    )
