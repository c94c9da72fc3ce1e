"""Whom the public booking page names for questions about personal data (UU 27/2022).

Every site has none until a manager sets it, existing sites included: their notice keeps
telling visitors to ask the office's staff.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the site's privacy contact, empty."""
    with op.batch_alter_table("site") as batch:
        batch.add_column(sa.Column("privacy_contact", sa.String(length=200), nullable=True))


def downgrade() -> None:
    """Drop it: the notice asks the office's staff again."""
    with op.batch_alter_table("site") as batch:
        batch.drop_column("privacy_contact")
