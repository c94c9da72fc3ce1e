"""An index for the visitor at a booth: looked up on every console poll and booth step.

Without it each look-up read every visit of every site and year (see checkin.services.floor).
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the index of visits by booth and floor state."""
    op.create_index("visit_booth_state", "visit", ["booth_id", "floor_state"])


def downgrade() -> None:
    """Drop the index of visits by booth and floor state."""
    op.drop_index("visit_booth_state", table_name="visit")
