"""Forms of the HTML pages: a base that speaks the reader's language, and shared pieces."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NoReturn

from flask import request
from flask_babel import get_translations, lazy_ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field, SelectChoice, SelectField, StringField, ValidationError
from wtforms.validators import AnyOf, Length, Regexp

from checkin.domain import admission, limits
from checkin.domain.errors import ServiceError
from checkin.words.errors import error_text
from checkin.words.labels import PURPOSE_LABELS

# WTForms' own messages that these forms can show. WTForms ships no Indonesian, so the forms
# read them from the app's catalogues (see Form); listed here so that extraction finds them.
FORM_MESSAGES = (
    _l("This field is required."),
    _l("Invalid input."),
    lazy_ngettext(
        "Field cannot be longer than %(max)d character.",
        "Field cannot be longer than %(max)d characters.",
        2,
    ),
    _l("Field must be between %(min)d and %(max)d characters long."),
    _l("Number must be between %(min)s and %(max)s."),
    _l("Not a valid choice."),
    _l("Invalid Choice: could not coerce."),
    _l("Not a valid date value."),
    _l("Not a valid integer value."),
    _l("Not a valid decimal value."),
)


class CatalogueTranslations:
    """Translate WTForms' messages with the app's catalogues in the reader's language."""

    def gettext(self, string: str) -> str:
        """Return ``string`` translated."""
        return get_translations().ugettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        """Return the singular or plural translated for ``n``; WTForms fills in the numbers."""
        return get_translations().ungettext(singular, plural, n)


class Form(FlaskForm):
    """A Flask-WTF form whose built-in error messages speak the reader's language."""

    class Meta:
        def get_translations(self, form: FlaskForm) -> CatalogueTranslations:
            return CatalogueTranslations()

    def show(self, **values: Any) -> None:
        """Put the values a page actually used, defaults included, back into the fields."""
        for name, value in values.items():
            self[name].data = value
            self[name].raw_data = None


class QueryForm(Form):
    """A form read from the query string of a GET page; nothing to forge, so no CSRF token."""

    class Meta:
        csrf = False

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(formdata=request.args, **kwargs)


def options(pairs: Iterable[tuple[Any, Any]]) -> list[SelectChoice]:
    """Return (value, label) pairs as the choices of a select field."""
    return [SelectChoice(value, label) for value, label in pairs]


def refuse(field: Field, words: str, code: str) -> NoReturn:
    """Refuse ``field``'s value in a validator, marked with its cause's code (data-error)."""
    field.error_code = code
    raise ValidationError(words)


def storable(form: FlaskForm, field: StringField) -> None:
    """Refuse control characters, which no database column can hold."""
    if field.data and not limits.storable(field.data):
        refuse(field, _("Remove the special characters."), "special_characters")


def stripped(value: str | None) -> str | None:
    """Drop the spaces a touch keyboard adds around a value."""
    return value.strip() if value else value


def mark_error(field: Field, words: str, code: str) -> None:
    """Put ``words`` under ``field``, with the code of their cause for the page (data-error)."""
    field.errors = [*field.errors, words]
    field.error_code = code


def show_error(field: Field, error: ServiceError) -> None:
    """Put a service's refusal under the form field it is about."""
    mark_error(field, error_text(error), error.code)


def name_field(presence: Any) -> StringField:
    """Return a visitor's name field; ``presence`` is Optional() or InputRequired()."""
    return StringField(
        _l("Name"),
        validators=[
            presence,
            Length(max=limits.MAX_NAME, message=_l("At most 100 characters.")),
            storable,
        ],
        filters=[stripped],
    )


def phone_field(presence: Any, label: Any = None) -> StringField:
    """Return a visitor's phone field; ``presence`` is Optional() or InputRequired()."""
    return StringField(
        label or _l("Phone"),
        validators=[
            presence,
            Length(max=limits.MAX_PHONE, message=_l("At most 20 characters.")),
            Regexp(limits.PHONE_PATTERN, message=_l("Not a phone number.")),
        ],
        filters=[stripped],
    )


def purpose_field() -> SelectField:
    """Return the purpose of a visit: one of the office's, or none given."""
    return SelectField(
        _l("Purpose of visit"),
        choices=[SelectChoice("", "—")]
        + [SelectChoice(code, label) for code, label in PURPOSE_LABELS.items()],
        default="",
        validate_choice=False,
        validators=[
            AnyOf(["", *admission.PURPOSES], message=_l("Choose a purpose from the list."))
        ],
    )
