"""The benchmark's comparison app does the work of the check-in it stands for."""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from flask import Flask

from bench import breakdown
from bench.bare_app import create_app as create_bare_app
from checkin.extensions import db
from checkin.models import DayQuota, Site, User, Visit

PASSING = {
    "temperature_c": 36.6,
    "hand_sanitiser": True,
    "mask": True,
    "distancing": True,
    "purpose": "jht_claim",
}


def test_bare_app_claims_numbered_slots_and_stores_each_visit(
    app: Flask,
    site: Site,
    door_user: User,
    auth_headers: Callable[[User], dict[str, str]],
    clock: Callable,
) -> None:
    day = site.local_day(clock())
    db.session.add(DayQuota(site_id=site.id, day=day, limit=site.daily_quota))
    db.session.commit()
    bare = create_bare_app(app.config["DATABASE_URL"], day).test_client()
    headers = auth_headers(door_user)

    answers = [bare.post("/api/v1/checkins", json=PASSING, headers=headers) for _ in range(3)]

    assert [answer.status_code for answer in answers] == [201, 201, 201]
    assert [answer.json["slot"] for answer in answers] == [1, 2, 3]
    stored = db.session.scalars(sa.select(Visit).order_by(Visit.slot)).all()
    assert [(visit.slot, visit.recorded_by_id, visit.day) for visit in stored] == [
        (slot, door_user.id, day) for slot in (1, 2, 3)
    ]
    assert db.session.get(DayQuota, (site.id, day)).used == 3


def test_the_breakdown_builds_a_check_in_up_row_by_row(tmp_path):
    """The breakdown's rows run (a smoke test: the figures are the bench's business)."""
    layers = breakdown.run(tmp_path, rounds=1, posts=6)
    assert [layer.name for layer in layers][-1] == "app: the real endpoint"
    assert all(layer.ms > 0 for layer in layers)
