"""Helpers the blueprints share: the clock, the user's site, role guards, static addresses."""

from __future__ import annotations

import gzip
import hashlib
import os
import stat
from collections.abc import Callable, Iterable
from datetime import datetime
from functools import lru_cache, wraps
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import segno
from flask import (
    Request,
    Response,
    abort,
    current_app,
    flash,
    g,
    request,
    send_file,
    session,
    stream_with_context,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.routing import BaseConverter, IntegerConverter, Map
from werkzeug.security import safe_join

from checkin.domain import limits
from checkin.domain.errors import ServiceError
from checkin.domain.roles import Capability
from checkin.extensions import db
from checkin.models import Device, Site, User, Visit
from checkin.services import checkins, pairing, transaction
from checkin.words import exports
from checkin.words.errors import error_text

# The paired tablet's credential (a cookie); the tablet a session was opened on (by PIN or
# password), which it must keep coming from; and whether it was opened by PIN.
TABLET_COOKIE = "checkin_tablet"
SESSION_TABLET = "tablet_id"
PIN_SESSION = "pin"


def now() -> datetime:
    """Return the app's current instant; tests swap the clock through config."""
    return current_app.config["CLOCK"]()


# Head office belongs to no site: the site it reads is the one last chosen on its page.
VIEWED_SITE = "viewed_site"


def current_site() -> Site:
    """Return the site of the logged-in account (head office: the one it chose), or answer 403."""
    if current_user.may(Capability.CHOOSE_SITE):
        site = db.session.get(Site, session.get(VIEWED_SITE, 0))
        if site is None:
            abort(403, description=_("Choose a site on the head-office page first."))
        return site
    site = current_user.site
    if site is None:
        abort(403, description=_("This account belongs to no site."))
    return site


def acting_user() -> User:
    """Return the logged-in account itself rather than its proxy, to store as who did it."""
    return current_user._get_current_object()


class RowNumberConverter(IntegerConverter):
    """``<id:...>``: a number an integer column holds (a row's id, a booth's number), 1 to MAX_ID.

    Any other names no row, so its address is not found before a view runs: PostgreSQL refuses
    to compare a number past 2^31 with the column, and SQLite cannot even bind one past 2^63.
    """

    def __init__(self, url_map: Map) -> None:
        super().__init__(url_map, min=1, max=limits.MAX_ID)


class DeviceIdConverter(BaseConverter):
    """``<device:...>``: a tablet's id as crypto.randomUUID() makes it; no other names a tablet
    (PostgreSQL refuses a NUL in a text it is asked to compare)."""

    regex = limits.UUID_PATTERN.removeprefix("^").removesuffix("$")


URL_CONVERTERS = {"id": RowNumberConverter, "device": DeviceIdConverter}


def record_check(
    site: Site,
    recorder: User,
    data: checkins.CheckInData,
    decided: checkins.OfflineDecision | None = None,
) -> checkins.CheckInResult:
    """Record a check in a transaction of its own, online or uploaded; the same check posted
    twice at once is answered as stored (``checkins.after_lost_race``)."""
    moment = now()
    return transaction.owned_after_race(
        lambda: checkins.check_in(site, recorder, data, moment, decided),
        lambda lost: checkins.after_lost_race(site, recorder, data, moment, decided, lost),
    )


def own_visit(visit_id: int) -> Visit:
    """Return a visit of the account's own site, or answer 404: other sites' stay hidden."""
    visit = checkins.site_visit(current_site(), visit_id)
    if visit is None:
        abort(404)
    return visit


def paired_tablet() -> Device | None:
    """Return the paired tablet this browser is, by its credential cookie, or None."""
    if "paired_tablet" not in g:
        credential = request.cookies.get(TABLET_COOKIE)
        g.paired_tablet = pairing.tablet_for(credential) if credential else None
        if g.paired_tablet is not None and pairing.due_to_be_seen(g.paired_tablet, now()):
            with transaction.owned():  # whatever the request does next
                pairing.note_seen(g.paired_tablet, now())
    return g.paired_tablet


def session_tablet() -> Device | None:
    """Return the tablet this session was opened on (still paired: checked before each view)."""
    return paired_tablet() if session.get(SESSION_TABLET) is not None else None


def door_tablet() -> Device | None:
    """Return the paired tablet this request comes from, if it is one of the account's site.

    Only such a tablet holds slots and names itself on the checks it records: a browser no
    manager paired, or a tablet of another site, checks online only.
    """
    tablet = paired_tablet()
    if tablet is None or not current_user.is_authenticated:
        return None
    return tablet if tablet.site_id == current_user.site_id else None


# The view that takes a file of bookings (checkin.web.manage.bookings.import_file).
IMPORT_ENDPOINT = "manage.bookings.import_file"


class AppRequest(Request):
    """A request held to the app's size limit (MAX_CONTENT_LENGTH, sized for forms), but for
    the bookings import, whose file may be as large as an import takes.

    Decided from the endpoint the request goes to, before anything reads the body: the CSRF
    check, which runs before every view, reads the form.
    """

    @property
    def max_content_length(self) -> int | None:
        """Return the most bytes this request's body may hold."""
        if self.endpoint == IMPORT_ENDPOINT:
            return limits.MAX_IMPORT_REQUEST_BYTES
        return super().max_content_length


def flash_error(message: str, code: str) -> None:
    """Flash an error with the code of its cause, which base.html marks it with (data-error)."""
    flash(message, f"error:{code}")


def flash_refusal(error: ServiceError) -> None:
    """Flash why a service refused, in the reader's words, marked with the error's code."""
    flash_error(error_text(error), error.code)


@lru_cache(maxsize=64)
def qr_code(text: str) -> str:
    """Return ``text`` as a QR code in an SVG data URI, for a phone or tablet camera.

    Kept: the door draws its site's online-service code on every page.
    """
    return segno.make(text, error="m").svg_data_uri(scale=5, border=2)


def requires(capability: Capability) -> Callable:
    """Let a view run only for logged-in accounts whose role may do ``capability``; others
    get 403."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        @login_required
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if not current_user.may(capability):
                abort(403, description=_("Your account may not open this page."))
            return view(*args, **kwargs)

        return guarded

    return decorate


# The pages that run a site: its managers', and an administrator's.
managers = requires(Capability.MANAGE_SITE)


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


# Text a door tablet on a slow line downloads once per version: sent compressed, it is a third.
COMPRESSIBLE = {"text/css", "text/javascript", "image/svg+xml"}


def compress_static(response: Response) -> Response:
    """Send a static text file gzip-compressed to a browser that accepts it.

    Only static files: a page compressed beside the secrets it carries (CSRF tokens) could
    let an attacker guess them from the size (BREACH).
    """
    if (
        request.endpoint != "static"
        or response.status_code != 200
        or response.mimetype not in COMPRESSIBLE
        or "gzip" not in request.accept_encodings
    ):
        return response
    path = safe_join(current_app.static_folder or "", request.view_args["filename"])
    response.set_data(_compressed(path, os.stat(path).st_mtime_ns))
    response.direct_passthrough = False
    response.headers["Content-Encoding"] = "gzip"
    response.vary.add("Accept-Encoding")
    tag, weak = response.get_etag()
    if tag:  # another representation of the file: another tag
        response.set_etag(f"{tag}-gzip", weak)
    return response


@lru_cache(maxsize=64)
def _compressed(path: str, modified_ns: int) -> bytes:
    """Return a file gzip-compressed; ``modified_ns`` makes an edit a cache miss."""
    return gzip.compress(Path(path).read_bytes(), mtime=0)


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


def visits_download(
    visits: Iterable[Visit],
    zone: ZoneInfo,
    extension: str,
    name: str,
    summary: exports.SummarySheet | None = None,
) -> Response:
    """Return checks as a CSV (streamed) or XLSX attachment called ``name``, never cached.

    An XLSX file of a range of days opens on its ``summary`` sheet.
    """
    if extension == "csv":
        response = Response(
            stream_with_context(exports.csv_chunks(visits, zone)), mimetype=exports.CSV_MIME
        )
    else:
        response = send_file(exports.xlsx_file(visits, zone, summary), mimetype=exports.XLSX_MIME)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    # The file holds names and phone numbers: keep it out of every cache.
    response.headers["Cache-Control"] = "no-store"
    return response
