"""Migration 0012 adds the booked channel to a database of the revision before it, and takes it
away again, on both engines."""

from __future__ import annotations

import flask_migrate
import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory

from checkin.extensions import db, migrate
from checkin.models import Site
from checkin.services import bookings, checkins, transaction
from checkin.services.checkins import CheckInData
from tests.conftest import PASSING
from tests.test_bookings import visitor
from tests.test_migrations import (
    applied_revision,
    drop_everything,
    insert_old_admitted_visit,
    insert_old_site,
)

BOOKING_TABLES = {"site_booking", "booking_session", "session_day", "booking"}


@pytest.fixture
def empty_database(app):
    """Empty the database; put the tables back afterwards as the ``app`` fixture makes them."""
    drop_everything()
    yield
    drop_everything()
    db.create_all()


def before_bookings() -> str:
    """Return the revision 0012 follows."""
    return ScriptDirectory.from_config(migrate.get_config()).get_revision("0012").down_revision


def tables() -> set[str]:
    return set(sa.inspect(db.engine).get_table_names())


def test_upgrading_to_0012_lets_an_existing_site_take_bookings_beside_its_walk_ins(
    empty_database, clock
):
    previous = before_bookings()
    flask_migrate.upgrade(revision=previous)
    with db.engine.begin() as connection:
        insert_old_site(connection, clock.now)
        insert_old_admitted_visit(connection, clock.now, "Siti Aminah")
    flask_migrate.upgrade(revision="0012")
    assert applied_revision() == "0012" and tables() >= BOOKING_TABLES
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
