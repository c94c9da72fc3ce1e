"""Door tablet pages: the check-in form, the result screen and the re-test of a high reading."""

from __future__ import annotations

import segno
from flask import Blueprint, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError as SchemaError
from wtforms import BooleanField, SelectChoice, SelectField, StringField
from wtforms.validators import AnyOf, InputRequired, Length, Optional, Regexp, ValidationError

from checkin import admission, schemas, services
from checkin.models import Site, Visit
from checkin.services import CheckInData
from checkin.web import (
    PURPOSE_LABELS,
    Form,
    acting_user,
    current_site,
    format_temperature,
    hour_minute,
    now,
    own_visit,
    roles_required,
)

bp = Blueprint("door", __name__)

door_staff = roles_required("door", "manager", "admin")


class TemperatureField(StringField):
    """A reading in °C, typed with a decimal point or an Indonesian decimal comma.

    ``data`` holds deci-Celsius; the page shows back exactly what was typed.
    """

    def process_formdata(self, valuelist: list[str]) -> None:
        """Parse the typed reading; an unreadable one is a form error, not a crash."""
        self.data = None
        typed = valuelist[0].strip() if valuelist else ""
        if not typed:
            return
        try:
            self.data = admission.to_decicelsius(typed.replace(",", "."))
        except admission.ImplausibleTemperature as exc:
            raise ValueError(_("Type the reading as a number, for example 36.6.")) from exc

    def _value(self) -> str:
        """Return the reading as typed, so a mistake can be corrected rather than retyped."""
        return self.raw_data[0] if self.raw_data else ""


def plausible_reading(form: Form, field: TemperatureField) -> None:
    """Refuse readings no person can have: the thermometer was misread."""
    if field.data is None:
        return
    try:
        admission.check_plausible(field.data)
    except admission.ImplausibleTemperature as exc:
        raise ValidationError(
            _(
                "%(reading)s cannot be right: measure again (%(low)s to %(high)s).",
                reading=format_temperature(field.data),
                low=format_temperature(admission.PLAUSIBLE_MIN_DC),
                high=format_temperature(admission.PLAUSIBLE_MAX_DC),
            )
        ) from exc


def storable(form: Form, field: StringField) -> None:
    """Refuse control characters, which no database column can hold."""
    try:
        schemas.storable_text(field.data)
    except SchemaError as exc:
        raise ValidationError(_("Remove the special characters.")) from exc


def stripped(value: str | None) -> str | None:
    """Drop the spaces a touch keyboard adds around a value."""
    return value.strip() if value else value


class ReadingForm(Form):
    """One temperature reading: all a re-test needs."""

    temperature = TemperatureField(
        _l("Temperature (°C)"),
        validators=[
            InputRequired(_l("Measure the temperature and type it here.")),
            plausible_reading,
        ],
    )


class CheckInForm(ReadingForm):
    """The full door check: reading, the three protocol ticks and optional visitor details."""

    hand_sanitiser = BooleanField(_l("Hand sanitiser used"))
    mask = BooleanField(_l("Wearing a mask"))
    distancing = BooleanField(_l("Keeping distance"))
    visitor_name = StringField(
        _l("Name"),
        validators=[Optional(), Length(max=100, message=_l("At most 100 characters.")), storable],
        filters=[stripped],
    )
    phone = StringField(
        _l("Phone"),
        validators=[
            Optional(),
            Length(max=20, message=_l("At most 20 characters.")),
            Regexp(schemas.PHONE.regex, message=_l("Not a phone number.")),
        ],
        filters=[stripped],
    )
    id_number = StringField(
        _l("NIK (16 digits)"),
        validators=[
            Optional(),
            Regexp(schemas.NIK.regex, message=_l("A NIK has exactly 16 digits.")),
        ],
        filters=[stripped],
    )
    purpose = SelectField(
        _l("Purpose of visit"),
        choices=[SelectChoice("", "—")]
        + [SelectChoice(code, label) for code, label in PURPOSE_LABELS.items()],
        default="",
        validate_choice=False,
        validators=[
            AnyOf(["", *admission.PURPOSES], message=_l("Choose a purpose from the list."))
        ],
    )

    def check_in_data(self) -> CheckInData:
        """Return the validated check; only the last four digits of the NIK are kept."""
        return CheckInData(
            temperature_dc=self.temperature.data,
            hand_sanitiser=self.hand_sanitiser.data,
            mask=self.mask.data,
            distancing=self.distancing.data,
            visitor_name=self.visitor_name.data or None,
            phone=self.phone.data or None,
            nik_last4=self.id_number.data[-4:] if self.id_number.data else None,
            purpose=self.purpose.data or None,
        )


def retest_data(first: Visit, reading: ReadingForm) -> CheckInData:
    """Return the second reading of ``first``: the new temperature with the same visitor."""
    return CheckInData(
        temperature_dc=reading.temperature.data,
        hand_sanitiser=first.hand_sanitiser,
        mask=first.mask,
        distancing=first.distancing,
        visitor_name=first.visitor_name,
        phone=first.phone,
        nik_last4=first.nik_last4,
        purpose=first.purpose,
        recheck_of=first.id,
    )


def online_service_qr(site: Site) -> str | None:
    """Return the site's online-service link as a QR code in an SVG data URI, if it has one."""
    if not site.online_service_url:
        return None
    qr = segno.make(site.online_service_url, error="m")
    return qr.svg_data_uri(scale=5, border=2)


def render_door(form: CheckInForm, status: int = 200) -> tuple[str, int]:
    """Render the check-in form with today's counter and latest checks."""
    site = current_site()
    return render_template(
        "door/index.html",
        site=site,
        form=form,
        quota=services.quota_today(site, now()),
        recent=services.recent_checks(site, now()),
    ), status


def render_result(visit: Visit, form: ReadingForm, status: int = 200) -> tuple[str, int]:
    """Render the decision for one visit, with the re-test form when one is due."""
    site = visit.site
    moment = now()
    quota = services.quota_today(site, moment)
    retest = services.retest_of(visit) if visit.status == admission.RECHECK else None
    # Whoever was not admitted cannot come in today once the slots are gone, whatever the reason.
    no_slot_today = visit.status != admission.ADMITTED and quota.left == 0
    return render_template(
        "door/result.html",
        site=site,
        visit=visit,
        form=form,
        quota=quota,
        retest=retest,
        retest_at=hour_minute(services.retest_ready_at(visit, site), site),
        # A reading of an earlier day, or one a manager voided, can no longer be re-tested.
        retest_open=visit.status == admission.RECHECK
        and retest is None
        and not visit.voided
        and visit.day == site.local_day(moment),
        no_slot_today=no_slot_today,
        online_qr=online_service_qr(site)
        if no_slot_today or admission.QUOTA_FULL in visit.reasons
        else None,
    ), status


@bp.get("/")
@door_staff
def index():
    """Show an empty check-in form, today's counter and the latest checks."""
    return render_door(CheckInForm())


@bp.post("/")
@door_staff
def check_in():
    """Screen one visitor and show the decision, or show the form again with its errors."""
    form = CheckInForm()
    if not form.validate_on_submit():
        return render_door(form, 422)
    result = services.check_in(current_site(), acting_user(), form.check_in_data(), now())
    # Post/Redirect/Get: reloading the result page never records the visitor twice.
    return redirect(url_for("door.visit", visit_id=result.visit.id), 303)


@bp.get("/visits/<int:visit_id>")
@door_staff
def visit(visit_id: int):
    """Show the decision for one of the site's visits."""
    return render_result(own_visit(visit_id), ReadingForm())


@bp.post("/visits/<int:visit_id>/retest")
@door_staff
def retest(visit_id: int):
    """Record the second reading of a visitor who was asked to rest, linked to the first."""
    first = own_visit(visit_id)
    form = ReadingForm()
    if not form.validate_on_submit():
        return render_result(first, form, 422)
    site = first.site
    try:
        result = services.check_in(site, acting_user(), retest_data(first, form), now())
    except services.InvalidInput:
        ready_at = services.retest_ready_at(first, site)
        if now() < ready_at:
            message = _(
                "Too early: let the visitor rest until %(time)s, then measure again.",
                time=hour_minute(ready_at, site),
            )
        else:
            message = _("This reading cannot be re-tested any more: start a new check.")
        form.temperature.errors.append(message)
        return render_result(first, form, 422)
    return redirect(url_for("door.visit", visit_id=result.visit.id), 303)
