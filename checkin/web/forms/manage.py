"""Forms of the manager pages: the log's filters, date ranges, settings and voids."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    FormField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    URLField,
    ValidationError,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import TextInput

from checkin.domain import admission, limits, override_rules
from checkin.domain.errors import RangeReversed, ServiceError
from checkin.models.calendar import MAX_CLOSED_LABEL
from checkin.services import audit
from checkin.web.forms import Form, QueryForm, options, refuse, show_error, storable, stripped
from checkin.web.forms.calendar import WeekdaysForm
from checkin.words import override_words
from checkin.words.labels import REASON_LABELS, STATUS_LABELS, decimal_mark


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
    after = IntegerField(validators=[Optional(), NumberRange(1, limits.MAX_ID)])


def office_day(form: Form, field: DateField) -> None:
    """Refuse days the office cannot have data for: near year 1 or 9999 date arithmetic fails."""
    if field.data and not limits.FIRST_OFFICE_DAY <= field.data <= limits.LAST_OFFICE_DAY:
        refuse(
            field,
            _(
                "Choose a day in the years %(first)d to %(last)d.",
                first=limits.FIRST_OFFICE_DAY.year,
                last=limits.LAST_OFFICE_DAY.year,
            ),
            "day_out_of_range",
        )


class DateRange:
    """The fields of a date range, both ends included; the 30 days up to today unless given.

    A mixin, so that a report's GET form and a search POSTed with its CSRF token share it.
    """

    start = DateField(_l("From"), name="from", validators=[Optional(), office_day])
    end = DateField(_l("To"), name="to", validators=[Optional(), office_day])
    max_days = limits.MAX_REPORT_DAYS

    def __init__(self, today: date, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.today = today

    def dates(self) -> tuple[date, date]:
        """Return the chosen range, its missing ends filled in."""
        return limits.report_range(self.start.data, self.end.data, self.today)

    def validate(self, extra_validators: Any = None) -> bool:
        """Also refuse a range that ends before it starts or is longer than allowed."""
        if not super().validate(extra_validators):
            return False
        try:
            limits.check_range(*self.dates(), self.max_days)
        except ServiceError as error:
            show_error(self.end, error)
            return False
        return True


class RangeForm(DateRange, QueryForm):
    """A report's date range, read from the address."""


class ExportRangeForm(RangeForm):
    """An export's date range: at most a year, so one request stays within seconds."""

    max_days = limits.MAX_EXPORT_DAYS


class AuditForm(QueryForm):
    """The audit log's filters (kind, days, account) and its keyset cursor."""

    kind = SelectField(
        _l("Entries shown"),
        choices=options(
            [("", _l("All")), ("changes", _l("Changes")), ("access", _l("Access to personal data"))]
        ),
        validators=[Optional()],
    )
    start = DateField(_l("From"), name="from", validators=[Optional(), office_day])
    end = DateField(_l("To"), name="to", validators=[Optional(), office_day])
    account = SelectField(_l("Account"), validators=[Optional()])
    before = IntegerField(validators=[Optional(), NumberRange(1, limits.MAX_ID)])

    def __init__(self, usernames: list[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.account.choices = options([("", _l("Anyone")), *((name, name) for name in usernames)])

    def validate(self, extra_validators: Any = None) -> bool:
        """Also refuse days that end before they start."""
        if not super().validate(extra_validators):
            return False
        if self.start.data and self.end.data and self.end.data < self.start.data:
            show_error(self.end, RangeReversed())
            return False
        return True

    def shown(self, zone: ZoneInfo) -> audit.AuditFilter:
        """Return the filter chosen; the days are the site's, from midnight to midnight."""
        start, end = self.start.data, self.end.data
        return audit.AuditFilter(
            kind=self.kind.data or None,
            since=datetime.combine(start, time(), zone) if start else None,
            until=datetime.combine(end + timedelta(days=1), time(), zone) if end else None,
            username=self.account.data or None,
        )

    def kept(self) -> dict[str, str]:
        """Return the filters as the address carries them, for the links to other pages."""
        values = {
            "kind": self.kind.data,
            "from": self.start.data and self.start.data.isoformat(),
            "to": self.end.data and self.end.data.isoformat(),
            "account": self.account.data,
        }
        return {name: value for name, value in values.items() if value}


class CelsiusField(DecimalField):
    """A temperature in °C with one decimal; accepts the Indonesian decimal comma."""

    # A number input would refuse the comma, so: text with the decimal keypad on phones.
    widget = TextInput()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, render_kw={"inputmode": "decimal"}, **kwargs)

    def process_formdata(self, valuelist: list[str]) -> None:
        """Read ``37,5`` as ``37.5``; NaN and infinities are not a temperature."""
        super().process_formdata([value.replace(",", ".") for value in valuelist])
        # Decimal reads "sNaN" and "Infinity", which then break every comparison with a 500.
        if self.data is not None and not self.data.is_finite():
            self.data = None
            raise ValueError(self.gettext("Not a valid decimal value."))

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
        _l("Walk-in quota per day"), validators=[InputRequired(), NumberRange(0, limits.MAX_QUOTA)]
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
    retest_minutes = IntegerField(
        _l("Re-test wait (minutes)"),
        name="recheck_minutes",  # the name the settings page has always posted
        validators=[
            InputRequired(),
            NumberRange(admission.MIN_RETEST_MINUTES, admission.MAX_RETEST_MINUTES),
        ],
    )
    online_service_url = URLField(
        _l("Online service address"),
        validators=[Optional(), Length(max=300), storable, web_address],
    )
    # Asked for only when the cut-off changes to a value outside health guidance.
    confirm_cutoff = BooleanField(_l("Yes, use this cut-off"))
    weekdays = FormField(WeekdaysForm)


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


class ClosedDayForm(Form):
    """A local closed day: the date, and why (shown at the door)."""

    day = DateField(_l("Date"), validators=[InputRequired(), office_day])
    label = StringField(
        _l("Why the office is closed"),
        filters=[stripped],
        validators=[DataRequired(), Length(max=MAX_CLOSED_LABEL), storable],
    )


class VoidForm(Form):
    """Why a check is void."""

    reason = StringField(
        _l("Why is this check a mistake?"),
        validators=[
            DataRequired(_l("Say why this check is void.")),
            Length(max=limits.MAX_VOID_REASON),
            storable,
        ],
    )


class WaitKpiForm(Form):
    """The service floor's waiting-time target, a setting of its own beside the door's."""

    wait_kpi_minutes = IntegerField(
        _l("Waiting time target (minutes)"),
        validators=[InputRequired(), NumberRange(*limits.WAIT_KPI_MINUTES)],
    )


class BookingPageForm(Form):
    """Whether the site's public booking page takes bookings: a setting of its own."""

    public_page = BooleanField(_l("Visitors may book on the office's own page"))


class BookingImportForm(Form):
    """A CSV file of bookings to import, from the national queue or the office's own list."""

    file = FileField(
        _l("CSV file of bookings"),
        validators=[FileRequired(_l("Choose the CSV file to import."))],
    )


class PrivacyContactForm(Form):
    """Whom the public page names for questions about personal data; the service checks it."""

    privacy_contact = StringField(
        _l("Contact for questions about personal data (optional)"), filters=[stripped]
    )


class DisplayTokenForm(Form):
    """Where a new waiting-room display hangs, so the manager can tell displays apart."""

    label = StringField(
        _l("Where is this display?"),
        validators=[
            DataRequired(_l("Name the display, e.g. 'TV in the waiting room'.")),
            Length(max=80),
            storable,
        ],
    )


class OverrideForm(Form):
    """Why a visitor refused for the full quota comes in past it."""

    reason = SelectField(
        _l("Why does the visitor come in past the quota?"),
        choices=[SelectChoice(code, label) for code, label in override_words.REASON_LABELS.items()],
        validators=[InputRequired()],
    )
    note = StringField(
        _l('In your words (needed for "other")'),
        validators=[Optional(), Length(max=override_rules.MAX_NOTE), storable],
    )
