"""Migration 0017 gives bookings their floor columns, on a database of 0016 with a visit and a
video session booked: the video session joins the officers' queue, the visit does not, and
the downgrade keeps both bookings, on both engines."""

from __future__ import annotations

import flask_migrate
import sqlalchemy as sa

from checkin.domain.calling import WAITING
from checkin.extensions import db
from checkin.models import Booking
from checkin.services import floor
from tests.test_booking_migration import empty_database
from tests.test_bookings import TODAY, at
from tests.test_migrations import applied_revision, insert_old_site, site_as_migrated

__all__ = ["empty_database"]  # the fixture the test asks for
FLOOR_COLUMNS = {"floor_state", "officer_id", "calls", "called_at", "missed_at", "serving_at"}


def booking_columns() -> set[str]:
    return {column["name"] for column in sa.inspect(db.engine).get_columns("booking")}


def test_upgrading_to_0017_puts_booked_video_sessions_in_the_queue(empty_database, clock):
    flask_migrate.upgrade(revision="0016")
    with db.engine.begin() as connection:
        insert_old_site(connection, clock.now)
        connection.execute(
            sa.text(
                "INSERT INTO booking_session (site_id, starts, ends, capacity)"
                " SELECT id, '08:00:00', '10:00:00', 30 FROM site"
            )
        )
        for code, kind, contact in (
            ("ABCDE23456", "visit", None),
            ("VWXYZ23457", "video", "https://meet.example.org/abc"),
        ):
            connection.execute(
                sa.text(
                    "INSERT INTO booking (site_id, day, session_id, kind, name, name_key, phone,"
                    " nik_last4, contact, code, status, created_at)"
                    " SELECT site_id, :day, id, :kind, 'Siti', 'siti', '0812345678', :nik,"
                    " :contact, :code, 'booked', :at FROM booking_session"
                ),
                {
                    "day": TODAY,
                    "kind": kind,
                    "nik": code[-4:],
                    "contact": contact,
                    "code": code,
                    "at": clock.now,
                },
            )
    flask_migrate.upgrade(revision="0017")
    assert applied_revision() == "0017" and booking_columns() >= FLOOR_COLUMNS
    states = dict(db.session.execute(sa.select(Booking.kind, Booking.floor_state)).all())
    assert states == {"visit": None, "video": WAITING}
    site = site_as_migrated()
    assert floor.queue(site, at(10)).waiting == 1
    db.session.remove()
    flask_migrate.downgrade(revision="0016")
    assert applied_revision() == "0016" and not FLOOR_COLUMNS & booking_columns()
    with db.engine.connect() as connection:
        assert connection.scalar(sa.text("SELECT count(*) FROM booking")) == 2
