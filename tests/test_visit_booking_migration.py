"""Migration 0013 lets a visit name its booking, on a database of 0012 with visits and bookings,
and takes it away again, on both engines."""

from __future__ import annotations

import flask_migrate
import sqlalchemy as sa

from checkin.domain import limits
from checkin.extensions import db
from checkin.models import Site, Visit
from checkin.services import bookings, checkins
from checkin.services.checkins import CheckInData
from tests.conftest import PASSING
from tests.test_booking_migration import empty_database
from tests.test_bookings import LATE_MORNING, TODAY, at
from tests.test_migrations import applied_revision, insert_old_admitted_visit, insert_old_site

__all__ = ["empty_database"]  # the fixture the test asks for


CODE = "ABCDE23456"
TIMES = (sa.bindparam("starts", type_=sa.Time), sa.bindparam("ends", type_=sa.Time))


def insert_booking_of_0012(connection: sa.Connection, day, starts, code: str, now) -> None:
    """Add the default sessions, one of them with one place booked, and that booking."""
    for session_starts, ends, places in limits.DEFAULT_BOOKING_SESSIONS:
        connection.execute(
            sa.text(
                "INSERT INTO booking_session (site_id, starts, ends, capacity)"
                " SELECT id, :starts, :ends, :places FROM site"
            ).bindparams(*TIMES),
            {"starts": session_starts, "ends": ends, "places": places},
        )
    connection.execute(
        sa.text(
            "INSERT INTO session_day (site_id, day, session_id, capacity, booked, admitted,"
            " released) SELECT site_id, :day, id, capacity, 1, 0, 0 FROM booking_session"
            " WHERE starts = :starts"
        ).bindparams(TIMES[0]),
        {"day": day, "starts": starts},
    )
    connection.execute(
        sa.text(
            "INSERT INTO booking (site_id, day, session_id, kind, name, name_key, phone,"
            " nik_last4, code, status, created_at) SELECT site_id, :day, id, 'visit',"
            " 'Pengunjung 1', 'pengunjung 1', '08123000001', '0001', :code, 'booked', :at"
            " FROM booking_session WHERE starts = :starts"
        ).bindparams(TIMES[0]),
        {"day": day, "starts": starts, "code": code, "at": now},
    )


def visit_columns() -> set[str]:
    return {column["name"] for column in sa.inspect(db.engine).get_columns("visit")}


def test_upgrading_to_0013_admits_a_booking_made_before_and_keeps_the_visits(empty_database, clock):
    flask_migrate.upgrade(revision="0012")
    with db.engine.begin() as connection:
        insert_old_site(connection, clock.now)
        insert_old_admitted_visit(connection, clock.now, "Siti Aminah")
        # As the booking service of 0012 stored a booking of today's 10:00 session (today's
        # service reads columns later migrations add).
        insert_booking_of_0012(connection, TODAY, LATE_MORNING, CODE, at(7))
    flask_migrate.upgrade(revision="0013")
    assert applied_revision() == "0013" and "booking_id" in visit_columns()
    site = db.session.scalar(sa.select(Site))
    assert db.session.scalar(sa.select(Visit.booking_id)) is None  # the visit made before
    came = checkins.check_in(site, None, CheckInData(**PASSING, booking_code=CODE), at(10))
    assert (came.visit.slot, came.quota.used) == (2, 1)  # after the old slot 1, no walk-in slot
    assert bookings.took_place(came.visit)
    db.session.remove()
    flask_migrate.downgrade(revision="0012")
    assert applied_revision() == "0012" and "booking_id" not in visit_columns()
    with db.engine.connect() as connection:
        assert connection.scalar(sa.text("SELECT count(*) FROM visit")) == 2
        assert connection.scalar(sa.text("SELECT status FROM booking")) == "admitted"
