"""Accounts get a display name that staff see (the door's staff buttons).

Accounts made before have none: staff see their username until an admin gives them one.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the display name, empty for every account."""
    with op.batch_alter_table("user_account") as batch:
        batch.add_column(sa.Column("display_name", sa.String(length=60), nullable=True))


def downgrade() -> None:
    """Drop it; staff see usernames again."""
    with op.batch_alter_table("user_account") as batch:
        batch.drop_column("display_name")
