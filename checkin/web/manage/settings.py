"""The manager's settings page, all of it: the quota and the door's rules, the weekdays'
quotas, the office calendar (national holidays to close on, local closed days), the service
floor's booths, the waiting-time target, the public booking page and its privacy contact.

A blueprint nested in the manager's (``manage.settings``): every form on the page posts here,
and :func:`render_settings` draws the page for each of them.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from checkin.domain import admission, calling, limits
from checkin.domain.errors import QuotaBelowAdmitted, ServiceError
from checkin.models import Site
from checkin.services import bookings, booths, calendar, day_counter, sites, transaction
from checkin.web.common import acting_user, current_site, flash_refusal, managers, now
from checkin.web.forms import show_error
from checkin.web.forms.calendar import weekday_quotas, weekdays_data
from checkin.web.forms.floor import floor_settings_form, wait_kpi_form
from checkin.web.forms.manage import (
    UNUSUAL_CUTOFF,
    BookingPageForm,
    ClosedDayForm,
    PrivacyContactForm,
    SettingsForm,
)
from checkin.web.security import without_personal_data
from checkin.words.calendar import day_text, holiday_language, weekday_names
from checkin.words.errors import error_text
from checkin.words.labels import format_temperature

bp = Blueprint("settings", __name__, url_prefix="/settings")


def settings_form(site: Site) -> SettingsForm:
    """Return the settings form holding the site's current settings."""
    return SettingsForm(
        data={
            "daily_quota": site.daily_quota,
            "fever_cutoff": Decimal(site.fever_cutoff_dc) / 10,
            "retest_minutes": site.retest_minutes,
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
        "booking_page_form": parts.get("booking_page_form") or booking_page_form(site),
        "privacy_form": parts.get("privacy_form") or privacy_contact_form(site),
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
        limits=limits,
        **page,
    ), status


@bp.route("", methods=["GET", "POST"])
@managers
@without_personal_data
def page():
    """Show and change the site's quota, fever cut-off, re-test wait and online-service address."""
    site = current_site()
    form = settings_form(site)
    unusual = None
    if form.validate_on_submit():
        wanted = sites.SiteSettings(
            daily_quota=form.daily_quota.data,
            fever_cutoff_dc=admission.to_decicelsius(form.fever_cutoff.data),
            online_service_url=form.online_service_url.data or "",
            retest_minutes=form.retest_minutes.data,
            weekday_quotas=weekday_quotas(form.weekdays.data),
        )
        if wanted.fever_cutoff_dc != site.fever_cutoff_dc:
            unusual = admission.unusual_cutoff(wanted.fever_cutoff_dc)
        if unusual and not form.confirm_cutoff.data:
            cutoff = format_temperature(wanted.fever_cutoff_dc)
            form.fever_cutoff.errors.append(UNUSUAL_CUTOFF[unusual] % {"cutoff": cutoff})
        elif (quota := apply_settings(site, wanted, form)) is not None:
            flash(
                ngettext(
                    "Settings saved. Today: %(used)d of %(num)d slot used.",
                    "Settings saved. Today: %(used)d of %(num)d slots used.",
                    quota.limit,
                    used=quota.used,
                ),
                "success",
            )
            return redirect(url_for(".page"))
    status = 400 if form.is_submitted() else 200
    return render_settings(site, status, form=form, confirm_cutoff=unusual is not None)


def apply_settings(
    site: Site, wanted: sites.SiteSettings, form: SettingsForm
) -> day_counter.Quota | None:
    """Save the settings and return today's quota, or put the quota's error on the form."""
    try:
        with transaction.owned():
            return sites.update_site_settings(site, wanted, acting_user(), now())
    except QuotaBelowAdmitted as error:
        show_error(form.daily_quota, error)
        return None


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
            with transaction.owned():
                booths.update_floor_settings(site, wanted, acting_user(), now())
        except ServiceError as error:
            show_error(form.booths, error)
            status = 409
        else:
            flash(_("Floor settings saved."), "success")
            return redirect(url_for("manage.settings.page", _anchor="floor"), 303)
    return render_settings(site, status, floor_form=form)


@bp.post("/wait-kpi")
@managers
def wait_kpi():
    """Set the waiting-time target of the service floor's figures."""
    site = current_site()
    kpi_form = wait_kpi_form(site, request.form)
    if kpi_form.validate_on_submit():
        try:
            with transaction.owned():
                sites.set_wait_kpi(site, kpi_form.wait_kpi_minutes.data, acting_user(), now())
        except ServiceError as error:
            show_error(kpi_form.wait_kpi_minutes, error)
        else:
            flash(_("Waiting time target saved."), "success")
            return redirect(url_for("manage.settings.page"))
    return render_settings(site, 400, kpi_form=kpi_form)


def booking_page_form(site: Site, formdata: Any = None) -> BookingPageForm:
    """Return the public booking page's switch, filled with the site's setting unless posted."""
    on = bookings.setup_of(site).public_page
    return BookingPageForm(formdata, data={"public_page": on}, prefix="booking")


@bp.post("/booking-page")
@managers
def booking_page():
    """Switch the site's public booking page on or off."""
    site = current_site()
    form = booking_page_form(site, request.form)
    if not form.validate_on_submit():
        return render_settings(site, 400, booking_page_form=form)
    with transaction.owned():
        bookings.set_public_page(site, form.public_page.data, acting_user(), now())
    if form.public_page.data:
        flash(_("The booking page is on: visitors can book at the address shown."), "success")
    else:
        flash(_("The booking page is off: it takes no more bookings."), "success")
    return redirect(url_for("manage.settings.page", _anchor="booking-page"), 303)


def privacy_contact_form(site: Site, formdata: Any = None) -> PrivacyContactForm:
    """Return the privacy contact's form, filled with the site's contact unless posted."""
    data = {"privacy_contact": site.privacy_contact}
    return PrivacyContactForm(formdata, data=data, prefix="privacy")


@bp.post("/privacy-contact")
@managers
def privacy_contact():
    """Set or clear whom the public booking page names for questions about personal data."""
    site = current_site()
    form = privacy_contact_form(site, request.form)
    if form.validate_on_submit():
        try:
            with transaction.owned():
                sites.set_privacy_contact(site, form.privacy_contact.data, acting_user(), now())
        except ServiceError as error:
            show_error(form.privacy_contact, error)
        else:
            flash(_("Privacy contact saved."), "success")
            return redirect(url_for("manage.settings.page", _anchor="privacy-contact"))
    return render_settings(site, 400, privacy_form=form)


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
        with transaction.owned():
            calendar.set_holidays(site, ticked, acting_user(), now())
    except ServiceError as error:
        return render_settings(site, 400, holidays_error=error_text(error))
    flash(_("Closed holidays saved."), "success")
    return redirect(url_for("manage.settings.page", _anchor="holidays"))


@bp.post("/closed")
@managers
def add_closed_day():
    """Close the site on one more day, for a reason the door shows."""
    site = current_site()
    form = ClosedDayForm()
    if form.validate():
        try:
            with transaction.owned():
                calendar.add_closed_day(site, form.day.data, form.label.data, acting_user(), now())
        except ServiceError as error:
            show_error(form._fields.get(error.field, form.day), error)
        else:
            flash(_("The office is closed on %(day)s.", day=day_text(form.day.data)), "success")
            return redirect(url_for("manage.settings.page", _anchor="closed-days"))
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
        with transaction.owned():
            calendar.remove_closed_day(current_site(), reopened, acting_user(), now())
    except ServiceError as error:
        flash_refusal(error)
    else:
        flash(_("The office is open on %(day)s.", day=day_text(reopened)), "success")
    return redirect(url_for("manage.settings.page", _anchor="closed-days"))
