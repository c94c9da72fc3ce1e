"""Put visits on the service floor by setting their columns directly, as the officers' service
would: the display and the figures only read them, so their tests need no console."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from checkin.domain.calling import CALLED, DONE, NO_SHOW, SERVING, WAITING
from checkin.extensions import db
from checkin.models import Booth, Site, User, Visit


def make_waiting(make_visit: Callable, count: int, **fields: Any) -> list[Visit]:
    """Admit ``count`` visitors (through the check-in service) and put them in the queue."""
    visits = [make_visit(**fields).visit for _ in range(count)]
    for visit in visits:
        visit.floor_state = WAITING
    db.session.commit()
    return visits


def booth_of(site: Site, number: int) -> Booth:
    """Return booth ``number`` of ``site``, making it if the site has none such yet."""
    found = db.session.scalar(
        sa.select(Booth).where(Booth.site_id == site.id, Booth.number == number)
    )
    if found is None:
        found = Booth(site=site, number=number, label=f"Monitor {number}")
        db.session.add(found)
    return found


def call(visit: Visit, booth: int, at: datetime, officer: User | None = None) -> Visit:
    """Call (or recall) ``visit`` to booth number ``booth`` at ``at``."""
    visit.floor_state = CALLED
    visit.booth = booth_of(visit.site, booth)
    visit.called_at = at
    visit.calls += 1
    if officer is not None:
        visit.called_by_id = officer.id
    db.session.commit()
    return visit


def serve(visit: Visit, started: datetime, finished: datetime | None) -> Visit:
    """Start serving a called visit, and finish it when ``finished`` is given."""
    visit.floor_state = SERVING if finished is None else DONE
    visit.serving_at = started
    visit.finished_at = finished
    db.session.commit()
    return visit


def no_show(visit: Visit, at: datetime) -> Visit:
    """Mark a called visit as not come."""
    visit.floor_state = NO_SHOW
    visit.finished_at = at
    db.session.commit()
    return visit
