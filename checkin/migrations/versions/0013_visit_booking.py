"""A visit names the booking the visitor showed at the door, if any.

Visits made before have none. The key is named, as visit and booking name each other: the
models' create_all adds it after both tables exist. A booking purged leaves its visits.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the visit's booking, empty for every visit made before."""
    with op.batch_alter_table("visit") as batch:
        batch.add_column(
            sa.Column(
                "booking_id",
                sa.Integer(),
                sa.ForeignKey("booking.id", name="visit_booking_id_fkey", ondelete="SET NULL"),
                nullable=True,
            )
        )


def downgrade() -> None:
    """Drop it; the bookings keep the visit that took their place."""
    with op.batch_alter_table("visit") as batch:
        batch.drop_column("booking_id")
