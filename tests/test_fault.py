"""Kill -9 in the middle of a load: nothing committed is lost, nothing half-written remains."""

from __future__ import annotations

import threading
import time
from collections import Counter
from pathlib import Path

import pytest
import sqlalchemy as sa

from checkin.extensions import db
from checkin.models import DayQuota, Visit
from tests.serving import (
    CLAIM_DELAY_VARIABLE,
    CLAIMING_FOLDER_VARIABLE,
    NO_ANSWER,
    Server,
    gunicorn,
)

pytestmark = pytest.mark.slow

POSTS = 300
CLIENTS = 16
QUOTA = 150
KILL_AFTER_ROWS = 60
# Long transactions, so that a kill lands inside one rather than between two.
CLAIM_DELAY = "0.02"
BODY = {"temperature_c": 36.5, "hand_sanitiser": True, "mask": True, "distancing": True}


def stored_visits() -> int:
    """Return how many visits the database holds now."""
    db.session.rollback()
    return db.session.scalar(sa.select(sa.func.count(Visit.id)))


def load_in_background(server: Server, headers: dict) -> tuple[threading.Thread, list]:
    """Start posting POSTS check-ins from CLIENTS threads; the answers fill the returned list."""
    answers: list[tuple[int, dict]] = []
    thread = threading.Thread(
        target=lambda: answers.extend(
            server.post_all("/api/v1/checkins", [BODY] * POSTS, headers, CLIENTS)
        )
    )
    thread.start()
    deadline = time.monotonic() + 60
    while stored_visits() < KILL_AFTER_ROWS:
        assert time.monotonic() < deadline, "the load did not start"
        time.sleep(0.02)
    return thread, answers


def assert_consistent(answers: list[tuple[int, dict]]) -> None:
    """Check every 201 has its row and the counter, slots and rows agree."""
    db.session.rollback()
    assert set(Counter(status for status, _body in answers)) <= {201, NO_ANSWER}
    stored = {visit.id: visit for visit in db.session.scalars(sa.select(Visit))}
    for _status, answer in (pair for pair in answers if pair[0] == 201):
        assert (stored[answer["id"]].status, stored[answer["id"]].slot) == (
            answer["status"],
            answer["slot"],
        )
    row = db.session.scalar(sa.select(DayQuota))
    slots = sorted(visit.slot for visit in stored.values() if visit.slot is not None)
    assert slots == list(range(1, row.used + 1)) == list(range(1, row.issued + 1))
    assert row.checks == len(stored)
    assert row.refused_quota_full == len(stored) - row.used


def assert_still_serving(server: Server, headers: dict) -> None:
    """Check a new check-in after the fault gets the next slot and is stored."""
    used = db.session.scalar(sa.select(DayQuota.used))
    status, answer = server.request("POST", "/api/v1/checkins", BODY, headers)
    assert status == 201, answer
    assert answer["slot"] == (used + 1 if used < QUOTA else None)
    assert stored_visits() == db.session.scalar(sa.select(DayQuota.checks))


@pytest.fixture
def fault_env(database_url, site, tmp_path):
    """Return the server environment: this test's database and a widened race, with a folder
    that says which workers are inside one."""
    site.daily_quota = QUOTA
    db.session.commit()
    return {
        "CHECKIN_DATABASE_URL": database_url,
        "CHECKIN_SECRET_KEY": "fault",
        CLAIM_DELAY_VARIABLE: CLAIM_DELAY,
        CLAIMING_FOLDER_VARIABLE: str(tmp_path),
        # The claim delay holds SQLite's write lock 20 ms a check: 16 clients queue for up to
        # 6 s, and SQLite lets waiting writers in unfairly, so one can wait past the 10 s
        # default and be answered 503. The test is about what a kill leaves behind: give
        # honest writers the time a full office never needs, still under gunicorn's 30 s.
        "CHECKIN_SQLITE_BUSY_TIMEOUT": "25",
    }


def test_killing_a_worker_mid_load_loses_and_corrupts_nothing(fault_env, door_user, auth_headers):
    headers = auth_headers(door_user)
    with gunicorn("tests.serving:slowed_app()", fault_env) as server:
        thread, answers = load_in_background(server, headers)
        killed = server.kill_worker(Path(fault_env[CLAIMING_FOLDER_VARIABLE]))
        thread.join()
        assert killed not in server.worker_pids()
        assert len(server.worker_pids()) == 4, "gunicorn did not replace the killed worker"
        assert_consistent(answers)
        assert Counter(status for status, _body in answers)[NO_ANSWER] >= 1, "no request was cut"
        assert_still_serving(server, headers)


def test_killing_the_whole_server_mid_load_loses_and_corrupts_nothing(
    fault_env, door_user, auth_headers
):
    headers = auth_headers(door_user)
    with gunicorn("tests.serving:slowed_app()", fault_env) as server:
        thread, answers = load_in_background(server, headers)
        server.kill_all()
        thread.join()
    assert Counter(status for status, _body in answers)[NO_ANSWER] >= 1, "no request was cut"
    assert_consistent(answers)
    with gunicorn("tests.serving:slowed_app()", fault_env) as restarted:
        assert_still_serving(restarted, headers)
    assert_consistent(answers)
