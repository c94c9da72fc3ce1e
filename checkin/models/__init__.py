"""Database models, one module per domain; import them from here."""

from checkin.models.accounts import ROLES, TOKEN_SCOPES, ApiToken, LoginWindow, User, hash_token
from checkin.models.base import UTCDateTime, utcnow
from checkin.models.bookings import Booking, BookingSession, SessionDay, SiteBooking
from checkin.models.calendar import ClosedDay, WeekdayQuota
from checkin.models.devices import Device, FreeSlot, LeasedSlot, PairingCode, UploadConflict
from checkin.models.floor import Booth
from checkin.models.sites import DayQuota, Site
from checkin.models.visits import AuditEntry, Visit

__all__ = [
    "ROLES",
    "TOKEN_SCOPES",
    "ApiToken",
    "AuditEntry",
    "Booking",
    "BookingSession",
    "Booth",
    "ClosedDay",
    "DayQuota",
    "Device",
    "FreeSlot",
    "LeasedSlot",
    "LoginWindow",
    "PairingCode",
    "SessionDay",
    "Site",
    "SiteBooking",
    "UTCDateTime",
    "UploadConflict",
    "User",
    "Visit",
    "WeekdayQuota",
    "hash_token",
    "utcnow",
]
