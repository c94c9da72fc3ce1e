"""What each service error and each kept offline conflict says, in the reader's language."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from checkin.domain.errors import ServiceError
from checkin.words import booking_words, calendar, override_words

# What each service error says, from its facts. Pages show it in the reader's language, the API
# in English; the CLI names its options instead where it must (see checkin/cli/commands.py).
ERROR_TEXT: dict[str, Callable[[Any], str]] = {
    "retest_not_waiting": lambda error: _("This visit is not waiting for a re-test."),
    "retest_closed": lambda error: _(
        "This reading cannot be re-tested any more today: start a new check."
    ),
    "too_soon_to_call_gone": lambda error: _(
        "The visitor may still be resting: they can be recorded as gone from %(time)s.",
        time=error.gone_at.strftime("%H:%M"),
    ),
    "already_retested": lambda error: _(
        "This visitor was already re-tested: the reading cannot be re-tested any more."
    ),
    "retest_too_early": lambda error: _(
        "Too early: let the visitor rest until %(time)s, then measure again.",
        time=error.ready_at.strftime("%H:%M"),
    ),
    "unknown_device": lambda error: _("This tablet is not known at this office."),
    "device_of_another_site": lambda error: _("This tablet belongs to another office."),
    "void_reason_missing": lambda error: _("Say why this check is void."),
    "already_voided": lambda error: _("This check is already void."),
    "negative_quota": lambda error: _("The quota cannot be negative."),
    "quota_below_admitted": lambda error: (
        ngettext(
            "%(num)d visitor is already admitted today: the quota cannot be lower than %(num)d.",
            "%(num)d visitors are already admitted today: the quota cannot be lower than %(num)d.",
            error.admitted,
        )
        if not error.held
        else ngettext(
            "%(admitted)d admitted and %(num)d slot held by tablets today: the quota cannot be "
            "lower than %(taken)d.",
            "%(admitted)d admitted and %(num)d slots held by tablets today: the quota cannot be "
            "lower than %(taken)d.",
            error.held,
            admitted=error.admitted,
            taken=error.admitted + error.held,
        )
    ),
    "recheck_wait_out_of_range": lambda error: _(
        "Wait between %(low)d and %(high)d minutes before a re-test.",
        low=error.low,
        high=error.high,
    ),
    "unknown_booth": lambda error: _("There is no booth %(booth)d here.", booth=error.booth),
    "booth_taken": lambda error: _(
        "Booth %(booth)d is open by another officer.", booth=error.booth
    ),
    "booth_limit_reached": lambda error: ngettext(
        "You hold %(num)d booth already, as many as one officer may: close one first.",
        "You hold %(num)d booths already, as many as one officer may: close one first.",
        error.limit,
    ),
    "booth_not_yours": lambda error: _(
        "Booth %(booth)d is not open by you: open it first.", booth=error.booth
    ),
    "booth_busy": lambda error: _(
        "Number %(slot)d is still at booth %(booth)d: mark them done or not come first.",
        slot=error.slot,
        booth=error.booth,
    ),
    "nobody_waiting": lambda error: _("Nobody is waiting to be called."),
    "no_room_for_video": lambda error: ngettext(
        "A video session waits, but you serve %(num)d at once already (booths and video"
        " sessions): finish one or close a booth first.",
        "A video session waits, but you serve %(num)d at once already (booths and video"
        " sessions): finish one or close a booth first.",
        error.limit,
    ),
    "unknown_video_session": lambda error: _(
        "You hold no such video session: look at the console again."
    ),
    "wrong_floor_state": lambda error: _(
        "This visitor's state changed meanwhile: look at the booth again."
    ),
    "recall_first": lambda error: _(
        "Recall the number first: a visitor is marked not come only after a second call."
    ),
    "booths_still_open": lambda error: _(
        "These booths are open: %(booths)s. Their officers close them first.",
        booths=", ".join(str(number) for number in error.booths),
    ),
    "booth_count_out_of_range": lambda error: _(
        "Between %(lowest)d and %(highest)d booths.", lowest=error.lowest, highest=error.highest
    ),
    "booths_per_officer_out_of_range": lambda error: _(
        "Between %(lowest)d and %(highest)d booths per officer.",
        lowest=error.lowest,
        highest=error.highest,
    ),
    "wait_kpi_out_of_range": lambda error: _(
        "Choose a waiting-time target from %(lowest)d to %(highest)d minutes.",
        lowest=error.lowest,
        highest=error.highest,
    ),
    **calendar.ERROR_TEXT,
    **booking_words.ERROR_TEXT,
    **override_words.ERROR_TEXT,
    "range_reversed": lambda error: _("The end date is before the start date."),
    "range_too_long": lambda error: ngettext(
        "This range is too long: at most %(num)d day.",
        "This range is too long: at most %(num)d days.",
        error.max_days,
    ),
    "site_code_taken": lambda error: _(
        "A site with code %(code)s exists already.", code=error.site_code
    ),
    "invalid_site_code": lambda error: _(
        "%(code)s cannot be a site code: use 2 to 20 capital letters or digits.",
        code=error.site_code,
    ),
    "unknown_site": lambda error: _("There is no site with code %(code)s.", code=error.site_code),
    "username_taken": lambda error: _(
        "The username %(name)s is taken: that account already exists.", name=error.username
    ),
    "invalid_username": lambda error: _(
        "%(name)s cannot be a username: use 3 to 80 letters, digits, dots or dashes.",
        name=error.username,
    ),
    "unknown_account": lambda error: _("There is no account %(name)s.", name=error.username),
    "password_too_short": lambda error: ngettext(
        "A password needs at least %(num)d character.",
        "A password needs at least %(num)d characters.",
        error.min_length,
    ),
    "site_required": lambda error: _("Door, officer and manager accounts need a site."),
    "cannot_deactivate_self": lambda error: _("You cannot deactivate your own account."),
    "cannot_leave_admin": lambda error: _(
        "You cannot take your own administrator role away: ask another administrator."
    ),
    "unknown_role": lambda error: _("%(role)s is not a role.", role=error.role),
    "invalid_display_name": lambda error: ngettext(
        "Give a display name of at most %(num)d character that shows as typed (no invisible"
        " or direction marks), or none.",
        "Give a display name of at most %(num)d characters that shows as typed (no invisible"
        " or direction marks), or none.",
        error.max_length,
    ),
    "invalid_site_name": lambda error: ngettext(
        "Give the site a name of at most %(num)d character.",
        "Give the site a name of at most %(num)d characters.",
        error.max_length,
    ),
    "invalid_privacy_contact": lambda error: ngettext(
        "Give the contact on one line, at most %(num)d character, without special or invisible"
        " characters, or leave it empty.",
        "Give the contact on one line, at most %(num)d characters, without special or invisible"
        " characters, or leave it empty.",
        error.max_length,
    ),
    "unknown_timezone": lambda error: _(
        "%(zone)s is not a time zone: use one such as Asia/Jakarta, Asia/Makassar or "
        "Asia/Jayapura.",
        zone=error.timezone,
    ),
    "unknown_scope": lambda error: _(
        "%(scope)s is not a token scope: use checkin, read, bookings or display.",
        scope=error.scope or "–",
    ),
    "unknown_token": lambda error: _("There is no active token %(id)d.", id=error.token_id),
    "retention_too_short": lambda error: _("Keep at least one day of personal data."),
    "backup_folder_missing": lambda error: _(
        "The folder %(folder)s does not exist: create it, or choose another.", folder=error.folder
    ),
    "backup_folder_not_writable": lambda error: _(
        "Cannot write a backup in %(folder)s (%(reason)s).",
        folder=error.folder,
        reason=error.reason,
    ),
    "backup_tool_missing": lambda error: _(
        "%(tool)s is not installed: install PostgreSQL's client programs "
        "(apt-get install postgresql-client), of the server's version or newer.",
        tool=error.tool,
    ),
    "backup_tool_failed": lambda error: _(
        "%(tool)s failed: %(detail)s", tool=error.tool, detail=error.detail
    ),
    "backup_copy_damaged": lambda error: _(
        "The copy failed its integrity check (%(detail)s), so it was not kept: try again, "
        "and check the disk.",
        detail=error.detail,
    ),
    "not_a_backup": lambda error: _("%(file)s is not a backup of checkin.", file=error.file),
    "backup_of_another_engine": lambda error: _(
        "%(file)s is a %(engine)s backup, but this instance uses %(expected)s.",
        file=error.file,
        engine=error.engine,
        expected=error.expected,
    ),
    "backup_damaged": lambda error: _(
        "%(file)s is damaged (%(detail)s): restore another backup.",
        file=error.file,
        detail=error.detail,
    ),
    "backup_from_newer_version": lambda error: _(
        "This backup has schema revision %(revision)s, newer than this version of checkin "
        "knows (%(newest)s): install the version that made it, then restore.",
        revision=error.revision,
        newest=error.newest,
    ),
    "wrong_pairing_code": lambda error: _(
        "This is not a pairing code: check the code on the manager's screen."
    ),
    "pairing_code_expired": lambda error: _(
        "This pairing code has expired: ask the manager for a new one."
    ),
    "pairing_code_used": lambda error: _(
        "This pairing code was used already: ask the manager for a new one."
    ),
    "pairing_locked": lambda error: ngettext(
        "Too many wrong codes from this tablet: try again in %(num)d minute.",
        "Too many wrong codes from this tablet: try again in %(num)d minutes.",
        error.minutes,
    ),
    "invalid_pin": lambda error: _("A PIN is 4 to 6 digits."),
    "not_door_staff": lambda error: _(
        "%(name)s is not door staff of this site: only door staff log in with a PIN.",
        name=error.username,
    ),
    "database_in_use": lambda error: _(
        "The database is in use by other processes (%(pids)s): stop the server first "
        "(systemctl stop checkin), or add --force to restore anyway.",
        pids=error.pids,
    ),
}


def error_text(error: ServiceError) -> str:
    """Return what a service error says, in the reader's language."""
    return ERROR_TEXT[error.code](error)


# Why a check recorded offline was kept for the manager instead of stored as decided.
CONFLICT_TEXT = {
    "slot_not_leased": _l("The tablet gave a queue number it did not hold."),
    "slot_already_used": _l("The tablet gave a queue number that was already used."),
    "recorded_before_lease": _l("Recorded before the tablet was given that queue number."),
    "slot_returned": _l(
        "The tablet gave a queue number it had given back as unused: that visitor and another "
        "one admitted online may hold the same number."
    ),
    "slot_released": _l(
        "The tablet gave a queue number after you released its slots as lost: the day may be "
        "over its limit by this visitor."
    ),
    "not_this_tablet": _l(
        "An admission with a queue number, uploaded by a browser that is not the paired "
        "tablet holding that number."
    ),
    "recorded_before_tablet": _l(
        "Recorded before the tablet was first used here: check the tablet's date and time."
    ),
    "recorded_in_the_future": _l(
        "Recorded later than the server's time: check the tablet's date and time."
    ),
    "decision_differs": _l(
        "The tablet decided otherwise than today's settings do (were they changed meanwhile?)."
    ),
    "retest_not_waiting": _l("A re-test of a reading that was not waiting for one."),
    "retest_closed": _l(
        "A re-test of a reading that was voided, of another day, or of a visitor who left."
    ),
    "already_retested": _l("A second re-test of the same reading."),
    "retest_too_early": _l("A re-test before the visitor had rested long enough."),
    "booking_already_admitted": _l(
        "A second admission of a booking: its visitor was admitted already, on another tablet "
        "or online. Was it the same person?"
    ),
    "booking_not_open": _l(
        "An admission to a booked place after the booking was cancelled or its place given to "
        "walk-ins."
    ),
    "unknown_booking": _l("An admission with a booking code this site does not have."),
    "booking_not_as_booked": _l(
        "An admission to a booked place outside the booking's check-in time: the walk-in "
        "rules applied then (check the tablet's date and time)."
    ),
}


def conflict_text(cause: str) -> str:
    """Return why a check recorded offline was kept for the manager."""
    return str(CONFLICT_TEXT[cause])
