"""Migration 0013 lets a visit name its booking, on a database of 0012 with visits and bookings,
and takes it away again, on both engines."""

from __future__ import annotations

import flask_migrate
import sqlalchemy as sa

from checkin.extensions import db
from checkin.models import Site, Visit
from checkin.services import bookings, checkins, transaction
from checkin.services.checkins import CheckInData
from tests.conftest import PASSING
from tests.test_booking_migration import (
    empty_database,
    insert_old_booking,
    insert_old_session_day,
)
from tests.test_bookings import TODAY, at
from tests.test_migrations import applied_revision, insert_old_admitted_visit, insert_old_site

__all__ = ["empty_database"]  # the fixture the test asks for


def visit_columns() -> set[str]:
    return {column["name"] for column in sa.inspect(db.engine).get_columns("visit")}


def test_upgrading_to_0013_admits_a_booking_made_before_and_keeps_the_visits(empty_database, clock):
    flask_migrate.upgrade(revision="0012")
    with db.engine.begin() as connection:
        insert_old_site(connection, clock.now)
        insert_old_admitted_visit(connection, clock.now, "Siti Aminah")
        session_id = insert_old_session_day(connection, TODAY, capacity=30, booked=1)
        code = insert_old_booking(connection, at(7), TODAY, session_id, 1, "booked")
    flask_migrate.upgrade(revision="0013")
    assert applied_revision() == "0013" and "booking_id" in visit_columns()
    # To the newest revision, as an office upgrades: today's services need the later columns.
    flask_migrate.upgrade()
    site = db.session.scalar(sa.select(Site))
    assert db.session.scalar(sa.select(Visit.booking_id)) is None  # the visit made before
    with transaction.owned():
        came = checkins.check_in(site, None, CheckInData(**PASSING, booking_code=code), at(10))
    assert (came.visit.slot, came.quota.used) == (2, 1)  # after the old slot 1, no walk-in slot
    assert bookings.took_place(came.visit)
    db.session.remove()
    flask_migrate.downgrade(revision="0012")
    assert applied_revision() == "0012" and "booking_id" not in visit_columns()
    with db.engine.connect() as connection:
        assert connection.scalar(sa.text("SELECT count(*) FROM visit")) == 2
        assert connection.scalar(sa.text("SELECT status FROM booking")) == "admitted"
