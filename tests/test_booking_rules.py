"""The booking rules, pure: codes, phones, the check-in window, the door's channel, the release,
the default sessions and reading an import file. No database."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from checkin.domain import booking_rules, limits
from checkin.domain.booking_rules import Session

KEDIRI = ZoneInfo("Asia/Jakarta")
DAY = date(2026, 11, 25)
LATE_MORNING = Session(time(10), time(12))
HEADER = ",".join(limits.BOOKING_CSV_HEADER)


def wib(hour: int, minute: int = 0, day: date = DAY) -> datetime:
    """Return an instant in Kediri, given in UTC as the server's clock gives it."""
    return datetime.combine(day, time(hour, minute), KEDIRI).astimezone(UTC)


def test_a_code_has_the_length_and_only_letters_nobody_mistakes():
    codes = {booking_rules.new_code() for _ in range(2000)}
    assert len(codes) == 2000
    assert all(len(code) == limits.BOOKING_CODE_LENGTH >= 8 for code in codes)
    assert set("".join(codes)) == set(limits.BOOKING_CODE_ALPHABET)
    assert not set(limits.BOOKING_CODE_ALPHABET) & set("0O1IL")


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("ABCD-EF23-45", "ABCDEF2345"),
        ("abcd ef23 45", "ABCDEF2345"),
        ("ABCDEF234", None),  # one short
        ("ABCDEF23450", None),  # one long
        ("ABCDEF23O5", None),  # O is no letter of a code
        ("ABCDEF2315", None),
        ("", None),
    ],
)
def test_a_typed_code_is_read_in_any_case_and_grouping_or_not_at_all(typed, code):
    assert booking_rules.typed_code(typed) == code


@pytest.mark.parametrize(
    ("phone", "key"),
    [
        ("081234567890", "081234567890"),
        ("+62 812-3456-7890", "081234567890"),
        ("62 812 3456 7890", "081234567890"),
        ("0812 3456 7890", "081234567890"),
    ],
)
def test_a_phone_is_compared_as_digits_with_plus_62_as_0(phone, key):
    assert booking_rules.phone_key(phone) == key


@pytest.mark.parametrize(
    ("status", "now", "channel"),
    [
        ("booked", wib(9, 29), booking_rules.EARLY),
        ("booked", wib(9, 30), booking_rules.AS_BOOKED),
        ("booked", wib(11), booking_rules.AS_BOOKED),
        ("booked", wib(12, 30), booking_rules.AS_BOOKED),
        ("booked", wib(12, 31), booking_rules.LATE),
        ("booked", wib(11, day=DAY + timedelta(days=1)), booking_rules.WRONG_DAY),
        ("booked", wib(11, day=DAY - timedelta(days=1)), booking_rules.WRONG_DAY),
        ("admitted", wib(11), booking_rules.ALREADY_ADMITTED),
        ("cancelled", wib(11), booking_rules.WAS_CANCELLED),
        ("released", wib(11), booking_rules.WAS_RELEASED),
    ],
)
def test_the_door_channel_of_a_booking_by_its_state_and_the_30_minute_window(status, now, channel):
    answer = booking_rules.door_channel(status, DAY, LATE_MORNING, KEDIRI, now)
    assert answer.channel == channel
    assert answer.booked == (channel == booking_rules.AS_BOOKED)
    assert (answer.opens, answer.closes) == (
        datetime(2026, 11, 25, 9, 30, tzinfo=KEDIRI),
        datetime(2026, 11, 25, 12, 30, tzinfo=KEDIRI),
    )


def test_the_window_is_the_site_s_local_day_not_utc():
    # 06:00 WIB on the 26th is 23:00 UTC on the 25th: another day at the office.
    answer = booking_rules.door_channel(
        "booked", DAY, LATE_MORNING, KEDIRI, datetime(2026, 11, 25, 23, 0, tzinfo=UTC)
    )
    assert answer.channel == booking_rules.WRONG_DAY


@pytest.mark.parametrize(
    ("session", "capacity", "booked", "admitted", "given"),
    [
        (Session(time(8), time(10)), 30, 20, 12, 18),  # window closed 10:30: all not admitted
        (Session(time(8), time(10, 30)), 30, 20, 12, 18),  # closes 11:00, the release moment
        (Session(time(10), time(12)), 30, 20, 12, 10),  # to come: only places nobody booked
        (Session(time(13), time(15)), 27, 27, 0, 0),
        (Session(time(8), time(10)), 30, 0, 0, 30),
    ],
)
def test_the_release_gives_what_no_visitor_can_still_claim(
    session, capacity, booked, admitted, given
):
    release_at = booking_rules.release_moment(DAY, time(11), KEDIRI)
    assert (
        booking_rules.releasable(DAY, session, KEDIRI, release_at, capacity, booked, admitted)
        == given
    )


@pytest.mark.parametrize(
    ("capacity", "places"),
    [(87, [30, 30, 27]), (40, [14, 14, 12]), (0, [0, 0, 0]), (3, [2, 1, 0]), (1, [1, 0, 0])],
)
def test_default_sessions_share_the_site_s_places_as_the_defaults_do(capacity, places):
    sessions = booking_rules.default_sessions(capacity)
    assert [share for *_times, share in sessions] == places
    assert [(starts, ends) for starts, ends, _ in sessions] == [
        (starts, ends) for starts, ends, _ in limits.DEFAULT_BOOKING_SESSIONS
    ]


def read(*rows: str, header: str = HEADER) -> booking_rules.ReadFile:
    return booking_rules.read_import("\n".join([header, *rows]))


GOOD = "2026-11-26,08:00,Siti Aminah,+62 812 3456 7890,1234,jht_claim,AO-1"


def test_a_good_row_is_read_with_its_phone_as_compared_and_its_name_tidied():
    found = read(GOOD.replace("Siti Aminah", "  Siti   Aminah "), "", " , , ")
    assert found.problems == {} and found.problem is None
    (row,) = found.rows
    assert (row.line, row.day, row.starts, row.ends) == (2, date(2026, 11, 26), time(8), None)
    assert (row.name, row.phone, row.nik_last4) == ("Siti Aminah", "081234567890", "1234")
    assert read(GOOD.replace("08:00", "8:00 - 10:00")).rows[0].ends == time(10)


@pytest.mark.parametrize(
    ("header", "problem"),
    [
        ("date;session;name;phone;nik_last4;purpose;external_ref", None),
        ("DATE, Session ,name,phone,nik_last4,purpose,external_ref", None),
        ("date,session,name,phone,nik,purpose,external_ref", booking_rules.HEADER_WRONG),
        ("session,date,name,phone,nik_last4,purpose,external_ref", booking_rules.HEADER_WRONG),
        ("date,session,name,phone,nik_last4,purpose", booking_rules.HEADER_WRONG),
    ],
)
def test_the_header_names_the_documented_columns_in_order(header, problem):
    found = booking_rules.read_import(header + "\n")
    assert found.problem == problem


def test_more_rows_than_one_import_takes_refuse_the_whole_file():
    assert read(*[GOOD] * limits.MAX_IMPORT_ROWS).problem is None
    assert read(*[GOOD] * (limits.MAX_IMPORT_ROWS + 1)).problem == booking_rules.TOO_MANY_ROWS


@pytest.mark.parametrize(
    ("cells", "codes"),
    [
        ({"date": "2026-13-01"}, [booking_rules.DATE_INVALID]),
        ({"date": "1999-12-31"}, [booking_rules.DATE_INVALID]),
        ({"session": "10:00-08:00"}, [booking_rules.SESSION_INVALID]),
        ({"session": "25:00"}, [booking_rules.SESSION_INVALID]),
        ({"name": ""}, [booking_rules.NAME_INVALID]),
        ({"name": "x" * (limits.MAX_NAME + 1)}, [booking_rules.NAME_INVALID]),
        ({"name": "Siti\x1bAminah"}, [booking_rules.NAME_INVALID]),
        ({"phone": ""}, [booking_rules.PHONE_INVALID]),
        ({"nik_last4": "12a4"}, [booking_rules.NIK_LAST4_INVALID]),
        ({"purpose": ""}, []),
        ({"purpose": "JHT"}, [booking_rules.PURPOSE_UNKNOWN]),
        ({"external_ref": "x" * (limits.MAX_EXTERNAL_REF + 1)}, [booking_rules.REF_INVALID]),
        ({"name": "=cmd|' /C calc'!A0"}, [booking_rules.FORMULA_CELL]),
        ({"name": "+1", "purpose": "@x"}, [booking_rules.FORMULA_CELL] * 2),
        ({"phone": "+62 812 3456 7890"}, []),  # a phone, not a formula
        ({"phone": "-812"}, [booking_rules.FORMULA_CELL]),
        (
            {"date": "", "phone": "1", "nik_last4": ""},
            ["date_invalid", "phone_invalid", "nik_last4_invalid"],
        ),
    ],
)
def test_each_bad_cell_is_a_problem_of_its_row(cells, codes):
    given = dict(zip(limits.BOOKING_CSV_HEADER, GOOD.split(","), strict=True)) | cells
    found = read(",".join(given.values()))
    assert [problem.code for problem in found.problems.get(2, [])] == codes
    assert len(found.rows) == (0 if codes else 1)


def test_a_repeated_reference_or_person_is_refused_on_the_later_line():
    other_person = GOOD.replace("1234", "5678").replace("+62 812", "+62 813")
    found = read(GOOD, other_person, GOOD.replace("AO-1", "AO-3"))
    assert [row.line for row in found.rows] == [2]
    assert {line: [(p.code, p.first_line) for p in ps] for line, ps in found.problems.items()} == {
        3: [(booking_rules.REF_REPEATED, 2)],
        4: [(booking_rules.PERSON_REPEATED, 2)],
    }


def test_a_quote_never_closed_is_no_csv():
    assert read('2026-11-26,08:00,"Siti').problem == booking_rules.NOT_CSV
