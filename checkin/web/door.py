"""Door tablet pages: the check-in form, the result screen and the re-test of a high reading."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    send_from_directory,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from checkin.domain import admission, limits
from checkin.domain.errors import NotOverridable, ServiceError
from checkin.domain.roles import Capability, Role
from checkin.models import Site, Visit
from checkin.services import (
    bookings,
    calendar,
    checkins,
    day_counter,
    floor,
    leases,
    logins,
    overrides,
    pairing,
    retests,
    transaction,
)
from checkin.web.common import (
    acting_user,
    current_site,
    door_tablet,
    flash_refusal,
    now,
    own_visit,
    qr_code,
    record_check,
    requires,
)
from checkin.web.forms import show_error
from checkin.web.forms.door import CheckInForm, ReadingForm
from checkin.web.forms.pairing import SupervisorOverrideForm
from checkin.web.schemas import TabletRulesSchema
from checkin.web.security import without_personal_data
from checkin.words.booking_words import door_templates, door_text
from checkin.words.calendar import holiday_language, weekday_names
from checkin.words.labels import hour_minute

bp = Blueprint("door", __name__)

door_staff = requires(Capability.STAFF_DOOR)

# What the door needs when the connection drops; the service worker keeps them.
OFFLINE_FILES = (
    "app.css",
    "door.js",
    "door_booking.js",
    "offline/rules.js",
    "offline/store.js",
    "offline/sync.js",
    "offline/view.js",
    "icon.svg",
)
TABLET_RULES = TabletRulesSchema()


def online_service_qr(site: Site) -> str | None:
    """Return the site's online-service link as a QR code in an SVG data URI, if it has one."""
    return qr_code(site.online_service_url) if site.online_service_url else None


def render_door(
    form: CheckInForm, status: int = 200, kept_offline: bool = False
) -> tuple[str, int]:
    """Render the check-in form with today's counter and latest checks.

    The copy a tablet keeps for offline use lists no visitor: it stays on the tablet.
    """
    site = current_site()
    at = now()
    quota = day_counter.quota_today(site, at)
    return render_template(
        "door/index.html",
        site=site,
        form=form,
        quota=quota,
        # Not in the copy kept for offline use: it would still say "closed" on the next day.
        closure=calendar.closure(site, quota.day, holiday_language())
        if quota.closed and not kept_offline
        else None,
        weekday=weekday_names()[quota.day.weekday()],
        # The copy kept for offline use cannot know who is inside when it is shown.
        inside_now=None if kept_offline else floor.inside_now(site, at),
        online_qr=online_service_qr(site),
        online_service_reasons=admission.ONLINE_SERVICE_REASONS,
        # The rules the page checks a typed reading by; a paired tablet's lease brings them too.
        rules=TABLET_RULES.dump(leases.TabletRules.of(site)),
        now=at,
        kept_offline=kept_offline,
        # The offline door checks the visitor's details by the same patterns as the server.
        phone_pattern=limits.PHONE_PATTERN,
        nik_pattern=limits.NIK_PATTERN,
        door_words=door_templates(),
        override_form=supervisor_form(site),
        **door_lists(site, at, kept_offline),
    ), status


def supervisor_form(site: Site) -> SupervisorOverrideForm | None:
    """Return the form a supervisor admits a visitor past the quota with, on a paired tablet
    only: anywhere else a manager does so from the entry log."""
    return SupervisorOverrideForm(pairing.supervisors_with_pin(site)) if door_tablet() else None


def door_lists(site: Site, at: datetime, kept_offline: bool = False) -> dict[str, object]:
    """Return what the door's lists show: today's latest checks and who rests for a re-test."""
    if kept_offline:
        return {"recent": [], "waiting": []}
    return {
        "recent": checkins.recent_checks(site, at),
        "waiting": [
            (visit, retests.ready_at(visit, site), retests.gone_at(visit))
            for visit in retests.waiting(site, at)
        ],
    }


def render_result(
    visit: Visit,
    form: ReadingForm,
    status: int = 200,
    override_form: SupervisorOverrideForm | None = None,
) -> tuple[str, int]:
    """Render the decision for one visit, with the re-test form when one is due, and on a
    paired tablet the supervisor's form when it may be admitted past the full quota."""
    site = visit.site
    moment = now()
    if overrides.overridable(visit, moment):
        override_form = override_form or supervisor_form(site)
    else:
        override_form = None
    quota = day_counter.quota_today(site, moment)
    # Whoever was not admitted cannot come in today once the slots are gone, whatever the reason.
    no_slot_today = visit.status != admission.ADMITTED and quota.left == 0
    no_slot_reason = admission.CLOSED if quota.closed else admission.QUOTA_FULL
    return render_template(
        "door/result.html",
        site=site,
        visit=visit,
        form=form,
        quota=quota,
        inside_now=floor.inside_now(site, moment),
        override_form=override_form,
        retest=retests.second_of(visit) if visit.status == admission.RETEST else None,
        booking_said=door_text(door) if (door := bookings.door_answer(visit)) else None,
        retest_at=hour_minute(retests.ready_at(visit, site), site),
        retest_ready_at=retests.ready_at(visit, site),
        # With no slot left today a re-test could admit nobody: say that one thing instead.
        retest_offered=retests.still_open(visit, moment) and not no_slot_today,
        no_slot_today=no_slot_today,
        no_slot_reason=no_slot_reason,
        online_qr=online_service_qr(site)
        if no_slot_today
        or (
            visit.status == admission.REFUSED
            and set(admission.ONLINE_SERVICE_REASONS) & set(visit.reasons)
        )
        else None,
    ), status


@bp.get("/")
@door_staff
def index():
    """Show an empty check-in form, today's counter and the latest checks."""
    return render_door(CheckInForm())


@bp.get("/door/lists")
@door_staff
def lists():
    """Serve the door's lists alone, for the page to refresh them when the connection returns."""
    site, at = current_site(), now()
    return render_template(
        "door/_lists.html", site=site, now=at, kept_offline=False, **door_lists(site, at)
    )


@bp.get("/door/offline")
@door_staff
@without_personal_data
def offline_copy():
    """Show the door page as the service worker keeps it for when the connection drops."""
    return render_door(CheckInForm(), kept_offline=True)


@bp.get("/sw.js")
def service_worker() -> Response:
    """Serve the door's service worker from the root, so that it may answer for the door page.

    It names the files under their current fingerprints: a changed file changes the worker,
    and the browser installs it again.
    """
    script = render_template(
        "door/sw.js",
        offline_copy=url_for("door.offline_copy"),
        files=[url_for("static", filename=name) for name in OFFLINE_FILES]
        + [url_for("door.manifest")],
    )
    return Response(script, mimetype="text/javascript", headers={"Cache-Control": "no-cache"})


@bp.get("/favicon.ico")
def favicon() -> Response:
    """Serve the icon that browsers ask for at the root whatever a page links (else a 404)."""
    return send_from_directory(current_app.static_folder or "", "favicon.ico", max_age=86400)


@bp.get("/manifest.webmanifest")
def manifest() -> Response:
    """Describe the door as an app a tablet can put on its home screen."""
    return Response(
        render_template("door/manifest.json"),
        mimetype="application/manifest+json",
        headers={"Cache-Control": "no-cache"},
    )


@bp.post("/")
@door_staff
def check_in():
    """Screen one visitor and show the decision, or show the form again with its errors."""
    form = CheckInForm()
    if not form.validate_on_submit():
        return render_door(form, 422)
    data = on_this_tablet(form.check_in_data())
    try:
        result = record_check(current_site(), acting_user(), data)
    except ServiceError as error:  # the booking picked: unknown, or admitted already
        flash_refusal(error)
        return render_door(form, error.status)
    # Post/Redirect/Get: reloading the result page never records the visitor twice.
    return redirect(url_for("door.visit", visit_id=result.visit.id), 303)


def on_this_tablet(data: checkins.CheckInData) -> checkins.CheckInData:
    """Return the check naming the paired tablet it is made on, if it is one."""
    tablet = door_tablet()
    return data if tablet is None else replace(data, tablet_id=tablet.id)


def door_visit(visit_id: int) -> Visit:
    """Return a visit of the site; door staff see only today's, which they may still act on."""
    found = own_visit(visit_id)
    if current_user.role == Role.DOOR and found.day != found.site.local_day(now()):
        abort(404)
    return found


@bp.get("/visits/<id:visit_id>")
@door_staff
def visit(visit_id: int):
    """Show the decision for one of the site's visits."""
    return render_result(door_visit(visit_id), ReadingForm())


@bp.post("/visits/<id:visit_id>/retest")
@door_staff
def retest(visit_id: int):
    """Record the second reading of a visitor who was asked to rest, linked to the first."""
    first = door_visit(visit_id)
    form = ReadingForm()
    if not form.validate_on_submit():
        return render_result(first, form, 422)
    try:
        second = checkins.second_reading(first, form.temperature.data, form.client_ref.data or None)
        result = record_check(first.site, acting_user(), on_this_tablet(second))
    except ServiceError as error:
        show_error(form.temperature, error)
        return render_result(first, form, 422)
    return redirect(url_for("door.visit", visit_id=result.visit.id), 303)


@bp.post("/visits/<id:visit_id>/left")
@door_staff
def left_without_retest(visit_id: int):
    """Record that a visitor asked to rest went away without their second reading."""
    first = door_visit(visit_id)
    try:
        with transaction.owned():
            retests.record_left(first, now())
    except ServiceError as error:
        flash_refusal(error)
    else:
        time = hour_minute(first.checked_at, first.site)
        flash(_("The visitor measured at %(time)s left without a re-test.", time=time), "success")
    return redirect(url_for("door.index"), 303)


@bp.post("/visits/<id:visit_id>/override")
@door_staff
def admit_past_quota(visit_id: int):
    """On a paired tablet, admit past the full quota the visitor of today's check refused for
    it alone, in the name of a supervisor of the site who types their PIN, with a reason; then
    show the answer with the queue number. The audit names the supervisor and the tablet."""
    tablet = door_tablet()
    if tablet is None:
        abort(404)  # offered on paired tablets only: elsewhere a manager uses the entry log
    refused = door_visit(visit_id)
    form = SupervisorOverrideForm(pairing.supervisors_with_pin(refused.site))
    if not form.validate_on_submit():
        return render_result(refused, ReadingForm(), 422, form)
    if not overrides.overridable(refused, now()):
        # Said before the PIN is checked: a second press spends no guess.
        flash_refusal(NotOverridable())
        return render_result(refused, ReadingForm(), NotOverridable.status)
    try:
        # A wrong PIN is an answer, not an error: the failure it counts is committed with it.
        with transaction.owned():
            checked = pairing.supervisor_pin(tablet, form.supervisor.data, form.pin.data, now())
        if checked.user is None:
            return refused_pin(refused, form, checked.locked_until)
        with transaction.owned():
            overrides.admit_past_quota(
                refused,
                checked.user,
                form.reason.data,
                form.note.data,
                now(),
                overrides.OnTablet(tablet, acting_user()),
            )
    except ServiceError as error:
        if error.field is None:  # admitted past the quota by a press just before this one
            flash_refusal(error)
        else:
            show_error(form[error.field], error)
        return render_result(refused, ReadingForm(), error.status, form)
    flash(
        _(
            "Admitted past the quota by %(name)s: queue number %(slot)d.",
            name=checked.user.shown_name,
            slot=refused.slot,
        ),
        "success",
    )
    return redirect(url_for("door.visit", visit_id=refused.id), 303)


def refused_pin(
    refused: Visit, form: SupervisorOverrideForm, locked_until: datetime | None
) -> tuple[str, int]:
    """Show the supervisor's form again with why the PIN was refused: wrong (401), or too many
    wrong PINs for the account on this tablet (429)."""
    if locked_until is None:
        form.pin.errors = [_("Wrong PIN.")]
        return render_result(refused, ReadingForm(), 401, form)
    minutes = logins.minutes_until(locked_until, now())
    form.pin.errors = [
        ngettext(
            "Too many wrong PINs: try again in %(num)d minute.",
            "Too many wrong PINs: try again in %(num)d minutes.",
            minutes,
        )
    ]
    return render_result(refused, ReadingForm(), 429, form)
