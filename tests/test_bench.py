"""The benchmark's comparison app does the work of the check-in it stands for."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from bench import breakdown, run
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


ROOT = Path(__file__).resolve().parents[1]
# The tools a part needs beyond Python, and PostgreSQL for those that measure it.
TOOLS = {
    "throughput": ("wrk",),
    "mixed-load": ("wrk",),
    "instructions": ("valgrind",),
    "pages": ("chromium",),
}
ON_POSTGRES = {"throughput", "reports-postgres", "offline-upload", "display-poll", "mixed-load"}


@pytest.mark.slow
@pytest.mark.parametrize("part", run.ALL_PARTS)
def test_every_bench_part_runs_and_prints_its_table(part):
    """A smoke test: each part runs once with tiny sizes and prints a table; its figures are the
    bench's business, and no target is checked."""
    for tool in TOOLS.get(part, ()):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")
    if part in ON_POSTGRES and not os.environ.get("CHECKIN_TEST_POSTGRES_URL"):
        pytest.skip("no PostgreSQL (CHECKIN_TEST_POSTGRES_URL is not set)")
    completed = subprocess.run(
        [sys.executable, "bench/run.py", "--smoke", "--only", part],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    assert f"## {part}" in completed.stdout
    assert "|---" in completed.stdout or "Name (time" in completed.stdout, completed.stdout
