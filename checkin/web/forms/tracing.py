"""Forms of contact tracing: a search of the site's checks, and the "same time" window."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import IntegerField, StringField
from wtforms.validators import Length, NumberRange, Optional, Regexp

from checkin.domain import limits
from checkin.services import tracing
from checkin.web.forms import Form, QueryForm, storable, stripped
from checkin.web.forms.manage import DateRange


class SearchForm(DateRange, Form):
    """A part of a name, a phone, a NIK's last four digits, over at most a year of days.

    Posted, never in the address: an address lands in server and proxy logs and the browser's
    history, which no purge of personal data reaches.
    """

    max_days = tracing.MAX_SEARCH_DAYS

    name = StringField(
        _l("Name (or a part of it)"),
        validators=[Optional(), Length(max=limits.MAX_NAME), storable],
        filters=[stripped],
    )
    phone = StringField(
        _l("Phone (or a part of it)"),
        validators=[
            Optional(),
            Length(max=limits.MAX_PHONE),
            Regexp(r"^[0-9+ -]+$", message=_l("Type only the digits of the phone number.")),
        ],
        filters=[stripped],
        render_kw={"inputmode": "tel"},
    )
    nik_last4 = StringField(
        _l("NIK: last 4 digits"),
        validators=[
            Optional(),
            Regexp(r"^[0-9]{4}$", message=_l("Type the last 4 digits of the NIK.")),
        ],
        filters=[stripped],
        render_kw={"inputmode": "numeric", "maxlength": 4},
    )

    def terms(self) -> tracing.SearchTerms:
        """Return the validated search."""
        start, end = self.dates()
        return tracing.SearchTerms(
            start,
            end,
            name=self.name.data or None,
            phone=self.phone.data or None,
            nik_last4=self.nik_last4.data or None,
        )


class WindowForm(QueryForm):
    """How many minutes before and after a check count as "at the same time"."""

    window = IntegerField(
        _l("Minutes before and after"),
        default=tracing.DEFAULT_WINDOW_MINUTES,
        validators=[
            Optional(),
            NumberRange(tracing.MIN_WINDOW_MINUTES, tracing.MAX_WINDOW_MINUTES),
        ],
    )

    def minutes(self) -> int:
        """Return the chosen window, the default unless given."""
        return self.window.data or tracing.DEFAULT_WINDOW_MINUTES
