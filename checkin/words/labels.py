"""How the app says things in the reader's language: labels for codes, errors, numbers, times.

Codes (statuses, reasons, purposes, roles, service errors) are stored and sent as codes; only
pages, exports and messages turn them into words, here, once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from babel.numbers import get_decimal_symbol
from flask_babel import format_decimal, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from checkin.domain import admission
from checkin.domain.roles import Role
from checkin.models import Site, Visit

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
    admission.RETEST: _l("Re-test"),
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
    Role.DOOR: _l("Door staff"),
    Role.OFFICER: _l("Service officer"),
    Role.MANAGER: _l("Manager"),
    Role.HEAD_OFFICE: _l("Head office"),
    Role.ADMIN: _l("Administrator"),
}
EXPORT_FORMATS = {
    "csv": _l("CSV file"),
    "xlsx": _l("XLSX file"),
    "api": _l("JSON API"),
    "log": _l("Entry log read by head office"),
}


def check_of(visit: Visit, site: Site) -> str:
    """Name a check by its day and time at the site."""
    when = f"{visit.day.isoformat()} {hour_minute(visit.checked_at, site)}"
    # A call of its own: pybabel finds no words inside an f-string.
    return _("Check of %(when)s", when=when)
