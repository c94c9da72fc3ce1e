"""Manager pages: entry log, a check and its void, exports, reports, summary, settings, audit."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from werkzeug.exceptions import BadRequest

from checkin import admission, charts, exports
from checkin.forms import show_error
from checkin.forms.manage import (
    UNUSUAL_CUTOFF,
    ExportRangeForm,
    LogForm,
    RangeForm,
    SettingsForm,
    VoidForm,
)
from checkin.models import Site, Visit
from checkin.security import without_personal_data
from checkin.services import audit as audit_log
from checkin.services import checkins, day_counter, entry_log, leases, reports, sites, uploads
from checkin.services.errors import AlreadyVoided, QuotaBelowAdmitted, UnknownDevice
from checkin.web import acting_user, current_site, now, own_visit, roles_required
from checkin.words import (
    ACTION_LABELS,
    conflict_text,
    describe_audit,
    error_text,
    format_temperature,
    hour_minute,
    reasons_to_show,
)

bp = Blueprint("manage", __name__, url_prefix="/manage")

LOG_PAGE_SIZE = 100
SVG_CSP = "default-src 'none'; style-src 'unsafe-inline'"

managers = roles_required("manager", "admin")


@bp.context_processor
def labels() -> dict[str, Any]:
    """Give every manager template the words for audit actions and entries."""
    return {
        "ACTION_LABELS": ACTION_LABELS,
        "describe_audit": describe_audit,
        "reasons_to_show": reasons_to_show,
        "conflict_text": conflict_text,
    }


@bp.get("/log")
@managers
def log():
    """Show a day's checks in time order with the day's summary, one page at a time."""
    site = current_site()
    form = LogForm()
    if not form.validate():
        return render_template("manage/log.html", site=site, form=form, day=None), 400
    day = form.day.data or site.local_day(now())
    form.show(day=day)
    filters = {"status": form.status.data or None, "reason": form.reason.data or None}
    page = entry_log.entry_log(site, day, **filters, after=form.after.data, limit=LOG_PAGE_SIZE)
    return render_template(
        "manage/log.html",
        site=site,
        form=form,
        day=day,
        page=page,
        # Said next to the filters: the day's figures below them do not follow the filters.
        matching=entry_log.count_log(site, day, **filters) if any(filters.values()) else None,
        overview=reports.day_overview(site, day),
    )


@bp.get("/visits/<int:visit_id>")
@managers
def visit(visit_id: int):
    """Show one check of the manager's own site whole, with the form to void it."""
    return render_visit(own_visit(visit_id), VoidForm())


def render_visit(checked: Visit, form: VoidForm, status: int = 200) -> tuple[str, int]:
    """Record that the manager sees the check's personal data, then render its page and form."""
    audit_log.record_view(checked, acting_user(), now())
    return render_template(
        "manage/visit.html", site=current_site(), visit=checked, form=form
    ), status


@bp.post("/visits/<int:visit_id>/void")
@managers
def void(visit_id: int):
    """Void a mistaken check of the manager's own site and go back to its day's log.

    Without a usable reason the check's page comes back with the reason's error and its text.
    """
    mistaken = own_visit(visit_id)
    form = VoidForm()
    if not form.validate_on_submit():
        return render_visit(mistaken, form, 400)
    try:
        checkins.void_visit(mistaken, acting_user(), form.reason.data, now())
    except AlreadyVoided as error:
        flash(error_text(error), "error")
    else:
        checked = hour_minute(mistaken.checked_at, mistaken.site)
        flash(_("The check at %(time)s is void.", time=checked), "success")
    return redirect(url_for(".log", day=mistaken.day.isoformat(), _anchor=f"visit-{visit_id}"))


def requested_range(site: Site, form_class: type[RangeForm]) -> tuple[date, date]:
    """Return the requested date range, or answer 400 for one that is not valid."""
    form = form_class(site.local_day(now()))
    if not form.validate():
        raise BadRequest(
            "; ".join(str(error) for errors in form.errors.values() for error in errors)
        )
    return form.dates()


@bp.get("/export.<any(csv, xlsx):extension>")
@managers
def export(extension: str):
    """Download the checks of a day or a range as CSV (streamed) or XLSX."""
    site = current_site()
    start, end = requested_range(site, ExportRangeForm)
    audit_log.record_export(site, acting_user(), now(), start, end, extension)
    visits = entry_log.export_visits(site, start, end)
    name = exports.file_name(site.code, start, end, extension)
    if extension == "csv":
        response = Response(
            stream_with_context(exports.csv_chunks(visits, site.zone)), mimetype=exports.CSV_MIME
        )
    else:
        response = send_file(exports.xlsx_file(visits, site.zone), mimetype=exports.XLSX_MIME)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    # The file holds names and phone numbers: keep it out of every cache.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/reports", endpoint="reports")
@managers
@without_personal_data
def report_page():
    """Show trends over a date range as charts and as a table."""
    site = current_site()
    form = RangeForm(site.local_day(now()))
    if not form.validate():
        return render_template("manage/reports.html", site=site, form=form, report=None), 400
    start, end = form.dates()
    form.show(start=start, end=end)
    return render_template(
        "manage/reports.html", site=site, form=form, report=reports.site_report(site, start, end)
    )


@bp.get("/reports/chart/<any(decisions, hours, reasons, quota):kind>.svg")
@managers
def chart(kind: str):
    """Return one report chart as an SVG image."""
    site = current_site()
    start, end = requested_range(site, RangeForm)
    svg = charts.render(kind, reports.site_report(site, start, end))
    # pygal styles its SVG inline; as an <img> it can run no script, so allow only the styles.
    return Response(
        svg,
        mimetype="image/svg+xml",
        headers={"Content-Security-Policy": SVG_CSP, "Cache-Control": "private, max-age=300"},
    )


@bp.get("/summary")
@managers
@without_personal_data
def summary():
    """Show a printable end-of-day summary with a line for the manager's signature."""
    site = current_site()
    form = LogForm()
    if not form.validate():
        abort(400)
    day = form.day.data or site.local_day(now())
    return render_template(
        "manage/summary.html", site=site, day=day, overview=reports.day_overview(site, day)
    )


@bp.route("/settings", methods=["GET", "POST"])
@managers
@without_personal_data
def settings():
    """Show and change the site's quota, fever cut-off and online-service address."""
    site = current_site()
    form = SettingsForm(
        data={
            "daily_quota": site.daily_quota,
            "fever_cutoff": Decimal(site.fever_cutoff_dc) / 10,
            "online_service_url": site.online_service_url,
        }
    )
    unusual = None
    if form.validate_on_submit():
        wanted = sites.SiteSettings(
            daily_quota=form.daily_quota.data,
            fever_cutoff_dc=admission.to_decicelsius(form.fever_cutoff.data),
            online_service_url=form.online_service_url.data or "",
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
            return redirect(url_for(".settings"))
    status = 400 if form.is_submitted() else 200
    return render_template(
        "manage/settings.html", site=site, form=form, confirm_cutoff=unusual is not None
    ), status


def apply_settings(
    site: Site, wanted: sites.SiteSettings, form: SettingsForm
) -> day_counter.Quota | None:
    """Save the settings and return today's quota, or put the quota's error on the form."""
    try:
        return sites.update_site_settings(site, wanted, acting_user(), now())
    except QuotaBelowAdmitted as error:
        show_error(form.daily_quota, error)
        return None


@bp.get("/tablets")
@managers
@without_personal_data
def tablets():
    """List the door tablets with the slots they hold today, and checks uploaded with a problem."""
    site = current_site()
    return render_template(
        "manage/tablets.html",
        site=site,
        tablets=leases.tablets(site, now()),
        conflicts=uploads.conflicts(site),
    )


@bp.post("/tablets/<device_id>/revoke")
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
    return redirect(url_for(".tablets"))


@bp.get("/audit")
@managers
def audit():
    """List the site's changes and who saw personal data, newest first: all, or one kind."""
    site = current_site()
    kind = request.args.get("kind") or None
    if kind is not None and kind not in audit_log.KINDS:
        abort(
            400, description=_("Show every entry, only changes, or only access to personal data.")
        )
    return render_template(
        "manage/audit.html", site=site, kind=kind, entries=audit_log.entries(site, kind)
    )
