"""The door tablets of a site (manager): pairing codes, PINs, and the slots tablets hold.

A blueprint nested in the manager's (``manage.tablets``); pairing itself is ``checkin.web.tablet``.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from checkin.domain.errors import NotDoorStaff, UnknownAccount, UnknownDevice
from checkin.domain.roles import Capability
from checkin.models import Device
from checkin.services import checkins, leases, pairing, transaction
from checkin.web.common import (
    acting_user,
    current_site,
    flash_refusal,
    managers,
    now,
    qr_code,
    requires,
)
from checkin.web.forms.pairing import SetPinForm
from checkin.web.security import without_personal_data

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
        conflicts=checkins.conflicts(site),
        staff=pairing.door_staff(site),
        pin_error=pin_error,
    ), status


@bp.post("/pair")
@managers
def pairing_code():
    """Show a new pairing code and its QR: a tablet that enters it in 10 minutes is paired."""
    with transaction.owned():
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


def site_tablet(device_id: str) -> Device:
    """Return a tablet of the manager's site by its id, or answer 404 (any odd id too)."""
    try:
        return leases.device_of(current_site(), device_id)
    except UnknownDevice:
        abort(404)


@bp.post("/<device:device_id>/unpair")
@managers
def unpair(device_id: str):
    """Unpair a tablet: its next request finds it logged out and unpaired."""
    tablet = site_tablet(device_id)
    with transaction.owned():
        device = pairing.unpair(tablet, acting_user(), now())
    flash(_("%(name)s is no longer paired.", name=device.label), "success")
    return redirect(url_for(".index"))


@bp.post("/pins/<id:user_id>")
@managers
def set_pin(user_id: int):
    """Give a door account of the site a new PIN for paired tablets."""
    form = SetPinForm()
    if not form.validate_on_submit():
        return render_tablets((user_id, " ".join(map(str, form.pin.errors))), 422)
    try:
        with transaction.owned():
            user = pairing.set_pin(current_site(), user_id, form.pin.data, acting_user(), now())
    except UnknownAccount:
        abort(404)
    except NotDoorStaff as error:
        # Not a row of the PIN table (which lists door staff only): said above the page.
        flash_refusal(error)
        return render_tablets(status=422)
    flash(_("%(name)s has a new PIN.", name=user.username), "success")
    return redirect(url_for(".index"))


@bp.post("/supervisor-pin")
@requires(Capability.ADMIT_PAST_QUOTA)
def set_supervisor_pin():
    """Give the supervisor logged in a new PIN of their own, to admit a visitor past the full
    quota on the site's paired tablets."""
    form = SetPinForm()
    supervisor = acting_user()
    if not form.validate_on_submit():
        return render_tablets((supervisor.id, " ".join(map(str, form.pin.errors))), 422)
    with transaction.owned():
        pairing.set_supervisor_pin(supervisor, form.pin.data, now())
    flash(_("Your supervisor PIN is set."), "success")
    return redirect(url_for(".index", _anchor="supervisor-pin"))


@bp.post("/<device:device_id>/revoke")
@managers
def revoke_lease(device_id: str):
    """Stop a tablet leasing slots for the rest of today; what it holds stays held."""
    device = site_tablet(device_id)
    with transaction.owned():
        held = leases.revoke(device, acting_user(), now())
    flash(
        ngettext(
            "%(name)s takes no more slots today; it holds %(num)d, which come back when it "
            "gives them back or you release them.",
            "%(name)s takes no more slots today; it holds %(num)d, which come back when it "
            "gives them back or you release them.",
            held,
            name=device.label,
        ),
        "success",
    )
    return redirect(url_for(".index"))


@bp.post("/<device:device_id>/release")
@managers
def release_lease(device_id: str):
    """Give a lost tablet's slots back to the day now (audited), knowing what that risks."""
    device = site_tablet(device_id)
    with transaction.owned():
        released = leases.release(device, acting_user(), now())
    flash(
        ngettext(
            "%(num)d slot of %(name)s is given out again today.",
            "%(num)d slots of %(name)s are given out again today.",
            released,
            name=device.label,
        ),
        "success",
    )
    return redirect(url_for(".index"))
