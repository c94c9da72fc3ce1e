"""The office calendar in the manager's settings: national holidays to close on, local closed days.

A blueprint nested in the manager's (``manage.calendar``): its forms share the settings page,
which :func:`render_settings` draws for both.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from checkin.domain.errors import ServiceError
from checkin.models import Site
from checkin.services import calendar
from checkin.web.common import acting_user, current_site, managers, now
from checkin.web.forms import show_error
from checkin.web.forms.calendar import weekdays_data
from checkin.web.forms.floor import floor_settings_form, wait_kpi_form
from checkin.web.forms.manage import ClosedDayForm, SettingsForm
from checkin.words.calendar import day_text, holiday_language, weekday_names
from checkin.words.errors import error_text

bp = Blueprint("calendar", __name__, url_prefix="/settings")


def settings_form(site: Site) -> SettingsForm:
    """Return the settings form holding the site's current settings."""
    return SettingsForm(
        data={
            "daily_quota": site.daily_quota,
            "fever_cutoff": Decimal(site.fever_cutoff_dc) / 10,
            "recheck_minutes": site.recheck_minutes,
            "online_service_url": site.online_service_url,
            "weekdays": weekdays_data(calendar.weekday_quotas(site)),
        }
    )


def render_settings(site: Site, status: int = 200, **parts: Any) -> tuple[str, int]:
    """Render the settings page, calendar and floor included; forms not given show the stored."""
    today = site.local_day(now())
    page = {
        "form": parts.get("form") or settings_form(site),
        "closed_form": parts.get("closed_form") or ClosedDayForm(formdata=None),
        "floor_form": parts.get("floor_form") or floor_settings_form(site),
        "kpi_form": parts.get("kpi_form") or wait_kpi_form(site),
        "confirm_cutoff": False,
        "holidays_error": None,
        **parts,
    }
    return render_template(
        "manage/settings.html",
        site=site,
        today=today,
        weekday_names=weekday_names(),
        holidays=calendar.holidays_shown(site, today, holiday_language()),
        closed_days=calendar.closed_days_from(site, today),
        day_text=day_text,
        **page,
    ), status


@bp.post("/holidays")
@managers
def holidays():
    """Close the site on the ticked national holidays, and open it on the others."""
    site = current_site()
    try:
        ticked = [date.fromisoformat(value) for value in request.form.getlist("closed")]
    except ValueError:
        return render_settings(site, 400, holidays_error=_("Not a valid date value."))
    try:
        calendar.set_holidays(site, ticked, acting_user(), now())
    except ServiceError as error:
        return render_settings(site, 400, holidays_error=error_text(error))
    flash(_("Closed holidays saved."), "success")
    return redirect(url_for("manage.settings", _anchor="holidays"))


@bp.post("/closed")
@managers
def add_closed_day():
    """Close the site on one more day, for a reason the door shows."""
    site = current_site()
    form = ClosedDayForm()
    if form.validate():
        try:
            calendar.add_closed_day(site, form.day.data, form.label.data, acting_user(), now())
        except ServiceError as error:
            show_error(form._fields.get(error.field, form.day), error)
        else:
            flash(_("The office is closed on %(day)s.", day=day_text(form.day.data)), "success")
            return redirect(url_for("manage.settings", _anchor="closed-days"))
    return render_settings(site, 400, closed_form=form)


@bp.post("/closed/<day>/remove")
@managers
def remove_closed_day(day: str):
    """Open the site again on a local closed day."""
    try:
        reopened = date.fromisoformat(day)
    except ValueError:
        abort(404)
    try:
        calendar.remove_closed_day(current_site(), reopened, acting_user(), now())
    except ServiceError as error:
        flash(error_text(error), "error")
    else:
        flash(_("The office is open on %(day)s.", day=day_text(reopened)), "success")
    return redirect(url_for("manage.settings", _anchor="closed-days"))
