"""Migration 0012 adds the booked channel to a database of the revision before it, and takes it
away again, on both engines."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import flask_migrate
import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory

from checkin.domain import limits
from checkin.extensions import db, migrate
from checkin.models import Site
from checkin.services import bookings, checkins, reports, transaction
from checkin.services.checkins import CheckInData
from tests.conftest import PASSING, create_tables
from tests.test_bookings import visitor
from tests.test_migrations import (
    applied_revision,
    drop_everything,
    insert_old_admitted_visit,
    insert_old_site,
    site_as_migrated,
)

BOOKING_TABLES = {"site_booking", "booking_session", "session_day", "booking"}


@pytest.fixture
def empty_database(app):
    """Empty the database; put the tables back afterwards as the ``app`` fixture makes them."""
    drop_everything()
    yield
    drop_everything()
    create_tables()


def before_bookings() -> str:
    """Return the revision 0012 follows."""
    return ScriptDirectory.from_config(migrate.get_config()).get_revision("0012").down_revision


def tables() -> set[str]:
    return set(sa.inspect(db.engine).get_table_names())


def test_upgrading_past_0012_lets_an_existing_site_take_bookings_beside_its_walk_ins(
    empty_database, clock
):
    previous = before_bookings()
    flask_migrate.upgrade(revision=previous)
    with db.engine.begin() as connection:
        insert_old_site(connection, clock.now)
        insert_old_admitted_visit(connection, clock.now, "Siti Aminah")
    # To the newest revision, as an office upgrades: today's services need the later columns.
    flask_migrate.upgrade()
    assert tables() >= BOOKING_TABLES
    site = db.session.scalar(sa.select(Site))
    booked = bookings.book(site, visitor(1), clock.now)
    db.session.commit()
    assert booked.created and [p.booked for p in bookings.places(site, visitor(1).day)] == [1, 0, 0]
    with transaction.owned():
        walk_in = checkins.check_in(site, None, CheckInData(**PASSING), clock.now)
    assert (walk_in.visit.slot, walk_in.quota.limit) == (2, 60)
    db.session.remove()
    flask_migrate.downgrade(revision=previous)
    assert applied_revision() == previous
    assert not BOOKING_TABLES & tables()
    with db.engine.connect() as connection:
        assert connection.scalar(sa.text("SELECT count(*) FROM visit")) == 2


def insert_old_session_day(
    connection: sa.Connection, day: date, capacity: int, booked: int, admitted: int = 0
) -> int:
    """Add Kediri's 10:00 session and its row of ``day`` as release 0012 stored them; return
    the session's id."""
    session_id = connection.scalar(
        sa.text(
            "INSERT INTO booking_session (site_id, starts, ends, capacity)"
            " VALUES (1, :starts, :ends, :capacity) RETURNING id"
        ).bindparams(
            sa.bindparam("starts", type_=sa.Time()), sa.bindparam("ends", type_=sa.Time())
        ),
        {"starts": time(10), "ends": time(12), "capacity": capacity},
    )
    connection.execute(
        sa.text(
            "INSERT INTO session_day (site_id, day, session_id, capacity, booked, admitted,"
            " released) VALUES (1, :day, :session_id, :capacity, :booked, :admitted, 0)"
        ),
        {
            "day": day,
            "session_id": session_id,
            "capacity": capacity,
            "booked": booked,
            "admitted": admitted,
        },
    )
    return session_id


def insert_old_booking(
    connection: sa.Connection, at: datetime, day: date, session_id: int, number: int, status: str
) -> str:
    """Add a booking of made-up visitor ``number`` as release 0012 stored it; return its code."""
    code = "KDRMASUK" + limits.BOOKING_CODE_ALPHABET[number] * 2
    connection.execute(
        sa.text(
            "INSERT INTO booking (site_id, day, session_id, kind, name, name_key, phone,"
            " nik_last4, code, status, created_at)"
            " VALUES (1, :day, :session_id, 'visit', :name, :name, :phone, '1234', :code,"
            " :status, :at)"
        ),
        {
            "day": day,
            "session_id": session_id,
            "name": f"pengunjung {number}",
            "phone": f"08123{number:06d}",
            "code": code,
            "status": status,
            "at": at,
        },
    )
    return code


def session_day_columns() -> set[str]:
    return {column["name"] for column in sa.inspect(db.engine).get_columns("session_day")}


def test_upgrading_to_0015_counts_the_no_shows_of_the_days_released_before(empty_database, clock):
    flask_migrate.upgrade(revision="0014")
    day = date(2026, 11, 24)
    with db.engine.begin() as connection:
        insert_old_site(connection, clock.now)
        # As release 0014 left a session released after its window: booked lowered to the
        # one admitted, the two bookings nobody came for marked released.
        session_id = insert_old_session_day(connection, day, capacity=1, booked=1, admitted=1)
        for number, status in enumerate(("admitted", "released", "released", "cancelled")):
            insert_old_booking(connection, clock.now, day, session_id, number, status)
    flask_migrate.upgrade(revision="0015")
    assert applied_revision() == "0015" and "no_shows" in session_day_columns()
    site = site_as_migrated()
    (totals,) = reports.daily_report(site, day, day, day + timedelta(days=1))
    assert (totals.booked, totals.came, totals.no_shows) == (3, 1, 2)
    db.session.remove()
    flask_migrate.downgrade(revision="0014")
    assert applied_revision() == "0014" and "no_shows" not in session_day_columns()
    with db.engine.connect() as connection:
        assert connection.scalar(sa.text("SELECT booked FROM session_day")) == 1
