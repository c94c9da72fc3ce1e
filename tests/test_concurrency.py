"""The quota holds when many clients post at once to several worker processes."""

from __future__ import annotations

from collections import Counter

import sqlalchemy as sa

from checkin.extensions import db
from checkin.models import DayQuota, Visit
from tests.serving import gunicorn

POSTS = 150
THREADS = 8
BODY = {"temperature_c": 36.5, "hand_sanitiser": True, "mask": True, "distancing": True}


def admitted_slots(answers: list[tuple[int, dict]]) -> list[int]:
    """Return the slots of the admitted answers, failing on anything but 201."""
    statuses = Counter(status for status, _body in answers)
    assert statuses == {201: len(answers)}, answers[:3]
    return sorted(body["slot"] for _status, body in answers if body["status"] == "admitted")


def test_quota_holds_under_concurrent_posts(database_url, site, door_user, auth_headers):
    headers = auth_headers(door_user)
    env = {"CHECKIN_DATABASE_URL": database_url, "CHECKIN_SECRET_KEY": "race"}
    with gunicorn("checkin:create_app()", env) as server:
        answers = server.post_all("/api/v1/checkins", [BODY] * POSTS, headers, THREADS)
    assert admitted_slots(answers) == list(range(1, 61))
    refusals = [body["reasons"] for _status, body in answers if body["status"] == "refused"]
    assert refusals == [["quota_full"]] * (POSTS - 60)
    db.session.rollback()
    row = db.session.scalar(sa.select(DayQuota))
    rows = db.session.scalar(sa.select(sa.func.count()).where(Visit.status == "admitted"))
    assert row.used == rows == 60
    assert db.session.scalar(sa.select(sa.func.count(Visit.id))) == POSTS


def test_naive_count_then_insert_over_admits(database_url, app):
    """Show the race is real: the same load makes a count-then-insert app admit too many."""
    db.session.execute(sa.text("DROP TABLE IF EXISTS naive_visit"))
    db.session.execute(sa.text("CREATE TABLE naive_visit (slot INTEGER)"))
    db.session.commit()
    env = {"NAIVE_DATABASE_URL": database_url}
    with gunicorn("tests.naive_app:create_app()", env) as server:
        answers = server.post_all("/api/v1/checkins", [BODY] * POSTS, {}, THREADS)
    slots = admitted_slots(answers)
    assert len(slots) > 60, "the control did not race; the quota test proves nothing here"
    db.session.execute(sa.text("DROP TABLE naive_visit"))
    db.session.commit()
