"""Booked visitors at the door, on both engines: on time they take their booked place and a queue
number of the one floor queue, never a walk-in slot, once only; early, late, on another day or
with the booking no longer open, the walk-in rules decide; a refused visitor keeps the booking."""

from __future__ import annotations

import time as clock_time
from collections import Counter
from datetime import timedelta

import pytest
import sqlalchemy as sa

from checkin.domain import booking_rules
from checkin.domain.booking_errors import BookingAlreadyAdmitted, UnknownBooking
from checkin.domain.calling import WAITING
from checkin.extensions import db
from checkin.models import Booking, DayQuota, Visit
from checkin.services import bookings, checkins, day_counter
from checkin.services.checkins import CheckInData
from tests.conftest import PASSING
from tests.test_booking_races import RACERS, WIDENED, postgresql_only, race
from tests.test_bookings import (
    AFTERNOON,
    LATE_MORNING,
    MORNING,
    TODAY,
    TOMORROW,
    at,
    session_row,
    visitor,
)
from tests.test_leases import statements_of

__all__ = ["postgresql_only"]  # a fixture the race test asks for

FEVER = 385


def booked(site, number: int = 1, **where) -> Booking:
    """Book visitor ``number`` (today's late-morning session unless told), made at 07:00."""
    made = bookings.book(site, visitor(number, **({"day": TODAY} | where)), at(7)).booking
    db.session.commit()
    return made


def walk_in_counters(site) -> tuple[int, int, int]:
    """Return today's walk-in slots used, walk-ins admitted, and checks counted."""
    db.session.expire_all()
    row = db.session.get(DayQuota, (site.id, TODAY))
    return row.used, row.admitted, row.checks


def test_a_booked_visitor_on_time_takes_their_place_and_a_number_of_the_same_queue(
    site, make_visit
):
    booking = booked(site, starts=LATE_MORNING)
    first_walk_in = make_visit(now=at(9, 50)).visit
    used_before = walk_in_counters(site)
    came = make_visit(now=at(10), booking_code=booking.code.lower()).visit
    next_walk_in = make_visit(now=at(10, 5)).visit
    db.session.refresh(booking)
    assert (came.status, came.floor_state, came.booking_id) == ("admitted", WAITING, booking.id)
    assert (booking.status, booking.visit_id, booking.admitted_at) == ("admitted", came.id, at(10))
    # One series of numbers, in the order visitors came: the floor calls them in that order.
    assert [first_walk_in.slot, came.slot, next_walk_in.slot] == [1, 2, 3]
    assert walk_in_counters(site) == (used_before[0] + 1, used_before[1] + 1, used_before[2] + 1)
    assert session_row(site, TODAY, LATE_MORNING).admitted == 1
    assert bookings.took_place(came) and bookings.door_answer(came).booked


def test_a_booked_visitor_on_time_comes_in_when_the_walk_in_quota_is_used_up(site, make_visit):
    site.daily_quota = 1
    db.session.commit()
    booking = booked(site, starts=LATE_MORNING)
    make_visit(now=at(9, 50))
    assert make_visit(now=at(9, 55)).visit.reasons == ["quota_full"]
    came = make_visit(now=at(10), booking_code=booking.code)
    assert (came.visit.status, came.quota.left, came.quota.used) == ("admitted", 0, 1)


@pytest.mark.parametrize(
    ("where", "checked_at", "channel"),
    [
        ({"starts": AFTERNOON}, at(12, 29), booking_rules.EARLY),
        ({"starts": MORNING}, at(10, 31), booking_rules.LATE),
        ({"day": TOMORROW, "starts": LATE_MORNING}, at(10), booking_rules.WRONG_DAY),
    ],
)
def test_early_late_or_on_another_day_the_walk_in_rules_decide_and_the_booking_stays(
    site, make_visit, where, checked_at, channel
):
    booking = booked(site, **where)
    came = make_visit(now=checked_at, booking_code=booking.code).visit
    db.session.refresh(booking)
    assert (came.status, came.slot, came.booking_id) == ("admitted", 1, booking.id)
    assert walk_in_counters(site)[:2] == (1, 1)  # a walk-in slot
    assert (booking.status, booking.visit_id) == ("booked", None)
    assert bookings.door_answer(came).channel == channel and not bookings.took_place(came)


def test_a_cancelled_or_released_booking_meets_the_walk_in_rules(site, make_visit):
    cancelled, released = booked(site, 1, starts=LATE_MORNING), booked(site, 2, starts=MORNING)
    bookings.cancel(site, cancelled.code, at(8))
    bookings.release_unclaimed(site, None, at(11))
    db.session.commit()
    db.session.expire_all()  # the release updates bookings without loading them
    for booking, channel in ((cancelled, "cancelled"), (released, "released")):
        came = make_visit(now=at(11, 5), booking_code=booking.code).visit
        assert (came.status, bookings.door_answer(came).channel) == ("admitted", channel)
    assert walk_in_counters(site)[:2] == (2, 2)


def test_the_walk_in_rules_refuse_an_early_visitor_when_no_walk_in_slot_is_left(site, make_visit):
    site.daily_quota = 0
    db.session.commit()
    booking = booked(site, starts=AFTERNOON)
    came = make_visit(now=at(10), booking_code=booking.code).visit
    assert (came.status, came.reasons) == ("refused", ["quota_full"])
    assert db.session.get(Booking, booking.id).status == "booked"


def test_a_refused_health_check_is_counted_like_any_and_keeps_the_booking(site, make_visit):
    booking = booked(site, starts=LATE_MORNING)
    refused = make_visit(
        now=at(10), booking_code=booking.code, temperature_dc=FEVER, hand_sanitiser=False
    ).visit
    db.session.refresh(booking)
    assert (refused.status, refused.slot, refused.booking_id) == ("refused", None, booking.id)
    assert (booking.status, booking.visit_id) == ("booked", None)
    assert session_row(site, TODAY, LATE_MORNING).admitted == 0
    assert walk_in_counters(site) == (0, 0, 1)
    # Their booking is still theirs: a passing check later admits them to it.
    came = make_visit(now=at(10, 30), booking_code=booking.code).visit
    assert bookings.took_place(came) and bookings.door_answer(refused).booked


def test_a_re_test_of_a_booked_visitor_takes_their_booked_place(site, make_visit, clock):
    booking = booked(site, starts=LATE_MORNING)
    first = make_visit(now=at(10), booking_code=booking.code, temperature_dc=376).visit
    assert first.status == "recheck"
    second = checkins.second_reading(first, 365)
    assert second.booking_code == booking.code
    again = checkins.check_in(site, None, second, at(10) + timedelta(minutes=6)).visit
    assert again.status == "admitted" and bookings.took_place(again)


def test_a_booking_admits_once_and_an_unknown_code_admits_nobody(site, make_visit):
    booking = booked(site, starts=LATE_MORNING)
    make_visit(now=at(10), booking_code=booking.code)
    with pytest.raises(BookingAlreadyAdmitted) as twice:
        make_visit(now=at(10, 1), booking_code=booking.code)
    assert (twice.value.status, twice.value.admitted_at) == (409, at(10))
    with pytest.raises(UnknownBooking):
        make_visit(now=at(10, 1), booking_code="ABCD-EFGH-23")
    db.session.rollback()
    assert session_row(site, TODAY, LATE_MORNING).admitted == 1
    assert walk_in_counters(site) == (0, 0, 0)


def test_voiding_a_booked_admission_opens_the_booking_again_and_moves_no_walk_in_counter(
    site, make_visit, manager_user
):
    booking = booked(site, starts=LATE_MORNING)
    make_visit(now=at(9, 55))
    came = make_visit(now=at(10), booking_code=booking.code).visit
    before = walk_in_counters(site)
    checkins.void_visit(came, manager_user, "wrong visitor", at(10, 10))
    db.session.refresh(booking)
    assert (booking.status, booking.visit_id) == ("booked", None)
    assert session_row(site, TODAY, LATE_MORNING).admitted == 0
    assert walk_in_counters(site) == before
    again = make_visit(now=at(10, 15), booking_code=booking.code).visit
    assert again.slot == 3  # the voided number is never given again


def test_a_walk_in_check_sends_no_statement_for_bookings(site, make_visit, clock):
    make_visit()  # the day row exists
    booking = booked(site, starts=LATE_MORNING)
    walk_in = statements_of(lambda: make_visit(client_ref=None))
    as_booked = statements_of(lambda: make_visit(booking_code=booking.code))
    # The claim and the insert: a check without a booking code reads no booking.
    assert walk_in == 2
    assert as_booked > walk_in
    assert day_counter.quota_today(site, clock.now).used == 2


@pytest.fixture
def widened_admissions(app):
    """Widen each admission between its claim of the booking and its commit."""

    @sa.event.listens_for(db.engine, "after_cursor_execute")
    def widen(_connection, _cursor, statement, *_args) -> None:
        if statement.startswith(("UPDATE booking", "UPDATE session_day")):
            clock_time.sleep(WIDENED)

    yield
    sa.event.remove(db.engine, "after_cursor_execute", widen)


def test_racing_admissions_of_one_booking_admit_it_once(
    app, postgresql_only, widened_admissions, site
):
    booking = booked(site, starts=LATE_MORNING)
    check = CheckInData(**PASSING, booking_code=booking.code)
    works = [lambda site: checkins.record(site, None, check, at(10)) for _ in range(RACERS)]
    ended = race(app, site.id, works)
    assert ended == Counter({"booked": 1, "booking_already_admitted": RACERS - 1}), ended
    db.session.expire_all()
    admitted = db.session.scalars(sa.select(Visit).where(Visit.status == "admitted")).all()
    assert [visit.booking_id for visit in admitted] == [booking.id]
    assert db.session.get(Booking, booking.id).visit_id == admitted[0].id
    assert session_row(site, TODAY, LATE_MORNING).admitted == 1
    assert walk_in_counters(site)[:2] == (0, 0)
