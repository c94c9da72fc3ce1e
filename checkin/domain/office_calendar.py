"""The office calendar, a pure rule: what a day's walk-in quota is, or why the office is closed.

No database and no clock: the services read a site's weekday quotas and closed dates and ask
here; the national holidays come from the ``holidays`` package, which needs no network.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from types import MappingProxyType

import holidays

# date.weekday(): Monday is 0, Sunday 6.
WEEKDAYS = range(7)
# A weekday's quota when the office does not open that weekday.
CLOSED = None

# Why a day is closed, from the strongest to the weakest.
HOLIDAY = "holiday"
CLOSED_DATE = "closed_date"
CLOSED_WEEKDAY = "weekday"

# The holidays package speaks Indonesian under "id" and English under "en_US".
HOLIDAY_LANGUAGES = {"id": "id", "en": "en_US"}
# Public holidays, and the collective leave (cuti bersama) when government offices close too.
HOLIDAY_CATEGORIES = ("public", "government")


@dataclass(frozen=True)
class DayPlan:
    """A day's walk-in quota; a closed day offers none and says why."""

    quota: int
    closed_because: str | None = None

    @property
    def closed(self) -> bool:
        """Tell whether the office is closed that day."""
        return self.closed_because is not None


def day_plan(
    day: date,
    default_quota: int,
    weekday_quotas: Mapping[int, int | None],
    closed_dates: Collection[date] = (),
    ticked_holidays: Collection[date] = (),
) -> DayPlan:
    """Return the quota of ``day``: closed on a ticked holiday or a closed date, else its
    weekday's quota (``CLOSED`` closes it), else the site's default."""
    if day in ticked_holidays:
        return DayPlan(0, HOLIDAY)
    if day in closed_dates:
        return DayPlan(0, CLOSED_DATE)
    weekday = day.weekday()
    if weekday not in weekday_quotas:
        return DayPlan(default_quota)
    if weekday_quotas[weekday] is CLOSED:
        return DayPlan(0, CLOSED_WEEKDAY)
    return DayPlan(weekday_quotas[weekday])


def holiday_years(today: date) -> tuple[int, ...]:
    """Return the years whose holidays settings show: this one, and in December the next too."""
    return (today.year, today.year + 1) if today.month == 12 else (today.year,)


def national_holidays(years: Iterable[int], language: str = "id") -> Mapping[date, str]:
    """Return Indonesia's national holidays and collective leave days of ``years``, by date,
    named in ``language`` ("id" or "en"); a day with two holidays names both."""
    return _holidays(tuple(sorted(set(years))), HOLIDAY_LANGUAGES.get(language, "id"))


# Working out a year's holidays takes tens of milliseconds; the settings and the audit log
# ask for the same few years again and again.
@lru_cache(maxsize=16)
def _holidays(years: tuple[int, ...], language: str) -> Mapping[date, str]:
    """Return the holidays of ``years`` in the package's ``language``, read-only."""
    found = holidays.Indonesia(years=years, categories=HOLIDAY_CATEGORIES, language=language)
    return MappingProxyType(dict(sorted(found.items())))
