"""Login, logout, language choice, and how requests are tied to an account."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from flask import (
    Blueprint,
    abort,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user, login_user, logout_user
from werkzeug.exceptions import Unauthorized
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from checkin.domain.roles import Role
from checkin.extensions import login_manager
from checkin.models import User
from checkin.services import accounts, logins, transaction
from checkin.web import door
from checkin.web.common import (
    SESSION_TABLET,
    acting_user,
    flash_error,
    now,
    paired_tablet,
    requested_path,
)
from checkin.web.errors import wants_json
from checkin.web.forms import Form, storable
from checkin.words.labels import LANGUAGES

bp = Blueprint("auth", __name__)

HOME_BY_ROLE = {
    Role.DOOR: "door.index",
    Role.OFFICER: "floor.console",
    Role.MANAGER: "manage.log",
    Role.ADMIN: "manage.log",
    Role.HEAD_OFFICE: "headoffice.index",
}
# An admin of no site has no log to read: their work is the admin page.
HOME_WITHOUT_SITE = "admin.index"


class LoginForm(Form):
    """Username and password."""

    username = StringField(
        _l("Username"),
        validators=[DataRequired(_l("Type your username.")), Length(max=80), storable],
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(_l("Type your password.")), Length(max=200)],
    )


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """Return the account stored in the session, unless its sessions were ended since."""
    return accounts.user_for_session(session_id)


@login_manager.request_loader
def load_user_from_token(req) -> User | None:
    """Return the account an ``Authorization: Bearer`` token acts as, for the JSON API only.

    A token opens no page: a page's form would hand it a CSRF token, and a stolen token would
    then act as a browser. What the token may do is kept in ``g.token_scopes``.
    """
    scheme, _space, secret = req.headers.get("Authorization", "").partition(" ")
    if not wants_json() or scheme.lower() != "bearer" or not secret:
        return None
    found = accounts.bearer(secret.strip())
    if found is None:
        return None
    g.token_scopes = found.scopes
    return found.user


@login_manager.unauthorized_handler
def unauthorized():
    """Answer 401 to API clients and send people to the login page."""
    if wants_json():
        raise Unauthorized("Log in or send 'Authorization: Bearer <token>'.")
    if request.blueprint == door.bp.name and paired_tablet() is not None:
        return redirect(url_for("tablet.staff"))
    return redirect(url_for("auth.login", next=requested_path()))


def home_url() -> str:
    """Return the start page for the logged-in account's role (and site)."""
    if current_user.role == Role.ADMIN and current_user.site is None:
        return url_for(HOME_WITHOUT_SITE)
    return url_for(HOME_BY_ROLE[current_user.role])


def safe_next(target: str | None) -> str | None:
    r"""Return ``target`` if it is a path on this site once a browser has normalised it, else None.

    Browsers drop tabs and newlines anywhere in a URL and read a backslash as a slash, so
    ``/\t/evil.example`` and ``/\evil.example`` mean ``//evil.example``: another site. The target
    is judged decoded, as a browser or a server behind a proxy may read it, and returned without
    the characters a browser would drop.
    """
    if not target:
        return None
    cleaned = target.strip().replace("\t", "").replace("\n", "").replace("\r", "")
    decoded = unquote(cleaned)
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in decoded) or "\\" in decoded:
        return None
    if not cleaned.startswith("/") or decoded.startswith("//"):
        return None
    parts = urlsplit(cleaned)
    return cleaned if not (parts.scheme or parts.netloc) else None


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Show the login form and log the account in."""
    if current_user.is_authenticated:
        return redirect(home_url())
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        username = form.username.data.strip()
        address = request.remote_addr or ""
        # A wrong password is an answer, not an error: the failure it counts is committed with it.
        with transaction.owned():
            result = logins.log_in(username, form.password.data, address, now())
        if result.user is not None:
            start_fresh_session()
            login_user(result.user)
            tablet = paired_tablet()
            if tablet is not None:
                # Its sessions end when it is unpaired, however staff logged in.
                session[SESSION_TABLET] = tablet.id
            return redirect(safe_next(request.args.get("next")) or home_url())
        if result.locked_until is not None:
            # The same words for an account and for a name no account has: nothing to learn.
            minutes = logins.minutes_until(result.locked_until, now())
            flash_error(
                ngettext(
                    "Too many failed attempts: this account is locked for %(num)d minute "
                    "on this device. Other devices can still log in.",
                    "Too many failed attempts: this account is locked for %(num)d minutes "
                    "on this device. Other devices can still log in.",
                    minutes,
                ),
                "login_locked",
            )
            status = 429
        else:
            flash_error(_("Wrong username or password."), "wrong_login")
            status = 401
    elif form.is_submitted():
        status = 400
    return render_template("auth/login.html", form=form, tablet=paired_tablet()), status


@bp.post("/logout")
def logout():
    """Log out, ending the account's sessions everywhere; a paired tablet shows its staff again.

    On a paired tablet this is "Switch staff": the tablet stays paired for the next one.
    """
    if current_user.is_authenticated:
        with transaction.owned():
            accounts.log_out(acting_user())
    logout_user()
    start_fresh_session()
    if paired_tablet() is not None:
        return redirect(url_for("tablet.staff"))
    return redirect(url_for("auth.login"))


def start_fresh_session() -> None:
    """Drop everything in the session except the tablet's chosen language."""
    language = session.get("lang")
    session.clear()
    if language:
        session["lang"] = language


@bp.post("/lang/<code>")
def set_language(code: str):
    """Remember the chosen interface language and go back."""
    if code not in LANGUAGES:
        abort(404)
    session["lang"] = code
    return redirect(safe_next(request.form.get("next")) or url_for("auth.login"))
