"""Database models, one module per domain; import them from here."""

from checkin.models.accounts import ROLES, TOKEN_SCOPES, ApiToken, LoginWindow, User, hash_token
from checkin.models.base import UTCDateTime, utcnow
from checkin.models.devices import Device, LeasedSlot, PairingCode, UploadConflict
from checkin.models.floor import Booth
from checkin.models.sites import DayQuota, Site
from checkin.models.visits import AuditEntry, Visit

__all__ = [
    "ROLES",
    "TOKEN_SCOPES",
    "ApiToken",
    "AuditEntry",
    "Booth",
    "DayQuota",
    "Device",
    "LeasedSlot",
    "LoginWindow",
    "PairingCode",
    "Site",
    "UTCDateTime",
    "UploadConflict",
    "User",
    "Visit",
    "hash_token",
    "utcnow",
]
