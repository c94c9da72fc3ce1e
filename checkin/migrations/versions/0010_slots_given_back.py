"""Slots that come back: tablets give back held slots, managers release a lost tablet's, and the
numbers given back are given out again; a tablet can be stopped for a day.

Existing leases are kept as they are: a slot held by a browser that was never paired stays held
until a manager releases it on the tablets page.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

INSTANT = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Add given-back and released slots, free numbers and a tablet's stopped day."""
    with op.batch_alter_table("device") as batch:
        batch.add_column(sa.Column("leasing_stopped_on", sa.Date(), nullable=True))
    with op.batch_alter_table("leased_slot") as batch:
        batch.add_column(sa.Column("returned_at", INSTANT, nullable=True))
        batch.add_column(sa.Column("released_at", INSTANT, nullable=True))
        batch.add_column(sa.Column("kept_at", INSTANT, nullable=True))
        batch.create_check_constraint(
            "leased_slot_ends_once",
            "(used_at IS NULL OR (returned_at IS NULL AND released_at IS NULL))"
            " AND (returned_at IS NULL OR released_at IS NULL)",
        )
    op.create_table(
        "free_slot",
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("slot", sa.Integer(), nullable=False),
        sa.Column("freed_at", INSTANT, nullable=False),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"]),
        sa.PrimaryKeyConstraint("site_id", "day", "slot"),
    )
    with op.batch_alter_table("day_quota") as batch:
        batch.add_column(sa.Column("free", sa.Integer(), server_default="0", nullable=False))
        batch.create_check_constraint(
            "day_quota_free_counted", "free >= 0 AND used + free <= issued"
        )
    # An upload from a browser that is no paired tablet is kept without one.
    with op.batch_alter_table("upload_conflict") as batch:
        batch.alter_column("device_id", existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    """Drop them; numbers given back and not given out again stay unused, as voided ones do."""
    op.execute("DELETE FROM upload_conflict WHERE device_id IS NULL")
    with op.batch_alter_table("upload_conflict") as batch:
        batch.alter_column("device_id", existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table("day_quota") as batch:
        batch.drop_constraint("day_quota_free_counted", type_="check")
        batch.drop_column("free")
    op.drop_table("free_slot")
    # Before, every leased slot not used was held: those that came back are no longer leased.
    op.execute("DELETE FROM leased_slot WHERE returned_at IS NOT NULL OR released_at IS NOT NULL")
    with op.batch_alter_table("leased_slot") as batch:
        batch.drop_constraint("leased_slot_ends_once", type_="check")
        batch.drop_column("kept_at")
        batch.drop_column("released_at")
        batch.drop_column("returned_at")
    with op.batch_alter_table("device") as batch:
        batch.drop_column("leasing_stopped_on")
