"""Why the booking service refused to act: one class per cause, with the facts its words need.

Words live in ``checkin.words.booking_words``; the entry point that catches one of these has stored
nothing (it rolls its transaction back).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from checkin.domain.errors import ServiceError


class UnknownBooking(ServiceError):
    """No booking of this site has this code (with this phone, where one is asked for).

    Said alike for a wrong code and a wrong phone, so that nobody learns who has booked.
    """

    code, field = "unknown_booking", "code"
    status = 404


class BookingNotOpen(ServiceError):
    """The booking was used at the door, cancelled, or its place released already."""

    code, field = "booking_not_open", "code"
    status = 409


@dataclass(eq=False)
class BookingAlreadyAdmitted(ServiceError):
    """The booking's visitor was admitted at the door already: a booking admits once."""

    code, field = "booking_already_admitted", "booking_code"
    status = 409
    admitted_at: datetime | None


class VideoSessionNotAtDoor(ServiceError):
    """The booking is a video session: it is served where the visitor is, never at the door."""

    code, field = "video_session_not_at_door", "booking_code"
    status = 409


class ContactOnVisit(ServiceError):
    """A contact (where a video session reaches the visitor) was given with a visit."""

    code, field = "contact_on_visit", "contact"


class ContactInvalid(ServiceError):
    """A video session's contact is neither a phone number nor an https meeting link."""

    code, field = "contact_invalid", "contact"


@dataclass(eq=False)
class UnknownSession(ServiceError):
    """The site has no session starting at this time."""

    code, field = "unknown_session", "session"
    starts: time


@dataclass(eq=False)
class SessionFull(ServiceError):
    """Every place of the session that day is booked (or given to walk-ins)."""

    code, field = "session_full", "session"
    status = 409
    starts: time
    day: date


@dataclass(eq=False)
class SessionOver(ServiceError):
    """The session's check-in window has closed: it can no longer be booked."""

    code, field = "session_over", "session"
    starts: time
    day: date


@dataclass(eq=False)
class AlreadyBooked(ServiceError):
    """This NIK's last 4 digits and phone hold a booking of that day already."""

    code, field = "already_booked", "phone"
    status = 409
    day: date


@dataclass(eq=False)
class BookingDayClosed(ServiceError):
    """The office is closed that day (office calendar)."""

    code, field = "booking_day_closed", "day"
    day: date


@dataclass(eq=False)
class BookingDayPast(ServiceError):
    """The day is over at the site."""

    code, field = "booking_day_past", "day"
    day: date


@dataclass(eq=False)
class BookingDayTooFar(ServiceError):
    """The public page books no further ahead than ``last``."""

    code, field = "booking_day_too_far", "day"
    last: date


@dataclass(eq=False)
class BookingPageBusy(ServiceError):
    """Too many bookings or cancellations from this client address: none for ``minutes``."""

    code, field = "booking_page_busy", None
    status = 429
    minutes: int


@dataclass(eq=False)
class ReleaseTooEarly(ServiceError):
    """Booked places go to walk-ins from the release time of the day (in the site's zone)."""

    code, field = "release_too_early", None
    release_at: datetime


@dataclass(eq=False)
class ImportHeaderWrong(ServiceError):
    """The file's first line does not name the documented columns in their order."""

    code, field = "import_header_wrong", "file"
    expected: str
    found: str


@dataclass(eq=False)
class ImportTooLarge(ServiceError):
    """The file holds more bookings than one import takes."""

    code, field = "import_too_large", "file"
    limit: int


class ImportNotCsv(ServiceError):
    """The file is no CSV text (not UTF-8, or quotes that never close)."""

    code, field = "import_not_csv", "file"
