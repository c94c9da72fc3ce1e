"""The service floor: booths (monitors) where officers serve the visitors admitted at the door."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from checkin.extensions import db
from checkin.models.base import UTCDateTime

if TYPE_CHECKING:  # sites imports this module's defaults
    from checkin.models.accounts import User
    from checkin.models.sites import Site

DEFAULT_BOOTHS = 10
DEFAULT_BOOTHS_PER_OFFICER = 5
DEFAULT_WAIT_KPI_MINUTES = 30


class Booth(db.Model):
    """A monitor of a site, open while an officer holds it, serving one called visitor at a time."""

    __tablename__ = "booth"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("site.id"))
    number: Mapped[int]
    label: Mapped[str] = mapped_column(sa.String(40), default="")
    # Set by the manager: a booth taken out of use cannot be opened.
    in_use: Mapped[bool] = mapped_column(default=True)
    officer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    site: Mapped[Site] = relationship()
    officer: Mapped[User | None] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("site_id", "number", name="booth_number_once"),
        sa.CheckConstraint("number BETWEEN 1 AND 99", name="booth_number_range"),
        sa.CheckConstraint(
            "(officer_id IS NULL) = (opened_at IS NULL)", name="booth_open_by_officer"
        ),
    )

    @property
    def is_open(self) -> bool:
        """Tell whether an officer holds the booth."""
        return self.officer_id is not None
