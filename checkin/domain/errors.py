"""Why a service refused to act: one class per cause, with a code and the facts its words need.

Nothing was stored when one of these is raised. Pages, the API and the CLI turn ``code`` into
words (``checkin.words.errors.error_text``); none of them reads an error's text to find the cause.

``status`` is the HTTP status the API answers with, so that a new class needs no change to the
handler: 422 (the default) when the input is at fault (a value out of range, a reference that
names nothing usable); 409 when the input is sound but the present state is in the way, so the
same request may work later; 404 when it names a thing the account has none of; 429 and 503 as
HTTP means them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import ClassVar


class ServiceError(Exception):
    """A rule refused the operation. ``field`` names the input at fault, as the API reports it."""

    code: ClassVar[str]
    field: ClassVar[str | None]
    status: ClassVar[int] = 422

    def __str__(self) -> str:
        return self.code

    def facts(self) -> dict[str, object]:
        """Return the facts the error carries (its dataclass fields), by name."""
        return {name: getattr(self, name) for name in getattr(self, "__dataclass_fields__", {})}


# Re-tests. Their API field stays "recheck_of", the name clients send the first reading by.
class RetestNotWaiting(ServiceError):
    """The reading named as the first is not one of the site's that asked for a re-test."""

    code, field = "retest_not_waiting", "recheck_of"


class RetestClosed(ServiceError):
    """The first reading was voided, or was taken on an earlier day."""

    code, field = "retest_closed", "recheck_of"
    status = 409  # the reading's state is in the way, not the input's form


class AlreadyRetested(ServiceError):
    """The first reading has its second reading already."""

    code, field = "already_retested", "recheck_of"
    status = 409


@dataclass(eq=False)
class RetestTooEarly(ServiceError):
    """The visitor has not rested long enough; ``ready_at`` is in the site's time zone."""

    code, field = "retest_too_early", "recheck_of"
    status = 409  # the same request succeeds once the wait is over
    ready_at: datetime


@dataclass(eq=False)
class TooSoonToCallGone(ServiceError):
    """A visitor waiting for a re-test may be recorded as gone only from ``gone_at`` (site time)."""

    code, field = "too_soon_to_call_gone", None
    status = 409  # the visit's state allows it later, as for a re-test
    gone_at: datetime


# Voids
class VoidReasonMissing(ServiceError):
    """A void needs a reason."""

    code, field = "void_reason_missing", "reason"


class AlreadyVoided(ServiceError):
    """The check is void already."""

    code, field = "already_voided", "reason"
    status = 409


# Admitting past a full quota (an override)
class OverrideReasonUnknown(ServiceError):
    """The reason is not one of the fixed list (checkin.domain.override_rules.REASONS)."""

    code, field = "override_reason_unknown", "reason"


class OverrideNoteMissing(ServiceError):
    """The reason "other" needs words saying why."""

    code, field = "override_note_missing", "note"


class NotOverridable(ServiceError):
    """Only today's check refused for the quota alone, not voided, may be admitted past it."""

    code, field = "not_overridable", None
    status = 409


class UnknownSupervisor(ServiceError):
    """The account named on a tablet is no supervisor of its site with a PIN: not of the
    site, not active, not allowed to admit past the quota, or without a PIN."""

    code, field = "unknown_supervisor", "supervisor"


class NotSupervisor(ServiceError):
    """Only an account that may admit past the quota sets a supervisor's PIN."""

    code, field = "not_supervisor", "pin"


# Tablets and their leases
class UnknownDevice(ServiceError):
    """No tablet of this site has this id."""

    code, field = "unknown_device", "device_id"
    status = 404


class DeviceOfAnotherSite(ServiceError):
    """The tablet's id is known at another site."""

    code, field = "device_of_another_site", "device_id"
    status = 404  # another site's tablets are not this account's to know of


# Pairing tablets and staff PINs
class WrongPairingCode(ServiceError):
    """No pairing code is this one."""

    code, field = "wrong_pairing_code", "code"


class PairingCodeExpired(ServiceError):
    """The pairing code was made longer ago than it is valid."""

    code, field = "pairing_code_expired", "code"


class PairingCodeUsed(ServiceError):
    """The pairing code paired a tablet already: each code pairs one."""

    code, field = "pairing_code_used", "code"
    status = 409


@dataclass(eq=False)
class PairingLocked(ServiceError):
    """Too many wrong pairing codes from this client: no code is checked for ``minutes``."""

    code, field = "pairing_locked", "code"
    status = 429
    minutes: int


class InvalidPin(ServiceError):
    """A PIN is 4 to 6 digits."""

    code, field = "invalid_pin", "pin"


@dataclass(eq=False)
class NotDoorStaff(ServiceError):
    """Only door staff of the tablet's site get a PIN or log in with one."""

    code, field = "not_door_staff", "pin"
    username: str


# Settings
class NegativeQuota(ServiceError):
    """A quota below zero."""

    code, field = "negative_quota", "daily_quota"


@dataclass(eq=False)
class WaitKpiOutOfRange(ServiceError):
    """A waiting-time target outside the minutes a service floor can mean."""

    code, field = "wait_kpi_out_of_range", "wait_kpi_minutes"
    lowest: int
    highest: int


@dataclass(eq=False)
class QuotaBelowAdmitted(ServiceError):
    """A new quota lower than the slots taken today: visitors admitted, slots tablets hold."""

    code, field = "quota_below_admitted", "daily_quota"
    status = 409  # the number is valid; today's count is in the way
    admitted: int
    held: int = 0


@dataclass(eq=False)
class RetestWaitOutOfRange(ServiceError):
    """A re-test wait outside the minutes a visitor can sensibly rest."""

    # The code and field keep the wire names API clients and the settings form know.
    code, field = "recheck_wait_out_of_range", "recheck_minutes"
    low: int
    high: int


# The office calendar
@dataclass(eq=False)
class NotAHoliday(ServiceError):
    """A date ticked as a national holiday that is none in the years shown."""

    code, field = "not_a_holiday", "closed"
    day: date


@dataclass(eq=False)
class ClosedDayInPast(ServiceError):
    """A closed day before today: that day's quota is history."""

    code, field = "closed_day_in_past", "day"
    day: date


@dataclass(eq=False)
class AlreadyClosed(ServiceError):
    """The site is closed on that date already (a local closure or a ticked holiday)."""

    code, field = "already_closed", "day"
    status = 409
    day: date


@dataclass(eq=False)
class UnknownClosedDay(ServiceError):
    """No local closed day of today or later on that date."""

    code, field = "unknown_closed_day", "day"
    status = 404
    day: date


@dataclass(eq=False)
class ClosedLabelInvalid(ServiceError):
    """A closed day's reason that is empty, too long or holds control characters."""

    code, field = "closed_label_invalid", "label"
    max_length: int


# The service floor. ``booth`` is the booth's number, as officers and visitors know it.
@dataclass(eq=False)
class UnknownBooth(ServiceError):
    """The site has no booth with this number in use."""

    code, field = "unknown_booth", "booth"
    status = 404
    booth: int


@dataclass(eq=False)
class BoothTaken(ServiceError):
    """Another officer holds the booth."""

    code, field = "booth_taken", "booth"
    status = 409
    booth: int


@dataclass(eq=False)
class BoothLimitReached(ServiceError):
    """The officer holds as many booths as the site allows one officer."""

    code, field = "booth_limit_reached", "booth"
    status = 409  # the officer's other booths are in the way, not the booth asked for
    limit: int


@dataclass(eq=False)
class BoothNotYours(ServiceError):
    """The officer does not hold the booth (never opened it, or closed it)."""

    code, field = "booth_not_yours", "booth"
    status = 409  # who holds the booth, which changes, is in the way
    booth: int


@dataclass(eq=False)
class BoothBusy(ServiceError):
    """The booth has a visitor called or being served: done or not come first."""

    code, field = "booth_busy", "booth"
    status = 409
    booth: int
    slot: int


class NobodyWaiting(ServiceError):
    """No visitor admitted today waits for a call."""

    code, field = "nobody_waiting", "booth"
    status = 409


@dataclass(eq=False)
class NoRoomForVideo(ServiceError):
    """Only video sessions wait, and the officer's open booths and video sessions in progress
    are as many as one officer may serve at once."""

    code, field = "no_room_for_video", "booth"
    status = 409
    limit: int


class UnknownVideoSession(ServiceError):
    """The officer holds no video session with this id (another officer's, or none)."""

    code, field = "unknown_video_session", "booking"
    status = 404


class WrongFloorState(ServiceError):
    """The visitor is not at this booth in a state that allows the step (changed meanwhile)."""

    code, field = "wrong_floor_state", "visit"
    status = 409


class RecallFirst(ServiceError):
    """A visitor is marked not come only after their number was called a second time."""

    code, field = "recall_first", "visit"


@dataclass(eq=False)
class BoothsStillOpen(ServiceError):
    """Fewer booths were set while officers hold some of those that would go."""

    code, field = "booths_still_open", "booths"
    status = 409  # a valid count, refused while officers hold the booths it would take away
    booths: tuple[int, ...]


@dataclass(eq=False)
class BoothCountOutOfRange(ServiceError):
    """A number of booths outside what the floor allows."""

    code, field = "booth_count_out_of_range", "booths"
    lowest: int
    highest: int


@dataclass(eq=False)
class BoothsPerOfficerOutOfRange(ServiceError):
    """A number of booths per officer outside what the floor allows."""

    code, field = "booths_per_officer_out_of_range", "booths_per_officer"
    lowest: int
    highest: int


# Report and export ranges
class RangeReversed(ServiceError):
    """A date range that ends before it starts."""

    code, field = "range_reversed", "to"


@dataclass(eq=False)
class RangeTooLong(ServiceError):
    """A date range longer than the report or export allows."""

    code, field = "range_too_long", "to"
    max_days: int


# Sites and accounts
@dataclass(eq=False)
class SiteCodeTaken(ServiceError):
    """Another site has this code."""

    code, field = "site_code_taken", "code"
    status = 409
    site_code: str


@dataclass(eq=False)
class InvalidSiteCode(ServiceError):
    """A site code that is not 2 to 20 capital letters or digits."""

    code, field = "invalid_site_code", "code"
    site_code: str


@dataclass(eq=False)
class UnknownSite(ServiceError):
    """No site has this code."""

    code, field = "unknown_site", "site"
    status = 404
    site_code: str


@dataclass(eq=False)
class InvalidSiteName(ServiceError):
    """A site name that is empty, too long or holds control characters."""

    code, field = "invalid_site_name", "name"
    max_length: int


@dataclass(eq=False)
class InvalidPrivacyContact(ServiceError):
    """A privacy contact that is too long, or holds line breaks, control or invisible
    characters (the public page shows it as one line, as typed)."""

    code, field = "invalid_privacy_contact", "privacy_contact"
    max_length: int


@dataclass(eq=False)
class UnknownTimezone(ServiceError):
    """A time zone the IANA database does not have."""

    code, field = "unknown_timezone", "timezone"
    timezone: str


@dataclass(eq=False)
class UsernameTaken(ServiceError):
    """Another account has this username."""

    code, field = "username_taken", "username"
    status = 409
    username: str


@dataclass(eq=False)
class InvalidUsername(ServiceError):
    """A username that is not 3 to 80 letters, digits, dots or dashes."""

    code, field = "invalid_username", "username"
    username: str


@dataclass(eq=False)
class InvalidDisplayName(ServiceError):
    """A display name that is too long, or holds control or invisible characters."""

    code, field = "invalid_display_name", "display_name"
    max_length: int


@dataclass(eq=False)
class UnknownAccount(ServiceError):
    """No account has this username."""

    code, field = "unknown_account", "username"
    status = 404
    username: str


@dataclass(eq=False)
class PasswordTooShort(ServiceError):
    """A password shorter than the minimum."""

    code, field = "password_too_short", "password"
    min_length: int


class SiteRequired(ServiceError):
    """Door, officer and manager accounts belong to a site."""

    code, field = "site_required", "site"


class CannotDeactivateSelf(ServiceError):
    """An admin may not lock themselves out."""

    code, field = "cannot_deactivate_self", "active"


class CannotLeaveAdmin(ServiceError):
    """An admin may not take their own admin role away."""

    code, field = "cannot_leave_admin", "role"


@dataclass(eq=False)
class UnknownRole(ServiceError):
    """A role that does not exist."""

    code, field = "unknown_role", "role"
    role: str


@dataclass(eq=False)
class UnknownScope(ServiceError):
    """A token scope that does not exist, or none at all."""

    code, field = "unknown_scope", "scope"
    scope: str


@dataclass(eq=False)
class UnknownToken(ServiceError):
    """No active API token has this id."""

    code, field = "unknown_token", "token_id"
    status = 404
    token_id: int


# Privacy
class RetentionTooShort(ServiceError):
    """Personal data must be kept at least a day."""

    code, field = "retention_too_short", "older_than"


# Backups and restores. ``field`` None: the machine, not an argument, is at fault.
@dataclass(eq=False)
class BackupFolderMissing(ServiceError):
    """The folder to write backups in does not exist."""

    code, field = "backup_folder_missing", "folder"
    status = 503  # the machine is at fault; once fixed the same request works
    folder: str


@dataclass(eq=False)
class BackupFolderNotWritable(ServiceError):
    """The backup cannot be written in the folder; ``reason`` is the system's."""

    code, field = "backup_folder_not_writable", "folder"
    status = 503  # as for a missing folder
    folder: str
    reason: str


@dataclass(eq=False)
class BackupToolMissing(ServiceError):
    """A PostgreSQL client program (pg_dump, pg_restore) is not installed."""

    code, field = "backup_tool_missing", None
    status = 503  # as for a missing folder
    tool: str


@dataclass(eq=False)
class BackupToolFailed(ServiceError):
    """pg_dump or pg_restore failed; ``detail`` is the last line it printed."""

    code, field = "backup_tool_failed", None
    status = 503  # as for a missing folder
    tool: str
    detail: str


@dataclass(eq=False)
class BackupCopyDamaged(ServiceError):
    """The fresh copy failed its integrity check, so it was not kept."""

    code, field = "backup_copy_damaged", None
    status = 503  # as for a missing folder
    detail: str


@dataclass(eq=False)
class NotABackup(ServiceError):
    """The file is no database of checkin (another file, or another program's database)."""

    code, field = "not_a_backup", "file"
    file: str


@dataclass(eq=False)
class BackupOfAnotherEngine(ServiceError):
    """A SQLite backup for a PostgreSQL instance, or the other way round."""

    code, field = "backup_of_another_engine", "file"
    file: str
    engine: str
    expected: str


@dataclass(eq=False)
class BackupDamaged(ServiceError):
    """The backup fails its integrity check: truncated or corrupted."""

    code, field = "backup_damaged", "file"
    file: str
    detail: str


@dataclass(eq=False)
class BackupFromNewerVersion(ServiceError):
    """The backup's schema revision is one this version of checkin does not know."""

    code, field = "backup_from_newer_version", "file"
    revision: str
    newest: str


@dataclass(eq=False)
class DatabaseInUse(ServiceError):
    """Other processes (SQLite) or sessions (PostgreSQL) hold the database to be replaced."""

    code, field = "database_in_use", None
    status = 409  # the same request works once the other holders let go
    pids: str
