"""An index for contact tracing: a year of a site's checks searched by name, phone or NIK.

It holds the searched columns beside the (site, day, time) order, so a search reads the index
alone instead of every check of the range (see checkin.services.tracing).
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the contact-tracing index."""
    op.create_index(
        "visit_site_people",
        "visit",
        ["site_id", "day", "checked_at", "id", "visitor_name", "phone", "nik_last4"],
    )


def downgrade() -> None:
    """Drop the contact-tracing index."""
    op.drop_index("visit_site_people", table_name="visit")
