"""Video sessions on the service floor, on both engines: a video booking never passes the door,
joins the officers' one queue when its session starts, is called in one fair order with the
visitors admitted at the door, takes one of the officer's places like a booth, is called once
however many officers race for it, and records served, no answer (two tries) and done with
their times; the booked channel's figures count it as came or no-show."""

from __future__ import annotations

import threading
import time as clock_time
from collections.abc import Iterator
from datetime import time, timedelta

import pytest
import sqlalchemy as sa

from checkin.domain import booking_rules, calling
from checkin.domain.booking_errors import ContactInvalid, ContactOnVisit, VideoSessionNotAtDoor
from checkin.domain.calling import CALLED, DONE, NO_SHOW, SERVING, WAITING, InLine
from checkin.domain.errors import (
    BoothLimitReached,
    NobodyWaiting,
    NoRoomForVideo,
    ServiceError,
    UnknownVideoSession,
    WrongFloorState,
)
from checkin.extensions import db
from checkin.models import Booking, SessionDay, Site, User, Visit
from checkin.services import accounts, bookings, floor, reports, transaction, video
from tests.test_bookings import AFTERNOON, LATE_MORNING, MORNING, TODAY, at, visitor

MEET = "https://meet.example.org/abc-defg-hij"


@pytest.fixture
def officer(make_user) -> User:
    return make_user("officer")


def book_video(site: Site, number: int, starts: time = LATE_MORNING, **fields) -> Booking:
    """Book today's video session ``number`` of the session starting at ``starts``."""
    data = visitor(number, day=TODAY, starts=starts, kind="video", **fields)
    with transaction.owned():
        return bookings.book(site, data, at(7)).booking


def fresh(booking: Booking) -> Booking:
    return db.session.get(Booking, booking.id, populate_existing=True)


def owned(work, *args):
    with transaction.owned():
        return work(*args)


def open_booths(site: Site, officer: User, *numbers: int) -> None:
    for number in numbers:
        owned(floor.open_booth, site, officer, number, at(7))


# The pure rules.
VISIT_SINCE, VIDEO_SINCE = at(9, 40), at(10)


@pytest.mark.parametrize(
    ("visit", "video", "room", "called"),
    [
        (InLine("visit", 1, VISIT_SINCE), InLine("video", 2, VIDEO_SINCE), True, "visit"),
        (InLine("visit", 1, at(10, 20)), InLine("video", 2, VIDEO_SINCE), True, "video"),
        (InLine("visit", 1, VIDEO_SINCE), InLine("video", 2, VIDEO_SINCE), True, "visit"),
        (InLine("visit", 1, at(10, 20)), InLine("video", 2, VIDEO_SINCE), False, "visit"),
        (None, InLine("video", 2, VIDEO_SINCE), True, "video"),
        (None, InLine("video", 2, VIDEO_SINCE), False, None),
        (InLine("visit", 1, VISIT_SINCE), None, True, "visit"),
        (None, None, True, None),
    ],
)
def test_call_next_takes_whoever_waited_longer_that_the_officer_has_room_for(
    visit, video, room, called
):
    chosen = calling.next_in_line(visit, video, room)
    assert (chosen.kind if chosen else None) == called


@pytest.mark.parametrize(
    ("step", "calls", "state", "stamp"),
    [
        (calling.START, 1, SERVING, "serving_at"),
        (calling.FINISH, 1, DONE, "finished_at"),
        (calling.NO_ANSWER, 1, WAITING, "missed_at"),
        (calling.NO_ANSWER, 2, NO_SHOW, "finished_at"),
    ],
)
def test_a_video_step_ends_in_its_state_and_stamps_its_time(step, calls, state, stamp):
    rule = calling.video_step(step, calls)
    assert (rule.to_state, rule.stamp) == (state, stamp)


def test_a_called_session_may_start_or_go_unanswered_and_a_served_one_end():
    assert calling.video_steps_from(CALLED) == (calling.START, calling.NO_ANSWER)
    assert calling.video_steps_from(SERVING) == (calling.FINISH,)
    assert calling.video_steps_from(WAITING) == ()


@pytest.mark.parametrize(
    ("contact", "shown_as"),
    [
        ("0812-3456-789", ("tel:+628123456789", "https://wa.me/628123456789", None)),
        ("+62 812 3456 789", ("tel:+628123456789", "https://wa.me/628123456789", None)),
        (MEET, (None, None, MEET)),
        ("http://meet.example.org/x", (None, None, None)),
        ("javascript:alert(1)", (None, None, None)),
    ],
)
def test_the_console_links_a_phone_or_an_https_meeting_and_nothing_else(contact, shown_as):
    reach = booking_rules.reach(contact, "0811111111")
    assert (reach.tel, reach.whatsapp, reach.meeting) == shown_as
    assert reach.shown == contact


# Booking one, and the door.
def test_a_video_session_waits_in_the_queue_with_its_contact(site):
    booking = book_video(site, 1, contact=MEET)
    assert (booking.kind, booking.contact, booking.floor_state) == ("video", MEET, WAITING)
    assert book_video(site, 2, contact="0812 3456 789").contact == "0812 3456 789"


@pytest.mark.parametrize(
    ("kind", "contact", "refusal"),
    [
        ("video", "http://meet.example.org/abc", ContactInvalid),
        ("video", "javascript:alert(1)", ContactInvalid),
        ("video", "Siti's laptop", ContactInvalid),
        ("visit", MEET, ContactOnVisit),
        ("visit", "0812 3456 789", ContactOnVisit),
    ],
)
def test_a_contact_that_is_no_phone_or_https_link_or_on_a_visit_is_refused(
    site, kind, contact, refusal
):
    with pytest.raises(refusal), transaction.owned():
        bookings.book(site, visitor(1, day=TODAY, kind=kind, contact=contact), at(7))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Booking)) == 0


def test_the_door_refuses_a_video_session_and_stores_nothing(site, make_visit):
    booking = book_video(site, 1)
    with pytest.raises(VideoSessionNotAtDoor):
        make_visit(now=at(10), booking_code=booking.code)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Visit)) == 0
    assert fresh(booking).status == booking_rules.BOOKED


# The queue.
def test_a_video_session_joins_the_queue_when_its_session_starts(site):
    book_video(site, 1, starts=AFTERNOON)
    assert floor.queue(site, at(12, 59)).waiting == 0
    assert floor.queue(site, at(13)).waiting == 1
    assert floor.queue(site, at(13, 20)).longest_wait_minutes == 20


@pytest.mark.parametrize(
    ("visit_admitted", "called_first"),
    [(at(9, 40), "visit"), (at(10), "visit"), (at(10, 20), "video")],
)
def test_call_next_calls_the_visit_or_the_video_session_that_waited_longer(
    site, officer, make_visit, visit_admitted, called_first
):
    book_video(site, 1, starts=LATE_MORNING)  # due at 10:00
    make_visit(now=visit_admitted)
    open_booths(site, officer, 1)
    called = owned(floor.call_next, site, officer, 1, at(10, 30))
    assert {Visit: "visit", Booking: "video"}[type(called)] == called_first


def test_video_sessions_are_called_in_the_order_they_became_due(site, officer):
    later = book_video(site, 1, starts=LATE_MORNING)
    first = book_video(site, 2, starts=MORNING)
    open_booths(site, officer, 1)
    assert owned(floor.call_next, site, officer, 1, at(10, 30)).id == first.id
    assert owned(floor.call_next, site, officer, 1, at(10, 31)).id == later.id
    with pytest.raises(NobodyWaiting):
        owned(floor.call_next, site, officer, 1, at(10, 32))


def test_a_video_session_takes_one_of_the_officer_s_places_like_a_booth(site, officer, make_visit):
    site.booths_per_officer = 2
    db.session.commit()
    book_video(site, 1, starts=MORNING)
    book_video(site, 2, starts=MORNING)
    open_booths(site, officer, 1)
    first = owned(floor.call_next, site, officer, 1, at(10))  # booth 1 + this session: 2
    assert fresh(first).officer_id == officer.id
    with pytest.raises(BoothLimitReached):
        open_booths(site, officer, 2)
    with pytest.raises(NoRoomForVideo):  # only a video session waits, and no place is free
        owned(floor.call_next, site, officer, 1, at(10, 1))
    visit = make_visit(now=at(10, 2)).visit
    assert owned(floor.call_next, site, officer, 1, at(10, 3)).id == visit.id
    owned(video.start, site, officer, first.id, at(10, 4))
    owned(video.finish, site, officer, first.id, at(10, 5))
    open_booths(site, officer, 2)  # the place the session held is free again


def test_the_outcomes_of_a_video_session_are_recorded_with_their_times(site, officer):
    booking = book_video(site, 1, starts=MORNING)
    open_booths(site, officer, 1)
    owned(floor.call_next, site, officer, 1, at(10))
    owned(video.start, site, officer, booking.id, at(10, 2))
    owned(video.finish, site, officer, booking.id, at(10, 20))
    served = fresh(booking)
    assert (served.floor_state, served.status, served.calls) == (DONE, booking_rules.ADMITTED, 1)
    assert (served.called_at, served.serving_at, served.finished_at) == (
        at(10),
        at(10, 2),
        at(10, 20),
    )
    assert served.admitted_at == at(10, 2)
    row = db.session.scalar(sa.select(SessionDay).where(SessionDay.day == TODAY))
    assert (row.booked, row.admitted) == (1, 1)
    assert video.held_by(site, officer) == []


def test_no_answer_puts_the_session_back_once_then_closes_it(site, officer, make_visit):
    booking = book_video(site, 1, starts=MORNING)
    open_booths(site, officer, 1)
    owned(floor.call_next, site, officer, 1, at(10))
    owned(video.no_answer, site, officer, booking.id, at(10, 3))
    tried = fresh(booking)
    assert (tried.floor_state, tried.missed_at, tried.finished_at) == (WAITING, at(10, 3), None)
    # Back in the queue from the unanswered call: behind a visitor admitted before it.
    visit = make_visit(now=at(10, 2)).visit
    assert owned(floor.call_next, site, officer, 1, at(10, 4)).id == visit.id
    owned(floor.start, site, officer, 1, visit.id, at(10, 5))
    owned(floor.finish, site, officer, 1, visit.id, at(10, 6))
    assert owned(floor.call_next, site, officer, 1, at(10, 7)).id == booking.id
    owned(video.no_answer, site, officer, booking.id, at(10, 9))
    closed = fresh(booking)
    assert (closed.floor_state, closed.calls, closed.called_at, closed.finished_at) == (
        NO_SHOW,
        2,
        at(10, 7),
        at(10, 9),
    )
    assert closed.status == booking_rules.BOOKED  # never came: not admitted
    with pytest.raises(NobodyWaiting):
        owned(floor.call_next, site, officer, 1, at(10, 10))


@pytest.mark.parametrize(
    ("step", "state"),
    [(calling.FINISH, CALLED), (calling.START, SERVING), (calling.NO_ANSWER, SERVING)],
)
def test_a_step_the_session_s_state_does_not_allow_is_refused(site, officer, step, state):
    booking = book_video(site, 1, starts=MORNING)
    open_booths(site, officer, 1)
    owned(floor.call_next, site, officer, 1, at(10))
    if state == SERVING:
        owned(video.start, site, officer, booking.id, at(10, 1))
    steps = {calling.START: video.start, calling.FINISH: video.finish}
    with pytest.raises(WrongFloorState):
        owned(steps.get(step, video.no_answer), site, officer, booking.id, at(10, 2))
    assert fresh(booking).floor_state == state


def test_another_officer_cannot_step_on_a_session_they_do_not_hold(site, officer, make_user):
    booking = book_video(site, 1, starts=MORNING)
    open_booths(site, officer, 1)
    owned(floor.call_next, site, officer, 1, at(10))
    with pytest.raises(UnknownVideoSession):
        owned(video.start, site, make_user("officer"), booking.id, at(10, 1))
    assert fresh(booking).floor_state == CALLED


def test_a_cancelled_video_session_leaves_the_queue(site):
    booking = book_video(site, 1, starts=MORNING)
    with transaction.owned():
        bookings.cancel(site, booking.code, at(10))
    assert floor.queue(site, at(10)).waiting == 0


def test_a_session_cancelled_after_its_call_frees_the_officer_s_place(site, officer):
    booking = book_video(site, 1, starts=MORNING)
    open_booths(site, officer, 1)
    assert owned(floor.call_next, site, officer, 1, at(10)).id == booking.id
    owned(bookings.cancel, site, booking.code, at(10, 1))
    assert video.held_by(site, officer) == []
    assert (fresh(booking).floor_state, fresh(booking).officer_id) == (None, None)
    assert video.has_room(site, officer)


@pytest.mark.parametrize(
    "leaves",
    [
        lambda officer, admin: accounts.set_account_active(officer, False, admin, at(10, 1)),
        lambda officer, admin: accounts.change_account(
            officer, "door", officer.site, admin, at(10, 1)
        ),
    ],
    ids=["deactivated", "given another role"],
)
def test_a_session_called_by_an_officer_who_leaves_the_floor_waits_again(
    site, officer, make_user, leaves
):
    """No one else may step on a session an officer holds: when the officer's account leaves
    the floor, the session goes back in the queue for another officer to call."""
    booking = book_video(site, 1, starts=MORNING)
    open_booths(site, officer, 1)
    assert owned(floor.call_next, site, officer, 1, at(10)).id == booking.id
    admin = make_user("admin")
    owned(leaves, officer, admin)
    assert (fresh(booking).floor_state, fresh(booking).officer_id) == (WAITING, None)
    other = make_user("officer")
    open_booths(site, other, 2)
    assert owned(floor.call_next, site, other, 2, at(10, 2)).id == booking.id


def test_the_release_keeps_the_place_of_a_video_session_still_in_the_queue(site):
    queued = book_video(site, 1, starts=MORNING)  # its window closed at 10:30
    with transaction.owned():
        bookings.release_unclaimed(site, None, at(11))
    assert fresh(queued).status == booking_rules.BOOKED
    assert floor.queue(site, at(11)).waiting == 1
    row = db.session.scalar(sa.select(SessionDay).where(SessionDay.session_id == queued.session_id))
    assert (row.booked, row.no_shows, row.released) == (1, 0, 29)  # of its 30 places


def test_the_booked_channel_counts_a_served_session_as_came_and_an_unanswered_one_as_no_show(
    site, officer
):
    served = book_video(site, 1, starts=MORNING)
    unanswered = book_video(site, 2, starts=MORNING)
    open_booths(site, officer, 1)
    owned(floor.call_next, site, officer, 1, at(10))
    owned(floor.call_next, site, officer, 1, at(10))
    owned(video.start, site, officer, served.id, at(10, 1))
    owned(video.finish, site, officer, served.id, at(10, 10))
    for minute in (2, 12):
        owned(video.no_answer, site, officer, unanswered.id, at(10, minute))
        if minute == 2:
            owned(floor.call_next, site, officer, 1, at(10, 11))
    tomorrow = TODAY + timedelta(days=1)
    day = reports.booked_days(site, TODAY, TODAY, tomorrow)[TODAY]
    assert (day.booked, day.came, day.no_shows) == (2, 1, 1)


def test_the_floor_s_figures_count_video_sessions_waiting_from_their_session_s_start(
    site, officer, make_visit
):
    served = book_video(site, 1, starts=MORNING)
    unanswered = book_video(site, 2, starts=MORNING)
    visit = make_visit(now=at(9, 50)).visit
    open_booths(site, officer, 1)
    assert owned(floor.call_next, site, officer, 1, at(10)).id == served.id  # due since 08:00
    owned(video.start, site, officer, served.id, at(10, 1))
    owned(video.finish, site, officer, served.id, at(10, 11))
    assert owned(floor.call_next, site, officer, 1, at(10, 12)).id == unanswered.id
    owned(video.no_answer, site, officer, unanswered.id, at(10, 13))
    assert owned(floor.call_next, site, officer, 1, at(10, 14)).id == visit.id
    owned(floor.start, site, officer, 1, visit.id, at(10, 15))
    owned(floor.finish, site, officer, 1, visit.id, at(10, 20))
    assert owned(floor.call_next, site, officer, 1, at(10, 30)).id == unanswered.id
    owned(video.no_answer, site, officer, unanswered.id, at(10, 31))

    figures = reports.floor_report(site, TODAY)
    # Waits: 120 min (08:00 to 10:00), 150 (08:00 to the last call at 10:30), the visitor's 24.
    assert figures.waiting.count == 3
    assert figures.waiting.longest == 150
    assert figures.service.count == 2  # the session served 10 min, the visit 5
    assert figures.service.longest == 10
    assert figures.no_shows == 1
    assert figures.per_officer == {officer.username: 2}
    assert figures.per_booth == {1: 1}  # a video session takes no booth
    assert figures.waiting_by_hour[8].count == 2
    assert reports.floor_by_day(site, TODAY, TODAY)[TODAY].waiting.count == 3


# Two officers, one session.
@pytest.fixture
def postgresql_only(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite lets one writer in at a time: the race cannot happen there")


RACERS = 8
# After each read and write of the bookings: the other officers' statements interleave there.
WIDENED = 0.005


@pytest.fixture
def widened(app) -> Iterator[None]:
    @sa.event.listens_for(db.engine, "after_cursor_execute")
    def widen(_connection, _cursor, statement, *_args) -> None:
        if statement.startswith(("SELECT booking", "UPDATE booking")):
            clock_time.sleep(WIDENED)

    yield
    sa.event.remove(db.engine, "after_cursor_execute", widen)


def naive_call_next(site: Site, officer: User, _number: int, now) -> None:
    """Call the first due video session by a read, then a write without the read's condition."""
    first = video.first_due(site, now)
    if first is None:
        raise NobodyWaiting()
    db.session.execute(
        sa.update(Booking)
        .where(Booking.id == first.id)
        .values(floor_state=CALLED, officer_id=officer.id, calls=Booking.calls + 1)
    )


def officers_race(app, site: Site, officers: list[User], call) -> list[str]:
    """Let each officer press call next at their own booth at once, each in its own thread,
    session and transaction; return how each press ended: "called" or the refusal's code."""
    site_id, officer_ids = site.id, [officer.id for officer in officers]
    start = threading.Barrier(len(officers))
    ended: list[str] = []

    def press(officer_id: int, number: int) -> None:
        with app.app_context():
            where = db.session.get(Site, site_id)
            who = db.session.get(User, officer_id)
            start.wait()
            try:
                with transaction.owned():
                    call(where, who, number, at(10))
                ended.append("called")
            except ServiceError as refusal:
                ended.append(refusal.code)
            finally:
                db.session.remove()

    threads = [
        threading.Thread(target=press, args=(officer_id, number))
        for number, officer_id in enumerate(officer_ids, start=1)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return ended


@pytest.fixture
def racing_officers(site, make_user) -> list[User]:
    """Officers each holding one booth (1, 2, ...), one video session due."""
    officers = [make_user("officer") for _ in range(RACERS)]
    for number, racer in enumerate(officers, start=1):
        open_booths(site, racer, number)
    book_video(site, 1, starts=MORNING)
    return officers


def test_one_officer_taking_two_places_at_once_stays_within_the_limit(
    app, site, make_user, postgresql_only, widened
):
    """Two claims of one officer at once (two tabs, or a call beside an opening): their places
    are counted over many rows, and the second claim counts the first's place as taken."""
    site.booths_per_officer = 2
    db.session.commit()
    officer = make_user("officer")
    open_booths(site, officer, 1)  # one place of two taken
    sessions = [book_video(site, number, starts=MORNING) for number in (1, 2)]
    site_id, officer_id = site.id, officer.id
    start = threading.Barrier(2)
    claimed: list[object] = []

    def claim(booking_id: int) -> None:
        with app.app_context():
            where, who = db.session.get(Site, site_id), db.session.get(User, officer_id)
            start.wait()
            with transaction.owned():
                claimed.append(video.claim(where, who, booking_id, at(10)))
            db.session.remove()

    threads = [threading.Thread(target=claim, args=(booking.id,)) for booking in sessions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(answer is None for answer in claimed) == [False, True]
    db.session.expire_all()
    assert len(video.held_by(site, officer)) == 1


def test_the_race_for_one_video_session_is_real(
    app, site, racing_officers, postgresql_only, widened
):
    officers_race(app, site, racing_officers, naive_call_next)
    assert db.session.scalar(sa.select(Booking.calls)) > 1  # one session, called more than once


def test_officers_racing_for_one_video_session_get_it_once(
    app, site, racing_officers, postgresql_only, widened
):
    ended = officers_race(app, site, racing_officers, floor.call_next)
    assert sorted(ended) == ["called"] + ["nobody_waiting"] * (RACERS - 1)
    called = db.session.scalar(sa.select(Booking))
    assert (called.floor_state, called.calls) == (CALLED, 1)
    assert called.officer_id in {officer.id for officer in racing_officers}


def test_the_check_constraint_refuses_a_called_session_without_its_officer(site):
    booking = book_video(site, 1)
    with pytest.raises(sa.exc.IntegrityError):
        db.session.execute(
            sa.update(Booking).where(Booking.id == booking.id).values(floor_state=CALLED)
        )
        db.session.flush()
    db.session.rollback()


def test_only_a_video_session_has_a_floor_state(site):
    booking = bookings.book(site, visitor(1, day=TODAY), at(7)).booking
    db.session.commit()
    assert booking.floor_state is None
    with pytest.raises(sa.exc.IntegrityError):
        db.session.execute(
            sa.update(Booking).where(Booking.id == booking.id).values(floor_state=WAITING)
        )
    db.session.rollback()
