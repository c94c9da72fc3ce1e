"""Bookings racing on PostgreSQL (whose rows a transaction may not see until the other commits):
a session never takes more bookings than its places, and a person never holds two a day.

A control first shows the race is real here: a booking that counts the bookings and then
inserts, as a naive service would, overfills the session.
"""

from __future__ import annotations

import threading
import time as clock_time
from collections import Counter
from collections.abc import Callable
from datetime import time

import pytest
import sqlalchemy as sa

from checkin.domain.errors import ServiceError
from checkin.extensions import db
from checkin.models import Booking, BookingSession, SessionDay, Site
from checkin.services import bookings
from tests.test_bookings import TOMORROW, visitor

PLACES = 5
# Within the pool (5 connections and 10 more), beside the test's own.
RACERS = 10
# Inside each transaction, after its first write: the others' statements interleave here.
WIDENED = 0.005


@pytest.fixture
def postgresql_only(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite lets one writer in at a time: the race cannot happen there")


@pytest.fixture
def widened(app):
    @sa.event.listens_for(db.engine, "after_cursor_execute")
    def widen(_connection, _cursor, statement, *_args) -> None:
        if statement.startswith(("UPDATE session_day", "INSERT INTO session_day", "SELECT count")):
            clock_time.sleep(WIDENED)

    yield
    sa.event.remove(db.engine, "after_cursor_execute", widen)


@pytest.fixture
def small_session(site) -> int:
    session = BookingSession(site_id=site.id, starts=time(8), ends=time(10), capacity=PLACES)
    db.session.add(session)
    db.session.commit()
    return session.id


def race(app, site_id: int, works: list[Callable[[Site], object]]) -> Counter:
    """Run each work in its own thread, session and transaction, started together; count how
    each ended: "booked", or the code of the service error that refused it."""
    start = threading.Barrier(len(works))
    ended: Counter = Counter()

    def run(work: Callable[[Site], object]) -> None:
        with app.app_context():
            site = db.session.get(Site, site_id)
            start.wait()
            try:
                work(site)
                db.session.commit()
                ended["booked"] += 1
            except ServiceError as refusal:
                db.session.rollback()
                ended[refusal.code] += 1
            finally:
                db.session.remove()

    racers = [threading.Thread(target=run, args=(work,)) for work in works]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join(timeout=30)
    return ended


def stored(session_id: int) -> tuple[int, int]:
    """Return the session's counted and stored bookings of tomorrow."""
    db.session.expire_all()
    row = db.session.scalar(sa.select(SessionDay).where(SessionDay.session_id == session_id))
    rows = db.session.scalar(
        sa.select(sa.func.count()).where(Booking.session_id == session_id, Booking.day == TOMORROW)
    )
    return (row.booked if row else 0), rows


def naive_book(
    number: int, session_id: int, now, counted: threading.Barrier
) -> Callable[[Site], None]:
    """Return a booking that looks for room, then takes it: what the service must not do.

    Every racer counts before any inserts (``counted``): on a loaded machine a racer started
    late would otherwise count after the first ones committed, and the control would pass by
    luck of the scheduler rather than show what the database lets through.
    """

    def book(site: Site) -> None:
        taken = db.session.scalar(
            sa.select(sa.func.count()).where(
                Booking.session_id == session_id, Booking.day == TOMORROW
            )
        )
        counted.wait(timeout=10)
        if taken >= PLACES:
            raise bookings.SessionFull(time(8), TOMORROW)
        data = visitor(number)
        phone = bookings.booking_rules.phone_key(data.phone)
        session = db.session.get(BookingSession, session_id)
        values = bookings._values(site, data, session, phone, now)
        db.session.add(Booking(**values, code=bookings.booking_rules.new_code()))

    return book


def test_control_counting_then_booking_overfills_a_session(
    app, postgresql_only, widened, site, small_session, clock
):
    counted = threading.Barrier(RACERS)
    works = [naive_book(number, small_session, clock.now, counted) for number in range(RACERS)]
    ended = race(app, site.id, works)
    assert ended["booked"] > PLACES, ended
    assert stored(small_session)[1] > PLACES


def test_racing_bookings_never_take_more_than_a_session_s_places(
    app, postgresql_only, widened, site, small_session, clock
):
    for round_ in range(3):
        offset = round_ * RACERS
        works = [
            lambda site, number=number: bookings.book(site, visitor(number), clock.now)
            for number in range(offset, offset + RACERS)
        ]
        ended = race(app, site.id, works)
        # The first round fills the session; the later ones find it full.
        booked = PLACES if round_ == 0 else 0
        assert ended == Counter({"booked": booked, "session_full": RACERS - booked}), ended
        assert stored(small_session) == (PLACES, PLACES)


def test_racing_bookings_of_one_person_leave_one_booking_and_one_place_taken(
    app, postgresql_only, widened, site, clock
):
    sessions = bookings.sessions_of(site)
    db.session.commit()
    starts = [session.starts for session in sessions]
    for number in range(10):
        works = [
            lambda site, at=at, number=number: bookings.book(
                site, visitor(number, starts=at), clock.now
            )
            for at in starts
        ]
        ended = race(app, site.id, works)
        assert ended == Counter({"booked": 1, "already_booked": len(starts) - 1}), ended
    db.session.expire_all()
    counted = db.session.scalar(sa.select(sa.func.sum(SessionDay.booked)))
    assert counted == db.session.scalar(sa.select(sa.func.count()).select_from(Booking)) == 10
