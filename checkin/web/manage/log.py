"""Manager pages: entry log, a check and its void, exports, reports, summary, settings, audit."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.exceptions import BadRequest

from checkin.domain.errors import (
    AlreadyVoided,
    ServiceError,
)
from checkin.domain.floor_figures import state_shown, visit_minutes
from checkin.domain.roles import Capability
from checkin.models import Site, Visit
from checkin.services import audit as audit_log
from checkin.services import checkins, entry_log, floor, overrides, reports, transaction
from checkin.web.common import (
    acting_user,
    current_site,
    flash_refusal,
    managers,
    now,
    own_visit,
    requires,
    visits_download,
)
from checkin.web.forms import show_error
from checkin.web.forms.manage import (
    AuditForm,
    ExportRangeForm,
    LogForm,
    OverrideForm,
    RangeForm,
    VoidForm,
)
from checkin.web.manage import bookings, displays, settings, tablets
from checkin.web.security import without_personal_data
from checkin.words import charts, exports
from checkin.words.audit import ACTION_LABELS, describe_audit
from checkin.words.errors import conflict_text
from checkin.words.labels import (
    FLOOR_STATE_LABELS,
    hour_minute,
    minutes_text,
    reasons_to_show,
)

bp = Blueprint("manage", __name__, url_prefix="/manage")
bp.register_blueprint(settings.bp)
bp.register_blueprint(displays.bp)
bp.register_blueprint(tablets.bp)
bp.register_blueprint(bookings.bp)

LOG_PAGE_SIZE = 100
AUDIT_PAGE_SIZE = 50
SVG_CSP = "default-src 'none'; style-src 'unsafe-inline'"

# Head office reads any site's log and reports (see checkin.web.headoffice) and changes nothing.


@bp.context_processor
def labels() -> dict[str, Any]:
    """Give every manager template the words for audit actions and entries."""
    return {
        "ACTION_LABELS": ACTION_LABELS,
        "describe_audit": describe_audit,
        "reasons_to_show": reasons_to_show,
        "conflict_text": conflict_text,
        "minutes_text": minutes_text,
        "visit_minutes": visit_minutes,
        "state_shown": state_shown,
        "FLOOR_STATE_LABELS": FLOOR_STATE_LABELS,
    }


@bp.get("/log")
@requires(Capability.READ_REPORTS)
def log():
    """Show a day's checks in time order with the day's summary, one page at a time."""
    site = current_site()
    form = LogForm()
    if not form.validate():
        return render_template("manage/log.html", site=site, form=form, day=None), 400
    today = site.local_day(now())
    day = form.day.data or today
    form.show(day=day)
    filters = {"status": form.status.data or None, "reason": form.reason.data or None}
    page = entry_log.entry_log(site, day, **filters, after=form.after.data, limit=LOG_PAGE_SIZE)
    if current_user.may(Capability.CHOOSE_SITE):
        # Another office's visitors by name: recorded as a read through the API is (UU 27/2022),
        # and committed before the page is sent.
        with transaction.owned():
            audit_log.record_log_read(site, acting_user(), now(), day, len(page.visits))
    return render_template(
        "manage/log.html",
        site=site,
        form=form,
        day=day,
        page=page,
        # Said next to the filters: the day's figures below them do not follow the filters.
        matching=entry_log.count_log(site, day, **filters) if any(filters.values()) else None,
        overview=reports.day_overview(site, day, today),
        inside_now=inside_now_on(site, day),
        today=today,
    )


def inside_now_on(site: Site, day: date) -> int | None:
    """Return the visitors inside now when ``day`` is today; other days have no "now"."""
    moment = now()
    return floor.inside_now(site, moment) if day == site.local_day(moment) else None


@bp.get("/visits/<id:visit_id>")
@managers
def visit(visit_id: int):
    """Show one check of the manager's own site whole, with the form to void it."""
    return render_visit(own_visit(visit_id), VoidForm())


def render_visit(
    checked: Visit,
    form: VoidForm,
    status: int = 200,
    override_form: OverrideForm | None = None,
) -> tuple[str, int]:
    """Record that the manager sees the check's personal data, then render its page and forms."""
    with transaction.owned():
        audit_log.record_view(checked, acting_user(), now())
    site = current_site()
    today = site.local_day(now())
    may_override = acting_user().may(Capability.ADMIT_PAST_QUOTA) and overrides.overridable(
        checked, now()
    )
    return render_template(
        "manage/visit.html",
        site=site,
        visit=checked,
        form=form,
        override_form=(override_form or OverrideForm()) if may_override else None,
        today=today,
    ), status


@bp.post("/visits/<id:visit_id>/void")
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
        with transaction.owned():
            checkins.void_visit(mistaken, acting_user(), form.reason.data, now())
    except AlreadyVoided as error:
        flash_refusal(error)
    else:
        checked = hour_minute(mistaken.checked_at, mistaken.site)
        flash(_("The check at %(time)s is void.", time=checked), "success")
    return redirect(url_for(".log", day=mistaken.day.isoformat(), _anchor=f"visit-{visit_id}"))


@bp.post("/visits/<id:visit_id>/override")
@requires(Capability.ADMIT_PAST_QUOTA)
def admit_past_quota(visit_id: int):
    """Admit the visitor of today's check refused for the full quota, with a reason; counted
    apart from the quota and audited. Back to the day's log, where it is marked."""
    refused = own_visit(visit_id)
    form = OverrideForm()
    if not form.validate_on_submit():
        return render_visit(refused, VoidForm(), 400, form)
    try:
        with transaction.owned():
            overrides.admit_past_quota(
                refused, acting_user(), form.reason.data, form.note.data, now()
            )
    except ServiceError as error:
        show_error(form.note if error.field == "note" else form.reason, error)
        return render_visit(refused, VoidForm(), error.status, form)
    flash(_("Admitted past the quota: queue number %(slot)d.", slot=refused.slot), "success")
    return redirect(url_for(".log", day=refused.day.isoformat(), _anchor=f"visit-{visit_id}"))


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
    with transaction.owned():  # the read recorded before the file is sent
        audit_log.record_export(site, acting_user(), now(), start, end, extension)
    visits = entry_log.export_visits(site, start, end)
    name = exports.file_name(site.code, start, end, extension)
    summary = (
        exports.SummarySheet(
            site, start, end, reports.range_summary(site, start, end, site.local_day(now()))
        )
        if extension == "xlsx"
        else None
    )
    return visits_download(visits, site.zone, extension, name, summary)


@bp.get("/reports", endpoint="reports")
@requires(Capability.READ_REPORTS)
@without_personal_data
def report_page():
    """Show trends over a date range as charts and as a table."""
    site = current_site()
    today = site.local_day(now())
    form = RangeForm(today)
    if not form.validate():
        return render_template("manage/reports.html", site=site, form=form, report=None), 400
    start, end = form.dates()
    form.show(start=start, end=end)
    return render_template(
        "manage/reports.html",
        site=site,
        form=form,
        report=reports.site_report(site, start, end, today),
        floor=reports.floor_report(site, start, end),
    )


@bp.get("/reports/chart/<any(decisions, hours, reasons, quota, waits):kind>.svg")
@requires(Capability.READ_REPORTS)
def chart(kind: str):
    """Return one report chart as an SVG image."""
    site = current_site()
    start, end = requested_range(site, RangeForm)
    if kind == "waits":
        svg = charts.waits_chart(reports.floor_report(site, start, end)).render()
    else:
        svg = charts.render(kind, reports.site_report(site, start, end, site.local_day(now())))
    # pygal styles its SVG inline; as an <img> it can run no script, so allow only the styles.
    return Response(
        svg,
        mimetype="image/svg+xml",
        headers={"Content-Security-Policy": SVG_CSP, "Cache-Control": "private, max-age=300"},
    )


@bp.get("/summary")
@requires(Capability.READ_REPORTS)
@without_personal_data
def summary():
    """Show a printable end-of-day summary with a line for the manager's signature."""
    site = current_site()
    form = LogForm()
    if not form.validate():
        abort(400)
    today = site.local_day(now())
    day = form.day.data or today
    return render_template(
        "manage/summary.html",
        site=site,
        day=day,
        overview=reports.day_overview(site, day, today),
        inside_now=inside_now_on(site, day),
    )


@bp.get("/audit")
@managers
def audit():
    """List the site's changes and who saw personal data, newest first, a page at a time: all
    or one kind, over some days, by one account."""
    site = current_site()
    form = AuditForm(audit_log.usernames(site))
    if not form.validate():
        return render_template("manage/audit.html", site=site, form=form, page=None), 400
    shown = form.shown(site.zone)
    page = audit_log.entries(site, shown, before=form.before.data, limit=AUDIT_PAGE_SIZE)
    return render_template(
        "manage/audit.html", site=site, form=form, kind=shown.kind, page=page, kept=form.kept()
    )
