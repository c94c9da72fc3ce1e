"""The service floor's settings on the manager's settings page: booths, their labels, booths per
officer, and the waiting-time target the floor's figures hold the waits against.

A blueprint nested in the manager's (``manage.floor_settings``); its forms share the settings
page, which :func:`checkin.web.manage.calendar.render_settings` draws.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext as _

from checkin.domain import calling
from checkin.domain.errors import ServiceError
from checkin.services import booths, sites
from checkin.web.common import acting_user, current_site, managers, now
from checkin.web.forms import show_error
from checkin.web.forms.floor import floor_settings_form, wait_kpi_form
from checkin.web.manage import calendar

bp = Blueprint("floor_settings", __name__, url_prefix="/settings")


@bp.post("/floor")
@managers
def booths_and_officers():
    """Change the site's booths, their labels and how many booths one officer may hold."""
    site = current_site()
    form = floor_settings_form(site)
    status = 400
    if form.validate_on_submit():
        wanted = booths.FloorSettings(
            booths=form.booths.data,
            labels=tuple(calling.booth_labels(form.labels.data or "", form.booths.data)),
            booths_per_officer=form.booths_per_officer.data,
        )
        try:
            booths.update_floor_settings(site, wanted, acting_user(), now())
        except ServiceError as error:
            show_error(form.booths, error)
            status = 409
        else:
            flash(_("Floor settings saved."), "success")
            return redirect(url_for("manage.settings", _anchor="floor"), 303)
    return calendar.render_settings(site, status, floor_form=form)


@bp.post("/wait-kpi")
@managers
def wait_kpi():
    """Set the waiting-time target of the service floor's figures."""
    site = current_site()
    kpi_form = wait_kpi_form(site, request.form)
    if kpi_form.validate_on_submit():
        try:
            sites.set_wait_kpi(site, kpi_form.wait_kpi_minutes.data, acting_user(), now())
        except ServiceError as error:
            show_error(kpi_form.wait_kpi_minutes, error)
        else:
            flash(_("Waiting time target saved."), "success")
            return redirect(url_for("manage.settings"))
    return calendar.render_settings(site, 400, kpi_form=kpi_form)
