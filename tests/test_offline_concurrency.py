"""Tablets uploading what they recorded offline while online check-ins race, on gunicorn with
four workers: exactly the quota is admitted, each slot once, each check stored once."""

from __future__ import annotations

import re
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import requests
import sqlalchemy as sa

from checkin.extensions import db
from checkin.models import DayQuota, Device, LeasedSlot, UploadConflict, Visit
from checkin.services import day_counter, headoffice, reports
from checkin.web.common import TABLET_COOKIE
from tests.conftest import DEFAULT_NOW, PASSWORD, counters_of, counters_of_rows
from tests.serving import CLAIM_DELAY_VARIABLE, TEST_NOW_HEADER, gunicorn

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
    database_url, site, door_user, auth_headers, pair_tablet
):
    headers = auth_headers(door_user) | {TEST_NOW_HEADER: DEFAULT_NOW.isoformat()}
    env = {"CHECKIN_DATABASE_URL": database_url, "CHECKIN_SECRET_KEY": "offline race"}
    tablets = [pair_tablet() for _ in range(TABLETS)]
    with gunicorn("tests.serving:header_clock_app()", env) as server:
        outboxes, leased = [], 0
        for tablet in tablets:
            on_tablet = headers | {"Cookie": f"{TABLET_COOKIE}={tablet.credential}"}
            status, lease = server.request("POST", "/api/v1/leases", {}, on_tablet)
            assert status == 200, lease
            outboxes.append((on_tablet, offline_outbox(lease["device_id"], lease["slots"])))
            leased += len(lease["slots"])

        def upload(on_tablet: dict, outbox: list[dict]) -> list[int]:
            return [
                server.request("POST", "/api/v1/checkins", body, on_tablet)[0] for body in outbox
            ]

        online = [PASSING | {"client_ref": str(uuid.uuid4())} for _ in range(ONLINE_CHECKS)]
        with ThreadPoolExecutor(max_workers=TABLETS) as pool:
            uploading = [pool.submit(upload, *outbox) for outbox in outboxes]
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


PAIRED_TABLETS = 6
MADE_UP_TABLETS = 30
ONLINE_CLIENTS = 3


def manager_browser(server, manager, headers: dict) -> requests.Session:
    """Log a manager's browser in through the login form, as a person would."""
    browser = requests.Session()
    browser.headers.update(headers)
    base = f"http://127.0.0.1:{server.port}"
    page = browser.get(f"{base}/login", timeout=30).text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    login = {"csrf_token": token, "username": manager.username, "password": PASSWORD}
    assert browser.post(f"{base}/login", data=login, timeout=30).ok
    return browser


def test_only_paired_tablets_hold_slots_whatever_browsers_and_made_up_tablets_do(
    database_url, site, door_user, manager_user, auth_headers, pair_tablet
):
    """6 paired tablets leasing, admitting online, deciding offline, uploading and giving slots
    back; online clients; a manager's browser on the door page; one token inventing 30 tablet
    ids: at most the limit admitted, used == admitted + held by paired tablets, each slot once,
    and the door, the API, reports and head office read the same limit."""
    at = {TEST_NOW_HEADER: DEFAULT_NOW.isoformat()}
    headers = auth_headers(door_user) | at
    env = {
        "CHECKIN_DATABASE_URL": database_url,
        "CHECKIN_SECRET_KEY": "slots race",
        CLAIM_DELAY_VARIABLE: "0.005",
    }
    tablets = [pair_tablet() for _ in range(PAIRED_TABLETS)]
    with gunicorn("tests.serving:header_clock_app()", env) as server:
        base = f"http://127.0.0.1:{server.port}"

        def tablet_day(credential: str) -> Counter:
            """Lease, admit online from the lease, record offline, upload, give the rest back."""
            on_tablet = headers | {"Cookie": f"{TABLET_COOKIE}={credential}"}
            seen = Counter()
            status, lease = server.request("POST", "/api/v1/leases", {}, on_tablet)
            seen[status] += 1
            for body in offline_outbox(lease["device_id"], lease["slots"][:2])[:3]:
                seen[server.request("POST", "/api/v1/checkins", body, on_tablet)[0]] += 1
            for _visitor in range(4):
                body = PASSING | {"client_ref": str(uuid.uuid4())}
                seen[server.request("POST", "/api/v1/checkins", body, on_tablet)[0]] += 1
            status, lease = server.request("POST", "/api/v1/leases", {}, on_tablet)
            back = {"day": lease["day"], "slots": lease["slots"][:1]}
            for _send in range(2):  # the message repeated, as a tablet does until it hears back
                seen[server.request("POST", "/api/v1/leases/return", back, on_tablet)[0]] += 1
            return seen

        def made_up_tablets() -> Counter:
            seen = Counter()
            for _tablet in range(MADE_UP_TABLETS):
                made_up = str(uuid.uuid4())
                status, _lease = server.request(
                    "POST", "/api/v1/leases", {"device_id": made_up}, headers
                )
                seen[status] += 1
                upload = PASSING | {
                    "client_ref": str(uuid.uuid4()),
                    "device_id": made_up,
                    "offline": {
                        "recorded_at": DEFAULT_NOW.isoformat(),
                        "status": "admitted",
                        "reasons": [],
                        "slot": 1,
                    },
                }
                seen[server.request("POST", "/api/v1/checkins", upload, headers)[0]] += 1
            return seen

        def browsing_manager() -> Counter:
            browser = manager_browser(server, manager_user, at)
            seen = Counter()
            for _look in range(5):
                seen[browser.get(f"{base}/", timeout=30).status_code] += 1
                seen[browser.get(f"{base}/api/v1/quota/today", timeout=30).status_code] += 1
            token = re.search(
                r'name="csrf_token"[^>]*value="([^"]+)"', browser.get(f"{base}/", timeout=30).text
            ).group(1)
            lease = browser.post(
                f"{base}/api/v1/leases", json={}, headers={"X-CSRFToken": token}, timeout=30
            )
            seen[lease.status_code] += 1
            return seen

        def online_client() -> Counter:
            bodies = [PASSING | {"client_ref": str(uuid.uuid4())} for _ in range(15)]
            return Counter(
                server.request("POST", "/api/v1/checkins", body, headers)[0] for body in bodies
            )

        with ThreadPoolExecutor(max_workers=PAIRED_TABLETS + ONLINE_CLIENTS + 2) as pool:
            days = [pool.submit(tablet_day, tablet.credential) for tablet in tablets]
            clients = [pool.submit(online_client) for _ in range(ONLINE_CLIENTS)]
            inventing = pool.submit(made_up_tablets)
            browsing = pool.submit(browsing_manager)
            tablet_answers = sum((day.result() for day in days), Counter())
            client_answers = sum((client.result() for client in clients), Counter())
            invented = inventing.result()
            browsed = browsing.result()
        api_quota = server.request("GET", "/api/v1/quota/today", None, headers)[1]

    assert set(tablet_answers) <= {200, 201}, tablet_answers
    assert client_answers == {201: ONLINE_CLIENTS * 15}
    # Made-up tablets lease nothing; what they upload as admitted is kept for the manager.
    assert invented == {404: MADE_UP_TABLETS, 409: MADE_UP_TABLETS}
    assert browsed == {200: 10, 404: 1}
    db.session.rollback()
    day = site.local_day(DEFAULT_NOW)
    quota = day_counter.quota_today(site, DEFAULT_NOW)
    visits = db.session.scalars(sa.select(Visit).where(Visit.day == day)).all()
    admitted = [visit.slot for visit in visits if visit.status == "admitted"]
    assert len(admitted) == quota.admitted <= quota.limit == site.daily_quota
    assert len(admitted) == len(set(admitted))
    held_by = db.session.execute(
        sa.select(Device.paired_at, sa.func.count())
        .join(LeasedSlot, LeasedSlot.device_id == Device.id)
        .where(
            LeasedSlot.day == day,
            LeasedSlot.used_at.is_(None),
            LeasedSlot.returned_at.is_(None),
            LeasedSlot.released_at.is_(None),
        )
        .group_by(Device.paired_at)
    ).all()
    assert all(paired_at is not None for paired_at, _count in held_by)
    assert quota.used == quota.admitted + sum(count for _paired, count in held_by)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Device)) == PAIRED_TABLETS
    row = db.session.get(DayQuota, (site.id, day))
    assert counters_of(row) == counters_of_rows(site.id, day)
    (report,) = reports.daily_report(site, day, day, day)
    (head_office,) = headoffice.today_by_site(DEFAULT_NOW)
    assert quota.limit == api_quota["limit"] == report.quota == head_office.limit
    assert quota.used == api_quota["used"] == head_office.used
