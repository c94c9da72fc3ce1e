"""The demo's service floor: calls, service and no-shows at plausible times, by the service."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

import sqlalchemy as sa

from checkin.domain.calling import DONE, NO_SHOW
from checkin.extensions import db
from checkin.models import Booth, Site, User, Visit


def minutes(delta: timedelta) -> float:
    return delta.total_seconds() / 60


def test_demo_history_calls_serves_and_misses_visitors_plausibly(runner, clock):
    result = runner.invoke(args=["demo", "--days", "21"])
    assert result.exit_code == 0, result.output
    assert "officer  officer  / petugas-demo-1" in result.output
    site = db.session.scalar(sa.select(Site))
    today = site.local_day(clock.now)
    admitted = list(
        db.session.scalars(sa.select(Visit).where(Visit.status == "admitted", Visit.day < today))
    )
    assert {visit.floor_state for visit in admitted} == {DONE, NO_SHOW}
    waits = [minutes(visit.called_at - visit.checked_at) for visit in admitted]
    assert min(waits) >= 2 and max(waits) <= 40
    done = [visit for visit in admitted if visit.floor_state == DONE]
    services = [minutes(visit.finished_at - visit.serving_at) for visit in done]
    assert min(services) >= 5 and max(services) <= 25
    assert {visit.calls for visit in done} == {1}
    gone = [visit for visit in admitted if visit.floor_state == NO_SHOW]
    assert 0.02 <= len(gone) / len(admitted) <= 0.09
    assert {visit.calls for visit in gone} == {2}
    # One visitor at a time per booth, each called in queue order.
    by_booth = defaultdict(list)
    for visit in admitted:
        by_booth[visit.day, visit.booth_id].append(visit)
    for visits in by_booth.values():
        visits.sort(key=lambda visit: visit.called_at)
        assert [visit.slot for visit in visits] == sorted(visit.slot for visit in visits)
        for before, after in zip(visits, visits[1:], strict=False):
            assert before.finished_at <= after.called_at
    # Today stops at now: nothing later happened, and the officers still hold their booths.
    for visit in db.session.scalars(sa.select(Visit).where(Visit.day == today)):
        for instant in (visit.called_at, visit.serving_at, visit.finished_at):
            assert instant is None or instant <= clock.now
    held = db.session.scalars(
        sa.select(User.username).join(Booth, Booth.officer_id == User.id).distinct()
    )
    assert sorted(held) == ["officer", "officer2"]
