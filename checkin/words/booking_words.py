"""What the booking channel says in the reader's language: its errors, an import's report, and
its audit entries."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from checkin.domain import booking_rules
from checkin.domain.booking_rules import RowProblem
from checkin.domain.errors import ServiceError
from checkin.models import Booking
from checkin.words import calendar


def _hm(moment: Any) -> str:
    return moment.strftime("%H:%M")


# What the booking service's errors say (see checkin.error_words.ERROR_TEXT).
ERROR_TEXT: dict[str, Callable[[Any], str]] = {
    "unknown_booking": lambda error: _(
        "No booking has this code and phone: check the code on the booking."
    ),
    "booking_not_open": lambda error: _(
        "This booking was used at the door, cancelled, or its place given to walk-ins."
    ),
    "booking_already_admitted": lambda error: _(
        "This booking's visitor was admitted already: a booking admits one visit."
    ),
    "unknown_session": lambda error: _(
        "There is no session starting at %(time)s.", time=_hm(error.starts)
    ),
    "session_full": lambda error: _(
        "The session at %(time)s on %(day)s is full: choose another.",
        time=_hm(error.starts),
        day=calendar.day_text(error.day),
    ),
    "session_over": lambda error: _(
        "The session at %(time)s on %(day)s is over: choose a later one.",
        time=_hm(error.starts),
        day=calendar.day_text(error.day),
    ),
    "already_booked": lambda error: _(
        "This NIK and phone have a booking on %(day)s already: one booking a day.",
        day=calendar.day_text(error.day),
    ),
    "booking_day_closed": lambda error: _(
        "The office is closed on %(day)s: choose another day.",
        day=calendar.day_text(error.day),
    ),
    "booking_day_past": lambda error: _(
        "%(day)s is past: choose today or a later day.", day=calendar.day_text(error.day)
    ),
    "booking_day_too_far": lambda error: _(
        "Online bookings go up to %(day)s: choose an earlier day.",
        day=calendar.day_text(error.last),
    ),
    "booking_page_busy": lambda error: ngettext(
        "Too many bookings or cancellations from this connection: try again in %(num)d minute.",
        "Too many bookings or cancellations from this connection: try again in %(num)d minutes.",
        error.minutes,
    ),
    "release_too_early": lambda error: _(
        "Booked places go to walk-ins from %(time)s.", time=_hm(error.release_at)
    ),
    "import_header_wrong": lambda error: _(
        "The first line must name the columns %(expected)s; this file's is %(found)s.",
        expected=error.expected,
        found=error.found,
    ),
    "import_too_large": lambda error: ngettext(
        "The file holds more than %(num)d booking: split it, nothing was imported.",
        "The file holds more than %(num)d bookings: split it, nothing was imported.",
        error.limit,
    ),
    "video_session_not_at_door": lambda error: _(
        "This booking is a video session: the office calls the visitor where they are, so it"
        " is not checked in at the door."
    ),
    "contact_on_visit": lambda error: _(
        "Only a video session has a contact: the office reaches a visit at the door."
    ),
    "contact_invalid": lambda error: _(
        "Give a phone number, or a meeting link starting with https://."
    ),
    "import_not_csv": lambda error: _(
        'This is not a CSV file in UTF-8: save it from the spreadsheet as "CSV UTF-8".'
    ),
}

# Why a row of an import is refused; ``value`` and ``line`` are the row's facts.
ROW_TEXT: dict[str, Callable[[RowProblem], str]] = {
    booking_rules.COLUMNS_WRONG: lambda problem: ngettext(
        "%(found)s columns where the first line names %(num)d column.",
        "%(found)s columns where the first line names %(num)d columns.",
        problem.columns,
        found=problem.value,
    ),
    booking_rules.FORMULA_CELL: lambda problem: _(
        "%(column)s starts like a spreadsheet formula (=, +, -, @).", column=problem.column
    ),
    booking_rules.DATE_INVALID: lambda problem: _(
        "%(value)s is not a date: write YYYY-MM-DD, e.g. 2026-11-25.", value=problem.value
    ),
    booking_rules.SESSION_INVALID: lambda problem: _(
        "%(value)s is not a session: write its start, e.g. 08:00, or 08:00-10:00.",
        value=problem.value,
    ),
    booking_rules.NAME_INVALID: lambda problem: _(
        "The name is missing, too long, or holds characters that cannot be stored."
    ),
    booking_rules.PHONE_INVALID: lambda problem: _(
        "%(value)s is not a phone number.", value=problem.value or "–"
    ),
    booking_rules.NIK_LAST4_INVALID: lambda problem: _(
        "%(value)s is not the NIK's last 4 digits.", value=problem.value or "–"
    ),
    booking_rules.PURPOSE_UNKNOWN: lambda problem: _(
        "%(value)s is not a purpose: use jht_claim, jkk_claim, jkm_claim, jp_claim, jkp_claim, "
        "enquiry, other, or nothing.",
        value=problem.value,
    ),
    booking_rules.KIND_UNKNOWN: lambda problem: _(
        "%(value)s is not a kind: use visit, video, or nothing (a visit).", value=problem.value
    ),
    booking_rules.CONTACT_INVALID: lambda problem: _(
        "%(value)s is neither a phone number nor a meeting link starting with https://.",
        value=problem.value,
    ),
    booking_rules.CONTACT_ON_VISIT: lambda problem: _(
        "Only a video session has a contact: write video as its kind, or leave the contact out."
    ),
    booking_rules.REF_INVALID: lambda problem: _(
        "The external reference is missing, too long, or holds characters that cannot be stored."
    ),
    booking_rules.REF_REPEATED: lambda problem: _(
        "The same external reference as line %(number)d.", number=problem.first_line
    ),
    booking_rules.PERSON_REPEATED: lambda problem: _(
        "The same NIK and phone on the same day as line %(number)d: one booking a day.",
        number=problem.first_line,
    ),
    booking_rules.SESSION_UNKNOWN: lambda problem: _("The office has no such session."),
    booking_rules.DAY_PAST: lambda problem: _("%(value)s is past.", value=problem.value),
    booking_rules.DAY_CLOSED: lambda problem: _(
        "The office is closed on %(value)s.", value=problem.value
    ),
    booking_rules.SESSION_OVER: lambda problem: _("The session is over."),
    booking_rules.ALREADY_BOOKED: lambda problem: _(
        "This NIK and phone have a booking that day already: one booking a day."
    ),
    booking_rules.OVER_CAPACITY: lambda problem: ngettext(
        "The session has room for %(num)d more booking only, taken by the lines before.",
        "The session has room for %(num)d more bookings only, taken by the lines before.",
        int(problem.value),
    ),
}

# What the door says of a booking shown there: which rules the visitor met, and why. Each takes
# the check-in window's opening and closing times and the booking's day, as said.
DOOR_TEXT: dict[str, Callable[[str, str, str], str]] = {
    booking_rules.AS_BOOKED: lambda opens, closes, day: _(
        "On time for the booking (check-in %(opens)s-%(closes)s): the visitor takes their"
        " booked place, not a walk-in slot.",
        opens=opens,
        closes=closes,
    ),
    booking_rules.EARLY: lambda opens, closes, day: _(
        "Early: the booking checks in from %(opens)s. The walk-in rules apply now.", opens=opens
    ),
    booking_rules.LATE: lambda opens, closes, day: _(
        "Late: the booking's check-in closed at %(closes)s. The walk-in rules apply.",
        closes=closes,
    ),
    booking_rules.WRONG_DAY: lambda opens, closes, day: _(
        "The booking is for %(day)s, not today. The walk-in rules apply.", day=day
    ),
    booking_rules.WAS_CANCELLED: lambda opens, closes, day: _(
        "The booking was cancelled. The walk-in rules apply."
    ),
    booking_rules.WAS_RELEASED: lambda opens, closes, day: _(
        "The booking's place was given to walk-ins. The walk-in rules apply."
    ),
}


def page_error_text(error: ServiceError) -> str:
    """Say a refusal on the public booking page, where anyone may type anyone's NIK digits and
    phone: a second booking of the same person is refused without saying they have one."""
    if error.code == "already_booked":
        return _("This booking cannot be made. One booking per person a day.")
    return ERROR_TEXT[error.code](error)


def grouped_code(code: str) -> str:
    """Show a booking code in groups of 5, read aloud and typed without losing the place; the
    door takes it with or without the dash."""
    return "-".join(code[start : start + 5] for start in range(0, len(code), 5))


def cancelled_text(booking: Booking) -> str:
    """Say which booking was cancelled: its code, day and session, nothing of its visitor."""
    return _(
        "Booking %(code)s for %(day)s, %(starts)s-%(ends)s is cancelled.",
        code=grouped_code(booking.code),
        day=calendar.day_text(booking.day),
        starts=_hm(booking.session.starts),
        ends=_hm(booking.session.ends),
    )


def door_text(door: booking_rules.DoorChannel) -> str:
    """Say which rules a booked visitor met at the door, in the reader's language."""
    return DOOR_TEXT[door.channel](_hm(door.opens), _hm(door.closes), calendar.day_text(door.day))


def door_templates() -> dict[str, str]:
    """Return what the door says of each channel with {opens}, {closes} and {day} to fill in,
    for the page to say it from the API's answer."""
    return {channel: text("{opens}", "{closes}", "{day}") for channel, text in DOOR_TEXT.items()}


AUDIT_LABELS = {
    "bookings_released": _l("Booked places given to walk-ins"),
    "bookings_imported": _l("Bookings imported"),
    "bookings_read": _l("Bookings read (API)"),
}


def row_text(problem: RowProblem) -> str:
    """Return why a row of an import is refused, in the reader's language."""
    return ROW_TEXT[problem.code](problem)


def report_lines(imported: int, already: int, refused: dict[int, list[RowProblem]]) -> list[str]:
    """Say what an import did, a line for the totals and one for each refused line."""
    if refused:
        lines = [
            ngettext(
                "%(num)d line refused: nothing was imported. Fix the file and import it again.",
                "%(num)d lines refused: nothing was imported. Fix the file and import it again.",
                len(refused),
            )
        ]
        for line, problems in refused.items():
            said = " ".join(row_text(problem) for problem in problems)
            lines.append(_("Line %(number)d: %(problems)s", number=line, problems=said))
        return lines
    lines = [ngettext("%(num)d booking imported.", "%(num)d bookings imported.", imported)]
    if already:
        lines.append(
            ngettext(
                "%(num)d booking was imported before: left as it is.",
                "%(num)d bookings were imported before: left as they are.",
                already,
            )
        )
    return lines


def release_needs_one_choice() -> str:
    """Say that a release names one site or asks for every site due, not both nor neither."""
    return _("Give either --site CODE or --due.")


def release_text(places: int) -> str:
    """Say what a release gave walk-ins."""
    if not places:
        return _("No booked places to give: released already today, or none left.")
    return ngettext(
        "%(num)d booked place given to walk-ins for the rest of today.",
        "%(num)d booked places given to walk-ins for the rest of today.",
        places,
    )


def audit_text(action: str, detail: dict[str, Any]) -> str:
    """Say what a booking audit entry records."""
    if action == "bookings_released":
        return ngettext(
            "%(num)d place given to walk-ins on %(day)s",
            "%(num)d places given to walk-ins on %(day)s",
            detail["places"],
            day=detail["day"],
        )
    if action == "bookings_read":
        return ngettext(
            "%(num)d booking of %(day)s read",
            "%(num)d bookings of %(day)s read",
            detail["rows"],
            day=detail["day"],
        )
    return ngettext(
        "%(num)d booking imported (%(already)d imported before)",
        "%(num)d bookings imported (%(already)d imported before)",
        detail["imported"],
        already=detail["already"],
    )
