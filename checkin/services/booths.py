"""A site's booths (monitors) and the floor settings its manager changes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from checkin.domain import calling
from checkin.domain.errors import (
    BoothCountOutOfRange,
    BoothsPerOfficerOutOfRange,
    BoothsStillOpen,
)
from checkin.extensions import db
from checkin.models import Booth, Site, User
from checkin.models.floor import DEFAULT_BOOTHS
from checkin.services import audit

_NEW_BOOTH = {
    dialect.dialect.name: dialect.insert(Booth.__table__).on_conflict_do_nothing(
        index_elements=["site_id", "number"]
    )
    for dialect in (postgresql, sqlite)
}
# How the audit log shows the labels: one line, booth by booth.
_LABEL_SEPARATOR = " · "


@dataclass(frozen=True)
class FloorSettings:
    """What a manager sets for the floor: booths 1..``booths`` in use, their labels (one per
    booth, in number order), and how many booths one officer may hold at once."""

    booths: int
    labels: tuple[str, ...]
    booths_per_officer: int


def ensure_booths(site: Site) -> None:
    """Give a site its default booths unless it has booths; in the caller's transaction.

    New sites get them when created; sites made before the floor existed, on first use.
    """
    if db.session.scalar(sa.select(Booth.id).where(Booth.site_id == site.id).limit(1)) is None:
        _add_booths(site, range(1, DEFAULT_BOOTHS + 1))


def booths_in_use(site: Site) -> list[Booth]:
    """Return the site's booths in use, by number, first giving an older site its defaults."""
    ensure_booths(site)
    return list(
        db.session.scalars(
            sa.select(Booth)
            .where(Booth.site_id == site.id, Booth.in_use.is_(True))
            .order_by(Booth.number)
        )
    )


def floor_settings(site: Site) -> FloorSettings:
    """Return the site's floor settings as they are now."""
    booths = booths_in_use(site)
    return FloorSettings(
        len(booths), tuple(booth.label for booth in booths), site.booths_per_officer
    )


def update_floor_settings(
    site: Site, wanted: FloorSettings, by: User | None, now: datetime
) -> None:
    """Put booths 1..N in use with their labels and take the others out of use.

    A booth an officer holds cannot be taken out of use: the officer closes it first.
    """
    if not calling.MIN_BOOTHS <= wanted.booths <= calling.MAX_BOOTHS:
        raise BoothCountOutOfRange(calling.MIN_BOOTHS, calling.MAX_BOOTHS)
    if (
        not calling.MIN_BOOTHS_PER_OFFICER
        <= wanted.booths_per_officer
        <= calling.MAX_BOOTHS_PER_OFFICER
    ):
        raise BoothsPerOfficerOutOfRange(
            calling.MIN_BOOTHS_PER_OFFICER, calling.MAX_BOOTHS_PER_OFFICER
        )
    before = floor_settings(site)
    _add_booths(site, range(1, wanted.booths + 1))
    still_open = db.session.scalars(
        sa.select(Booth.number).where(
            Booth.site_id == site.id, Booth.number > wanted.booths, Booth.officer_id.is_not(None)
        )
    ).all()
    if still_open:
        raise BoothsStillOpen(tuple(still_open))
    labels = calling.booth_labels("\n".join(wanted.labels), wanted.booths)
    for booth in db.session.scalars(sa.select(Booth).where(Booth.site_id == site.id)):
        booth.in_use = booth.number <= wanted.booths
        if booth.in_use:
            booth.label = labels[booth.number - 1]
    site.booths_per_officer = wanted.booths_per_officer
    after = FloorSettings(wanted.booths, tuple(labels), wanted.booths_per_officer)
    changes = {
        name: [_shown(getattr(before, name)), _shown(getattr(after, name))]
        for name in ("booths", "labels", "booths_per_officer")
        if getattr(before, name) != getattr(after, name)
    }
    if changes:
        audit.record(site, by, now, "settings", changes)


def _add_booths(site: Site, numbers: range) -> None:
    """Create the site's booths with these numbers unless they exist, racing safely."""
    db.session.execute(
        _NEW_BOOTH[db.session.get_bind().dialect.name],
        [{"site_id": site.id, "number": number, "label": "", "in_use": True} for number in numbers],
    )


def _shown(value: int | tuple[str, ...]) -> int | str:
    """Return a setting as the audit log keeps it: labels as one line."""
    return _LABEL_SEPARATOR.join(value) if isinstance(value, tuple) else value
