"""How the office calendar is said in the reader's language: dates, weekdays, closures."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from babel.dates import get_day_names
from flask_babel import format_date, get_locale, ngettext
from flask_babel import gettext as _

from checkin.domain import office_calendar


def day_text(day: date) -> str:
    """Name a date in the reader's language, e.g. "Fri, 25 Dec 2026"."""
    return format_date(day, "EEE, d MMM y")


def weekday_names(width: str = "wide") -> dict[int, str]:
    """Return the weekdays' names in the reader's language, Monday (0) first."""
    return dict(get_day_names(width, locale=get_locale()))


def weekday_quotas_text(quotas: dict[str, int | None]) -> str:
    """Say the weekdays' own quotas, e.g. "Sat 30, Sun closed"; "–" when every day is usual."""
    names = weekday_names("abbreviated")
    closed = _("closed")  # a call of its own: pybabel finds no words inside an f-string
    said = [
        f"{names[int(weekday)]} {closed if quota is None else quota}"
        for weekday, quota in sorted(quotas.items())
    ]
    return ", ".join(said) or "–"


def holiday_language() -> str:
    """Return the reader's language as the holidays' names come in."""
    return str(get_locale().language)


def closed_days_text(detail: dict[str, Any]) -> str:
    """Say which days a change closed and which it opened again; holidays in the reader's words."""
    names: Mapping[date, str] = {}
    if detail["holiday"]:
        years = {
            date.fromisoformat(day).year for day, _label in detail["closed"] + detail["opened"]
        }
        names = office_calendar.national_holidays(years, holiday_language())

    def said(days: list[list[str]]) -> str:
        return ", ".join(
            f"{day_text(date.fromisoformat(day))} ({names.get(date.fromisoformat(day), label)})"
            for day, label in days
        )

    parts = []
    if detail["closed"]:
        parts.append(_("Closed on %(days)s", days=said(detail["closed"])))
    if detail["opened"]:
        parts.append(_("Open on %(days)s", days=said(detail["opened"])))
    return "; ".join(parts)


# What the calendar's service errors say, from their facts (see checkin.words.errors.ERROR_TEXT).
ERROR_TEXT: dict[str, Callable[[Any], str]] = {
    "not_a_holiday": lambda error: _(
        "%(day)s is not a national holiday of the years shown.", day=day_text(error.day)
    ),
    "closed_day_in_past": lambda error: _(
        "%(day)s is past: choose today or a later day.", day=day_text(error.day)
    ),
    "already_closed": lambda error: _(
        "The office is already closed on %(day)s.", day=day_text(error.day)
    ),
    "unknown_closed_day": lambda error: _(
        "There is no closed day on %(day)s to remove.", day=day_text(error.day)
    ),
    "closed_label_invalid": lambda error: ngettext(
        "Say why the office is closed, in at most %(num)d character.",
        "Say why the office is closed, in at most %(num)d characters.",
        error.max_length,
    ),
}
