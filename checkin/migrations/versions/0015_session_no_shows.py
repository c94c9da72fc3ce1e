"""A session's day counts its no-shows: the bookings its release dropped because their check-in
window had closed, which reports show beside the bookings that came.

Days released before count them from their bookings marked released, while those are kept.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the count, filled from the released bookings of days released already."""
    with op.batch_alter_table("session_day") as batch:
        batch.add_column(sa.Column("no_shows", sa.Integer(), server_default="0", nullable=False))
        batch.create_check_constraint("session_day_no_shows", "no_shows >= 0")
    op.execute(
        "UPDATE session_day SET no_shows = ("
        " SELECT count(*) FROM booking"
        " WHERE booking.site_id = session_day.site_id AND booking.day = session_day.day"
        " AND booking.session_id = session_day.session_id AND booking.status = 'released')"
    )


def downgrade() -> None:
    """Drop it: the places released stay counted in ``released``."""
    with op.batch_alter_table("session_day") as batch:
        batch.drop_constraint("session_day_no_shows", type_="check")
        batch.drop_column("no_shows")
