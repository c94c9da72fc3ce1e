"""Booked visits: book, cancel, find at the door, release unclaimed places, import a file.

A booking claims a place of its session's day with one conditional UPDATE on the session's
counter row (:class:`SessionDay`), as the walk-in day counter claims a slot, so a session's
places hold across processes and servers; the CHECK constraints are the backstop. Functions
here add to the caller's transaction and never commit or roll back: the CLI command or the
API view that calls one commits once, and on a :class:`ServiceError` stores nothing.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm.attributes import set_committed_value

from checkin.domain import booking_rules, calling, limits
from checkin.domain.booking_errors import (
    AlreadyBooked,
    BookingAlreadyAdmitted,
    BookingDayClosed,
    BookingDayPast,
    BookingDayTooFar,
    BookingNotOpen,
    BookingPageBusy,
    ContactInvalid,
    ContactOnVisit,
    ImportHeaderWrong,
    ImportNotCsv,
    ImportTooLarge,
    ReleaseTooEarly,
    SessionFull,
    SessionOver,
    UnknownBooking,
    UnknownSession,
    VideoSessionNotAtDoor,
)
from checkin.domain.booking_rules import RowProblem
from checkin.extensions import db
from checkin.models import (
    Booking,
    BookingSession,
    DayQuota,
    SessionDay,
    Site,
    SiteBooking,
    User,
    Visit,
)
from checkin.services import audit, day_counter, logins

log = logging.getLogger(__name__)

RELEASED = "bookings_released"
IMPORTED = "bookings_imported"
# What a search at the door returns at most: the door shows a short list to pick from.
FOUND_AT_MOST = 20
# Bookings and cancellations one client address may send through the public page a window
# (checkin.domain.throttle): enough for a family booking from one phone, and a mobile network
# that puts many phones behind one address; a broker's script stops within a minute.
PAGE_ATTEMPTS = 10
_PAGE = "booking-page:"
# Statement parameters at a time: SQLite's limit was 999 before 3.32.
_CHUNK = 900
_INSERT = {dialect.dialect.name: dialect.insert for dialect in (postgresql, sqlite)}
VISIT, VIDEO = limits.BOOKING_KINDS


@dataclass(frozen=True)
class BookingData:
    """A booking to make, checked at the edge: ``starts`` names the session by its start."""

    day: date
    starts: time
    name: str
    phone: str
    nik_last4: str
    kind: str = "visit"
    purpose: str | None = None
    contact: str | None = None
    external_ref: str | None = None


@dataclass(frozen=True)
class Booked:
    """The booking, and whether it was made just now (else its ``external_ref`` had one)."""

    booking: Booking
    created: bool = True


@dataclass(frozen=True)
class Places:
    """A session's places on a day: offered, booked, admitted at the door, given to walk-ins."""

    session: BookingSession
    capacity: int
    booked: int
    admitted: int
    released: int

    @property
    def left(self) -> int:
        """Return how many places can still be booked."""
        return self.capacity - self.booked


@dataclass(frozen=True)
class Released:
    """What a release gave walk-ins: ``places`` more walk-in slots on ``day``."""

    day: date
    places: int


@dataclass(frozen=True)
class ImportReport:
    """What an import did: bookings made, rows whose reference was imported before, and each
    refused line's problems. With any line refused, nothing was imported."""

    imported: int = 0
    already: int = 0
    refused: dict[int, list[RowProblem]] = field(default_factory=dict)


@dataclass(frozen=True)
class OpenDay:
    """A day the public page offers, with its sessions that still have places."""

    day: date
    places: list[Places]


def setup_of(site: Site) -> SiteBooking:
    """Return the site's booked channel: its row, or the defaults (not stored)."""
    return db.session.get(SiteBooking, site.id) or SiteBooking(
        site_id=site.id,
        capacity=limits.DEFAULT_BOOKED_CAPACITY,
        release_at=limits.DEFAULT_RELEASE_TIME,
        public_page=False,
    )


def set_public_page(site: Site, on: bool, by: User | None, now: datetime) -> None:
    """Switch the site's public booking page on or off; audited as a settings change.

    Switched on, the site's sessions are made if it has none yet, so that the page's visitors
    only read until someone books.
    """
    setup = setup_of(site)
    if setup.public_page == on:
        return
    sessions_of(site)
    audit.record(site, by, now, "settings", {"public_page": [setup.public_page, on]})
    setup.public_page = on
    db.session.add(setup)


def open_days(site: Site, now: datetime) -> list[OpenDay]:
    """Return the days the public page offers, from today for ``PUBLIC_BOOKING_DAYS`` days:
    each day the office is open, with its sessions not over that still have places."""
    today = site.local_day(now)
    span = [today + timedelta(days=ahead) for ahead in range(limits.PUBLIC_BOOKING_DAYS)]
    plans = day_counter.day_plans([site], {(site.id, day) for day in span})
    rows = {
        (row.day, row.session_id): row
        for row in db.session.scalars(
            sa.select(SessionDay).where(
                SessionDay.site_id == site.id, SessionDay.day.between(span[0], span[-1])
            )
        )
    }
    sessions = sessions_of(site)
    offered = []
    for day in span:
        if plans[site.id, day].closed:
            continue
        with_room = [
            places
            for session in sessions
            if not booking_rules.session_ended(day, session.times, site.zone, now)
            and (places := _places_of(session, rows.get((day, session.id)))).left > 0
        ]
        if with_room:
            offered.append(OpenDay(day, with_room))
    return offered


def book_on_page(site: Site, data: BookingData, now: datetime) -> Booked:
    """Book as :func:`book` does for a visitor on the public page, within the days it offers.

    The page takes the client address's attempt first (:func:`take_page_attempt`).
    """
    last = site.local_day(now) + timedelta(days=limits.PUBLIC_BOOKING_DAYS - 1)
    if data.day > last:
        raise BookingDayTooFar(last)
    return book(site, data, now)


def cancel_on_page(site: Site, typed_code: str, phone: str, now: datetime) -> Booking:
    """Cancel as :func:`cancel` does with the visitor's phone; the page takes the client
    address's attempt first (:func:`take_page_attempt`)."""
    return cancel(site, typed_code, now, phone=phone)


def take_page_attempt(address: str, now: datetime) -> None:
    """Count one booking or cancellation from a client address, or raise BookingPageBusy.

    The page commits the attempt before it books or cancels, so that a refused try counts.
    """
    keys = {(logins.digest(_PAGE), logins.digest(address)): PAGE_ATTEMPTS}
    refused_until = logins.take_attempt(keys, now)
    if refused_until is not None:
        raise BookingPageBusy(logins.minutes_until(refused_until, now))


def sessions_of(site: Site) -> list[BookingSession]:
    """Return the site's sessions by start; a site without any gets the default sessions."""
    query = (
        sa.select(BookingSession)
        .where(BookingSession.site_id == site.id)
        .order_by(BookingSession.starts)
    )
    found = list(db.session.scalars(query))
    if found:
        return found
    made = [
        {"site_id": site.id, "starts": starts, "ends": ends, "capacity": places}
        for starts, ends, places in booking_rules.default_sessions(setup_of(site).capacity)
    ]
    # Two first bookings at once both make them: the second's insert does nothing.
    insert = _INSERT[_dialect()](BookingSession).on_conflict_do_nothing(
        index_elements=["site_id", "starts"]
    )
    db.session.execute(insert, made)
    return list(db.session.scalars(query))


def places(site: Site, day: date) -> list[Places]:
    """Return each session's places on ``day``, without writing (but the default sessions)."""
    rows = {
        row.session_id: row
        for row in db.session.scalars(
            sa.select(SessionDay).where(SessionDay.site_id == site.id, SessionDay.day == day)
        )
    }
    return [_places_of(session, rows.get(session.id)) for session in sessions_of(site)]


def _places_of(session: BookingSession, row: SessionDay | None) -> Places:
    """Return a session's places on a day from its counter row (none yet: all free)."""
    if row is None:
        return Places(session, session.capacity, 0, 0, 0)
    return Places(session, row.capacity, row.booked, row.admitted, row.released)


def book(site: Site, data: BookingData, now: datetime) -> Booked:
    """Book a place of a session for a visitor, or return the booking of its ``external_ref``.

    Refused on a closed or past day, for a session over or full, for a second booking of
    the same NIK-last-4 and phone on that day, and for a contact that is not a video
    session's phone number or https meeting link.
    """
    _check_contact(data.kind, data.contact)
    if data.external_ref is not None:
        stored = _by_ref(site, data.external_ref)
        if stored is not None:
            return Booked(stored, created=False)
    session = _session_at(site, data.starts)
    _bookable(site, data.day, session, now)
    phone = booking_rules.phone_key(data.phone)
    if _holding(site, data.day, data.nik_last4, phone):
        raise AlreadyBooked(data.day)
    if not _claim(site, data.day, session, 1):
        raise SessionFull(session.starts, data.day)
    values = _values(site, data, session, phone, now)
    # ON CONFLICT DO NOTHING: a racing booking of the same person or reference, committed
    # meanwhile, makes this insert do nothing instead of failing the caller's transaction.
    for _attempt in range(3):
        values["code"] = booking_rules.new_code()
        made = db.session.scalar(
            _INSERT[_dialect()](Booking)
            .values(values)
            .on_conflict_do_nothing()
            .returning(Booking.id)
        )
        if made is not None:
            return Booked(db.session.get(Booking, made))
        if data.external_ref is not None and (stored := _by_ref(site, data.external_ref)):
            _unclaim(site, data.day, session.id)
            return Booked(stored, created=False)
        if _holding(site, data.day, data.nik_last4, phone):
            raise AlreadyBooked(data.day)
    raise RuntimeError("three booking codes taken in a row")


def cancel(site: Site, typed_code: str, now: datetime, phone: str | None = None) -> Booking:
    """Cancel a booking not yet used and give its place back to its session.

    The visitor names it by code and phone; staff by code alone (``phone`` None). A wrong
    phone is answered as an unknown code.
    """
    booking = booking_coded(site, typed_code)
    if phone is not None and booking.phone != booking_rules.phone_key(phone):
        raise UnknownBooking()
    if booking.day < site.local_day(now):
        raise BookingDayPast(booking.day)
    # A video session leaves the officers' queue with it, and an officer who called it
    # gets the place back; one closed as not answered keeps that record.
    in_queue = Booking.floor_state.in_(_QUEUED)
    cancelled = db.session.execute(
        sa.update(Booking)
        .where(Booking.id == booking.id, Booking.status == booking_rules.BOOKED)
        .values(
            status=booking_rules.CANCELLED,
            floor_state=sa.case((in_queue, None), else_=Booking.floor_state),
            officer_id=sa.case((in_queue, None), else_=Booking.officer_id),
        ),
        execution_options={"synchronize_session": False},
    )
    if cancelled.rowcount != 1:
        raise BookingNotOpen()
    _unclaim(site, booking.day, booking.session_id)
    db.session.refresh(booking)
    return booking


def booking_coded(site: Site, typed_code: str) -> Booking:
    """Return the site's booking with the code typed, on any day, or raise UnknownBooking."""
    code = booking_rules.typed_code(typed_code)
    booking = None
    if code is not None:
        booking = db.session.scalar(
            sa.select(Booking).where(Booking.site_id == site.id, Booking.code == code)
        )
    if booking is None:
        raise UnknownBooking()
    return booking


def find(site: Site, typed: str, day: date) -> list[Booking]:
    """Find bookings at the door: by code (any day, so the door can say it is another day's),
    else the day's by phone (the last four of the digits typed) or by name (part of it, any
    case). A paired tablet offline finds today's the same way in the list it keeps
    (:func:`door_list`; ``findBookings`` in static/offline/rules.js)."""
    code = booking_rules.typed_code(typed)
    if code is not None:
        found = db.session.scalar(
            sa.select(Booking).where(Booking.site_id == site.id, Booking.code == code)
        )
        if found is not None:
            return [found]
    of_day = (Booking.site_id == site.id, Booking.day == day)
    digits = booking_rules.phone_key(typed)
    if len(digits) >= 4 and not any(character.isalpha() for character in typed):
        # By its last four digits, which is all a door tablet keeps of a phone offline
        # (door_list): the door finds the same bookings with the connection or without.
        matches = Booking.phone.endswith(booking_rules.phone_last4(digits), autoescape=True)
    else:
        key = booking_rules.name_key(typed)
        if not key:
            return []
        matches = Booking.name_key.contains(key, autoescape=True)
    return list(
        db.session.scalars(
            sa.select(Booking)
            .join(BookingSession, Booking.session_id == BookingSession.id)
            .where(*of_day, matches)
            .order_by(BookingSession.starts, Booking.name_key, Booking.id)
            .limit(FOUND_AT_MOST)
        )
    )


@dataclass(frozen=True)
class DoorList:
    """Today's bookings of visits as a paired door tablet keeps them for offline use, in the
    order a search lists them, with the rules it finds and admits them by as the server does:
    no more of a visitor than the door shows (name, session, code), and a phone's last four
    digits to find them by."""

    day: date
    bookings: list[Booking]
    window_minutes: int = limits.BOOKING_WINDOW // timedelta(minutes=1)
    code_alphabet: str = limits.BOOKING_CODE_ALPHABET
    code_length: int = limits.BOOKING_CODE_LENGTH
    found_at_most: int = FOUND_AT_MOST


def door_list(site: Site, now: datetime) -> DoorList:
    """Return the site's bookings of visits of today (a video session never comes to the
    door), whatever their status: the door says why a cancelled one admits nobody as booked."""
    day = site.local_day(now)
    return DoorList(
        day,
        list(
            db.session.scalars(
                sa.select(Booking)
                .join(BookingSession, Booking.session_id == BookingSession.id)
                .where(Booking.site_id == site.id, Booking.day == day, Booking.kind == "visit")
                .order_by(BookingSession.starts, Booking.name_key, Booking.id)
            )
        ),
    )


@dataclass(frozen=True)
class AtTheDoor:
    """A booking shown at the door, and which rules its visitor meets there at that moment."""

    booking: Booking
    door: booking_rules.DoorChannel


def at_the_door(site: Site, typed_code: str, now: datetime) -> AtTheDoor:
    """Return the site's booking of the code typed and the rules its visitor meets at ``now``.

    A booking admitted already admits nobody again (BookingAlreadyAdmitted), nor does a video
    session, served from home (VideoSessionNotAtDoor); one cancelled or released, or a visitor
    early, late or on another day, meets the walk-in rules.
    """
    booking = booking_coded(site, typed_code)
    door = booking_rules.door_channel(
        booking.status, booking.day, booking.session.times, site.zone, now
    )
    if booking.kind == VIDEO:
        raise VideoSessionNotAtDoor()
    if door.channel == booking_rules.ALREADY_ADMITTED:
        raise BookingAlreadyAdmitted(booking.admitted_at)
    return AtTheDoor(booking, door)


def admit(site: Site, booking: Booking, now: datetime) -> None:
    """Let the booking's visitor take their booked place: once only, racing tablets included.

    The booking is claimed first with one conditional UPDATE (still ``booked``), so a second
    admission of it finds it taken; then its session's day counts the admission with another
    (``admitted < booked``, the CHECK constraint the backstop). Adds to the caller's
    transaction, which names the visit with :func:`name_visit`.
    """
    claimed = db.session.execute(
        sa.update(Booking)
        .where(Booking.id == booking.id, Booking.status == booking_rules.BOOKED)
        .values(status=booking_rules.ADMITTED, admitted_at=now),
        execution_options={"synchronize_session": False},
    )
    if claimed.rowcount != 1:
        db.session.refresh(booking)
        if booking.status == booking_rules.ADMITTED:
            raise BookingAlreadyAdmitted(booking.admitted_at)
        raise BookingNotOpen()  # cancelled or released since it was read
    _as_stored(booking, status=booking_rules.ADMITTED, admitted_at=now)
    counted = db.session.execute(
        sa.update(SessionDay)
        .where(
            SessionDay.site_id == site.id,
            SessionDay.day == booking.day,
            SessionDay.session_id == booking.session_id,
            SessionDay.admitted < SessionDay.booked,
        )
        .values(admitted=SessionDay.admitted + 1)
        .returning(SessionDay.admitted),
        execution_options={"synchronize_session": False},
    ).first()
    if counted is None:
        # A booking still booked holds one of the places its session counts as booked.
        raise RuntimeError("a booking held no place of its session")


def name_visit(booking: Booking, visit: Visit) -> None:
    """Record on an admitted booking the visit that took its place."""
    db.session.execute(
        sa.update(Booking).where(Booking.id == booking.id).values(visit_id=visit.id),
        execution_options={"synchronize_session": False},
    )
    _as_stored(booking, visit_id=visit.id)


def _as_stored(booking: Booking, **values: object) -> None:
    """Show on the booking in memory what an UPDATE has just stored, without reading it back."""
    for name, value in values.items():
        set_committed_value(booking, name, value)


def took_place(visit: Visit) -> bool:
    """Tell whether the visit took its booking's place (else walk-in rules decided it)."""
    return visit.booking is not None and visit.booking.visit_id == visit.id


def door_answer(visit: Visit) -> booking_rules.DoorChannel | None:
    """Return which rules the booking a visit showed met at the door, as the door says it."""
    booking = visit.booking
    if booking is None:
        return None
    # Only a booked booking is admitted: one admitted since met the booked rules at this check,
    # or at a later one (this check refused the visitor, who kept the booking).
    status = booking_rules.BOOKED if booking.status == booking_rules.ADMITTED else booking.status
    return booking_rules.door_channel(
        status, booking.day, booking.session.times, visit.site.zone, visit.checked_at
    )


def give_back_admission(visit: Visit) -> None:
    """Undo the admission a voided visit made on its booking: booked again, its place open."""
    booking = visit.booking
    db.session.execute(
        sa.update(Booking)
        .where(Booking.id == booking.id, Booking.visit_id == visit.id)
        .values(status=booking_rules.BOOKED, admitted_at=None, visit_id=None),
        execution_options={"synchronize_session": False},
    )
    _as_stored(booking, status=booking_rules.BOOKED, admitted_at=None, visit_id=None)
    db.session.execute(
        sa.update(SessionDay)
        .where(
            SessionDay.site_id == booking.site_id,
            SessionDay.day == booking.day,
            SessionDay.session_id == booking.session_id,
        )
        .values(admitted=SessionDay.admitted - 1),
        execution_options={"synchronize_session": False},
    )


def day_bookings(site: Site, day: date) -> list[Booking]:
    """Return the site's bookings of ``day``, by session and name."""
    return list(
        db.session.scalars(
            sa.select(Booking)
            .join(BookingSession, Booking.session_id == BookingSession.id)
            .where(Booking.site_id == site.id, Booking.day == day)
            .order_by(BookingSession.starts, Booking.name_key, Booking.id)
        )
    )


def release_unclaimed(site: Site, by: User | None, now: datetime) -> Released:
    """Give today's booked places not claimed at the door to walk-ins, from the release time.

    A session whose check-in window has closed gives every place not admitted, and its
    bookings not used are released; a later session gives the places nobody booked, and its
    bookings stay. Each session gives once: a second release gives nothing. On a closed day
    nothing is given (no walk-ins come).
    """
    day = site.local_day(now)
    moment = booking_rules.release_moment(day, setup_of(site).release_at, site.zone)
    if now < moment:
        raise ReleaseTooEarly(moment)
    if day_counter.planned(site, day).closed:
        return Released(day, 0)
    sessions = sessions_of(site)
    for session in sessions:
        _ensure_row(site, day, session)
    ended = [s.id for s in sessions if booking_rules.session_ended(day, s.times, site.zone, moment)]
    given = 0
    for session in sessions:
        # One statement reads and changes the row: a booking or admission committed meanwhile
        # is counted, never given away. SET reads the row as it was before the update. A video
        # session in the officers' queue keeps its place: the office has still to call it.
        keep = (
            SessionDay.admitted + _in_queue(site, day, session.id)
            if session.id in ended
            else SessionDay.booked
        )
        released = db.session.execute(
            sa.update(SessionDay)
            .where(
                SessionDay.site_id == site.id,
                SessionDay.day == day,
                SessionDay.session_id == session.id,
                SessionDay.released_at.is_(None),
            )
            .values(
                released=SessionDay.capacity - keep,
                capacity=keep,
                booked=keep if session.id in ended else SessionDay.booked,
                no_shows=SessionDay.booked - keep,
                released_at=now,
            )
            .returning(SessionDay.released),
            execution_options={"synchronize_session": False},
        ).scalar()
        given += released or 0
    if ended:
        db.session.execute(
            sa.update(Booking)
            .where(
                Booking.site_id == site.id,
                Booking.day == day,
                Booking.session_id.in_(ended),
                Booking.status == booking_rules.BOOKED,
                sa.func.coalesce(Booking.floor_state, "").not_in(_QUEUED),
            )
            .values(status=booking_rules.RELEASED),
            execution_options={"synchronize_session": False},
        )
    if given:
        day_counter.ensure_day_row(site, day)
        db.session.execute(
            sa.update(DayQuota)
            .where(DayQuota.site_id == site.id, DayQuota.day == day)
            .values({DayQuota.limit: DayQuota.limit + given}),
            execution_options={"synchronize_session": False},
        )
        audit.record(site, by, now, RELEASED, {"day": day.isoformat(), "places": given})
        log.info("site %s: %d booked places released to walk-ins on %s", site.code, given, day)
    return Released(day, given)


# A video session's floor states while it waits for an officer or an answer.
_QUEUED = (calling.WAITING, calling.CALLED)


def _in_queue(site: Site, day: date, session_id: int) -> sa.ScalarSelect[int]:
    """Return how many of a session's bookings of ``day`` are video sessions in the queue."""
    return (
        sa.select(sa.func.count())
        .where(
            Booking.site_id == site.id,
            Booking.day == day,
            Booking.session_id == session_id,
            Booking.status == booking_rules.BOOKED,
            Booking.floor_state.in_(_QUEUED),
        )
        .scalar_subquery()
    )


def release_due(now: datetime) -> list[tuple[Site, Released]]:
    """Release, in the caller's transaction, the unclaimed places of every site that takes
    bookings (it has sessions) and whose release time has come today; a site released already
    gives nothing again. A timer runs this every few minutes (deploy/checkin-release.timer)."""
    taking = (
        sa.select(Site)
        .where(sa.exists().where(BookingSession.site_id == Site.id))
        .order_by(Site.code)
    )
    done = []
    for site in db.session.scalars(taking).all():
        try:
            done.append((site, release_unclaimed(site, None, now)))
        except ReleaseTooEarly:
            continue  # its release time is later today (sites keep their own)
    return done


def import_file(site: Site, content: bytes, by: User | None, now: datetime) -> ImportReport:
    """Import bookings from a CSV file's bytes (UTF-8), as :func:`import_csv` does."""
    if len(content) > limits.MAX_IMPORT_BYTES:
        raise ImportTooLarge(limits.MAX_IMPORT_ROWS)
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        raise ImportNotCsv() from None
    return import_csv(site, text, by, now)


def import_csv(site: Site, text: str, by: User | None, now: datetime) -> ImportReport:
    """Import bookings from a CSV file's text (see ``booking_rules.read_import``), all or none.

    A row whose ``external_ref`` was imported before is left as it is. Any row refused (a
    wrong cell, a repeat, a closed or past day, an unknown session, a person booked that day,
    a session without room) refuses the file: nothing is imported, and the report says why
    for each line.
    """
    read = booking_rules.read_import(text)
    if read.problem == booking_rules.HEADER_WRONG:
        expected = ",".join(limits.BOOKING_CSV_HEADER)
        raise ImportHeaderWrong(expected, ",".join(read.found) or "–")
    if read.problem == booking_rules.TOO_MANY_ROWS:
        raise ImportTooLarge(limits.MAX_IMPORT_ROWS)
    if read.problem == booking_rules.NOT_CSV:
        raise ImportNotCsv()
    refused = {line: list(problems) for line, problems in read.problems.items()}
    imported_before = _refs_stored(site, [row.external_ref for row in read.rows])
    new_rows = [row for row in read.rows if row.external_ref not in imported_before]
    by_start = {session.starts: session for session in sessions_of(site)}
    days = {row.day for row in new_rows}
    plans = day_counter.day_plans([site], {(site.id, day) for day in days}) if days else {}
    booked_people = _people_holding(site, days)
    today = site.local_day(now)
    wanted: dict[tuple[date, int], list[booking_rules.ImportRow]] = defaultdict(list)
    for row in new_rows:
        session = by_start.get(row.starts)
        problem = None
        if session is None or row.ends not in (None, session.ends):
            problem = RowProblem(booking_rules.SESSION_UNKNOWN, "session")
        elif row.day < today:
            problem = RowProblem(booking_rules.DAY_PAST, "date", row.day.isoformat())
        elif plans[site.id, row.day].closed:
            problem = RowProblem(booking_rules.DAY_CLOSED, "date", row.day.isoformat())
        elif booking_rules.session_ended(row.day, session.times, site.zone, now):
            problem = RowProblem(booking_rules.SESSION_OVER, "session")
        elif (row.day, row.nik_last4, row.phone) in booked_people:
            problem = RowProblem(booking_rules.ALREADY_BOOKED, "phone")
        if problem is not None:
            refused.setdefault(row.line, []).append(problem)
        else:
            wanted[row.day, session.id].append(row)
    free = _left(site, wanted)
    for key, rows in wanted.items():
        for row in rows[free[key] :]:
            refused.setdefault(row.line, []).append(
                RowProblem(booking_rules.OVER_CAPACITY, "session", str(free[key]))
            )
    if refused:
        return ImportReport(0, len(imported_before), dict(sorted(refused.items())))
    sessions = {session.id: session for session in by_start.values()}
    for (day, session_id), rows in wanted.items():
        if not _claim(site, day, sessions[session_id], len(rows)):
            raise SessionFull(sessions[session_id].starts, day)
        _insert_rows(site, session_id, rows, now)
    imported = sum(len(rows) for rows in wanted.values())
    if imported:
        detail = {"imported": imported, "already": len(imported_before)}
        audit.record(site, by, now, IMPORTED, detail)
    return ImportReport(imported, len(imported_before))


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def _session_at(site: Site, starts: time) -> BookingSession:
    """Return the site's session starting at ``starts``, or raise UnknownSession."""
    for session in sessions_of(site):
        if session.starts == starts:
            return session
    raise UnknownSession(starts)


def _bookable(site: Site, day: date, session: BookingSession, now: datetime) -> None:
    """Raise unless ``session`` of ``day`` can still be booked: open, not past, not over."""
    if day < site.local_day(now):
        raise BookingDayPast(day)
    if day_counter.planned(site, day).closed:
        raise BookingDayClosed(day)
    if booking_rules.session_ended(day, session.times, site.zone, now):
        raise SessionOver(session.starts, day)


def _holding(site: Site, day: date, nik_last4: str, phone: str) -> bool:
    """Tell whether this NIK-last-4 and phone hold a booking of ``day`` (booked or used)."""
    return (
        db.session.scalar(
            sa.select(Booking.id).where(
                Booking.site_id == site.id,
                Booking.day == day,
                Booking.nik_last4 == nik_last4,
                Booking.phone == phone,
                Booking.status.in_(booking_rules.HOLDING),
            )
        )
        is not None
    )


def _by_ref(site: Site, external_ref: str) -> Booking | None:
    return db.session.scalar(
        sa.select(Booking).where(Booking.site_id == site.id, Booking.external_ref == external_ref)
    )


def _values(
    site: Site, data: BookingData, session: BookingSession, phone: str, now: datetime
) -> dict:
    """Return a new booking's columns, but its code."""
    name = " ".join(data.name.split())
    return {
        "site_id": site.id,
        "day": data.day,
        "session_id": session.id,
        "kind": data.kind,
        "name": name,
        "name_key": booking_rules.name_key(name),
        "phone": phone,
        "nik_last4": data.nik_last4,
        "purpose": data.purpose,
        "contact": data.contact,
        "external_ref": data.external_ref,
        "status": booking_rules.BOOKED,
        "created_at": now,
        "floor_state": _floor_state(data.kind),
    }


def _floor_state(kind: str) -> str | None:
    """Return a new booking's floor state: a video session waits for an officer's call from
    its session's start (``checkin.services.video``); a visit reaches the floor at the door."""
    return calling.WAITING if kind == VIDEO else None


def _check_contact(kind: str, contact: str | None) -> None:
    """Refuse a contact on a visit, and a video session's contact that is neither a phone
    number nor an https meeting link."""
    if contact is None:
        return
    if kind != VIDEO:
        raise ContactOnVisit()
    if booking_rules.contact_kind(contact) is None:
        raise ContactInvalid()


def _ensure_row(site: Site, day: date, session: BookingSession) -> None:
    """Make the session's counter row of ``day`` unless it exists, racing safely."""
    db.session.execute(
        _INSERT[_dialect()](SessionDay)
        .values(
            site_id=site.id,
            day=day,
            session_id=session.id,
            capacity=session.capacity,
            booked=0,
            admitted=0,
            released=0,
        )
        .on_conflict_do_nothing(index_elements=["site_id", "day", "session_id"])
    )


def _claim_statement(site: Site, day: date, session_id: int, count: int) -> sa.Update:
    return (
        sa.update(SessionDay)
        .where(
            SessionDay.site_id == site.id,
            SessionDay.day == day,
            SessionDay.session_id == session_id,
            SessionDay.booked + count <= SessionDay.capacity,
        )
        .values(booked=SessionDay.booked + count)
        .returning(SessionDay.booked)
    )


def _claim(site: Site, day: date, session: BookingSession, count: int) -> bool:
    """Take ``count`` places of the session's day in one conditional UPDATE; False if full."""
    statement = _claim_statement(site, day, session.id, count)
    options = {"synchronize_session": False}
    if db.session.execute(statement, execution_options=options).first() is not None:
        return True
    # No row yet, or full. Retrying after the insert tells them apart: on PostgreSQL a row
    # another booking has just created is invisible to the first UPDATE, and the insert that
    # conflicts with it says nothing.
    _ensure_row(site, day, session)
    return db.session.execute(statement, execution_options=options).first() is not None


def _unclaim(site: Site, day: date, session_id: int) -> None:
    """Give one place back to the session's day."""
    db.session.execute(
        sa.update(SessionDay)
        .where(
            SessionDay.site_id == site.id,
            SessionDay.day == day,
            SessionDay.session_id == session_id,
        )
        .values(booked=SessionDay.booked - 1),
        execution_options={"synchronize_session": False},
    )


def _chunks(values: list, size: int = _CHUNK) -> Iterable[list]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _refs_stored(site: Site, refs: list[str]) -> set[str]:
    """Return which of the references the site has a booking of."""
    stored: set[str] = set()
    for chunk in _chunks(refs):
        stored.update(
            db.session.scalars(
                sa.select(Booking.external_ref).where(
                    Booking.site_id == site.id, Booking.external_ref.in_(chunk)
                )
            )
        )
    return stored


def _people_holding(site: Site, days: set[date]) -> set[tuple[date, str, str]]:
    """Return (day, NIK-last-4, phone) of every booking held on ``days``."""
    if not days:
        return set()
    return {
        (row.day, row.nik_last4, row.phone)
        for row in db.session.execute(
            sa.select(Booking.day, Booking.nik_last4, Booking.phone).where(
                Booking.site_id == site.id,
                Booking.day.in_(sorted(days)),
                Booking.status.in_(booking_rules.HOLDING),
            )
        )
    }


def _left(site: Site, wanted: Iterable[tuple[date, int]]) -> dict[tuple[date, int], int]:
    """Return the places left of each (day, session id), without writing."""
    keys = set(wanted)
    if not keys:
        return {}
    days = {day for day, _session in keys}
    rows = {
        (row.day, row.session_id): row.capacity - row.booked
        for row in db.session.scalars(
            sa.select(SessionDay).where(
                SessionDay.site_id == site.id, SessionDay.day.in_(sorted(days))
            )
        )
    }
    capacity = {session.id: session.capacity for session in sessions_of(site)}
    return {key: rows.get(key, capacity[key[1]]) for key in keys}


def _insert_rows(
    site: Site, session_id: int, rows: list[booking_rules.ImportRow], now: datetime
) -> None:
    """Insert imported bookings of one session's day, whose places are claimed."""
    db.session.execute(
        sa.insert(Booking),
        [
            {
                "site_id": site.id,
                "day": row.day,
                "session_id": session_id,
                "kind": row.kind,
                "name": row.name,
                "name_key": booking_rules.name_key(row.name),
                "phone": row.phone,
                "nik_last4": row.nik_last4,
                "purpose": row.purpose,
                "contact": row.contact,
                "external_ref": row.external_ref,
                "code": booking_rules.new_code(),
                "status": booking_rules.BOOKED,
                "created_at": now,
                "admitted_at": None,
                "visit_id": None,
                "floor_state": _floor_state(row.kind),
            }
            for row in rows
        ],
    )
