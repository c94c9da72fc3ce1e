"""How the app says things in the reader's language: labels for codes, errors, numbers, times.

Codes (statuses, reasons, purposes, roles, service errors) are stored and sent as codes; only
pages, exports and messages turn them into words, here, once.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from babel.numbers import get_decimal_symbol
from flask_babel import format_decimal, get_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from checkin import admission
from checkin.models import AuditEntry, Site, Visit
from checkin.services.errors import ServiceError

LANGUAGES = ("id", "en")


def reasons_to_show(counts: dict[str, int]) -> list[str]:
    """Return the reasons a summary lists: refusals for no slot offline only where they happened.

    Most offices never lose their connection; a line for it, always zero, would be clutter.
    """
    return [
        reason
        for reason in admission.REASONS
        if reason != admission.NO_OFFLINE_SLOT or counts[reason]
    ]


# A reason in a word or two, for lists.
REASON_LABELS = {
    admission.FEVER: _l("Fever"),
    admission.NO_HAND_SANITISER: _l("No hand sanitiser"),
    admission.NO_MASK: _l("No mask"),
    admission.NO_DISTANCING: _l("No distancing"),
    admission.QUOTA_FULL: _l("Quota full"),
    admission.NO_OFFLINE_SLOT: _l("No slot offline"),
}

# What each refusal or re-test reason means, in words a visitor understands.
REASON_TEXT = {
    admission.FEVER: _l("Fever: the temperature is too high."),
    admission.NO_HAND_SANITISER: _l("Did not clean hands with sanitiser."),
    admission.NO_MASK: _l("Not wearing a mask."),
    admission.NO_DISTANCING: _l("Not keeping a safe distance."),
    admission.QUOTA_FULL: _l("Today's walk-in slots are all taken."),
    admission.NO_OFFLINE_SLOT: _l("No slot held offline: this tablet has given out its slots."),
}

# What door staff should tell the visitor for each reason.
REASON_ADVICE = {
    admission.FEVER: _l("Please go home and rest. Use the online service, or come back when well."),
    admission.NO_HAND_SANITISER: _l("Please clean your hands at the sanitiser, then queue again."),
    admission.NO_MASK: _l("Please wear a mask over nose and mouth, then queue again."),
    admission.NO_DISTANCING: _l("Please keep at least 1 metre from others, then queue again."),
    admission.QUOTA_FULL: _l("Please come back tomorrow, or use the online service today."),
    admission.NO_OFFLINE_SLOT: _l(
        "Please wait a moment until the connection is back, or use the online service."
    ),
}

PURPOSE_LABELS = {
    "jht_claim": _l("Old-age savings claim (JHT)"),
    "jkk_claim": _l("Work accident claim (JKK)"),
    "jkm_claim": _l("Death benefit claim (JKM)"),
    "jp_claim": _l("Pension claim (JP)"),
    "jkp_claim": _l("Job loss claim (JKP)"),
    "enquiry": _l("Enquiry"),
    "other": _l("Other"),
}

# In a table a claim goes by its programme's initials, the same in both languages; the full
# name is the cell's title.
PURPOSE_SHORT_LABELS = {
    "jht_claim": "JHT",
    "jkk_claim": "JKK",
    "jkm_claim": "JKM",
    "jp_claim": "JP",
    "jkp_claim": "JKP",
    # Short enough for the log's column on a tablet; the check's page gives the whole label.
    "enquiry": _l("Info"),
    "other": PURPOSE_LABELS["other"],
}

STATUS_LABELS = {
    admission.ADMITTED: _l("Admitted"),
    admission.REFUSED: _l("Refused"),
    admission.RECHECK: _l("Re-test"),
}


# What each service error says, from its facts. Pages show it in the reader's language, the API
# in English; the CLI names its options instead where it must (see checkin/cli.py).
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
    "wait_kpi_out_of_range": lambda error: _(
        "Choose a waiting-time target from %(lowest)d to %(highest)d minutes.",
        lowest=error.lowest,
        highest=error.highest,
    ),
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
    "site_required": lambda error: _("Door and manager accounts need a site."),
    "cannot_deactivate_self": lambda error: _("You cannot deactivate your own account."),
    "unknown_scope": lambda error: _(
        "%(scope)s is not a token scope: use checkin, read or display.", scope=error.scope or "–"
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
}


def conflict_text(cause: str) -> str:
    """Return why a check recorded offline was kept for the manager."""
    return str(CONFLICT_TEXT[cause])


def minutes_text(minutes: float | None) -> str:
    """Return a duration in minutes to one decimal, in the reader's notation, or a dash."""
    if minutes is None:
        return "–"
    return _("%(minutes)s min", minutes=format_decimal(round(minutes, 1), format="#,##0.0"))


def decimal_mark() -> str:
    """Return the decimal separator of the reader's language: a comma in Indonesian."""
    return get_decimal_symbol(get_locale())


def format_temperature(temperature_dc: float) -> str:
    """Format deci-Celsius (a reading or an average) as e.g. ``37,3 °C`` in Indonesian."""
    # Integer digits and the locale's mark: exact, and the log formats a hundred per page.
    whole, tenths = divmod(round(temperature_dc), 10)
    return f"{whole}{decimal_mark()}{tenths} °C"


def translated(labels: dict[str, Any]) -> dict[str, str]:
    """Return ``labels`` in the reader's language, translated once rather than at every use."""
    return {code: str(label) for code, label in labels.items()}


def hour_minute(instant: datetime, site: Site) -> str:
    """Return the wall-clock time ``HH:MM`` of an instant at the site."""
    return instant.astimezone(site.zone).strftime("%H:%M")


# A visit's place on the service floor (checkin.models.floor), in exports and the log.
FLOOR_STATE_LABELS = {
    "waiting": _l("Waiting"),
    "called": _l("Called"),
    "serving": _l("Being served"),
    "done": _l("Done"),
    "no_show": _l("No-show"),
}
ROLE_LABELS = {
    "door": _l("Door staff"),
    "officer": _l("Service officer"),
    "manager": _l("Manager"),
    "head_office": _l("Head office"),
    "admin": _l("Administrator"),
}
ACTION_LABELS = {
    "void": _l("Check voided"),
    "settings": _l("Settings changed"),
    "account": _l("Account changed"),
    "viewed": _l("Check viewed"),
    "exported": _l("Checks exported"),
    "lease_revoked": _l("Tablet's slots revoked"),
    "tablet_paired": _l("Tablet paired"),
    "tablet_unpaired": _l("Tablet unpaired"),
    "display_token": _l("Display link changed"),
}
DISPLAY_TOKEN_CHANGES = {
    "created": _l("%(label)s: display link made"),
    "revoked": _l("%(label)s: display switched off"),
}
EXPORT_FORMATS = {"csv": _l("CSV file"), "xlsx": _l("XLSX file"), "api": _l("JSON API")}
SETTING_LABELS = {
    "daily_quota": _l("Walk-in quota per day"),
    "fever_cutoff_dc": _l("Fever cut-off"),
    "online_service_url": _l("Online service address"),
    "wait_kpi_minutes": _l("Waiting time target (minutes)"),
}
ACCOUNT_CHANGES = {
    "created": _l("%(account)s: created as %(role)s"),
    "deactivated": _l("%(account)s: deactivated"),
    "reactivated": _l("%(account)s: reactivated"),
    "password_reset": _l("%(account)s: password reset"),
    "pin_set": _l("%(account)s: door PIN set"),
}


def describe_audit(entry: AuditEntry, site: Site) -> str:
    """Say in the reader's language what an audit entry records."""
    detail = entry.detail
    if "text" in detail:  # written before details were kept as facts: English, as it was
        return detail["text"]
    if entry.action == "settings":
        return "; ".join(
            f"{SETTING_LABELS[name]}: {setting_text(name, before)} → {setting_text(name, after)}"
            for name, (before, after) in detail.items()
        )
    if entry.action == "account":
        role = ROLE_LABELS[detail["role"]] if "role" in detail else ""
        return ACCOUNT_CHANGES[detail["change"]] % {"account": detail["account"], "role": role}
    if entry.action == "viewed":
        return check_of(entry.visit, site)
    if entry.action == "exported":
        return export_text(detail)
    if entry.action == "lease_revoked":
        return ngettext(
            "%(device)s: %(num)d slot of today will not be given out again",
            "%(device)s: %(num)d slots of today will not be given out again",
            detail["slots"],
            device=detail["device"],
        )
    if entry.action in ("tablet_paired", "tablet_unpaired"):
        return detail["device"]
    if entry.action == "display_token":
        return DISPLAY_TOKEN_CHANGES[detail["change"]] % {"label": detail["label"]}
    if entry.action != "void":  # an action newer than this code: its facts as they are
        return json.dumps(detail, ensure_ascii=False)
    decision = str(STATUS_LABELS[detail["status"]])
    if detail["slot"] is not None:
        decision += ", " + _("No. %(slot)d", slot=detail["slot"])
    return f"{check_of(entry.visit, site)} ({decision})"


def check_of(visit: Visit, site: Site) -> str:
    """Name a check by its day and time at the site."""
    when = f"{visit.day.isoformat()} {hour_minute(visit.checked_at, site)}"
    # A call of its own: pybabel finds no words inside an f-string.
    return _("Check of %(when)s", when=when)


def export_text(detail: dict[str, Any]) -> str:
    """Say which days an export held, in which format, and how many checks."""
    start, end = detail["start"], detail["end"]
    days = start if start == end else _("%(start)s to %(end)s", start=start, end=end)
    return ngettext(
        "%(format)s, %(days)s: %(num)d row",
        "%(format)s, %(days)s: %(num)d rows",
        detail["rows"],
        format=EXPORT_FORMATS[detail["format"]],
        days=days,
    )


def setting_text(name: str, value: int | str) -> str:
    """Show one site setting's value as the settings page does."""
    if name == "fever_cutoff_dc":
        return format_temperature(value)
    return str(value) if value != "" else "–"
