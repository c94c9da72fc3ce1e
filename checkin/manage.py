"""Manager pages: entry log, voids, exports, reports, summary, settings, audit and admin."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

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
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import BadRequest
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    IntegerField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
    URLField,
    ValidationError,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp
from wtforms.widgets import TextInput

from checkin import admission, charts, exports, services
from checkin.extensions import db
from checkin.models import ROLES, AuditEntry, Site, User, Visit
from checkin.web import (
    REASON_LABELS,
    STATUS_LABELS,
    Form,
    acting_user,
    current_site,
    decimal_mark,
    format_temperature,
    hour_minute,
    now,
    own_visit,
    roles_required,
)

bp = Blueprint("manage", __name__, url_prefix="/manage")

DEFAULT_REPORT_DAYS = 30
LOG_PAGE_SIZE = 100
MAX_ID = 2**31 - 1
MIN_PASSWORD = 8
# Indonesia's three time zones (WIB, WITA, WIT), plus Pontianak, which keeps WIB apart.
TIMEZONES = {
    "Asia/Jakarta": "WIB (Asia/Jakarta)",
    "Asia/Pontianak": "WIB (Asia/Pontianak)",
    "Asia/Makassar": "WITA (Asia/Makassar)",
    "Asia/Jayapura": "WIT (Asia/Jayapura)",
}
SVG_CSP = "default-src 'none'; style-src 'unsafe-inline'"
ROLE_LABELS = {"door": _l("Door staff"), "manager": _l("Manager"), "admin": _l("Administrator")}
ACTION_LABELS = {
    "void": _l("Check voided"),
    "settings": _l("Settings changed"),
    "account": _l("Account changed"),
}
SETTING_LABELS = {
    "daily_quota": _l("Walk-in quota per day"),
    "fever_cutoff_dc": _l("Fever cut-off"),
    "online_service_url": _l("Online service address"),
}
ACCOUNT_CHANGES = {
    "created": _l("%(account)s: created as %(role)s"),
    "deactivated": _l("%(account)s: deactivated"),
    "reactivated": _l("%(account)s: reactivated"),
    "password_reset": _l("%(account)s: password reset"),
}


def describe_audit(entry: AuditEntry, site: Site) -> str:
    """Say in the reader's language what an audit entry records."""
    detail = entry.detail
    if "text" in detail:  # written before details were kept as facts: English, as it was
        return detail["text"]
    if entry.action == "settings":
        return "; ".join(
            f"{SETTING_LABELS[name]}: {setting_text(name, before)} → {setting_text(name, after)}"
            for name, (before, after) in detail.items()
        )
    if entry.action == "account":
        role = ROLE_LABELS[detail["role"]] if "role" in detail else ""
        return ACCOUNT_CHANGES[detail["change"]] % {"account": detail["account"], "role": role}
    if entry.action != "void":  # an action newer than this code: its facts as they are
        return json.dumps(detail, ensure_ascii=False)
    visit = entry.visit
    when = f"{visit.day.isoformat()} {hour_minute(visit.checked_at, site)}"
    decision = str(STATUS_LABELS[detail["status"]])
    if detail["slot"] is not None:
        decision += ", " + _("No. %(slot)d", slot=detail["slot"])
    return f"{_('Check of %(when)s', when=when)} ({decision})"


def setting_text(name: str, value: int | str) -> str:
    """Show one site setting's value as the settings page does."""
    if name == "fever_cutoff_dc":
        return format_temperature(value)
    return str(value) if value != "" else "–"


def options(pairs: Iterable[tuple[Any, Any]]) -> list[SelectChoice]:
    """Return (value, label) pairs as the choices of a select field."""
    return [SelectChoice(value, label) for value, label in pairs]


class QueryForm(Form):
    """A form read from the query string of a GET page; nothing to forge, so no CSRF token."""

    class Meta:
        csrf = False

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(formdata=request.args, **kwargs)

    def show(self, **values: Any) -> None:
        """Put the values a page actually used, defaults included, back into the fields."""
        for name, value in values.items():
            self[name].data = value
            self[name].raw_data = None


class LogForm(QueryForm):
    """The day and filters of the entry log, and its keyset cursor."""

    day = DateField(_l("Day"), validators=[Optional()])
    status = SelectField(
        _l("Status"),
        choices=options([("", _l("All")), *STATUS_LABELS.items()]),
        validators=[Optional()],
    )
    reason = SelectField(
        _l("Reason"),
        choices=options([("", _l("All")), *REASON_LABELS.items()]),
        validators=[Optional()],
    )
    after = IntegerField(validators=[Optional(), NumberRange(1, MAX_ID)])


class RangeForm(QueryForm):
    """A report's date range, both ends included; the 30 days up to today unless given."""

    start = DateField(_l("From"), name="from", validators=[Optional()])
    end = DateField(_l("To"), name="to", validators=[Optional()])
    max_days = services.MAX_REPORT_DAYS
    too_long = _l("A report covers at most %(days)d days.")

    def __init__(self, today: date, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.today = today

    def dates(self) -> tuple[date, date]:
        """Return the chosen range, filling a missing end with today and a missing start."""
        end = self.end.data or max(self.today, self.start.data or self.today)
        start = self.start.data or end - timedelta(days=DEFAULT_REPORT_DAYS - 1)
        return start, end

    def validate(self, extra_validators: Any = None) -> bool:
        """Also refuse a range that ends before it starts or is longer than allowed."""
        if not super().validate(extra_validators):
            return False
        start, end = self.dates()
        if end < start:
            self.end.errors.append(_("The end date is before the start date."))
        elif (end - start).days >= self.max_days:
            self.end.errors.append(self.too_long % {"days": self.max_days})
        return not self.end.errors


class ExportRangeForm(RangeForm):
    """An export's date range: at most a year, so one request stays within seconds."""

    max_days = services.MAX_EXPORT_DAYS
    too_long = _l("An export covers at most %(days)d days.")


class CelsiusField(DecimalField):
    """A temperature in °C with one decimal; accepts the Indonesian decimal comma."""

    # A number input would refuse the comma, so: text with the decimal keypad on phones.
    widget = TextInput()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, render_kw={"inputmode": "decimal"}, **kwargs)

    def process_formdata(self, valuelist: list[str]) -> None:
        """Read ``37,5`` as ``37.5``."""
        super().process_formdata([value.replace(",", ".") for value in valuelist])

    def _value(self) -> str:
        """Show the value with the reader's decimal mark: ``37,3`` in Indonesian."""
        return super()._value().replace(".", decimal_mark())


def web_address(form: Form, field: StringField) -> None:
    """Accept only http and https addresses, which every visitor's phone can open."""
    parts = urlsplit(field.data or "")
    if field.data and (parts.scheme not in ("http", "https") or not parts.netloc):
        raise ValidationError(_("Enter an address starting with http:// or https://."))


class SettingsForm(Form):
    """A manager's site settings."""

    daily_quota = IntegerField(
        _l("Walk-in quota per day"), validators=[InputRequired(), NumberRange(0, 10_000)]
    )
    fever_cutoff = CelsiusField(
        _l("Fever cut-off (°C)"),
        places=1,
        validators=[
            InputRequired(),
            NumberRange(
                Decimal(admission.PLAUSIBLE_MIN_DC) / 10, Decimal(admission.PLAUSIBLE_MAX_DC) / 10
            ),
        ],
    )
    online_service_url = URLField(
        _l("Online service address"), validators=[Optional(), Length(max=300), web_address]
    )
    # Asked for only when the cut-off changes to a value outside health guidance.
    confirm_cutoff = BooleanField(_l("Yes, use this cut-off"))


# What an unusual fever cut-off would do at the door, said before it is saved.
UNUSUAL_CUTOFF = {
    "low": _l(
        "%(cutoff)s is below the usual 37.0-38.0 °C: many visitors without a fever would be "
        "asked to rest and be re-tested. Tick the box below to use it anyway."
    ),
    "high": _l(
        "%(cutoff)s is above the usual 37.0-38.0 °C: visitors with a fever would be let in. "
        "Tick the box below to use it anyway."
    ),
}


class VoidForm(Form):
    """Why a check is void."""

    reason = StringField(
        _l("Why is this check a mistake?"),
        validators=[DataRequired(_l("Say why this check is void.")), Length(max=200)],
    )


class SiteForm(Form):
    """A new site."""

    code = StringField(
        _l("Code"),
        filters=[lambda code: services.site_code(code) if code else code],
        validators=[
            DataRequired(),
            Regexp(r"[A-Z0-9]{2,20}\Z", message=_l("2 to 20 capital letters or digits.")),
        ],
    )
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    timezone = SelectField(_l("Time zone"), choices=options(TIMEZONES.items()))
    daily_quota = IntegerField(
        _l("Walk-in quota per day"),
        default=admission.DEFAULT_DAILY_QUOTA,
        validators=[InputRequired(), NumberRange(0, 10_000)],
    )


class PasswordForm(Form):
    """A new password for an account."""

    password = PasswordField(
        _l("New password"), validators=[DataRequired(), Length(MIN_PASSWORD, 200)]
    )


class AccountForm(PasswordForm):
    """A new staff account."""

    username = StringField(
        _l("Username"),
        validators=[
            DataRequired(),
            Regexp(r"[\w.-]{3,80}\Z", message=_l("3 to 80 letters, digits, dots or dashes.")),
        ],
    )
    role = SelectField(_l("Role"), choices=options((role, ROLE_LABELS[role]) for role in ROLES))
    site_id = SelectField(_l("Site"), coerce=int, validators=[Optional()])

    def validate_site_id(self, field: SelectField) -> None:
        """Require a site for door and manager accounts."""
        if self.role.data != "admin" and not field.data:
            raise ValidationError(_("Door and manager accounts need a site."))


@bp.context_processor
def labels() -> dict[str, Any]:
    """Give every manager template the words for roles and audit actions and entries."""
    return {
        "ROLE_LABELS": ROLE_LABELS,
        "ACTION_LABELS": ACTION_LABELS,
        "describe_audit": describe_audit,
        "REASONS": admission.REASONS,
        "MIN_PASSWORD": MIN_PASSWORD,
    }


@bp.get("/log")
@roles_required("manager", "admin")
def log():
    """Show a day's checks in time order with the day's summary, one page at a time."""
    site = current_site()
    form = LogForm()
    if not form.validate():
        return render_template("manage/log.html", site=site, form=form, day=None), 400
    day = form.day.data or site.local_day(now())
    form.show(day=day)
    filters = {"status": form.status.data or None, "reason": form.reason.data or None}
    page = services.entry_log(site, day, **filters, after=form.after.data, limit=LOG_PAGE_SIZE)
    return render_template(
        "manage/log.html",
        site=site,
        form=form,
        day=day,
        page=page,
        # Said next to the filters: the day's figures below them do not follow the filters.
        matching=services.count_log(site, day, **filters) if any(filters.values()) else None,
        overview=services.day_overview(site, day),
    )


@bp.get("/visits/<int:visit_id>")
@roles_required("manager", "admin")
def visit(visit_id: int):
    """Show one check of the manager's own site whole, with the form to void it."""
    return render_visit(own_visit(visit_id), VoidForm())


def render_visit(checked: Visit, form: VoidForm, status: int = 200) -> tuple[str, int]:
    """Render one check's page with its void form (and the form's errors, if any)."""
    return render_template(
        "manage/visit.html", site=current_site(), visit=checked, form=form
    ), status


@bp.post("/visits/<int:visit_id>/void")
@roles_required("manager", "admin")
def void(visit_id: int):
    """Void a mistaken check of the manager's own site and go back to its day's log.

    Without a usable reason the check's page comes back with the reason's error and its text.
    """
    mistaken = own_visit(visit_id)
    form = VoidForm()
    if not form.validate_on_submit():
        return render_visit(mistaken, form, 400)
    try:
        services.void_visit(mistaken, acting_user(), form.reason.data, now())
    except services.InvalidInput:
        flash(_("This check is already void."), "error")
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
@roles_required("manager", "admin")
def export(extension: str):
    """Download the checks of a day or a range as CSV (streamed) or XLSX."""
    site = current_site()
    start, end = requested_range(site, ExportRangeForm)
    visits = services.export_visits(site, start, end)
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


@bp.get("/reports")
@roles_required("manager", "admin")
def reports():
    """Show trends over a date range as charts and as a table."""
    site = current_site()
    form = RangeForm(site.local_day(now()))
    if not form.validate():
        return render_template("manage/reports.html", site=site, form=form, report=None), 400
    start, end = form.dates()
    form.show(start=start, end=end)
    return render_template(
        "manage/reports.html", site=site, form=form, report=services.site_report(site, start, end)
    )


@bp.get("/reports/chart/<any(decisions, hours, reasons, quota):kind>.svg")
@roles_required("manager", "admin")
def chart(kind: str):
    """Return one report chart as an SVG image."""
    site = current_site()
    start, end = requested_range(site, RangeForm)
    svg = charts.render(kind, services.site_report(site, start, end))
    # pygal styles its SVG inline; as an <img> it can run no script, so allow only the styles.
    return Response(
        svg,
        mimetype="image/svg+xml",
        headers={"Content-Security-Policy": SVG_CSP, "Cache-Control": "private, max-age=300"},
    )


@bp.get("/summary")
@roles_required("manager", "admin")
def summary():
    """Show a printable end-of-day summary with a line for the manager's signature."""
    site = current_site()
    form = LogForm()
    if not form.validate():
        abort(400)
    day = form.day.data or site.local_day(now())
    return render_template(
        "manage/summary.html", site=site, day=day, overview=services.day_overview(site, day)
    )


@bp.route("/settings", methods=["GET", "POST"])
@roles_required("manager", "admin")
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
        wanted = services.SiteSettings(
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
                _("Settings saved. Today: %(used)d of %(limit)d slots used.", **vars(quota)),
                "success",
            )
            return redirect(url_for(".settings"))
    status = 400 if form.is_submitted() else 200
    return render_template(
        "manage/settings.html", site=site, form=form, confirm_cutoff=unusual is not None
    ), status


def apply_settings(
    site: Site, wanted: services.SiteSettings, form: SettingsForm
) -> services.Quota | None:
    """Save the settings and return today's quota, or put the quota's error on the form."""
    try:
        return services.update_site_settings(site, wanted, acting_user(), now())
    except services.QuotaBelowUsed as exc:
        form.daily_quota.errors.append(
            _(
                "%(used)d visitors are already admitted today: "
                "the quota cannot be lower than %(used)d.",
                used=exc.used,
            )
        )
        return None


@bp.get("/audit")
@roles_required("manager", "admin")
def audit():
    """List the site's voids, settings changes and account changes, newest first."""
    site = current_site()
    return render_template("manage/audit.html", site=site, entries=services.audit_log(site))


def account_form(directory: services.Directory, **kwargs: Any) -> AccountForm:
    """Return the new-account form offering the existing sites."""
    form = AccountForm(**kwargs)
    form.site_id.choices = options([(0, "–"), *((site.id, site.code) for site in directory.sites)])
    return form


def render_admin(
    directory: services.Directory, status: int = 200, **forms: Form
) -> tuple[str, int]:
    """Render the admin page with empty forms, except those given."""
    page_forms = {
        "site_form": SiteForm(formdata=None),
        "account_form": account_form(directory, formdata=None),
        **forms,
    }
    return render_template("manage/admin.html", directory=directory, **page_forms), status


@bp.get("/admin")
@roles_required("admin")
def admin():
    """List sites and accounts with forms to add and change them."""
    return render_admin(services.directory())


@bp.post("/admin/sites")
@roles_required("admin")
def add_site():
    """Create a site."""
    form = SiteForm()
    if form.validate():
        try:
            services.add_site(
                form.code.data,
                form.name.data,
                form.timezone.data,
                daily_quota=form.daily_quota.data,
            )
        except services.InvalidInput:
            form.code.errors.append(_("A site with this code exists already."))
        else:
            flash(_("Site %(code)s created.", code=form.code.data), "success")
            return redirect(url_for(".admin"))
    return render_admin(services.directory(), 400, site_form=form)


@bp.post("/admin/accounts")
@roles_required("admin")
def add_account():
    """Create a staff account."""
    directory = services.directory()
    form = account_form(directory)
    if form.validate():
        site = db.session.get(Site, form.site_id.data) if form.role.data != "admin" else None
        try:
            services.add_user(
                form.username.data,
                form.role.data,
                form.password.data,
                site,
                by=acting_user(),
                now=now(),
            )
        except services.InvalidInput:
            form.username.errors.append(_("This username is taken."))
        else:
            flash(_("Account %(name)s created.", name=form.username.data), "success")
            return redirect(url_for(".admin"))
    return render_admin(directory, 400, account_form=form)


def account_or_404(user_id: int) -> User:
    """Return the account ``user_id`` or answer 404."""
    return db.get_or_404(User, user_id)


@bp.post("/admin/accounts/<int:user_id>/active")
@roles_required("admin")
def set_active(user_id: int):
    """Deactivate or reactivate an account."""
    account = account_or_404(user_id)
    active = request.form.get("active") == "1"
    try:
        services.set_account_active(account, active, acting_user(), now())
    except services.InvalidInput:
        flash(_("You cannot deactivate your own account."), "error")
    else:
        if active:
            flash(_("%(name)s can log in again.", name=account.username), "success")
        else:
            flash(_("%(name)s can no longer log in.", name=account.username), "success")
    return redirect(url_for(".admin"))


@bp.post("/admin/accounts/<int:user_id>/password")
@roles_required("admin")
def reset_password(user_id: int):
    """Give an account a new password."""
    account = account_or_404(user_id)
    form = PasswordForm()
    if not form.validate():
        flash(_("A password needs at least %(count)d characters.", count=MIN_PASSWORD), "error")
        return redirect(url_for(".admin"))
    services.reset_password(account, form.password.data, acting_user(), now())
    flash(_("New password set for %(name)s.", name=account.username), "success")
    return redirect(url_for(".admin"))
