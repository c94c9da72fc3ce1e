"""The waiting-room display (audience: a TV): the current call, the last ones, how many wait.

Opened with a display token, never a login: ``/display?token=...`` once (the link a manager
makes) stores the token in a cookie for ``/display`` only and drops it from the address bar. The
board carries numbers and booths only, never anything that names a visitor.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import force_locale, get_locale, ngettext
from flask_babel import gettext as _

from checkin.models import Site
from checkin.services import display
from checkin.web.common import now
from checkin.words import spoken
from checkin.words.labels import LANGUAGES, hour_minute

bp = Blueprint("display", __name__, url_prefix="/display")

COOKIE = "checkin_display"
# Browsers keep a cookie at most 400 days; the TV renews it on every page load.
COOKIE_DAYS = 400
# How often the page asks whether the board changed: a call shows within 2 s.
POLL_MILLISECONDS = 1500


def shown_board(secret: str | None) -> display.BoardState:
    """Return the state of the board this display shows, or answer 403."""
    state = display.board_state(secret, now()) if secret else None
    if state is None:
        abort(
            403,
            description=_(
                "This screen is not set up as a display, or its link was revoked: open the "
                "display link your manager made."
            ),
        )
    return state


@bp.get("")
def board():
    """Show the board; a link with a token first stores the token and comes back without it."""
    secret = request.args.get("token")
    if secret is not None:
        return remember_token(secret)
    secret = request.cookies.get(COOKIE)
    language = str(get_locale())
    site, shown = display.board(shown_board(secret))
    response = Response(
        render_template(
            "display/board.html",
            site=site,
            board=board_json(site, shown, language),
            language=language,
            clip_urls={
                clip: url_for("static", filename=f"voice/id/{clip}.ogg") for clip in spoken.CLIPS
            },
            poll_milliseconds=POLL_MILLISECONDS,
        )
    )
    keep_token(response, secret)
    return response


def remember_token(secret: str) -> Response:
    """Store a valid display token in the cookie and reload the display without it."""
    if display.board_state(secret, now()) is None:
        abort(403, description=_("This display link is not valid, or it was revoked."))
    language = request.args.get("lang")
    response = redirect(url_for(".board", lang=language) if language else url_for(".board"))
    keep_token(response, secret)
    return response


def keep_token(response: Response, secret: str) -> None:
    """Set the display's cookie, readable by no script and sent to the display only."""
    response.set_cookie(
        COOKIE,
        secret,
        max_age=COOKIE_DAYS * 24 * 3600,
        path=url_for(".board"),
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        httponly=True,
        samesite="Lax",
    )


@bp.get("/board.json")
def board_data():
    """Return the board as JSON, or 304 when it has not changed since the display's last copy.

    The page names its language in the address, so a 304 needs neither the session nor Babel.
    """
    state = shown_board(request.cookies.get(COOKIE))
    language = request.args.get("lang")
    if language not in LANGUAGES:
        language = LANGUAGES[0]
    version = f"{language}.{state.version}"
    if version in request.if_none_match:
        response = Response(status=304)
    else:
        with force_locale(language):
            response = jsonify(board_json(*display.board(state), language))
    response.set_etag(version)
    return response


def booth_label(call: display.Call) -> str:
    """Return the booth's label when it says more than its number, else nothing to show."""
    label = call.booth_label.strip()
    plain = {str(call.booth_number), f"monitor {call.booth_number}"}
    return "" if label.casefold() in plain else label


def board_json(site: Site, shown: display.Board, language: str) -> dict[str, Any]:
    """Return the board as the page reads it: each call with the words that announce it."""
    calls = []
    for call in shown.calls:
        said = spoken.announcement(call.number, call.booth_number, language)
        calls.append(
            {
                # A recall is a new call: it is announced again.
                "key": f"{call.number}@{call.called_at.timestamp():.6f}",
                "number": call.number,
                "monitor": call.booth_number,
                "label": booth_label(call),
                "time": hour_minute(call.called_at, site),
                "text": said.text,
                "clips": list(said.clips),
            }
        )
    return {
        "calls": calls,
        "waiting": shown.waiting,
        "waiting_text": ngettext(
            "%(num)d visitor waiting", "%(num)d visitors waiting", shown.waiting
        ),
    }
