"""The waiting-room display's poll under gunicorn: worker CPU per 304 and per full board.

A display asks every 1.5 s all day; nearly every answer is "not changed". The target (issue 17):
a 304 costs under 2 ms of worker CPU. One sync worker serves a day of 60 admitted visitors (40
called, recalls among them); the bench asks with the display's cookie and the board's ETag, one
request after another as the TV does, and reads the worker's CPU from /proc before and after.
"""

from __future__ import annotations

import http.client
import os
import statistics
from datetime import timedelta

import sqlalchemy as sa

from bench.databases import ENGINES, bench_app, fresh_database
from bench.throughput import worker_cpu_seconds
from checkin.extensions import db
from checkin.models import Booth, Visit, utcnow
from checkin.services import accounts, checkins, display, sites, transaction
from checkin.services.checkins import CheckInData
from checkin.web.display import COOKIE
from tests.serving import gunicorn

VISITORS = 60
CALLED = 40
ROUNDS = 5
NOT_CHANGED_PER_ROUND = 1000
FULL_PER_ROUND = 300
TARGET_MS = 2.0
BOARD = "/display/board.json"
# The app's cheapest answer that touches the database (one SELECT 1): the floor under a 304.
HEALTH = "/healthz"


def prepare(url: str) -> str:
    """Fill a day of one site with admitted, called and served visitors; return a display token."""
    app = bench_app(url)
    with app.app_context():
        db.create_all()
        with transaction.owned():
            site = sites.add_site("BENCH", "Kantor Cabang Bench")
            manager = accounts.add_user(
                "bench-manager", "manager", "bench-password-1", site, by=None, now=utcnow()
            )
        now = utcnow()
        booths = list(db.session.scalars(sa.select(Booth).where(Booth.site_id == site.id)))
        passing = CheckInData(temperature_dc=365, hand_sanitiser=True, mask=True, distancing=True)
        with transaction.owned():
            for index in range(VISITORS):
                visit = checkins.check_in(site, None, passing, now - timedelta(hours=2)).visit
                visit.floor_state = "waiting"
                if index < CALLED:
                    visit.floor_state = "done" if index < CALLED - 10 else "called"
                    visit.booth = booths[index % 10]
                    visit.called_at = now - timedelta(minutes=CALLED - index)
                    visit.calls = 1 + index % 3
        with transaction.owned():
            secret = display.issue_display_token(site, "bench TV", manager, now)
        assert db.session.scalar(sa.select(sa.func.count(Visit.id))) == VISITORS
        db.engine.dispose()
    return secret


def get(port: int, headers: dict[str, str], path: str = BOARD) -> tuple[int, str | None]:
    """Ask for ``path`` once, on a new connection as sync workers close each one."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status, response.getheader("ETag")
    finally:
        connection.close()


def cpu_ms_per_request(
    port: int, pid: int, headers: dict[str, str], count: int, status: int, path: str = BOARD
) -> float:
    """Return the worker CPU in ms per request over ``count`` requests answered ``status``."""
    before = worker_cpu_seconds(pid)
    for _request in range(count):
        answered, _etag = get(port, headers, path)
        assert answered == status, answered
    return (worker_cpu_seconds(pid) - before) * 1000 / count


def measure(engine: str) -> tuple[list[float], list[float], list[float]]:
    """Return the CPU per 304, per full board and per health check of each round on ``engine``."""
    not_changed, full, health = [], [], []
    with fresh_database(engine, "checkin_bench_display") as url:
        secret = prepare(url)
        env = {"CHECKIN_DATABASE_URL": url, "CHECKIN_SECRET_KEY": "bench"}
        with gunicorn("wsgi:app", env, workers=1) as server:
            cookie = {"Cookie": f"{COOKIE}={secret}"}
            status, etag = get(server.port, cookie)
            assert status == 200 and etag, status
            polling = cookie | {"If-None-Match": etag}
            pid = server.process.pid
            cpu_ms_per_request(server.port, pid, polling, 100, 304)  # warm up
            for _round in range(ROUNDS):
                not_changed.append(
                    cpu_ms_per_request(server.port, pid, polling, NOT_CHANGED_PER_ROUND, 304)
                )
                full.append(cpu_ms_per_request(server.port, pid, cookie, FULL_PER_ROUND, 200))
                health.append(
                    cpu_ms_per_request(server.port, pid, {}, NOT_CHANGED_PER_ROUND, 200, HEALTH)
                )
    return not_changed, full, health


def run() -> str:
    """Measure each engine and return a Markdown table."""
    lines = [
        "| engine | 304 CPU ms (median of rounds) | slowest round | full board | /healthz "
        "| target |",
        "|---|---|---|---|---|---|",
    ]
    for engine in ENGINES:
        load = os.getloadavg()[0]
        not_changed, full, health = measure(engine)
        verdict = "met" if max(not_changed) < TARGET_MS else "MISSED"
        lines.append(
            f"| {engine} | {statistics.median(not_changed):.2f} | {max(not_changed):.2f} "
            f"| {statistics.median(full):.2f} | {statistics.median(health):.2f} "
            f"| {verdict} (load {load:.2f}) |"
        )
    return (
        f"1 sync worker, {VISITORS} visitors today ({CALLED} called); {ROUNDS} rounds of "
        f"{NOT_CHANGED_PER_ROUND} polls answered 304 and {FULL_PER_ROUND} full boards\n\n"
        + "\n".join(lines)
    )


if __name__ == "__main__":
    print(run())
