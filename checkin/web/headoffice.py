"""Head-office pages: every site today, a month of every site, and a site's reports to read."""

from __future__ import annotations

import csv
import io
from datetime import date

from flask import Blueprint, Response, abort, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from openpyxl import Workbook
from openpyxl.styles import Font
from wtforms import MonthField
from wtforms.validators import Optional

from checkin.domain import limits
from checkin.domain.errors import UnknownSite
from checkin.domain.roles import Capability
from checkin.services import headoffice, reports, sites
from checkin.web.common import VIEWED_SITE, now, requires
from checkin.web.forms import QueryForm
from checkin.web.forms.manage import office_day
from checkin.words import exports
from checkin.words.labels import decimal_mark

bp = Blueprint("headoffice", __name__, url_prefix="/headoffice")

# The page reloads itself this often while in view (static/refresh.js).
REFRESH_SECONDS = 30


class MonthForm(QueryForm):
    """The month of the all-sites table; this month unless given."""

    month = MonthField(_l("Month"), validators=[Optional(), office_day])


@bp.get("")
@requires(Capability.READ_EVERY_SITE)
def index():
    """Show every site's today, sorted as asked, and this month's totals of every site."""
    sort = request.args.get("sort", headoffice.DEFAULT_SORT)
    try:
        today = headoffice.today_by_site(now(), sort)
    except ValueError:
        abort(400, description=_("Sort by one of the table's columns."))
    form = MonthForm()
    if not form.validate():
        abort(400, description=_("Choose a month as YYYY-MM."))
    start, end = chosen_month(form)
    form.show(month=start)
    return render_template(
        "headoffice/index.html",
        today=today,
        sort=sort,
        form=form,
        start=start,
        end=end,
        month=reports.national_summary(start, end, headoffice.head_office_day(now())),
        refresh_seconds=REFRESH_SECONDS,
    )


def chosen_month(form: MonthForm) -> tuple[date, date]:
    """Return the first and last day of the chosen month, head office's current one unless given."""
    return headoffice.month_of(form.month.data or headoffice.head_office_day(now()))


@bp.get("/month.<any(csv, xlsx):extension>")
@requires(Capability.READ_EVERY_SITE)
def month_export(extension: str):
    """Download a month's totals of every site as CSV or XLSX."""
    form = MonthForm()
    if not form.validate():
        abort(400, description=_("Choose a month as YYYY-MM."))
    start, end = chosen_month(form)
    rows = [month_headers()] + [
        [
            t.code,
            t.name,
            t.days,
            t.checks,
            t.admitted,
            t.refused,
            t.retests,
            t.quota,
            t.overrides,
            t.booked,
            t.came,
            t.no_shows,
            t.released,
        ]
        for t in reports.national_summary(start, end, headoffice.head_office_day(now()))
    ]
    name = f"checkin-all-sites-{start:%Y-%m}.{extension}"
    if extension == "csv":
        response = Response(month_csv(rows), mimetype=exports.CSV_MIME)
    else:
        response = Response(month_xlsx(rows, start), mimetype=exports.XLSX_MIME)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def month_headers() -> list[str]:
    """Return the columns of the month table in the reader's language."""
    return [
        _("Code"),
        _("Name"),
        _("Days open"),
        _("Checks"),
        _("Admitted"),
        _("Refused"),
        _("Re-tests"),
        _("Slots offered"),
        _("Admitted past the quota"),
        _("Booked"),
        _("Booked and came"),
        _("Booked, did not come"),
        _("Booked places given to walk-ins"),
    ]


def month_csv(rows: list[list[object]]) -> str:
    """Return the month table as CSV in the reader's spreadsheet convention, BOM first."""
    buffer = io.StringIO()
    decimal = decimal_mark()
    writer = csv.writer(buffer, delimiter=exports.csv_separator(decimal))
    buffer.write("\ufeff")
    for row in rows:
        writer.writerow(exports.csv_cell(value, decimal) for value in row)
    return buffer.getvalue()


def month_xlsx(rows: list[list[object]], start: date) -> bytes:
    """Return the month table as an XLSX workbook, header in bold."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(f"{start:%Y-%m}")
    sheet.freeze_panes = "A2"
    header, *body = rows
    cells = [exports.xlsx_cell(sheet, value) for value in header]
    for cell in cells:
        cell.font = Font(bold=True)
    sheet.append(cells)
    for row in body:
        sheet.append([exports.xlsx_cell(sheet, value) for value in row])
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


@bp.get("/sites/<code>")
@requires(Capability.CHOOSE_SITE)
def open_site(code: str):
    """Read a site's reports and log: head office chooses the site its manager pages show."""
    if len(code) > 20 or not limits.storable(code):
        abort(404)
    try:
        site = sites.site_coded(code)
    except UnknownSite:
        abort(404)
    session[VIEWED_SITE] = site.id
    return redirect(url_for("manage.reports"))
