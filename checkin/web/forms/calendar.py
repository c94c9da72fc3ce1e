"""The weekdays of the manager's settings form: each one's own quota, or closed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import wtforms
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, FormField, IntegerField
from wtforms.validators import NumberRange, Optional

from checkin.domain import limits, office_calendar
from checkin.web.forms import CatalogueTranslations


class WeekdayForm(wtforms.Form):
    """One weekday's own quota: blank for the usual one, or closed."""

    class Meta:
        def get_translations(self, form: wtforms.Form) -> CatalogueTranslations:
            return CatalogueTranslations()

    quota = IntegerField(_l("Quota"), validators=[Optional(), NumberRange(0, limits.MAX_QUOTA)])
    closed = BooleanField(_l("Closed"))


class WeekdaysForm(wtforms.Form):
    """The seven weekdays, Monday first, each named in its fields ("weekdays-saturday-quota")."""

    class Meta:
        def get_translations(self, form: wtforms.Form) -> CatalogueTranslations:
            return CatalogueTranslations()

    monday = FormField(WeekdayForm)
    tuesday = FormField(WeekdayForm)
    wednesday = FormField(WeekdayForm)
    thursday = FormField(WeekdayForm)
    friday = FormField(WeekdayForm)
    saturday = FormField(WeekdayForm)
    sunday = FormField(WeekdayForm)


WEEKDAY_FIELDS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def weekdays_data(quotas: Mapping[int, int | None]) -> dict[str, dict[str, Any]]:
    """Return a site's weekday quotas as the weekday forms show them."""
    return {
        name: {
            "quota": quotas.get(weekday),
            "closed": weekday in quotas and quotas[weekday] is office_calendar.CLOSED,
        }
        for weekday, name in enumerate(WEEKDAY_FIELDS)
    }


def weekday_quotas(data: Mapping[str, Mapping[str, Any]]) -> dict[int, int | None]:
    """Return the weekdays given a quota of their own or closed; a tick wins over a number."""
    quotas: dict[int, int | None] = {}
    for weekday, name in enumerate(WEEKDAY_FIELDS):
        if data[name]["closed"]:
            quotas[weekday] = office_calendar.CLOSED
        elif data[name]["quota"] is not None:
            quotas[weekday] = data[name]["quota"]
    return quotas
