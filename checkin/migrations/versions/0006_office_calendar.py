"""The office calendar: quotas by weekday, closed days, refusals on closed days; the re-test
wait held to 1-30 minutes.

Day rows made before this revision are open days, as they were. Going back, a refusal because
the office was closed becomes one because the quota was full: the nearest reason known then.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the weekday quotas and closed days; count closed-day refusals; bound the wait."""
    op.create_table(
        "weekday_quota",
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("quota", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"]),
        sa.PrimaryKeyConstraint("site_id", "weekday"),
        sa.CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_quota_weekday"),
        sa.CheckConstraint("quota >= 0", name="weekday_quota_non_negative"),
    )
    op.create_table(
        "closed_day",
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("label", sa.String(length=120), nullable=False),
        sa.Column("holiday", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"]),
        sa.PrimaryKeyConstraint("site_id", "day"),
    )
    with op.batch_alter_table("day_quota") as batch:
        batch.add_column(
            sa.Column("refused_closed", sa.Integer(), server_default="0", nullable=False)
        )
        batch.add_column(
            sa.Column("closed", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    # Only a hand-edited database can hold another wait; the nearest allowed one keeps its sense.
    op.execute("UPDATE site SET recheck_minutes = 1 WHERE recheck_minutes < 1")
    op.execute("UPDATE site SET recheck_minutes = 30 WHERE recheck_minutes > 30")
    with op.batch_alter_table("site") as batch:
        batch.create_check_constraint(
            "site_recheck_minutes_range", "recheck_minutes BETWEEN 1 AND 30"
        )


def downgrade() -> None:
    """Drop the calendar; closed-day refusals are counted as quota-full ones."""
    with op.batch_alter_table("site") as batch:
        batch.drop_constraint("site_recheck_minutes_range", type_="check")
    op.execute("UPDATE visit SET reasons = 'quota_full' WHERE reasons = 'closed'")
    op.execute("UPDATE day_quota SET refused_quota_full = refused_quota_full + refused_closed")
    with op.batch_alter_table("day_quota") as batch:
        batch.drop_column("closed")
        batch.drop_column("refused_closed")
    op.drop_table("closed_day")
    op.drop_table("weekday_quota")
