"""The waiting-room displays of a site (manager): make a display's link, switch a display off.

A blueprint nested in the manager's (``manage.displays``); the display itself is
``checkin.web.display``.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from checkin.domain.errors import UnknownToken
from checkin.services import display, transaction
from checkin.web.common import acting_user, current_site, managers, now
from checkin.web.forms.manage import DisplayTokenForm

bp = Blueprint("displays", __name__, url_prefix="/displays")


@bp.route("", methods=["GET", "POST"])
@managers
def index():
    """List the site's waiting-room displays; make a new one and show its link once."""
    site = current_site()
    form = DisplayTokenForm()
    link = None
    if form.validate_on_submit():
        with transaction.owned():
            secret = display.issue_display_token(
                site, form.label.data.strip(), acting_user(), now()
            )
        # Shown on this answer only, never put in the session or a redirect: it opens the board.
        link = url_for("display.board", token=secret, _external=True)
        form = DisplayTokenForm(formdata=None)
    status = 400 if form.is_submitted() and link is None else 200
    return render_template(
        "manage/displays.html",
        site=site,
        form=form,
        link=link,
        tokens=display.display_tokens(site),
    ), status


@bp.post("/<id:token_id>/revoke")
@managers
def revoke(token_id: int):
    """Revoke a display's link: the TV stops showing the board at its next poll."""
    try:
        with transaction.owned():
            display.revoke_display_token(current_site(), token_id, acting_user(), now())
    except UnknownToken:
        abort(404)
    flash(_("The display is switched off."), "success")
    return redirect(url_for(".index"))
