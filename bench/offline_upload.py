"""A tablet's outbox uploading when its connection returns: 60 checks, one request each, in order.

The door's script sends its outbox one check after another (the order matters: a re-test
follows its first reading), so the time to empty it is the sum of the answers, measured here
against gunicorn with 2 workers, on each engine. Target: under 3 s for 60 checks.
"""

from __future__ import annotations

import statistics
import time
import uuid

import sqlalchemy as sa

from bench.databases import ENGINES, bench_app, fresh_database
from bench.throughput import prepare_app_database
from checkin.extensions import db
from checkin.models import Site, utcnow
from checkin.services import accounts, pairing, transaction
from checkin.web.common import TABLET_COOKIE
from tests.serving import gunicorn

CHECKS = 60
ROUNDS = 5
WORKERS = 2
TARGET_SECONDS = 3.0
PASSING = {"temperature_c": 36.6, "hand_sanitiser": True, "mask": True, "distancing": True}


def outbox(device_id: str, slots: list[int]) -> list[dict]:
    """Return what a tablet recorded offline: its leased slots given out, then refusals."""
    checks = []
    for number in range(CHECKS):
        slot = slots[number] if number < len(slots) else None
        if slot is not None:
            decided = {"status": "admitted", "reasons": [], "slot": slot}
        else:
            decided = {"status": "refused", "reasons": ["no_offline_slot"], "slot": None}
        recorded = utcnow().isoformat()  # after the lease was granted, as on the tablet
        checks.append(
            PASSING
            | {"client_ref": str(uuid.uuid4()), "device_id": device_id, "visitor_name": "Siti"}
            | {"offline": decided | {"recorded_at": recorded}}
        )
    return checks


def paired_tablet(url: str) -> str:
    """Pair a door tablet of the bench's site, as its manager would; return its credential."""
    with bench_app(url).app_context():
        site = db.session.scalars(sa.select(Site)).one()
        with transaction.owned():
            manager = accounts.add_user(
                f"bench-manager-{uuid.uuid4().hex[:8]}",
                "manager",
                "bench-password-1",
                site,
                by=None,
                now=utcnow(),
            )
            code = pairing.new_code(site, manager, utcnow()).code
            credential = pairing.pair(code, "Bench", "127.0.0.1", utcnow()).credential
        db.engine.dispose()
    return credential


def measure(engine: str) -> list[float]:
    """Return the seconds each round took to upload a fresh outbox of CHECKS checks."""
    seconds = []
    with fresh_database(engine, "checkin_bench_upload") as url:
        token = prepare_app_database(url)
        headers = {"Authorization": f"Bearer {token}"}
        env = {"CHECKIN_DATABASE_URL": url, "CHECKIN_SECRET_KEY": "bench"}
        with gunicorn("wsgi:app", env, WORKERS) as server:
            for _round in range(ROUNDS):
                on_tablet = headers | {"Cookie": f"{TABLET_COOKIE}={paired_tablet(url)}"}
                status, lease = server.request("POST", "/api/v1/leases", {}, on_tablet)
                assert status == 200, lease
                checks = outbox(lease["device_id"], lease["slots"])
                started = time.perf_counter()
                statuses = [
                    server.request("POST", "/api/v1/checkins", check, on_tablet)[0]
                    for check in checks
                ]
                seconds.append(time.perf_counter() - started)
                assert statuses == [201] * CHECKS, statuses
    return seconds


def run() -> str:
    """Measure each engine and return a Markdown table."""
    lines = [
        "| engine | workers | checks | median s | slowest s | per check ms | target |",
        "|---|---|---|---|---|---|---|",
    ]
    for engine in ENGINES:
        seconds = measure(engine)
        median, slowest = statistics.median(seconds), max(seconds)
        verdict = "met" if slowest < TARGET_SECONDS else "MISSED"
        lines.append(
            f"| {engine} | {WORKERS} | {CHECKS} | {median:.2f} | {slowest:.2f} "
            f"| {median * 1000 / CHECKS:.1f} | {verdict} |"
        )
    return f"{ROUNDS} rounds per engine, a fresh tablet and lease each\n\n" + "\n".join(lines)
