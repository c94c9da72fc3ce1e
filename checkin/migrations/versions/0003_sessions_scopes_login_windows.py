"""Session versions, token scopes, and login windows per account and address (no account lock).

The lock on the account itself (``failed_logins``, ``locked_until``) goes: anyone could lock
anyone out with it. Tokens made before scopes keep what they could do through the API.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

INSTANT = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Add session versions and token scopes, replace the account lock by login windows."""
    with op.batch_alter_table("user_account") as batch:
        batch.add_column(
            sa.Column("session_version", sa.Integer(), server_default="0", nullable=False)
        )
        batch.drop_column("failed_logins")
        batch.drop_column("locked_until")
    with op.batch_alter_table("api_token") as batch:
        batch.add_column(
            sa.Column("scopes", sa.String(length=40), server_default="checkin read", nullable=False)
        )
    op.create_table(
        "login_window",
        sa.Column("username_digest", sa.String(length=64), nullable=False),
        sa.Column("address_digest", sa.String(length=64), nullable=False),
        sa.Column("started_at", INSTANT, nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("full_windows", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("username_digest", "address_digest"),
    )


def downgrade() -> None:
    """Bring back the account lock (unlocked), drop scopes, session versions and windows."""
    op.drop_table("login_window")
    with op.batch_alter_table("api_token") as batch:
        batch.drop_column("scopes")
    with op.batch_alter_table("user_account") as batch:
        batch.add_column(sa.Column("locked_until", INSTANT, nullable=True))
        batch.add_column(
            sa.Column("failed_logins", sa.Integer(), server_default="0", nullable=False)
        )
        batch.drop_column("session_version")
