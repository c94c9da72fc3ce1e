"""Forms of the door tablet: a temperature reading, and the whole check."""

from __future__ import annotations

import uuid

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField, StringField
from wtforms.validators import InputRequired, Length, Optional, Regexp, ValidationError

from checkin.domain import admission, limits
from checkin.services.checkins import CheckInData
from checkin.web.forms import Form, name_field, phone_field, purpose_field, stripped
from checkin.words.labels import format_temperature


class TemperatureField(StringField):
    """A reading in °C, typed with a decimal point or an Indonesian decimal comma.

    ``data`` holds deci-Celsius; the page shows back exactly what was typed.
    """

    def process_formdata(self, valuelist: list[str]) -> None:
        """Parse the typed reading; an unreadable one is a form error, not a crash."""
        self.data = None
        typed = valuelist[0].strip() if valuelist else ""
        if not typed:
            if valuelist and valuelist[0]:
                # Spaces alone pass "input required", yet are no reading.
                raise ValueError(_("Measure the temperature and type it here."))
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


class ReadingForm(Form):
    """One temperature reading: all a re-test needs."""

    temperature = TemperatureField(
        _l("Temperature (°C)"),
        validators=[
            InputRequired(_l("Measure the temperature and type it here.")),
            plausible_reading,
        ],
    )
    # Made when the form is shown: the same form sent twice (a double tap, a retry after a
    # timeout) is the same check, stored once.
    client_ref = HiddenField(
        default=lambda: str(uuid.uuid4()), validators=[Optional(), Regexp(limits.UUID_PATTERN)]
    )


class CheckInForm(ReadingForm):
    """The full door check: reading, the three protocol ticks and optional visitor details."""

    hand_sanitiser = BooleanField(_l("Hand sanitiser used"))
    mask = BooleanField(_l("Wearing a mask"))
    distancing = BooleanField(_l("Keeping distance"))
    visitor_name = name_field(Optional())
    phone = phone_field(Optional())
    id_number = StringField(
        _l("NIK (16 digits)"),
        validators=[
            Optional(),
            Regexp(limits.NIK_PATTERN, message=_l("A NIK has exactly 16 digits.")),
        ],
        filters=[stripped],
    )
    purpose = purpose_field()

    # The booking picked at the door (static/door_booking.js); its code, as the API takes it.
    booking_code = HiddenField(
        validators=[
            Optional(),
            Length(max=2 * limits.BOOKING_CODE_LENGTH),
            Regexp(limits.BOOKING_CODE_TYPED_PATTERN),
        ]
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
            nik_last4=limits.nik_last4(self.id_number.data),
            purpose=self.purpose.data or None,
            client_ref=self.client_ref.data or None,
            booking_code=self.booking_code.data or None,
        )
