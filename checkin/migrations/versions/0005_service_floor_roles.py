"""The service floor and the new roles: booths, each visit's way across the floor, officers,
head office, display tokens; and re-test visitors who left without their second reading.

Visits admitted before this revision are counted as waiting: the floor did not exist then, so
they never show in a day's waiting or service times (those need a call and an end).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

INSTANT = sa.DateTime(timezone=True)
OLD_ROLES = "role IN ('door', 'manager', 'admin')"
NEW_ROLES = "role IN ('door', 'officer', 'manager', 'head_office', 'admin')"
FLOOR_STATES = (
    "floor_state IS NULL OR floor_state IN ('waiting', 'called', 'serving', 'done', 'no_show')"
)
NEW_ROLE_ACCOUNTS = "SELECT id FROM user_account WHERE role IN ('officer', 'head_office')"


def upgrade() -> None:
    """Create booths; add the floor's steps to visits, the floor settings and the new roles."""
    op.create_table(
        "booth",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=40), nullable=False),
        sa.Column("in_use", sa.Boolean(), nullable=False),
        sa.Column("officer_id", sa.Integer(), nullable=True),
        sa.Column("opened_at", INSTANT, nullable=True),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"]),
        sa.ForeignKeyConstraint(["officer_id"], ["user_account.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("site_id", "number", name="booth_number_once"),
        sa.CheckConstraint("number BETWEEN 1 AND 99", name="booth_number_range"),
        sa.CheckConstraint(
            "(officer_id IS NULL) = (opened_at IS NULL)", name="booth_open_by_officer"
        ),
    )
    with op.batch_alter_table("visit") as batch:
        batch.add_column(sa.Column("left_at", INSTANT, nullable=True))
        batch.add_column(sa.Column("floor_state", sa.String(length=10), nullable=True))
        batch.add_column(sa.Column("booth_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("called_by_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("called_at", INSTANT, nullable=True))
        batch.add_column(sa.Column("calls", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(sa.Column("serving_at", INSTANT, nullable=True))
        batch.add_column(sa.Column("finished_at", INSTANT, nullable=True))
        batch.create_foreign_key("fk_visit_booth_id_booth", "booth", ["booth_id"], ["id"])
        batch.create_foreign_key(
            "fk_visit_called_by_id_user_account", "user_account", ["called_by_id"], ["id"]
        )
        batch.create_check_constraint("visit_floor_state_known", FLOOR_STATES)
        batch.create_index(
            "visit_site_day_floor", ["site_id", "day", "floor_state", "slot"], unique=False
        )
    op.execute("UPDATE visit SET floor_state = 'waiting' WHERE status = 'admitted'")
    with op.batch_alter_table("site") as batch:
        batch.add_column(
            sa.Column("booths_per_officer", sa.Integer(), server_default="5", nullable=False)
        )
        batch.add_column(
            sa.Column("wait_kpi_minutes", sa.Integer(), server_default="30", nullable=False)
        )
    with op.batch_alter_table("user_account") as batch:
        batch.drop_constraint("user_role_known", type_="check")
        batch.alter_column("role", type_=sa.String(length=12), existing_nullable=False)
        batch.create_check_constraint("user_role_known", NEW_ROLES)


def downgrade() -> None:
    """Drop the floor; officers and head-office accounts cannot exist before it, so go first."""
    op.execute(f"DELETE FROM api_token WHERE user_id IN ({NEW_ROLE_ACCOUNTS})")
    with op.batch_alter_table("user_account") as batch:
        batch.drop_constraint("user_role_known", type_="check")
    op.execute("UPDATE visit SET called_by_id = NULL")
    op.execute("DELETE FROM user_account WHERE role IN ('officer', 'head_office')")
    with op.batch_alter_table("user_account") as batch:
        batch.alter_column("role", type_=sa.String(length=10), existing_nullable=False)
        batch.create_check_constraint("user_role_known", OLD_ROLES)
    with op.batch_alter_table("site") as batch:
        batch.drop_column("wait_kpi_minutes")
        batch.drop_column("booths_per_officer")
    with op.batch_alter_table("visit") as batch:
        batch.drop_index("visit_site_day_floor")
        batch.drop_constraint("visit_floor_state_known", type_="check")
        batch.drop_constraint("fk_visit_called_by_id_user_account", type_="foreignkey")
        batch.drop_constraint("fk_visit_booth_id_booth", type_="foreignkey")
        batch.drop_column("finished_at")
        batch.drop_column("serving_at")
        batch.drop_column("calls")
        batch.drop_column("called_at")
        batch.drop_column("called_by_id")
        batch.drop_column("booth_id")
        batch.drop_column("floor_state")
        batch.drop_column("left_at")
    op.drop_table("booth")
