"""Migration 0016 gives the booked channel the public page's switch, off for every site, on a
database of 0015 with a site that has its booking row and bookings, and takes it away again, on
both engines."""

from __future__ import annotations

import flask_migrate
import sqlalchemy as sa

from checkin.extensions import db
from checkin.services import bookings
from tests.test_booking_migration import empty_database
from tests.test_bookings import TOMORROW
from tests.test_migrations import applied_revision, insert_old_site, site_as_migrated

__all__ = ["empty_database"]  # the fixture the test asks for
CODE = "ABCDE23456"


def site_booking_columns() -> set[str]:
    return {column["name"] for column in sa.inspect(db.engine).get_columns("site_booking")}


def test_upgrading_to_0016_keeps_the_page_off_and_the_bookings(empty_database, clock):
    flask_migrate.upgrade(revision="0015")
    with db.engine.begin() as connection:
        insert_old_site(connection, clock.now)
        connection.execute(
            sa.text(
                "INSERT INTO site_booking (site_id, capacity, release_at)"
                " SELECT id, 87, '11:00:00' FROM site"
            )
        )
        connection.execute(
            sa.text(
                "INSERT INTO booking_session (site_id, starts, ends, capacity)"
                " SELECT id, '08:00:00', '10:00:00', 30 FROM site"
            )
        )
        connection.execute(
            sa.text(
                "INSERT INTO booking (site_id, day, session_id, kind, name, name_key, phone,"
                " nik_last4, code, status, created_at)"
                " SELECT site_id, :day, id, 'visit', 'Siti', 'siti', '0812345678', '1234',"
                " :code, 'booked', :at FROM booking_session"
            ),
            {"day": TOMORROW, "code": CODE, "at": clock.now},
        )
    flask_migrate.upgrade(revision="0016")
    assert applied_revision() == "0016" and "public_page" in site_booking_columns()
    site = site_as_migrated()
    assert bookings.setup_of(site).public_page is False
    bookings.set_public_page(site, True, None, clock.now)
    db.session.commit()
    assert bookings.setup_of(site).public_page is True
    db.session.remove()
    with db.engine.connect() as connection:  # the booking model has columns of later revisions
        assert connection.scalar(sa.text("SELECT status FROM booking")) == "booked"
    flask_migrate.downgrade(revision="0015")
    assert applied_revision() == "0015" and "public_page" not in site_booking_columns()
    with db.engine.connect() as connection:
        assert connection.scalar(sa.text("SELECT capacity FROM site_booking")) == 87
        assert connection.scalar(sa.text("SELECT code FROM booking")) == CODE
