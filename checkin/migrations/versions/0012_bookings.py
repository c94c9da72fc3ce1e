"""Booked visits beside walk-ins: a site's booked channel, its sessions, each session's places
per day, and the bookings.

Existing sites get no row: a site without one books into the default sessions (87 places).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

INSTANT = sa.DateTime(timezone=True)
HOLDING = sa.text("status IN ('booked', 'admitted')")


def upgrade() -> None:
    """Add the booked channel's tables."""
    op.create_table(
        "site_booking",
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("release_at", sa.Time(), nullable=False),
        sa.CheckConstraint("capacity >= 0", name="site_booking_capacity"),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"]),
        sa.PrimaryKeyConstraint("site_id"),
    )
    op.create_table(
        "booking_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("starts", sa.Time(), nullable=False),
        sa.Column("ends", sa.Time(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.CheckConstraint("starts < ends", name="booking_session_in_order"),
        sa.CheckConstraint("capacity >= 0", name="booking_session_capacity"),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("site_id", "starts", name="booking_session_start"),
    )
    op.create_table(
        "session_day",
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("booked", sa.Integer(), nullable=False),
        sa.Column("admitted", sa.Integer(), nullable=False),
        sa.Column("released", sa.Integer(), nullable=False),
        sa.Column("released_at", INSTANT, nullable=True),
        sa.CheckConstraint("booked >= 0 AND booked <= capacity", name="session_day_within"),
        sa.CheckConstraint("admitted >= 0 AND admitted <= booked", name="session_day_admitted"),
        sa.CheckConstraint("released >= 0", name="session_day_released"),
        sa.ForeignKeyConstraint(["session_id"], ["booking_session.id"]),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"]),
        sa.PrimaryKeyConstraint("site_id", "day", "session_id"),
    )
    op.create_table(
        "booking",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=5), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("name_key", sa.String(length=200), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("nik_last4", sa.String(length=4), nullable=False),
        sa.Column("purpose", sa.String(length=20), nullable=True),
        sa.Column("contact", sa.String(length=300), nullable=True),
        sa.Column("external_ref", sa.String(length=64), nullable=True),
        sa.Column("code", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_at", INSTANT, nullable=False),
        sa.Column("admitted_at", INSTANT, nullable=True),
        sa.Column("visit_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "status IN ('booked', 'admitted', 'cancelled', 'released')",
            name="booking_status_known",
        ),
        sa.CheckConstraint("kind IN ('visit', 'video')", name="booking_kind_known"),
        sa.ForeignKeyConstraint(["session_id"], ["booking_session.id"]),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"]),
        sa.ForeignKeyConstraint(["visit_id"], ["visit.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
        sa.UniqueConstraint("site_id", "external_ref", name="booking_external_ref"),
        sa.UniqueConstraint("visit_id"),
    )
    op.create_index(
        "booking_one_per_person",
        "booking",
        ["site_id", "day", "nik_last4", "phone"],
        unique=True,
        sqlite_where=HOLDING,
        postgresql_where=HOLDING,
    )
    op.create_index("booking_site_day", "booking", ["site_id", "day", "session_id"])


def downgrade() -> None:
    """Drop them, bookings and all."""
    op.drop_index("booking_site_day", table_name="booking")
    op.drop_index("booking_one_per_person", table_name="booking")
    op.drop_table("booking")
    op.drop_table("session_day")
    op.drop_table("booking_session")
    op.drop_table("site_booking")
