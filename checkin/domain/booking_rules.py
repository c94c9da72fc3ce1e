"""Booked visits, the pure rules: codes, the check-in window, the door's channel, the release,
and reading an import file.

No database, no Flask and no clock: the services read the bookings and pass the time in. What a
rule refuses comes back as a value with its facts (a channel, a problem code), which the
service turns into a typed error and the words modules into sentences.
"""

from __future__ import annotations

import csv
import re
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from checkin.domain import admission, limits

# A booking's states: ``booked`` until the door admits it, the visitor cancels it, or the
# release hour gives its place to walk-ins.
BOOKED = "booked"
ADMITTED = "admitted"
CANCELLED = "cancelled"
RELEASED = "released"
STATUSES = (BOOKED, ADMITTED, CANCELLED, RELEASED)
# A booking that holds a place of its session.
HOLDING = (BOOKED, ADMITTED)

# Which rules a booked visitor at the door meets: their booked place, or (any other answer)
# the walk-in rules, with the reason the door says.
AS_BOOKED = "booked"
EARLY = "early"
LATE = "late"
WRONG_DAY = "wrong_day"
ALREADY_ADMITTED = "already_admitted"
WAS_CANCELLED = "cancelled"
WAS_RELEASED = "released"

_CODE_SHAPE = re.compile(f"[{limits.BOOKING_CODE_ALPHABET}]{{{limits.BOOKING_CODE_LENGTH}}}")
_SESSION_SHAPE = re.compile(r"([0-9]{1,2}):([0-9]{2})(?:\s*-\s*([0-9]{1,2}):([0-9]{2}))?")
# What a spreadsheet takes for the start of a formula (OWASP's CSV injection list).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def new_code() -> str:
    """Return a fresh booking code: ``BOOKING_CODE_LENGTH`` characters with no look-alikes."""
    return "".join(
        secrets.choice(limits.BOOKING_CODE_ALPHABET) for _ in range(limits.BOOKING_CODE_LENGTH)
    )


def typed_code(typed: str) -> str | None:
    """Return the booking code a visitor or door staff typed, or None if it cannot be one.

    Codes are shown in capitals and may be typed in groups ("ABCD-EF23 45").
    """
    code = re.sub(r"[\s-]", "", typed).upper()
    return code if _CODE_SHAPE.fullmatch(code) else None


def phone_key(phone: str) -> str:
    """Return a phone number as bookings compare it: digits only, +62 written as 0.

    "+62 812-3456-789", "62812 3456 789" and "0812 3456 789" are one phone.
    """
    digits = re.sub(r"[^0-9]", "", phone)
    return "0" + digits[2:] if digits.startswith("62") else digits


def phone_last4(phone: str) -> str:
    """Return the digits a phone is found by at the door: its last four, as bookings keep it.

    All a door tablet keeps of a booked visitor's phone for offline use, so that a search by
    phone finds the same bookings online and offline.
    """
    return phone_key(phone)[-4:]


# What a video session's contact is: a phone to call (or write to on WhatsApp), or a link.
PHONE_CONTACT, LINK_CONTACT = "phone", "link"


def contact_kind(contact: str) -> str | None:
    """Return whether a video session's contact is a phone number or an https meeting link;
    None when it is neither (an http:// link, a javascript: one, a name)."""
    if contact and re.fullmatch(limits.PHONE_PATTERN, contact):
        return PHONE_CONTACT
    if len(contact) <= limits.MAX_BOOKING_CONTACT and re.fullmatch(
        limits.MEETING_LINK_PATTERN, contact
    ):
        return LINK_CONTACT
    return None


def international_phone(phone: str) -> str:
    """Return a phone number as WhatsApp's wa.me links and tel: links take it: digits with the
    country code, an Indonesian 08xx as 628xx ("0812-3456-789" -> "628123456789")."""
    digits = phone_key(phone)
    return "62" + digits[1:] if digits.startswith("0") else digits


@dataclass(frozen=True)
class Reach:
    """How the console reaches a video session's visitor: ``shown`` as text, and the links
    made of it (a phone's tel: and WhatsApp links, or the meeting link), none for a contact
    that is neither, so that nothing else is ever a link."""

    shown: str
    tel: str | None = None
    whatsapp: str | None = None
    meeting: str | None = None


def reach(contact: str | None, phone: str) -> Reach:
    """Return how to reach a video session's visitor: at its contact, else the booking's phone."""
    given = contact or phone
    kind = contact_kind(given)
    if kind == PHONE_CONTACT:
        number = international_phone(given)
        return Reach(given, tel=f"tel:+{number}", whatsapp=f"https://wa.me/{number}")
    if kind == LINK_CONTACT:
        return Reach(given, meeting=given)
    return Reach(given)


def name_key(name: str) -> str:
    """Return a name as searches compare it: case folded, spaces collapsed."""
    return " ".join(name.split()).casefold()


@dataclass(frozen=True)
class Session:
    """A session of the day that visitors book into: its times in the site's zone."""

    starts: time
    ends: time


def window(day: date, session: Session, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """Return when a booking of ``session`` on ``day`` may check in as booked."""
    opens = datetime.combine(day, session.starts, zone) - limits.BOOKING_WINDOW
    closes = datetime.combine(day, session.ends, zone) + limits.BOOKING_WINDOW
    return opens, closes


@dataclass(frozen=True)
class DoorChannel:
    """Which rules a booked visitor meets at the door at a moment, with the facts to say why.

    ``opens`` and ``closes`` bound the booking's check-in window, in the site's zone.
    """

    channel: str
    day: date
    opens: datetime
    closes: datetime

    @property
    def booked(self) -> bool:
        """Tell whether the visitor takes their booked place (else the walk-in rules apply)."""
        return self.channel == AS_BOOKED


def door_channel(
    status: str, day: date, session: Session, zone: ZoneInfo, now: datetime
) -> DoorChannel:
    """Return which rules a booking of ``session`` on ``day`` meets at the door at ``now``.

    Inside the window, a booking still booked takes its place; one admitted, cancelled or
    released does not, and a visitor early, late or on another day is a walk-in.
    """
    opens, closes = window(day, session, zone)
    local = now.astimezone(zone)
    if status != BOOKED:
        channel = {ADMITTED: ALREADY_ADMITTED, CANCELLED: WAS_CANCELLED}.get(status, WAS_RELEASED)
    elif local.date() != day:
        channel = WRONG_DAY
    elif local < opens:
        channel = EARLY
    elif local > closes:
        channel = LATE
    else:
        channel = AS_BOOKED
    return DoorChannel(channel, day, opens, closes)


def release_moment(day: date, release_time: time, zone: ZoneInfo) -> datetime:
    """Return the instant of ``day`` from which unclaimed booked places go to walk-ins."""
    return datetime.combine(day, release_time, zone)


def releasable(
    day: date,
    session: Session,
    zone: ZoneInfo,
    release_at: datetime,
    capacity: int,
    booked: int,
    admitted: int,
) -> int:
    """Return how many of a session's places the release gives to walk-ins.

    A session whose window has closed at the release gives every place not claimed at the
    door: its no-shows cannot come as booked any more. A later one gives only its places
    nobody booked: its visitors are still to come.
    """
    _opens, closes = window(day, session, zone)
    return capacity - admitted if closes <= release_at else capacity - booked


def session_ended(day: date, session: Session, zone: ZoneInfo, at: datetime) -> bool:
    """Tell whether a session's check-in window has closed at ``at``."""
    return window(day, session, zone)[1] <= at


# Reading an import file.
# Problems of a whole file: nothing in it is read further.
HEADER_WRONG = "header_wrong"
TOO_MANY_ROWS = "too_many_rows"
NOT_CSV = "not_csv"
# Problems of one row, found from the row alone (the service adds those it needs the
# database for: a session the site does not have, a closed or past day, a full session).
COLUMNS_WRONG = "columns_wrong"
FORMULA_CELL = "formula_cell"
DATE_INVALID = "date_invalid"
SESSION_INVALID = "session_invalid"
NAME_INVALID = "name_invalid"
PHONE_INVALID = "phone_invalid"
NIK_LAST4_INVALID = "nik_last4_invalid"
PURPOSE_UNKNOWN = "purpose_unknown"
KIND_UNKNOWN = "kind_unknown"
CONTACT_ON_VISIT = "contact_on_visit"
CONTACT_INVALID = "contact_invalid"
REF_INVALID = "ref_invalid"
REF_REPEATED = "ref_repeated"
PERSON_REPEATED = "person_repeated"
SESSION_UNKNOWN = "session_unknown"
DAY_PAST = "day_past"
DAY_CLOSED = "day_closed"
SESSION_OVER = "session_over"
ALREADY_BOOKED = "already_booked"
OVER_CAPACITY = "over_capacity"


@dataclass(frozen=True)
class RowProblem:
    """Why one row of an import is refused: a code, the column and value it concerns, and for a
    repeat the line it repeats."""

    code: str
    column: str | None = None
    value: str | None = None
    first_line: int | None = None
    # Of a row with the wrong number of cells: how many the header names.
    columns: int | None = None


@dataclass(frozen=True)
class ImportRow:
    """One row of an import, read and checked on its own; ``line`` is its line in the file."""

    line: int
    day: date
    starts: time
    ends: time | None
    name: str
    phone: str
    nik_last4: str
    purpose: str | None
    external_ref: str
    kind: str = "visit"
    contact: str | None = None


@dataclass(frozen=True)
class ReadFile:
    """An import file read: its good rows and each refused line's problems (or the whole
    file's ``problem``, e.g. a wrong header, when nothing could be read)."""

    rows: list[ImportRow] = field(default_factory=list)
    problems: dict[int, list[RowProblem]] = field(default_factory=dict)
    problem: str | None = None
    found: tuple[str, ...] = ()


def read_import(text: str) -> ReadFile:
    """Read a bookings CSV: a header naming ``BOOKING_CSV_HEADER`` (and, if the file has them,
    the kind and contact columns of ``BOOKING_CSV_HEADERS``), then one booking a line.

    Commas or semicolons (a spreadsheet in Indonesian writes semicolons) separate the
    columns. More than ``MAX_IMPORT_ROWS`` bookings refuse the whole file.
    """
    text = text.removeprefix("\ufeff")  # the byte order mark a spreadsheet writes first
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    try:
        lines = csv.reader(text.splitlines(), delimiter=delimiter, strict=True)
        header = tuple(cell.strip().casefold() for cell in next(lines, []))
        if header not in limits.BOOKING_CSV_HEADERS:
            return ReadFile(problem=HEADER_WRONG, found=header)
        cells_of: list[tuple[int, list[str]]] = []
        for number, cells in enumerate(lines, start=2):
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells_of) == limits.MAX_IMPORT_ROWS:
                return ReadFile(problem=TOO_MANY_ROWS)
            cells_of.append((number, cells))
    except csv.Error:
        return ReadFile(problem=NOT_CSV)
    read = ReadFile()
    first_of_ref: dict[str, int] = {}
    first_of_person: dict[tuple[date, str, str], int] = {}
    for number, cells in cells_of:
        row, problems = read_row(number, cells, header)
        if row is not None:
            ref_line = first_of_ref.setdefault(row.external_ref, number)
            person = (row.day, row.nik_last4, row.phone)
            person_line = first_of_person.setdefault(person, number)
            if ref_line != number:
                problems.append(RowProblem(REF_REPEATED, "external_ref", first_line=ref_line))
            elif person_line != number:
                problems.append(RowProblem(PERSON_REPEATED, "phone", first_line=person_line))
        if problems:
            read.problems[number] = problems
        else:
            read.rows.append(row)
    return read


def read_row(
    number: int, cells: list[str], columns: tuple[str, ...] = limits.BOOKING_CSV_HEADER
) -> tuple[ImportRow | None, list[RowProblem]]:
    """Check one row's cells, in the file's ``columns``; return the row read (None when a cell
    cannot be read) and every problem found."""
    if len(cells) != len(columns):
        return None, [RowProblem(COLUMNS_WRONG, value=str(len(cells)), columns=len(columns))]
    given = {"kind": "", "contact": ""} | {
        column: cell.strip() for column, cell in zip(columns, cells, strict=True)
    }
    problems = [
        RowProblem(FORMULA_CELL, column) for column, cell in given.items() if _formula(column, cell)
    ]
    if problems:
        return None, problems
    day = _day(given["date"])
    session = _SESSION_SHAPE.fullmatch(given["session"])
    starts, ends = _session_times(session)
    phone = phone_key(given["phone"])
    checks = (
        (day is None, DATE_INVALID, "date"),
        (starts is None, SESSION_INVALID, "session"),
        (not given["name"] or not _text(given["name"], limits.MAX_NAME), NAME_INVALID, "name"),
        (not _phone(given["phone"]), PHONE_INVALID, "phone"),
        (not re.fullmatch("[0-9]{4}", given["nik_last4"]), NIK_LAST4_INVALID, "nik_last4"),
        (given["purpose"] not in ("", *admission.PURPOSES), PURPOSE_UNKNOWN, "purpose"),
        (
            not given["external_ref"] or not _text(given["external_ref"], limits.MAX_EXTERNAL_REF),
            REF_INVALID,
            "external_ref",
        ),
        (given["kind"] not in ("", *limits.BOOKING_KINDS), KIND_UNKNOWN, "kind"),
        (
            given["kind"] == "video" and given["contact"] and not contact_kind(given["contact"]),
            CONTACT_INVALID,
            "contact",
        ),
        (given["kind"] in ("", "visit") and bool(given["contact"]), CONTACT_ON_VISIT, "contact"),
    )
    problems = [
        RowProblem(code, column, given[column] if code != NAME_INVALID else None)
        for failed, code, column in checks
        if failed
    ]
    if problems:
        return None, problems
    return (
        ImportRow(
            line=number,
            day=day,
            starts=starts,
            ends=ends,
            name=" ".join(given["name"].split()),
            phone=phone,
            nik_last4=given["nik_last4"],
            purpose=given["purpose"] or None,
            external_ref=given["external_ref"],
            kind=given["kind"] or "visit",
            contact=given["contact"] or None,
        ),
        [],
    )


def _formula(column: str, cell: str) -> bool:
    """Tell whether a cell would start a formula in a spreadsheet; "+62 812..." is a phone."""
    if not cell.startswith(_FORMULA_STARTS):
        return False
    return not (column in ("phone", "contact") and _phone(cell))


def _phone(cell: str) -> bool:
    return bool(cell) and re.fullmatch(limits.PHONE_PATTERN, cell) is not None


def _text(cell: str, max_length: int) -> bool:
    return len(cell) <= max_length and limits.storable(cell)


def _day(cell: str) -> date | None:
    """Return the ISO date (YYYY-MM-DD) of a cell within the office's years, or None."""
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", cell):
        return None
    try:
        day = date.fromisoformat(cell)
    except ValueError:
        return None
    return day if limits.FIRST_OFFICE_DAY <= day <= limits.LAST_OFFICE_DAY else None


def _session_times(shape: re.Match[str] | None) -> tuple[time | None, time | None]:
    """Return a session cell's start and end ("08:00" or "08:00-10:00"); None if not times."""
    if shape is None:
        return None, None
    hour, minute, end_hour, end_minute = shape.groups()
    try:
        starts = time(int(hour), int(minute))
        ends = time(int(end_hour), int(end_minute)) if end_hour is not None else None
    except ValueError:
        return None, None
    if ends is not None and ends <= starts:
        return None, None
    return starts, ends


def default_sessions(capacity: int) -> list[tuple[time, time, int]]:
    """Return the sessions a site books into until a manager sets its own: the default
    sessions' times, with the site's booked places shared out as the defaults share theirs
    (87: 30, 30 and 27); places a share leaves over go to the earliest sessions."""
    total = sum(places for *_times, places in limits.DEFAULT_BOOKING_SESSIONS)
    shares = [capacity * places // total for *_times, places in limits.DEFAULT_BOOKING_SESSIONS]
    for index in range(capacity - sum(shares)):
        shares[index] += 1
    return [
        (starts, ends, share)
        for (starts, ends, _places), share in zip(
            limits.DEFAULT_BOOKING_SESSIONS, shares, strict=True
        )
    ]
