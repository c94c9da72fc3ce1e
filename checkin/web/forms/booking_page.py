"""Forms of the office's public booking page: the day shown, a booking, and a cancellation."""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import DateField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, Regexp

from checkin.domain import limits
from checkin.services.bookings import BookingData
from checkin.web.forms import Form, QueryForm, name_field, phone_field, purpose_field, stripped


class DayForm(QueryForm):
    """The day whose sessions the page shows (``?day=YYYY-MM-DD``); none: the first offered."""

    day = DateField(validators=[Optional()])


class SessionField(StringField):
    """A session named by its start ("08:00"); ``data`` holds the time of day."""

    def process_formdata(self, valuelist: list[str]) -> None:
        """Read the start; anything else is a form error, not a crash."""
        self.data = None
        typed = valuelist[0].strip() if valuelist else ""
        if not typed:
            return
        try:
            self.data = datetime.strptime(typed, "%H:%M").time()
        except ValueError as exc:
            raise ValueError(_("Choose a session from the list.")) from exc


class BookingForm(Form):
    """A visitor's booking: a day and a session with room, who they are, and why they come."""

    day = DateField(validators=[InputRequired(_l("Choose a day from the list."))])
    session = SessionField(validators=[InputRequired(_l("Choose a session from the list."))])
    name = name_field(DataRequired())
    phone = phone_field(InputRequired())
    nik_last4 = StringField(
        _l("Last 4 digits of your NIK"),
        validators=[
            InputRequired(),
            Regexp(limits.NIK_LAST4_PATTERN, message=_l("Type the last 4 digits of your NIK.")),
        ],
        filters=[stripped],
    )
    purpose = purpose_field()

    def booking_data(self) -> BookingData:
        """Return the validated booking: a visit to the office."""
        return BookingData(
            day=self.day.data,
            starts=self.session.data,
            name=self.name.data,
            phone=self.phone.data,
            nik_last4=self.nik_last4.data,
            purpose=self.purpose.data or None,
        )


class CancelForm(Form):
    """A visitor's cancellation: the booking's code and the phone it was made with."""

    code = StringField(
        _l("Booking code"),
        validators=[
            InputRequired(),
            Length(max=2 * limits.BOOKING_CODE_LENGTH, message=_l("Not a booking code.")),
            Regexp(limits.BOOKING_CODE_TYPED_PATTERN, message=_l("Not a booking code.")),
        ],
        filters=[stripped],
    )
    phone = phone_field(InputRequired(), _l("Phone the booking was made with"))
