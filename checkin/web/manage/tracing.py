"""Contact tracing pages: search the site's checks, and who was inside at the same time."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from checkin.domain.roles import Capability
from checkin.services import tracing, transaction
from checkin.web.common import (
    acting_user,
    current_site,
    now,
    own_visit,
    requires,
    visits_download,
)
from checkin.web.forms.tracing import SearchForm, WindowForm

# Personal health data of a whole site: every view is for the site's manager, or an admin of
# it, never head office.
bp = Blueprint("tracing", __name__, url_prefix="/manage/tracing")
tracers = requires(Capability.TRACE_CONTACTS)


@bp.route("", methods=["GET", "POST"])
@tracers
def search():
    """Show the search form and, once a search is posted, the checks it finds."""
    site = current_site()
    form = SearchForm(site.local_day(now()))
    if request.method == "GET":
        form.show(**dict(zip(("start", "end"), form.dates(), strict=True)))
        return render_template("tracing/search.html", site=site, form=form, result=None)
    if not form.validate():
        return render_template("tracing/search.html", site=site, form=form, result=None), 400
    terms = form.terms()
    form.show(start=terms.start, end=terms.end)
    with transaction.owned():  # the search recorded before its result is shown
        result = tracing.search(site, terms, acting_user(), now())
    return render_template("tracing/search.html", site=site, form=form, result=result)


@bp.get("/visits/<id:visit_id>")
@bp.get("/visits/<id:visit_id>/contacts.<any(csv, xlsx):extension>")
@tracers
def contacts(visit_id: int, extension: str | None = None):
    """List the admitted visitors inside at the same time as a check of the site, or download
    the list as CSV or XLSX (``extension``)."""
    check = own_visit(visit_id)
    form = WindowForm()
    if not form.validate():
        return render_template("tracing/contacts.html", site=check.site, form=form, found=None), 400
    with transaction.owned():  # the list recorded before it is shown or sent
        found = tracing.contacts(check, form.minutes(), acting_user(), now(), extension)
    if extension is not None:
        name = f"contacts-{check.site.code}-{check.day.isoformat()}-{check.id}.{extension}"
        return visits_download(found.visits, check.site.zone, extension, name)
    form.show(window=found.window_minutes)
    return render_template("tracing/contacts.html", site=check.site, form=form, found=found)
