"""The weekdays of the manager's settings form: each one's own quota, or closed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import wtforms
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, IntegerField
from wtforms.validators import NumberRange, Optional

from checkin import office_calendar, rules
from checkin.forms import CatalogueTranslations


class WeekdayForm(wtforms.Form):
    """One weekday's own quota: blank for the usual one, or closed."""

    class Meta:
        def get_translations(self, form: wtforms.Form) -> CatalogueTranslations:
            return CatalogueTranslations()

    quota = IntegerField(_l("Quota"), validators=[Optional(), NumberRange(0, rules.MAX_QUOTA)])
    closed = BooleanField(_l("Closed"))


def weekdays_data(quotas: Mapping[int, int | None]) -> list[dict[str, Any]]:
    """Return a site's weekday quotas as the weekday forms show them."""
    return [
        {
            "quota": quotas.get(weekday),
            "closed": weekday in quotas and quotas[weekday] is office_calendar.CLOSED,
        }
        for weekday in office_calendar.WEEKDAYS
    ]


def weekday_quotas(data: list[dict[str, Any]]) -> dict[int, int | None]:
    """Return the weekdays given a quota of their own or closed; a tick wins over a number."""
    quotas: dict[int, int | None] = {}
    for weekday, entry in enumerate(data):
        if entry["closed"]:
            quotas[weekday] = office_calendar.CLOSED
        elif entry["quota"] is not None:
            quotas[weekday] = entry["quota"]
    return quotas
