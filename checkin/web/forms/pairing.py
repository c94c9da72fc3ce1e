"""Forms of paired door tablets: the pairing code, a staff PIN, the PIN a manager sets, and a
supervisor's PIN admitting a visitor past the full quota."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import PasswordField, RadioField, SelectChoice, StringField
from wtforms.validators import DataRequired, InputRequired, Length, Regexp

from checkin.domain import limits
from checkin.models import User
from checkin.web.forms import Form, storable, stripped
from checkin.web.forms.manage import OverrideForm

# Spaces and a dash as shown on the manager's screen are welcome: the service drops them.
CODE_TYPED_MAX = 2 * limits.PAIRING_CODE_LENGTH


class PairForm(Form):
    """The code a manager shows, and an optional name for the tablet."""

    code = StringField(
        _l("Pairing code"),
        filters=[stripped],
        validators=[
            DataRequired(_l("Type the pairing code shown on the manager's screen.")),
            Length(max=CODE_TYPED_MAX),
            storable,
        ],
    )
    name = StringField(
        _l("Name of this tablet (optional)"),
        filters=[stripped],
        validators=[Length(max=limits.MAX_TABLET_NAME), storable],
    )


def pin_field(label: str) -> PasswordField:
    """Return a PIN field: 4 to 6 digits, with a clear word for anything else."""
    return PasswordField(
        label,
        validators=[
            DataRequired(_l("Type the PIN.")),
            Regexp(limits.PIN_PATTERN, message=_l("A PIN is 4 to 6 digits.")),
        ],
    )


class PinForm(Form):
    """A door staff member's PIN, typed on the door keypad."""

    pin = pin_field(_l("PIN"))


class SetPinForm(Form):
    """The new PIN a manager gives a door account, or a supervisor themselves."""

    pin = pin_field(_l("New PIN"))


class SupervisorOverrideForm(OverrideForm):
    """On a paired tablet: the supervisor, by name and PIN, and why the visitor comes in."""

    # Any number is taken here: the service says whether it names a supervisor with a PIN.
    supervisor = RadioField(
        _l("Supervisor"),
        coerce=int,
        validate_choice=False,
        validators=[InputRequired(_l("Choose your name."))],
    )
    pin = pin_field(_l("Supervisor's PIN"))

    def __init__(self, supervisors: list[User]) -> None:
        super().__init__()
        self.supervisor.choices = [SelectChoice(user.id, user.shown_name) for user in supervisors]
