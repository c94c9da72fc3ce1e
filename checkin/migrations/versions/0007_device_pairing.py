"""Paired door tablets and staff PINs: a tablet's long-lived credential, pairing codes, PINs.

Only hashes are stored: of the tablet's credential, of each pairing code and of each PIN.
Existing tablets stay unpaired and existing accounts have no PIN: password login is unchanged.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0005"
branch_labels = None
depends_on = None

INSTANT = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Add the tablet's credential and the account's PIN; create pairing codes."""
    with op.batch_alter_table("device") as batch:
        batch.add_column(sa.Column("credential_hash", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("paired_at", INSTANT, nullable=True))
        batch.add_column(sa.Column("unpaired_at", INSTANT, nullable=True))
        batch.create_unique_constraint("device_credential_once", ["credential_hash"])
    with op.batch_alter_table("user_account") as batch:
        batch.add_column(sa.Column("pin_hash", sa.String(length=256), nullable=True))
    op.create_table(
        "pairing_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", INSTANT, nullable=False),
        sa.Column("expires_at", INSTANT, nullable=False),
        sa.Column("used_at", INSTANT, nullable=True),
        sa.Column("device_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"]),
        sa.ForeignKeyConstraint(["created_by_id"], ["user_account.id"]),
        sa.ForeignKeyConstraint(["device_id"], ["device.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code_hash", name="pairing_code_once"),
    )


def downgrade() -> None:
    """Drop pairing codes, PINs and tablets' credentials: paired tablets must log in again."""
    op.drop_table("pairing_code")
    with op.batch_alter_table("user_account") as batch:
        batch.drop_column("pin_hash")
    with op.batch_alter_table("device") as batch:
        batch.drop_constraint("device_credential_once", type_="unique")
        batch.drop_column("unpaired_at")
        batch.drop_column("paired_at")
        batch.drop_column("credential_hash")
