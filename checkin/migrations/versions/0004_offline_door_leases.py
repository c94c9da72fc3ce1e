"""The offline door: tablets, leased slots, upload conflicts, client references, admitted count.

``day_quota.used`` now also counts slots that tablets hold; ``admitted`` counts the visitors
admitted. Before leases existed the two were the same, so ``admitted`` starts as ``used``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

INSTANT = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create tablets, leased slots and conflicts; add client references and the counters."""
    op.create_table(
        "device",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("created_at", INSTANT, nullable=False),
        sa.Column("last_seen_at", INSTANT, nullable=False),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("public_id"),
    )
    op.create_table(
        "leased_slot",
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("slot", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("leased_at", INSTANT, nullable=False),
        sa.Column("used_at", INSTANT, nullable=True),
        sa.Column("revoked_at", INSTANT, nullable=True),
        sa.ForeignKeyConstraint(["device_id"], ["device.id"]),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"]),
        sa.PrimaryKeyConstraint("site_id", "day", "slot"),
    )
    op.create_index("leased_slot_device_day", "leased_slot", ["device_id", "day"])
    op.create_table(
        "upload_conflict",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("client_ref", sa.String(length=36), nullable=False),
        sa.Column("recorded_at", INSTANT, nullable=False),
        sa.Column("uploaded_at", INSTANT, nullable=False),
        sa.Column("cause", sa.String(length=30), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["device_id"], ["device.id"]),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("site_id", "client_ref", name="upload_conflict_once"),
    )
    with op.batch_alter_table("visit") as batch:
        batch.add_column(sa.Column("client_ref", sa.String(length=36), nullable=True))
        batch.add_column(sa.Column("device_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_visit_device_id_device", "device", ["device_id"], ["id"])
        batch.create_unique_constraint("visit_client_ref_once", ["site_id", "client_ref"])
    with op.batch_alter_table("day_quota") as batch:
        batch.add_column(sa.Column("admitted", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(
            sa.Column("refused_no_offline_slot", sa.Integer(), server_default="0", nullable=False)
        )
    op.execute("UPDATE day_quota SET admitted = used")
    with op.batch_alter_table("day_quota") as batch:
        batch.create_check_constraint(
            "day_quota_admitted_used", "admitted >= 0 AND admitted <= used"
        )


def downgrade() -> None:
    """Drop the offline door's tables and columns; slots tablets held stay counted as used."""
    with op.batch_alter_table("day_quota") as batch:
        batch.drop_constraint("day_quota_admitted_used", type_="check")
        batch.drop_column("refused_no_offline_slot")
        batch.drop_column("admitted")
    with op.batch_alter_table("visit") as batch:
        batch.drop_constraint("visit_client_ref_once", type_="unique")
        batch.drop_constraint("fk_visit_device_id_device", type_="foreignkey")
        batch.drop_column("device_id")
        batch.drop_column("client_ref")
    op.drop_table("upload_conflict")
    op.drop_index("leased_slot_device_day", table_name="leased_slot")
    op.drop_table("leased_slot")
    op.drop_table("device")
