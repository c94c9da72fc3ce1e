"""The booking service on both engines: places never over a session's capacity, one booking per
NIK-last-4 and phone a day, cancel, find at the door, the release, and the CSV import."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
import sqlalchemy as sa

from checkin.domain import booking_rules, limits
from checkin.domain.booking_errors import (
    AlreadyBooked,
    BookingDayClosed,
    BookingDayPast,
    BookingNotOpen,
    ImportHeaderWrong,
    ImportNotCsv,
    ImportTooLarge,
    ReleaseTooEarly,
    SessionFull,
    SessionOver,
    UnknownBooking,
    UnknownSession,
)
from checkin.extensions import db
from checkin.models import AuditEntry, Booking, BookingSession, ClosedDay, SessionDay
from checkin.services import bookings, calendar, day_counter, sites
from checkin.services.bookings import BookingData

# The default clock: Wednesday 25 November 2026, 10:00 in Kediri (WIB).
TODAY = date(2026, 11, 25)
TOMORROW = TODAY + timedelta(days=1)
MORNING, LATE_MORNING, AFTERNOON = time(8), time(10), time(13)
HEADER = "date,session,name,phone,nik_last4,purpose,external_ref"


def visitor(number: int, day: date = TOMORROW, starts: time = MORNING, **fields) -> BookingData:
    """Return a booking of a made-up visitor ``number`` (a phone and NIK of their own)."""
    return BookingData(
        day=day,
        starts=starts,
        name=f"Pengunjung {number}",
        phone=f"08123{number:06d}",
        nik_last4=f"{number % 10_000:04d}",
        **fields,
    )


def at(hour: int, minute: int = 0, day: date = TODAY) -> datetime:
    """Return an instant of the site's day (WIB, UTC+7) at ``hour``:``minute``."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC) - timedelta(hours=7)


def session_row(site, day: date, starts: time) -> SessionDay:
    session = bookings._session_at(site, starts)
    db.session.expire_all()
    return db.session.get(SessionDay, (site.id, day, session.id))


def small_sessions(site, capacity: int) -> None:
    """Give ``site`` one session, 08:00-10:00, of ``capacity`` places."""
    db.session.add(
        BookingSession(site_id=site.id, starts=MORNING, ends=time(10), capacity=capacity)
    )
    db.session.commit()


def test_a_site_books_into_the_default_sessions_of_87_places(site):
    sessions = bookings.sessions_of(site)
    assert [(s.starts, s.ends, s.capacity) for s in sessions] == list(
        limits.DEFAULT_BOOKING_SESSIONS
    )
    assert sum(p.capacity for p in bookings.places(site, TOMORROW)) == 87


def test_a_booking_takes_a_place_and_gets_a_code_without_look_alikes(site, clock):
    made = bookings.book(site, visitor(1, purpose="jht_claim"), clock.now)
    db.session.commit()
    booking = made.booking
    assert made.created and booking.status == "booked" and booking.kind == "visit"
    assert len(booking.code) == limits.BOOKING_CODE_LENGTH
    assert not set(booking.code) & set("01OIL")
    assert session_row(site, TOMORROW, MORNING).booked == 1
    assert [p.booked for p in bookings.places(site, TOMORROW)] == [1, 0, 0]


def test_a_session_takes_no_more_bookings_than_its_places(site, clock):
    small_sessions(site, 2)
    for number in (1, 2):
        bookings.book(site, visitor(number), clock.now)
    with pytest.raises(SessionFull) as refused:
        bookings.book(site, visitor(3), clock.now)
    assert (refused.value.starts, refused.value.day) == (MORNING, TOMORROW)
    db.session.commit()
    assert session_row(site, TOMORROW, MORNING).booked == 2


@pytest.mark.parametrize(
    "phone", ["08123000001", "+62 8123-000-001", "628123000001", "0812 3000 001"]
)
def test_one_booking_per_nik_last4_and_phone_a_day_however_the_phone_is_written(site, clock, phone):
    bookings.book(site, visitor(1), clock.now)
    db.session.commit()
    again = visitor(1, starts=AFTERNOON)
    with pytest.raises(AlreadyBooked) as refused:
        bookings.book(site, BookingData(**(vars(again) | {"phone": phone})), clock.now)
    assert refused.value.day == TOMORROW
    db.session.rollback()
    # Another day, or another NIK with that phone (a family's one phone), is another booking.
    bookings.book(site, visitor(1, day=TOMORROW + timedelta(days=1)), clock.now)
    bookings.book(site, BookingData(**(vars(visitor(1)) | {"nik_last4": "9999"})), clock.now)


def test_a_cancelled_booking_gives_its_place_back_and_lets_the_person_book_again(site, clock):
    small_sessions(site, 1)
    booking = bookings.book(site, visitor(1), clock.now).booking
    db.session.commit()
    with pytest.raises(UnknownBooking):
        bookings.cancel(site, booking.code, clock.now, phone="0899999999")
    cancelled = bookings.cancel(site, booking.code.lower(), clock.now, phone="+628123000001")
    db.session.commit()
    assert cancelled.status == "cancelled"
    assert session_row(site, TOMORROW, MORNING).booked == 0
    with pytest.raises(BookingNotOpen):
        bookings.cancel(site, booking.code, clock.now, phone="08123000001")
    assert bookings.book(site, visitor(1), clock.now).created


@pytest.mark.parametrize(
    ("day", "starts", "error"),
    [
        (TODAY - timedelta(days=1), MORNING, BookingDayPast),
        (TODAY, MORNING, SessionOver),  # 08:00-10:00: its window closed at 10:30
        (TOMORROW, time(9), UnknownSession),
    ],
)
def test_a_booking_for_a_past_day_an_unknown_session_or_a_session_over_is_refused(
    site, clock, day, starts, error
):
    clock.now = at(10, 31)
    with pytest.raises(error):
        bookings.book(site, visitor(1, day=day, starts=starts), clock.now)


def test_a_booking_for_a_closed_day_is_refused(site, clock):
    db.session.add(ClosedDay(site_id=site.id, day=TOMORROW, label="Rapat", holiday=False))
    db.session.commit()
    with pytest.raises(BookingDayClosed):
        bookings.book(site, visitor(1), clock.now)


def test_the_same_external_reference_again_returns_the_booking_made_and_takes_no_place(site, clock):
    first = bookings.book(site, visitor(1, external_ref="AO-1"), clock.now)
    again = bookings.book(site, visitor(2, external_ref="AO-1"), clock.now)
    db.session.commit()
    assert (again.created, again.booking.id) == (False, first.booking.id)
    assert session_row(site, TOMORROW, MORNING).booked == 1


def test_the_door_finds_a_booking_by_code_on_any_day_and_today_s_by_name_or_phone(site, clock):
    today = bookings.book(site, visitor(1, day=TODAY, starts=AFTERNOON), clock.now).booking
    bookings.book(
        site,
        BookingData(**(vars(visitor(2, day=TODAY, starts=AFTERNOON)) | {"name": "Siti Aminah"})),
        clock.now,
    )
    tomorrow = bookings.book(site, visitor(3), clock.now).booking
    db.session.commit()
    assert bookings.find(site, tomorrow.code[:5] + "-" + tomorrow.code[5:], TODAY) == [tomorrow]
    assert [b.name for b in bookings.find(site, "siti", TODAY)] == ["Siti Aminah"]
    assert [b.name for b in bookings.find(site, "PENGUNJUNG", TODAY)] == ["Pengunjung 1"]
    assert bookings.find(site, "3000001", TODAY) == [today]
    assert bookings.find(site, "+62 8123 000 001", TODAY) == [today]
    assert bookings.find(site, "Pengunjung 3", TODAY) == []  # tomorrow's, by name
    assert bookings.find(site, "%", TODAY) == []


def test_the_door_answers_a_booking_by_its_window(site):
    booking_day, session = TODAY, booking_rules.Session(time(10), time(12))
    channel = booking_rules.door_channel("booked", booking_day, session, site.zone, at(9, 29))
    assert channel.channel == "early"
    assert booking_rules.door_channel("booked", booking_day, session, site.zone, at(9, 30)).booked


def test_the_release_gives_walk_ins_exactly_the_places_not_claimed_once(site, clock, make_visit):
    # Morning 30 places: 3 booked (not come); late morning 30: 2 booked; afternoon 27: 1 booked.
    for number in range(3):
        bookings.book(site, visitor(number, day=TODAY, starts=MORNING), at(7))
    for number in range(3, 5):
        bookings.book(site, visitor(number, day=TODAY, starts=LATE_MORNING), at(7))
    afternoon = bookings.book(site, visitor(5, day=TODAY, starts=AFTERNOON), at(7)).booking
    db.session.commit()
    make_visit(now=at(9))  # a walk-in: the day row exists with the quota 60, 1 used
    with pytest.raises(ReleaseTooEarly) as early:
        bookings.release_unclaimed(site, None, at(10, 59))
    assert early.value.release_at.hour == 11
    released = bookings.release_unclaimed(site, None, at(11))
    db.session.commit()
    # Morning's window closed at 10:30: all 30 go. Late morning's (to 12:30) and the
    # afternoon's visitors are still to come: only their 28 and 26 places nobody booked go.
    assert released.places == 30 + 28 + 26
    quota = day_counter.quota_today(site, at(11))
    assert (quota.limit, quota.used) == (60 + 84, 1)
    assert [(p.capacity, p.booked, p.released) for p in bookings.places(site, TODAY)] == [
        (0, 0, 30),
        (2, 2, 28),
        (1, 1, 26),
    ]
    statuses = db.session.scalars(sa.select(Booking.status).order_by(Booking.id)).all()
    assert statuses == ["released"] * 3 + ["booked"] * 3
    # A second release moves nothing; a cancelled afternoon place can be booked again.
    assert bookings.release_unclaimed(site, None, at(12)).places == 0
    bookings.cancel(site, afternoon.code, at(12))
    assert bookings.book(site, visitor(9, day=TODAY, starts=AFTERNOON), at(12)).created
    db.session.commit()
    assert day_counter.quota_today(site, at(12)).limit == 144
    logged = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.action == "bookings_released")
    )
    assert [entry.detail for entry in logged] == [{"day": "2026-11-25", "places": 84}]


def test_no_release_on_a_closed_day(site, clock):
    db.session.add(ClosedDay(site_id=site.id, day=TODAY, label="Banjir", holiday=False))
    db.session.commit()
    assert bookings.release_unclaimed(site, None, at(11)).places == 0


# The CSV import.
def csv_of(*rows: str, header: str = HEADER) -> str:
    return "\n".join([header, *rows]) + "\n"


def row(number: int, day: str = "2026-11-26", session: str = "08:00", **cells) -> str:
    values = {
        "date": day,
        "session": session,
        "name": f"Pengunjung {number}",
        "phone": f"08123{number:06d}",
        "nik_last4": f"{number:04d}",
        "purpose": "jht_claim",
        "external_ref": f"AO-{number}",
    } | cells
    return ",".join(values.values())


def stored_bookings() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Booking))


def test_an_import_books_every_row_and_again_books_nothing_new(site, clock):
    text = csv_of(row(1), row(2, session="10:00-12:00"), row(3, day="2026-11-27"))
    report = bookings.import_csv(site, text, None, clock.now)
    db.session.commit()
    assert (report.imported, report.already, report.refused) == (3, 0, {})
    again = bookings.import_csv(site, text, None, clock.now)
    assert (again.imported, again.already, again.refused) == (0, 3, {})
    assert stored_bookings() == 3
    assert session_row(site, TOMORROW, MORNING).booked == 1


def test_an_import_reads_a_spreadsheet_s_semicolons_and_byte_order_mark(site, clock):
    text = "\ufeff" + csv_of(row(1).replace(",", ";"), header=HEADER.replace(",", ";"))
    assert bookings.import_csv(site, text, None, clock.now).imported == 1


@pytest.mark.parametrize(
    ("text", "error"),
    [
        (csv_of(row(1), header="tanggal,sesi,nama,hp,nik,keperluan,ref"), ImportHeaderWrong),
        (csv_of(row(1), header=""), ImportHeaderWrong),
        ("", ImportHeaderWrong),
        (csv_of(*(row(n) for n in range(1, 10_001))), ImportTooLarge),
        (csv_of('2026-11-26,08:00,"Siti,08123'), ImportNotCsv),
    ],
    ids=["wrong-header", "blank-header", "empty", "10000-rows", "open-quote"],
)
def test_a_file_that_cannot_be_read_is_refused_whole(site, clock, text, error):
    with pytest.raises(error):
        bookings.import_csv(site, text, None, clock.now)
    assert stored_bookings() == 0


@pytest.mark.parametrize(
    ("bad", "code"),
    [
        (row(2, day="26/11/2026"), booking_rules.DATE_INVALID),
        (row(2, day="2026-02-30"), booking_rules.DATE_INVALID),
        (row(2, session="8 pagi"), booking_rules.SESSION_INVALID),
        (row(2, session="09:00"), booking_rules.SESSION_UNKNOWN),
        (row(2, name="=1+1"), booking_rules.FORMULA_CELL),
        (row(2, purpose="@SUM(A1)"), booking_rules.FORMULA_CELL),
        (row(2, phone="-2+3"), booking_rules.FORMULA_CELL),
        (row(2, phone="12"), booking_rules.PHONE_INVALID),
        (row(2, nik_last4="12345"), booking_rules.NIK_LAST4_INVALID),
        (row(2, purpose="pinjam"), booking_rules.PURPOSE_UNKNOWN),
        (row(2, external_ref=""), booking_rules.REF_INVALID),
        (row(2, external_ref="AO-1"), booking_rules.REF_REPEATED),
        (row(2, phone="08123000001", nik_last4="0001"), booking_rules.PERSON_REPEATED),
        (row(2, day="2026-11-24"), booking_rules.DAY_PAST),
        (row(2, day="2026-11-25"), booking_rules.SESSION_OVER),
        (row(2, day="2026-12-25"), booking_rules.DAY_CLOSED),
        (row(2) + ",extra", booking_rules.COLUMNS_WRONG),
    ],
)
def test_a_bad_row_refuses_the_file_and_the_report_says_which_line_and_why(site, clock, bad, code):
    db.session.add(ClosedDay(site_id=site.id, day=date(2026, 12, 25), label="", holiday=True))
    db.session.commit()
    clock.now = at(10, 31)
    report = bookings.import_csv(site, csv_of(row(1), bad, row(3)), None, clock.now)
    assert report.imported == 0
    assert list(report.refused) == [3]
    assert [problem.code for problem in report.refused[3]] == [code]
    assert stored_bookings() == 0
    assert session_row(site, TOMORROW, MORNING) is None


def test_an_import_over_a_session_s_places_refuses_the_lines_that_do_not_fit(site, clock):
    small_sessions(site, 2)
    bookings.book(site, visitor(99), clock.now)
    db.session.commit()
    report = bookings.import_csv(site, csv_of(row(1), row(2), row(3)), None, clock.now)
    assert report.imported == 0
    assert {line: [p.code for p in problems] for line, problems in report.refused.items()} == {
        3: ["over_capacity"],
        4: ["over_capacity"],
    }
    assert stored_bookings() == 1


def test_an_import_refuses_a_person_booked_that_day_already(site, clock):
    bookings.book(site, visitor(1), clock.now)
    db.session.commit()
    report = bookings.import_csv(site, csv_of(row(1)), None, clock.now)
    assert [p.code for p in report.refused[2]] == ["already_booked"]


def test_a_quota_changed_after_the_release_keeps_the_places_released(site, clock):
    bookings.book(site, visitor(1, day=TODAY, starts=MORNING), at(7))
    db.session.commit()
    released = bookings.release_unclaimed(site, None, at(11)).places
    db.session.commit()
    assert day_counter.quota_today(site, at(11)).limit == 60 + released
    # The manager lowers the usual quota at noon: the walk-ins keep what the bookings gave.
    sites.edit_site(site, None, at(12), daily_quota=50)
    assert day_counter.quota_today(site, at(12)).limit == 50 + released
    # Closing and opening the day again does not lose them either.
    db.session.add(ClosedDay(site_id=site.id, day=TODAY, label="Banjir", holiday=False))
    calendar.apply_today(site, at(12))
    db.session.execute(sa.delete(ClosedDay))
    calendar.apply_today(site, at(12))
    db.session.commit()
    assert day_counter.quota_today(site, at(12)).limit == 50 + released
