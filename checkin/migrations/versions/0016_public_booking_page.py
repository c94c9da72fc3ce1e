"""The office's own public booking page: a site switches it on in its booking settings.

Every site has it off until a manager switches it on, existing sites included.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the switch of the public booking page, off."""
    with op.batch_alter_table("site_booking") as batch:
        batch.add_column(
            sa.Column("public_page", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    """Drop it: bookings made on the page stay, as if imported."""
    with op.batch_alter_table("site_booking") as batch:
        batch.drop_column("public_page")
