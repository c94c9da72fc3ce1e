"""The door tablets of a site (manager): pairing codes, PINs, and the slots tablets hold.

A blueprint nested in the manager's (``manage.tablets``); pairing itself is ``checkin.tablet``.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from checkin.error_words import error_text
from checkin.forms.pairing import SetPinForm
from checkin.security import without_personal_data
from checkin.services import leases, pairing, uploads
from checkin.services.errors import NotDoorStaff, UnknownAccount, UnknownDevice
from checkin.web import acting_user, current_site, managers, now, qr_code

bp = Blueprint("tablets", __name__, url_prefix="/tablets")


@bp.get("")
@managers
@without_personal_data
def index():
    """List the door tablets with the slots they hold today, and checks uploaded with a problem."""
    return render_tablets()


def render_tablets(pin_error: tuple[int, str] | None = None, status: int = 200):
    """Render the tablets page; ``pin_error`` is the account whose new PIN was refused, and why."""
    site = current_site()
    return render_template(
        "manage/tablets.html",
        site=site,
        tablets=leases.tablets(site, now()),
        conflicts=uploads.conflicts(site),
        staff=pairing.door_staff(site),
        pin_error=pin_error,
    ), status


@bp.post("/pair")
@managers
def pairing_code():
    """Show a new pairing code and its QR: a tablet that enters it in 10 minutes is paired."""
    new = pairing.new_code(current_site(), acting_user(), now())
    pair_url = url_for("tablet.pair", code=new.code, _external=True)
    response = Response(
        render_template(
            "manage/pairing_code.html",
            site=current_site(),
            code=new.code,
            expires_at=new.expires_at,
            pair_url=pair_url,
            qr=qr_code(pair_url),
        )
    )
    # Shown once: no cache keeps it, and a reload asks to make another.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/<device_id>/unpair")
@managers
def unpair(device_id: str):
    """Unpair a tablet: its next request finds it logged out and unpaired."""
    try:
        device = pairing.unpair(current_site(), device_id, acting_user(), now())
    except UnknownDevice:
        abort(404)
    flash(_("%(name)s is no longer paired.", name=device.label), "success")
    return redirect(url_for(".index"))


@bp.post("/pins/<int:user_id>")
@managers
def set_pin(user_id: int):
    """Give a door account of the site a new PIN for paired tablets."""
    form = SetPinForm()
    if not form.validate_on_submit():
        return render_tablets((user_id, " ".join(map(str, form.pin.errors))), 422)
    try:
        user = pairing.set_pin(current_site(), user_id, form.pin.data, acting_user(), now())
    except UnknownAccount:
        abort(404)
    except NotDoorStaff as error:
        # Not a row of the PIN table (which lists door staff only): said above the page.
        flash(error_text(error), "error")
        return render_tablets(status=422)
    flash(_("%(name)s has a new PIN.", name=user.username), "success")
    return redirect(url_for(".index"))


@bp.post("/<device_id>/revoke")
@managers
def revoke_lease(device_id: str):
    """Revoke a lost tablet's slots of today; they are never given out again."""
    try:
        device = leases.device_of(current_site(), device_id)
    except UnknownDevice:
        abort(404)
    revoked = leases.revoke(device, acting_user(), now())
    flash(
        ngettext(
            "%(name)s: %(num)d slot will not be given out again today.",
            "%(name)s: %(num)d slots will not be given out again today.",
            revoked,
            name=device.label,
        ),
        "success",
    )
    return redirect(url_for(".index"))
