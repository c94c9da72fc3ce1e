"""The site's bookings (manager): today's sessions and their places, and a CSV import from the
national queue, the same service and report as ``flask bookings import``.

A blueprint nested in the manager's (``manage.bookings``). An import is all or nothing: with any
line refused nothing is stored, and the page lists each refused line and why.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for

from checkin.domain import limits
from checkin.domain.errors import ServiceError
from checkin.services import bookings, transaction
from checkin.services.bookings import ImportReport
from checkin.web.common import acting_user, current_site, managers, now
from checkin.web.forms import show_error
from checkin.web.forms.manage import BookingImportForm
from checkin.web.security import without_personal_data
from checkin.words import booking_words

bp = Blueprint("bookings", __name__, url_prefix="/bookings")


@bp.get("")
@managers
@without_personal_data
def index():
    """Show today's sessions with their places, and the import form."""
    return render_bookings(BookingImportForm())


def render_bookings(
    form: BookingImportForm, report: ImportReport | None = None, status: int = 200
) -> tuple[str, int]:
    """Render the bookings page; ``report`` is an import refused line by line."""
    site = current_site()
    today = site.local_day(now())
    said, refused = [], []
    if report is not None:
        said = booking_words.report_lines(report.imported, report.already, report.refused)
        # The report's lines after its first say the refused lines, in the report's order.
        refused = [
            (line, " ".join(problem.code for problem in problems), text)
            for (line, problems), text in zip(report.refused.items(), said[1:], strict=True)
        ]
    return render_template(
        "manage/bookings.html",
        site=site,
        today=today,
        places=bookings.places(site, today),
        form=form,
        said=said,
        refused=refused,
        header=",".join(limits.BOOKING_CSV_HEADER),
        limits=limits,
    ), status


@bp.post("/import")
@managers
def import_file():
    """Import a CSV of bookings: all rows, or none and each refused line with its reasons.

    Its request may be as large as the import takes (``web.common.AppRequest``).
    """
    form = BookingImportForm()
    if not form.validate_on_submit():
        return render_bookings(form, status=400)
    content = form.file.data.read(limits.MAX_IMPORT_BYTES + 1)
    try:
        with transaction.owned():
            report = bookings.import_file(current_site(), content, acting_user(), now())
    except ServiceError as error:
        show_error(form.file, error)
        return render_bookings(form, status=422)
    if report.refused:
        return render_bookings(form, report, 422)
    for line in booking_words.report_lines(report.imported, report.already, report.refused):
        flash(line, "success")
    return redirect(url_for(".index"), 303)
