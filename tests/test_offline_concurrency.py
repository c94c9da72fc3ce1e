"""Tablets uploading what they recorded offline while online check-ins race, on gunicorn with
four workers: exactly the quota is admitted, each slot once, each check stored once."""

from __future__ import annotations

import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import sqlalchemy as sa

from checkin.extensions import db
from checkin.models import DayQuota, UploadConflict, Visit
from tests.conftest import DEFAULT_NOW, counters_of, counters_of_rows
from tests.serving import TEST_NOW_HEADER, gunicorn

pytestmark = pytest.mark.slow

TABLETS = 4
OFFLINE_CHECKS = 15
ONLINE_CHECKS = 100
PASSING = {"temperature_c": 36.5, "hand_sanitiser": True, "mask": True, "distancing": True}


def offline_outbox(device_id: str, slots: list[int]) -> list[dict]:
    """What a tablet records offline: its leased slots given out, then refusals."""
    outbox = []
    for number in range(OFFLINE_CHECKS):
        recorded = (DEFAULT_NOW + timedelta(seconds=number)).isoformat()
        slot = slots[number] if number < len(slots) else None
        body = PASSING | {"mask": number % 4 != 3} if slot is None else PASSING
        if slot is not None:
            decided = {"status": "admitted", "reasons": [], "slot": slot}
        elif body["mask"]:
            decided = {"status": "refused", "reasons": ["no_offline_slot"], "slot": None}
        else:
            decided = {"status": "refused", "reasons": ["no_mask"], "slot": None}
        outbox.append(
            body
            | {"client_ref": str(uuid.uuid4()), "device_id": device_id}
            | {"offline": decided | {"recorded_at": recorded}}
        )
    return outbox


def test_offline_uploads_and_online_check_ins_race_without_exceeding_the_quota(
    database_url, site, door_user, auth_headers
):
    headers = auth_headers(door_user) | {TEST_NOW_HEADER: DEFAULT_NOW.isoformat()}
    env = {"CHECKIN_DATABASE_URL": database_url, "CHECKIN_SECRET_KEY": "offline race"}
    with gunicorn("tests.serving:header_clock_app()", env) as server:
        tablets = [str(uuid.uuid4()) for _ in range(TABLETS)]
        outboxes, leased = [], 0
        for device_id in tablets:
            status, lease = server.request(
                "POST", "/api/v1/leases", {"device_id": device_id}, headers
            )
            assert status == 200, lease
            outboxes.append(offline_outbox(device_id, lease["slots"]))
            leased += len(lease["slots"])

        def upload(outbox: list[dict]) -> list[int]:
            return [server.request("POST", "/api/v1/checkins", body, headers)[0] for body in outbox]

        online = [PASSING | {"client_ref": str(uuid.uuid4())} for _ in range(ONLINE_CHECKS)]
        with ThreadPoolExecutor(max_workers=TABLETS) as pool:
            uploading = [pool.submit(upload, outbox) for outbox in outboxes]
            answers = server.post_all("/api/v1/checkins", online, headers, threads=12)
            uploaded = [status for future in uploading for status in future.result()]

    assert Counter(uploaded) == {201: TABLETS * OFFLINE_CHECKS}
    assert Counter(status for status, _body in answers) == {201: ONLINE_CHECKS}
    db.session.rollback()
    visits = db.session.scalars(sa.select(Visit)).all()
    slots = sorted(visit.slot for visit in visits if visit.slot is not None)
    assert slots == list(range(1, site.daily_quota + 1))
    admitted_online = sum(body["status"] == "admitted" for _status, body in answers)
    assert admitted_online == site.daily_quota - leased
    assert len(visits) == TABLETS * OFFLINE_CHECKS + ONLINE_CHECKS
    assert db.session.scalar(sa.select(sa.func.count()).select_from(UploadConflict)) == 0
    row = db.session.scalar(sa.select(DayQuota))
    assert counters_of(row) == counters_of_rows(site.id, row.day)


def test_the_same_check_posted_twenty_times_at_once_is_stored_once(
    database_url, door_user, auth_headers
):
    headers = auth_headers(door_user) | {TEST_NOW_HEADER: DEFAULT_NOW.isoformat()}
    body = PASSING | {"client_ref": str(uuid.uuid4())}
    env = {"CHECKIN_DATABASE_URL": database_url, "CHECKIN_SECRET_KEY": "twenty"}
    with gunicorn("tests.serving:header_clock_app()", env) as server:
        answers = server.post_all("/api/v1/checkins", [body] * 20, headers, threads=20)
    assert Counter(status for status, _body in answers) == {201: 1, 200: 19}
    assert len({answer["id"] for _status, answer in answers}) == 1
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Visit)) == 1
    row = db.session.scalar(sa.select(DayQuota))
    assert (row.used, row.admitted) == (1, 1)
