"""Forms of the service floor: an officer's press on a booth, and the manager's floor settings."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import IntegerField, TextAreaField, ValidationError
from wtforms.validators import InputRequired, Length, NumberRange

from checkin.domain import calling, limits
from checkin.models import Site
from checkin.services import booths
from checkin.web.forms import Form
from checkin.web.forms.manage import WaitKpiForm


def storable_lines(form: Form, field: TextAreaField) -> None:
    """Refuse control characters other than the line breaks between labels."""
    if any(not limits.storable(line) for line in (field.data or "").splitlines()):
        raise ValidationError(_("Remove the special characters."))


class BoothForm(Form):
    """A press on a booth's button (open, close, call next): nothing but the CSRF token."""


class StepForm(Form):
    """A step on the visitor at a booth, naming the visit the officer saw there."""

    visit = IntegerField(validators=[InputRequired(), NumberRange(1, limits.MAX_ID)])


class FloorSettingsForm(Form):
    """The booths of the site and how many one officer may hold."""

    booths = IntegerField(
        _l("Booths (monitors)"),
        validators=[InputRequired(), NumberRange(calling.MIN_BOOTHS, calling.MAX_BOOTHS)],
    )
    labels = TextAreaField(
        _l("Booth labels, one line per booth"),
        validators=[Length(max=calling.MAX_BOOTHS * (calling.MAX_BOOTH_LABEL + 2)), storable_lines],
        render_kw={"rows": 6},
    )
    booths_per_officer = IntegerField(
        _l("Booths per officer"),
        validators=[
            InputRequired(),
            NumberRange(calling.MIN_BOOTHS_PER_OFFICER, calling.MAX_BOOTHS_PER_OFFICER),
        ],
    )


def floor_settings_form(site: Site) -> FloorSettingsForm:
    """Return the floor settings form filled with the site's booths, labels and limit."""
    current = booths.floor_settings(site)
    # A prefix of its own: the page's two forms must not share field names or ids.
    return FloorSettingsForm(
        prefix="floor",
        data={
            "booths": current.booths,
            "labels": "\n".join(current.labels).rstrip("\n"),
            "booths_per_officer": current.booths_per_officer,
        },
    )


def wait_kpi_form(site: Site, formdata: Any = None) -> WaitKpiForm:
    """Return the waiting-time target's form, filled with the site's setting unless posted."""
    return WaitKpiForm(formdata, data={"wait_kpi_minutes": site.wait_kpi_minutes}, prefix="kpi")
