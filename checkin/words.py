"""How the app says things in the reader's language: labels for codes, errors, numbers, times.

Codes (statuses, reasons, purposes, roles, service errors) are stored and sent as codes; only
pages, exports and messages turn them into words, here, once.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from babel.numbers import get_decimal_symbol
from flask_babel import format_decimal, get_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from checkin import admission, booking_words, calendar_words, tracing_words
from checkin.models import AuditEntry, Site, Visit

LANGUAGES = ("id", "en")


def reasons_to_show(counts: dict[str, int]) -> list[str]:
    """Return the reasons a summary lists: rare refusals only where they happened.

    Most offices never lose their connection, and refuse no one on the days they are closed;
    a line for either, always zero, would be clutter.
    """
    return [reason for reason in admission.REASONS if reason not in RARE_REASONS or counts[reason]]


# Refusals most offices never see: listed only where they happened.
RARE_REASONS = (admission.NO_OFFLINE_SLOT, admission.CLOSED)


# A reason in a word or two, for lists.
REASON_LABELS = {
    admission.FEVER: _l("Fever"),
    admission.NO_HAND_SANITISER: _l("No hand sanitiser"),
    admission.NO_MASK: _l("No mask"),
    admission.NO_DISTANCING: _l("No distancing"),
    admission.QUOTA_FULL: _l("Quota full"),
    admission.NO_OFFLINE_SLOT: _l("No slot offline"),
    admission.CLOSED: _l("Office closed"),
}

# What each refusal or re-test reason means, in words a visitor understands.
REASON_TEXT = {
    admission.FEVER: _l("Fever: the temperature is too high."),
    admission.NO_HAND_SANITISER: _l("Did not clean hands with sanitiser."),
    admission.NO_MASK: _l("Not wearing a mask."),
    admission.NO_DISTANCING: _l("Not keeping a safe distance."),
    admission.QUOTA_FULL: _l("Today's walk-in slots are all taken."),
    admission.NO_OFFLINE_SLOT: _l("No slot held offline: this tablet has given out its slots."),
    admission.CLOSED: _l("The office is closed today."),
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
    admission.CLOSED: _l("Please come back on a working day, or use the online service today."),
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
    "not_called": _l("Not called"),
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
    "lease_revoked": _l("Tablet stopped for today"),
    "lease_released": _l("Lost tablet's slots released"),
    "tablet_paired": _l("Tablet paired"),
    "tablet_unpaired": _l("Tablet unpaired"),
    "closed_days": _l("Closed days changed"),
    "traced": _l("Checks searched (contact tracing)"),
    "contacts": _l("Visitors at the same time listed"),
    "contacts_exported": _l("Visitors at the same time exported"),
    "display_token": _l("Display link changed"),
    **booking_words.AUDIT_LABELS,
}
DISPLAY_TOKEN_CHANGES = {
    "created": _l("%(label)s: display link made"),
    "revoked": _l("%(label)s: display switched off"),
}
EXPORT_FORMATS = {"csv": _l("CSV file"), "xlsx": _l("XLSX file"), "api": _l("JSON API")}
SETTING_LABELS = {
    "name": _l("Name"),
    "timezone": _l("Time zone"),
    "daily_quota": _l("Walk-in quota per day"),
    "fever_cutoff_dc": _l("Fever cut-off"),
    "recheck_minutes": _l("Re-test wait (minutes)"),
    "weekday_quotas": _l("Quota by weekday"),
    "online_service_url": _l("Online service address"),
    "booths": _l("Booths"),
    "labels": _l("Booth labels"),
    "booths_per_officer": _l("Booths per officer"),
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
    if entry.action == "account" and detail["change"] == "moved":
        return account_move_text(detail)
    if entry.action == "account":
        role = ROLE_LABELS[detail["role"]] if "role" in detail else ""
        return ACCOUNT_CHANGES[detail["change"]] % {"account": detail["account"], "role": role}
    if entry.action == "viewed":
        return check_of(entry.visit, site)
    if entry.action == "exported":
        return export_text(detail)
    if entry.action == "closed_days":
        return calendar_words.closed_days_text(detail)
    if entry.action in ("traced", "contacts", "contacts_exported"):
        return tracing_words.tracing_text(entry, site)
    if entry.action == "lease_revoked":
        return ngettext(
            "%(device)s: takes no more slots today; it held %(num)d unused",
            "%(device)s: takes no more slots today; it held %(num)d unused",
            detail["slots"],
            device=detail["device"],
        )
    if entry.action == "lease_released":
        return ngettext(
            "%(device)s: %(num)d slot given out again",
            "%(device)s: %(num)d slots given out again",
            detail["slots"],
            device=detail["device"],
        )
    if entry.action in ("tablet_paired", "tablet_unpaired"):
        return detail["device"]
    if entry.action == "display_token":
        return DISPLAY_TOKEN_CHANGES[detail["change"]] % {"label": detail["label"]}
    if entry.action in booking_words.AUDIT_LABELS:
        return booking_words.audit_text(entry.action, detail)
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


def setting_text(name: str, value: Any) -> str:
    """Show one site setting's value as the settings page does."""
    if name == "fever_cutoff_dc":
        return format_temperature(value)
    if name == "weekday_quotas":
        return calendar_words.weekday_quotas_text(value)
    return str(value) if value != "" else "–"


def account_move_text(detail: dict[str, Any]) -> str:
    """Say how an account's role or site changed, e.g. "door1: Door staff → Manager, KDR → MLG"."""
    (old_role, new_role), (old_site, new_site) = detail["roles"], detail["sites"]
    moves = []
    if old_role != new_role:
        moves.append(f"{ROLE_LABELS[old_role]} → {ROLE_LABELS[new_role]}")
    if old_site != new_site:
        moves.append(f"{old_site or '–'} → {new_site or '–'}")
    return _("%(account)s: %(moves)s", account=detail["account"], moves=", ".join(moves))
