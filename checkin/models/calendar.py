"""The office calendar of each site: a quota per weekday, and the dates the office is closed."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from checkin.extensions import db

MAX_CLOSED_LABEL = 120


class WeekdayQuota(db.Model):
    """A weekday whose walk-in quota is not the site's usual one; no quota: closed that day.

    Weekdays without a row take the site's ``daily_quota``.
    """

    __tablename__ = "weekday_quota"

    site_id: Mapped[int] = mapped_column(sa.ForeignKey("site.id"), primary_key=True)
    weekday: Mapped[int] = mapped_column(primary_key=True)
    quota: Mapped[int | None]

    __table_args__ = (
        sa.CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_quota_weekday"),
        sa.CheckConstraint("quota >= 0", name="weekday_quota_non_negative"),
    )


class ClosedDay(db.Model):
    """A date the site is closed: a national holiday the manager ticked, or a local closure."""

    __tablename__ = "closed_day"

    site_id: Mapped[int] = mapped_column(sa.ForeignKey("site.id"), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(sa.String(MAX_CLOSED_LABEL), default="")
    holiday: Mapped[bool] = mapped_column(default=False)
