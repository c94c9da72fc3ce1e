"""A manager admits a visitor past a full walk-in quota: the visit says why, and the day row
counts such admissions apart from the quota.

Days and visits made before have none.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the override's reason and words to visits, and its counter to day rows."""
    with op.batch_alter_table("visit") as batch:
        batch.add_column(sa.Column("override_reason", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("override_note", sa.String(length=200), nullable=True))
    with op.batch_alter_table("day_quota") as batch:
        batch.add_column(sa.Column("overrides", sa.Integer(), server_default="0", nullable=False))
        batch.create_check_constraint("day_quota_overrides", "overrides >= 0")


def downgrade() -> None:
    """Drop them; a visitor admitted past the quota stays admitted, with their number."""
    with op.batch_alter_table("day_quota") as batch:
        batch.drop_constraint("day_quota_overrides", type_="check")
        batch.drop_column("overrides")
    with op.batch_alter_table("visit") as batch:
        batch.drop_column("override_note")
        batch.drop_column("override_reason")
