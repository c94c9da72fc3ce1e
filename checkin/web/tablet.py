"""Paired door tablets: pairing with a manager's code, and door staff logging in by name and PIN.

A PIN session is a normal session of the door account that also names the tablet it was
opened on; before any view it must still come with that tablet's credential, so unpairing a
tablet ends its staff's access at the next request, and a session cookie copied elsewhere is
worth nothing.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_user, logout_user
from werkzeug.exceptions import Unauthorized
from werkzeug.wrappers import Response

from checkin.domain.errors import NotDoorStaff, ServiceError, UnknownAccount
from checkin.domain.roles import Role
from checkin.models import Device, User
from checkin.services import logins, pairing, transaction
from checkin.web.auth import start_fresh_session
from checkin.web.common import (
    PIN_SESSION,
    SESSION_TABLET,
    TABLET_COOKIE,
    door_tablet,
    now,
    paired_tablet,
    session_tablet,
)
from checkin.web.errors import wants_json
from checkin.web.forms import mark_error, show_error
from checkin.web.forms.pairing import PairForm, PinForm

bp = Blueprint("tablet", __name__)

# Browsers keep a cookie at most 400 days; a tablet in daily use is seen long before that.
CREDENTIAL_MAX_AGE = 400 * 24 * 3600


@bp.before_app_request
def keep_sessions_on_their_tablet() -> Response | None:
    """End a session opened on a tablet that was unpaired since, or that came without the
    tablet's cookie: unpairing a tablet ends every session on it, by PIN or by password."""
    tablet_id = session.get(SESSION_TABLET)
    if tablet_id is None or request.endpoint == "static":
        return None
    tablet = paired_tablet()
    if tablet is None or tablet.id != tablet_id:
        logout_user()
        start_fresh_session()
        if wants_json():
            raise Unauthorized(_("This tablet is no longer paired: pair it again."))
        return redirect(url_for("tablet.pair"))
    if (
        session.get(PIN_SESSION)
        and current_user.is_authenticated
        and current_user.role != Role.DOOR
    ):
        # Never seen: PINs are door staff's only. Should the account change role meanwhile,
        # its PIN session does not become a manager's.
        logout_user()
        start_fresh_session()
        return redirect(url_for("tablet.staff"))
    return None


@bp.app_context_processor
def tablet_of_the_page() -> dict[str, Device | None]:
    """Tell every page whether this session was opened on a paired tablet ("Switch staff"),
    and which paired tablet of the account's site this browser is (it holds slots)."""
    return {"session_tablet": session_tablet(), "door_tablet": door_tablet()}


@bp.route("/pair", methods=["GET", "POST"])
def pair():
    """Make this browser a door tablet of a site with the code a manager shows."""
    form = PairForm(code=request.args.get("code", ""))
    status = 200
    if form.validate_on_submit():
        address = request.remote_addr or ""
        try:
            # The guess is counted and committed first, in a transaction of its own: a wrong
            # code answers with an error that rolls back the pairing, and must count all the same.
            with transaction.owned():
                pairing.take_guess(address, now())
            with transaction.owned():
                paired = pairing.pair(form.code.data, form.name.data or "", address, now())
        except ServiceError as error:
            show_error(form.code, error)
            status = 429 if error.code == "pairing_locked" else 422
        else:
            start_fresh_session()
            response = redirect(url_for(".staff"))
            response.set_cookie(
                TABLET_COOKIE,
                paired.credential,
                max_age=CREDENTIAL_MAX_AGE,
                secure=request.is_secure,
                httponly=True,
                samesite="Lax",
            )
            flash(_("This tablet is now a door tablet of %(site)s.", site=paired.device.site.name))
            return response
    elif form.is_submitted():
        status = 422
    return render_template("tablet/pair.html", form=form, tablet=paired_tablet()), status


def the_tablet() -> Device:
    """Return this paired tablet, or send the browser to pair first."""
    tablet = paired_tablet()
    if tablet is None:
        abort(redirect(url_for(".pair")))
    return tablet


@bp.get("/door/staff")
def staff():
    """List the site's door staff as big buttons: tap your name to start your shift."""
    tablet = the_tablet()
    if current_user.is_authenticated:
        return redirect(url_for("door.index"))
    return render_template(
        "tablet/staff.html", tablet=tablet, staff=pairing.staff_with_pin(tablet.site)
    )


@bp.route("/door/staff/<id:user_id>", methods=["GET", "POST"])
def pin(user_id: int):
    """Ask a door staff member for their PIN and log them in on this tablet."""
    tablet = the_tablet()
    user = staff_member(tablet, user_id)
    form = PinForm()
    status = 200
    if form.validate_on_submit():
        # A wrong PIN is an answer, not an error: the failure it counts is committed with it.
        with transaction.owned():
            result = pairing.pin_log_in(tablet, user.id, form.pin.data, now())
        if result.user is not None:
            start_fresh_session()
            login_user(result.user)
            session[SESSION_TABLET] = tablet.id
            session[PIN_SESSION] = True
            return redirect(url_for("door.index"))
        if result.locked_until is not None:
            minutes = logins.minutes_until(result.locked_until, now())
            mark_error(
                form.pin,
                ngettext(
                    "Too many wrong PINs: try again in %(num)d minute, or log in with "
                    "your password.",
                    "Too many wrong PINs: try again in %(num)d minutes, or log in with "
                    "your password.",
                    minutes,
                ),
                "pin_locked",
            )
            status = 429
        else:
            mark_error(form.pin, _("Wrong PIN."), "wrong_pin")
            status = 401
    elif form.is_submitted():
        status = 422
    return render_template("tablet/pin.html", tablet=tablet, user=user, form=form), status


def staff_member(tablet: Device, user_id: int) -> User:
    """Return a door staff member of the tablet's site; others are not found here."""
    try:
        return pairing.door_account(tablet.site, user_id)
    except (UnknownAccount, NotDoorStaff):
        abort(404)
