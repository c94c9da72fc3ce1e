"""Column types and helpers shared by every model."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from checkin.domain import admission


class UTCDateTime(sa.TypeDecorator):
    """Store aware UTC datetimes; SQLite hands back naive values, which are UTC by construction."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        """Refuse naive datetimes and convert aware ones to UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass an aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        """Return the stored instant as an aware UTC datetime."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    """Return the current instant as an aware UTC datetime."""
    return datetime.now(UTC)


def plausible(column: str) -> str:
    """Return the SQL condition that a deci-Celsius column holds a plausible temperature."""
    return f"{column} BETWEEN {admission.PLAUSIBLE_MIN_DC} AND {admission.PLAUSIBLE_MAX_DC}"
