"""Video sessions on the service floor: a video booking's place in the officers' queue, the
officer who holds it, and the time of each step (called, not answered, served, done).

Video sessions still booked join the queue (``waiting``); every other booking has no floor state.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

INSTANT = sa.DateTime(timezone=True)
STAMPS = ("called_at", "missed_at", "serving_at", "finished_at")


def upgrade() -> None:
    """Add the floor columns to bookings and put the video sessions still booked in the queue."""
    with op.batch_alter_table("booking") as batch:
        batch.add_column(sa.Column("floor_state", sa.String(length=10), nullable=True))
        batch.add_column(sa.Column("officer_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("calls", sa.Integer(), server_default="0", nullable=False))
        for stamp in STAMPS:
            batch.add_column(sa.Column(stamp, INSTANT, nullable=True))
        batch.create_foreign_key(
            "fk_booking_officer_id_user_account", "user_account", ["officer_id"], ["id"]
        )
        batch.create_check_constraint(
            "booking_floor_state_known",
            "floor_state IN ('waiting', 'called', 'serving', 'done', 'no_show')",
        )
        batch.create_check_constraint(
            "booking_floor_video_only", "floor_state IS NULL OR kind = 'video'"
        )
        batch.create_check_constraint(
            "booking_floor_held",
            "floor_state NOT IN ('called', 'serving', 'done') OR officer_id IS NOT NULL",
        )
        batch.create_check_constraint("booking_calls", "calls >= 0")
    op.create_index("booking_floor", "booking", ["site_id", "floor_state", "officer_id"])
    op.execute(
        "UPDATE booking SET floor_state = 'waiting' WHERE kind = 'video' AND status = 'booked'"
    )


def downgrade() -> None:
    """Drop them: the bookings stay, without their floor steps."""
    op.drop_index("booking_floor", table_name="booking")
    with op.batch_alter_table("booking") as batch:
        for name in (
            "booking_calls",
            "booking_floor_held",
            "booking_floor_video_only",
            "booking_floor_state_known",
        ):
            batch.drop_constraint(name, type_="check")
        batch.drop_constraint("fk_booking_officer_id_user_account", type_="foreignkey")
        for column in ("finished_at", "serving_at", "missed_at", "called_at", "calls"):
            batch.drop_column(column)
        batch.drop_column("officer_id")
        batch.drop_column("floor_state")
