"""Forms of the office's public booking page: the day shown, a booking, and a cancellation."""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import DateField, RadioField, SelectChoice, StringField, ValidationError
from wtforms.validators import DataRequired, InputRequired, Length, Optional, Regexp

from checkin.domain import booking_rules, limits
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
    kind = RadioField(
        _l("How you are served"),
        choices=[
            SelectChoice("visit", _l("Come to the office")),
            SelectChoice("video", _l("Video session from home")),
        ],
        default="visit",
        validators=[DataRequired(_l("Choose how you are served."))],
    )
    contact = StringField(
        _l("How the office reaches you (video session)"),
        validators=[
            Optional(),
            Length(max=limits.MAX_BOOKING_CONTACT, message=_l("At most 300 characters.")),
        ],
        filters=[stripped],
    )

    def validate_contact(self, field: StringField) -> None:
        """Refuse a video session's contact that is neither a phone nor an https link."""
        video = self.kind.data == "video"
        if video and field.data and booking_rules.contact_kind(field.data) is None:
            raise ValidationError(
                _("Give a phone number, or a meeting link starting with https://.")
            )

    def booking_data(self) -> BookingData:
        """Return the validated booking: a visit to the office, or a video session reached at
        its contact (none given: at the phone). A contact typed before choosing a visit is
        left out: a visit has none."""
        video = self.kind.data == "video"
        return BookingData(
            day=self.day.data,
            starts=self.session.data,
            name=self.name.data,
            phone=self.phone.data,
            nik_last4=self.nik_last4.data,
            kind=self.kind.data,
            purpose=self.purpose.data or None,
            contact=(self.contact.data or None) if video else None,
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
