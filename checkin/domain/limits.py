"""Input rules shared by the pages' forms, the API's schemas, the services and the CLI.

Each limit and pattern is written here once; the forms and the schemas build their validators
from it, so a page and the API can never disagree about what is valid.
"""

from __future__ import annotations

import re
from datetime import date, time, timedelta
from functools import lru_cache
from zoneinfo import available_timezones

from checkin.domain.errors import RangeReversed, RangeTooLong

# Ids are PostgreSQL integers: a larger number can name no row, and would overflow the query.
MAX_ID = 2**31 - 1

MIN_PASSWORD = 8
MAX_PASSWORD = 200
USERNAME_PATTERN = r"[\w.-]{3,80}"
SITE_CODE_PATTERN = r"[A-Z0-9]{2,20}"
# Anchored with ^ and $ so that the OpenAPI pattern means the same to ECMA-regex clients;
# [0-9], not \d, which in Python also matches Arabic-Indic and other digits.
# An empty string means "not given": a tablet form sends one for every blank field.
NIK_PATTERN = r"^([0-9]{16})?$"
# All that is kept of a NIK; an offline tablet keeps no more than this either.
NIK_LAST4_PATTERN = r"^([0-9]{4})?$"
PHONE_PATTERN = r"^(\+?[0-9][0-9 -]{5,19})?$"
# What browsers' crypto.randomUUID() makes: the client reference of a check, a tablet's id.
UUID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
# A door PIN: 4 to 6 digits, typed on the door's keypad.
PIN_PATTERN = r"^[0-9]{4,6}$"
# A pairing code is read off a screen and typed on a tablet: no 0/O or 1/I to mistake.
PAIRING_CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
PAIRING_CODE_LENGTH = 8
MAX_TABLET_NAME = 80
# The name staff see of an account (on the door's staff buttons): a person's name, as on a badge.
MAX_DISPLAY_NAME = 60
MAX_NAME = 100
MAX_PHONE = 20
MAX_VOID_REASON = 200
# Unicode's control characters (category Cc): C0, DEL and C1. Free text refuses them.
CONTROL_CHARACTERS = re.compile("[\x00-\x1f\x7f-\x9f]")
SURROGATES = re.compile("[\ud800-\udfff]")
# Invisible or direction-changing characters (zero-width spaces, bidi controls, BOM, blank fillers,
# tags, and the line and paragraph separators): a name made of them shows blank, or breaks or
# turns the words after it around, on every staff button.
INVISIBLE_CHARACTERS = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u180e\u200b\u200e\u200f\u2028\u2029\u202a-\u202e"
    "\u2060-\u2064\u2066-\u206f\u3164\ufeff\uffa0\U000e0000-\U000e007f]"
)

# Indonesia's three time zones (WIB, WITA, WIT), plus Pontianak, which keeps WIB apart.
TIMEZONES = {
    "Asia/Jakarta": "WIB (Asia/Jakarta)",
    "Asia/Pontianak": "WIB (Asia/Pontianak)",
    "Asia/Makassar": "WITA (Asia/Makassar)",
    "Asia/Jayapura": "WIT (Asia/Jayapura)",
}
MAX_QUOTA = 10_000
MAX_SITE_NAME = 120
# A waiting-time target (KPI) for the service floor: a minute up to a whole office day.
WAIT_KPI_MINUTES = (1, 480)

# Days the office can have data for; far-off dates would overflow date arithmetic (year 1, 9999).
FIRST_OFFICE_DAY = date(2000, 1, 1)
LAST_OFFICE_DAY = date(2099, 12, 31)
DEFAULT_REPORT_DAYS = 30
MAX_REPORT_DAYS = 3700
# How long personal data is kept: purge-personal's default, and what the public booking
# page's notice tells visitors.
RETENTION_DAYS = 30
# Whom a visitor asks about their personal data (a role, an e-mail address, a phone number),
# one line of the public booking page's notice; a site without one names its staff instead.
MAX_PRIVACY_CONTACT = 200
# Exports write every check, not day totals: a year is about 20,000 rows at one branch.
MAX_EXPORT_DAYS = 366


def nik_last4(nik: str | None) -> str | None:
    """Return the only part of a NIK that is ever stored: its last four digits."""
    return nik[-4:] if nik else None


def storable(text: str) -> bool:
    """Tell whether a text can be stored: no control characters, no unpaired surrogates.

    PostgreSQL cannot store NUL, UTF-8 cannot encode a lone surrogate, and the other control
    characters break what later shows the text: an XLSX file cannot hold them at all, and
    ESC or CSI (U+009B) start escape sequences in a terminal.
    """
    return CONTROL_CHARACTERS.search(text) is None and SURROGATES.search(text) is None


def shown_as_typed(text: str) -> bool:
    """Tell whether a name shows as typed: storable, and nothing invisible or turning it around."""
    return storable(text) and INVISIBLE_CHARACTERS.search(text) is None


def site_code(typed: str) -> str:
    """Return a site code as stored: codes are capitals everywhere, so "mlg" can only mean MLG."""
    return typed.strip().upper()


@lru_cache(maxsize=1)
def _iana_zones() -> frozenset[str]:
    """Return every zone name of the IANA database (read once: it lists files)."""
    return frozenset(available_timezones())


def valid_timezone(name: str) -> bool:
    """Tell whether ``name`` is a zone of the IANA database, e.g. "Asia/Makassar"."""
    return name in _iana_zones()


def valid_username(username: str) -> bool:
    """Tell whether ``username`` may name an account."""
    return re.fullmatch(USERNAME_PATTERN, username) is not None


def report_range(start: date | None, end: date | None, today: date) -> tuple[date, date]:
    """Fill a report's missing ends: up to today, over the last 30 days unless told."""
    end = end or max(today, start or today)
    return start or end - timedelta(days=DEFAULT_REPORT_DAYS - 1), end


def check_range(start: date, end: date, max_days: int = MAX_REPORT_DAYS) -> None:
    """Raise unless ``start``..``end`` is in order and at most ``max_days`` days long."""
    if end < start:
        raise RangeReversed()
    if (end - start).days >= max_days:
        raise RangeTooLong(max_days)


# Booked visits (issue 28). A site's booked places a day, beside the walk-in quota; the
# Kediri branch serves 60 walk-ins and 87 booked visitors.
DEFAULT_BOOKED_CAPACITY = 87
MAX_BOOKED_CAPACITY = MAX_QUOTA
# The sessions a site books into until a manager sets its own: start, end, places.
DEFAULT_BOOKING_SESSIONS = (
    (time(8, 0), time(10, 0), 30),
    (time(10, 0), time(12, 0), 30),
    (time(13, 0), time(15, 0), 27),
)
# A booked visitor is let in as booked from this long before their session starts until this
# long after it ends; earlier, later or on another day the walk-in rules apply.
BOOKING_WINDOW = timedelta(minutes=30)
# From this time of the site's day, places booked and not claimed go to walk-ins.
DEFAULT_RELEASE_TIME = time(11, 0)
# A booking code is read off a phone screen or paper and typed at the door: no 0/O, 1/I/L.
BOOKING_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
BOOKING_CODE_LENGTH = 10
# A code as typed: either case, in groups split by spaces or dashes (its length is checked apart).
BOOKING_CODE_TYPED_PATTERN = r"^[0-9A-Za-z -]*$"
BOOKING_KINDS = ("visit", "video")
# How far ahead the office's own public page books: today and the 13 days after it.
PUBLIC_BOOKING_DAYS = 14
# Where a video session reaches the visitor: a phone number (PHONE_PATTERN) or a meeting
# link. The console shows a link as one: https only, so never javascript:, data: or http:.
MAX_BOOKING_CONTACT = 300
MEETING_LINK_PATTERN = r"^https://[A-Za-z0-9.-]+(:[0-9]{1,5})?([/?#][^\s<>\"'`]*)?$"
MAX_EXTERNAL_REF = 64
# One import is one office's queue for some days: a larger file is a mistake (a whole year,
# another office's), refused whole rather than half-read.
MAX_IMPORT_ROWS = 5_000
# A row is at most about 250 characters: a larger file cannot hold the rows one import takes.
MAX_IMPORT_BYTES = MAX_IMPORT_ROWS * 1_000
# A request carrying the largest file an import takes, with the form's other fields and framing.
MAX_IMPORT_REQUEST_BYTES = MAX_IMPORT_BYTES + 16 * 1024
# The import's columns, in this order; the first line of the file names them. A file may add
# the booking's kind (visit, the default, or video) and a video session's contact after them.
BOOKING_CSV_HEADER = ("date", "session", "name", "phone", "nik_last4", "purpose", "external_ref")
BOOKING_CSV_HEADERS = (
    BOOKING_CSV_HEADER,
    (*BOOKING_CSV_HEADER, "kind"),
    (*BOOKING_CSV_HEADER, "kind", "contact"),
)
