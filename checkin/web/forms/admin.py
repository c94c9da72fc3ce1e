"""Forms of the admin page: sites, accounts and passwords."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import IntegerField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp

from checkin.domain import admission, limits
from checkin.models import ROLES
from checkin.web.forms import Form, options, storable
from checkin.words.labels import ROLE_LABELS


class SiteEditForm(Form):
    """What an admin may change of a site: name, time zone, usual quota."""

    name = StringField(
        _l("Name"), validators=[DataRequired(), Length(max=limits.MAX_SITE_NAME), storable]
    )
    timezone = SelectField(_l("Time zone"), choices=options(limits.TIMEZONES.items()))
    daily_quota = IntegerField(
        _l("Walk-in quota per day"),
        default=admission.DEFAULT_DAILY_QUOTA,
        validators=[InputRequired(), NumberRange(0, limits.MAX_QUOTA)],
    )


class SiteForm(SiteEditForm):
    """A new site."""

    code = StringField(
        _l("Code"),
        filters=[lambda code: limits.site_code(code) if code else code],
        validators=[
            DataRequired(),
            Regexp(
                limits.SITE_CODE_PATTERN + r"\Z", message=_l("2 to 20 capital letters or digits.")
            ),
        ],
    )


class PasswordForm(Form):
    """A new password for an account."""

    password = PasswordField(
        _l("New password"),
        validators=[DataRequired(), Length(limits.MIN_PASSWORD, limits.MAX_PASSWORD)],
    )


class AccountRoleForm(Form):
    """An account's role and site; the services refuse a missing site."""

    role = SelectField(_l("Role"), choices=options((role, ROLE_LABELS[role]) for role in ROLES))
    site_id = SelectField(_l("Site"), coerce=int, validators=[Optional()])


class DisplayNameForm(Form):
    """The name staff see of an account; blank, they see its username."""

    display_name = StringField(
        _l("Name staff see (optional)"),
        validators=[Optional(), Length(max=limits.MAX_DISPLAY_NAME), storable],
    )


class AccountForm(PasswordForm, AccountRoleForm):
    """A new staff account; the services refuse a taken name or a missing site."""

    username = StringField(
        _l("Username"),
        validators=[
            DataRequired(),
            Regexp(
                limits.USERNAME_PATTERN + r"\Z",
                message=_l("3 to 80 letters, digits, dots or dashes."),
            ),
        ],
    )
    display_name = StringField(
        _l("Name staff see (optional)"),
        validators=[Optional(), Length(max=limits.MAX_DISPLAY_NAME), storable],
    )
