"""Helpers the blueprints share: the clock, the user's site, role guards, words for codes."""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Callable
from datetime import datetime
from functools import lru_cache, wraps
from pathlib import Path
from typing import Any

from babel.numbers import get_decimal_symbol
from flask import Response, abort, current_app, request
from flask_babel import get_locale, get_translations, lazy_ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from werkzeug.security import safe_join

from checkin import admission, services
from checkin.models import Site, User, Visit

LANGUAGES = ("id", "en")

# A reason in a word or two, for lists.
REASON_LABELS = {
    admission.FEVER: _l("Fever"),
    admission.NO_HAND_SANITISER: _l("No hand sanitiser"),
    admission.NO_MASK: _l("No mask"),
    admission.NO_DISTANCING: _l("No distancing"),
    admission.QUOTA_FULL: _l("Quota full"),
}

# What each refusal or re-test reason means, in words a visitor understands.
REASON_TEXT = {
    admission.FEVER: _l("Fever: the temperature is too high."),
    admission.NO_HAND_SANITISER: _l("Did not clean hands with sanitiser."),
    admission.NO_MASK: _l("Not wearing a mask."),
    admission.NO_DISTANCING: _l("Not keeping a safe distance."),
    admission.QUOTA_FULL: _l("Today's walk-in slots are all taken."),
}

# What door staff should tell the visitor for each reason.
REASON_ADVICE = {
    admission.FEVER: _l("Please go home and rest. Use the online service, or come back when well."),
    admission.NO_HAND_SANITISER: _l("Please clean your hands at the sanitiser, then queue again."),
    admission.NO_MASK: _l("Please wear a mask over nose and mouth, then queue again."),
    admission.NO_DISTANCING: _l("Please keep at least 1 metre from others, then queue again."),
    admission.QUOTA_FULL: _l("Please come back tomorrow, or use the online service today."),
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
    "enquiry": PURPOSE_LABELS["enquiry"],
    "other": PURPOSE_LABELS["other"],
}

STATUS_LABELS = {
    admission.ADMITTED: _l("Admitted"),
    admission.REFUSED: _l("Refused"),
    admission.RECHECK: _l("Re-test"),
}


# WTForms' own messages that these forms can show. WTForms ships no Indonesian, so the forms
# read them from the app's catalogues (see Form); listed here so that extraction finds them.
FORM_MESSAGES = (
    _l("This field is required."),
    _l("Invalid input."),
    lazy_ngettext(
        "Field cannot be longer than %(max)d character.",
        "Field cannot be longer than %(max)d characters.",
        2,
    ),
    _l("Field must be between %(min)d and %(max)d characters long."),
    _l("Number must be between %(min)s and %(max)s."),
    _l("Not a valid choice."),
    _l("Invalid Choice: could not coerce."),
    _l("Not a valid date value."),
    _l("Not a valid integer value."),
    _l("Not a valid decimal value."),
)


class CatalogueTranslations:
    """Translate WTForms' messages with the app's catalogues in the reader's language."""

    def gettext(self, string: str) -> str:
        """Return ``string`` translated."""
        return get_translations().ugettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        """Return the singular or plural translated for ``n``; WTForms fills in the numbers."""
        return get_translations().ungettext(singular, plural, n)


class Form(FlaskForm):
    """A Flask-WTF form whose built-in error messages speak the reader's language."""

    class Meta:
        def get_translations(self, form: FlaskForm) -> CatalogueTranslations:
            return CatalogueTranslations()


def now() -> datetime:
    """Return the app's current instant; tests swap the clock through config."""
    return current_app.config["CLOCK"]()


def current_site() -> Site:
    """Return the site of the logged-in account, or answer 403 if it has none."""
    site = current_user.site
    if site is None:
        abort(403, description=_("This account belongs to no site."))
    return site


def acting_user() -> User:
    """Return the logged-in account itself rather than its proxy, to store as who did it."""
    return current_user._get_current_object()


def own_visit(visit_id: int) -> Visit:
    """Return a visit of the account's own site, or answer 404: other sites' stay hidden."""
    visit = services.site_visit(current_site(), visit_id)
    if visit is None:
        abort(404)
    return visit


def roles_required(*roles: str) -> Callable:
    """Let a view run only for logged-in accounts with one of ``roles``; others get 403."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        @login_required
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if current_user.role not in roles:
                abort(403, description=_("Your account may not open this page."))
            return view(*args, **kwargs)

        return guarded

    return decorate


# Tablets on a slow line keep CSS and JS this long instead of asking again on every page.
FINGERPRINTED_MAX_AGE = 365 * 24 * 3600


def add_static_version(endpoint: str | None, values: dict[str, Any]) -> None:
    """Add a fingerprint of the file to a static URL: a changed file gets a new address."""
    if endpoint == "static" and "filename" in values:
        fingerprint = static_fingerprint(values["filename"])
        if fingerprint is not None:
            values.setdefault("v", fingerprint)


def cache_fingerprinted_static(response: Response) -> Response:
    """Let browsers keep a static file for a year when asked for under its current fingerprint."""
    # Only a matching fingerprint: a server still holding an older file (while several are
    # updated one by one) answers a newer one with the usual no-cache, not a year of staleness.
    filename = (request.view_args or {}).get("filename")
    if (
        request.endpoint == "static"
        and response.status_code == 200
        and filename is not None
        and request.args.get("v") == static_fingerprint(filename)
    ):
        response.cache_control.no_cache = None
        response.cache_control.public = True
        response.cache_control.max_age = FINGERPRINTED_MAX_AGE
    return response


def static_fingerprint(filename: str) -> str | None:
    """Return a short hash of a file in the static folder, or None if there is no such file."""
    path = safe_join(current_app.static_folder or "", filename)
    if path is None:
        return None
    try:
        found = os.stat(path)  # one call for "is it a file" and "when did it change"
    except OSError:
        return None
    if not stat.S_ISREG(found.st_mode):
        return None
    return _fingerprint(path, found.st_mtime_ns)


@lru_cache(maxsize=64)
def _fingerprint(path: str, modified_ns: int) -> str:
    """Return a short hash of the file's content; ``modified_ns`` makes an edit a cache miss."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]


def requested_path() -> str:
    """Return the path and query string of the request, without a dangling ``?``."""
    query = request.query_string.decode("latin-1")
    return f"{request.path}?{query}" if query else request.path


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
