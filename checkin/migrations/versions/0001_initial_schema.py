"""Create the tables of checkin's first release (what `create_all` made before migrations)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Written out, not imported from checkin.models: a migration must keep meaning what it meant
# when it was written, whatever the models become. Instants are stored as UTC (UTCDateTime).
INSTANT = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create sites, accounts, tokens, day counters, visits and the audit log."""
    op.create_table(
        "site",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("timezone", sa.String(length=40), nullable=False),
        sa.Column("daily_quota", sa.Integer(), nullable=False),
        sa.Column("fever_cutoff_dc", sa.Integer(), nullable=False),
        sa.Column("recheck_minutes", sa.Integer(), nullable=False),
        sa.Column("online_service_url", sa.String(length=300), nullable=False),
        sa.Column("created_at", INSTANT, nullable=False),
        sa.CheckConstraint("daily_quota >= 0", name="site_quota_non_negative"),
        sa.CheckConstraint("fever_cutoff_dc BETWEEN 340 AND 420", name="site_cutoff_plausible"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    op.create_table(
        "day_quota",
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        *(
            sa.Column(counter, sa.Integer(), nullable=False)
            for counter in (
                "quota_limit",
                "used",
                "issued",
                "checks",
                "refused",
                "rechecks",
                "refused_fever",
                "refused_no_hand_sanitiser",
                "refused_no_mask",
                "refused_no_distancing",
                "refused_quota_full",
            )
        ),
        sa.CheckConstraint("used <= quota_limit", name="day_quota_within_limit"),
        sa.CheckConstraint("used >= 0 AND used <= issued", name="day_quota_used_counted"),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"]),
        sa.PrimaryKeyConstraint("site_id", "day"),
    )
    op.create_table(
        "user_account",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=80), nullable=False),
        sa.Column("password_hash", sa.String(length=256), nullable=False),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", INSTANT, nullable=True),
        sa.Column("created_at", INSTANT, nullable=False),
        sa.CheckConstraint("role IN ('door', 'manager', 'admin')", name="user_role_known"),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("username"),
    )
    op.create_table(
        "api_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=80), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", INSTANT, nullable=False),
        sa.Column("revoked_at", INSTANT, nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_table(
        "visit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("local_hour", sa.SmallInteger(), nullable=False),
        sa.Column("checked_at", INSTANT, nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("visitor_name", sa.String(length=100), nullable=True),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("nik_last4", sa.String(length=4), nullable=True),
        sa.Column("purpose", sa.String(length=20), nullable=True),
        sa.Column("temperature_dc", sa.SmallInteger(), nullable=False),
        sa.Column("hand_sanitiser", sa.Boolean(), nullable=False),
        sa.Column("mask", sa.Boolean(), nullable=False),
        sa.Column("distancing", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("reasons", sa.String(length=120), nullable=False),
        sa.Column("slot", sa.Integer(), nullable=True),
        sa.Column("recheck_of_id", sa.Integer(), nullable=True),
        sa.Column("voided_at", INSTANT, nullable=True),
        sa.Column("voided_by_id", sa.Integer(), nullable=True),
        sa.Column("void_reason", sa.String(length=200), nullable=True),
        sa.Column("anonymised_at", INSTANT, nullable=True),
        sa.CheckConstraint(
            "(status = 'admitted') = (slot IS NOT NULL)", name="visit_slot_iff_admitted"
        ),
        sa.CheckConstraint(
            "status IN ('admitted', 'refused', 'recheck')", name="visit_status_known"
        ),
        sa.CheckConstraint(
            "temperature_dc BETWEEN 340 AND 420", name="visit_temperature_plausible"
        ),
        sa.ForeignKeyConstraint(["recheck_of_id"], ["visit.id"]),
        sa.ForeignKeyConstraint(["recorded_by_id"], ["user_account.id"]),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"]),
        sa.ForeignKeyConstraint(["voided_by_id"], ["user_account.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("recheck_of_id"),
        sa.UniqueConstraint("site_id", "day", "slot", name="visit_slot_once"),
    )
    op.create_index("visit_site_day_time", "visit", ["site_id", "day", "checked_at"])
    op.create_table(
        "audit_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("at", INSTANT, nullable=False),
        sa.Column("action", sa.String(length=30), nullable=False),
        sa.Column("detail", sa.String(length=500), nullable=False),
        sa.Column("visit_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"]),
        sa.ForeignKeyConstraint(["visit_id"], ["visit.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("audit_site_time", "audit_entry", ["site_id", "at"])


def downgrade() -> None:
    """Drop every table, children first."""
    for table in ("audit_entry", "visit", "api_token", "user_account", "day_quota", "site"):
        op.drop_table(table)
