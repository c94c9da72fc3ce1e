"""Check-ins while the service floor's screens poll: does the floor slow the door down?

Target (issue 17): with 2 sync workers, 1 waiting-room display + 3 officer consoles + 4 door
tablets polling at their normal rates, check-in throughput falls by less than 10 % and its p99
stays under 50 ms. wrk posts admitted check-ins as in ``bench/throughput.py``; threads play the
screens, each on its own session or token with its ETag, at the page's own interval. Rounds
alone and with the screens alternate, so that a change of load on a shared machine falls on all.

The screens watch one of two sites on the same server: an office with a real day (60 admitted,
40 of them called), or the site wrk posts to, whose day grows by a thousand admitted visitors a
second, every one of them waiting, so that each poll counts tens of thousands of rows: the
worst case, no office's day.
"""

from __future__ import annotations

import http.client
import os
import re
import statistics
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlencode

import sqlalchemy as sa

from bench.databases import ENGINES, bench_app, fresh_database
from bench.throughput import UNLIMITED_QUOTA, run_wrk
from checkin.domain.calling import CALLED, DONE
from checkin.extensions import db
from checkin.models import Booth, Site, utcnow
from checkin.services import accounts, checkins, display, floor, sites, transaction
from checkin.services.checkins import CheckInData
from checkin.web.display import COOKIE, POLL_MILLISECONDS
from checkin.web.floor import POLL_SECONDS as CONSOLE_POLL_SECONDS
from tests.serving import gunicorn

WORKERS = 2
CONNECTIONS = 8
ROUNDS = 3
DISPLAYS, CONSOLES, TABLETS = 1, 3, 4
PASSWORD = "bench-password-1"
TARGET_DROP = 0.10
TARGET_P99_MS = 50.0
NO_ANSWER = 0  # the status a poll that got no answer is counted under


@dataclass(frozen=True)
class Screen:
    """One polling screen: what it asks, with which headers, how often."""

    name: str
    path: str
    headers: dict[str, str]
    every_seconds: float


@dataclass
class Polls:
    """What the screens saw during one round."""

    latencies_ms: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, status: int, milliseconds: float) -> None:
        with self.lock:
            self.latencies_ms.append(milliseconds)
            self.statuses[status] = self.statuses.get(status, 0) + 1


# Where the screens look: a real office's day, or the day wrk fills.
PLACES = ("office", "posted")
OFFICE_ADMITTED, OFFICE_CALLED = 60, 40


@dataclass(frozen=True)
class Setting:
    """wrk's door token, each place's display secret, and the tablets' interval."""

    token: str
    display_secrets: dict[str, str]
    tablet_poll_seconds: float


def prepare(url: str) -> Setting:
    """Make wrk's site (room for every post) and an office with a day of visitors; staff both."""
    app = bench_app(url)
    with app.app_context():
        db.create_all()
        now = utcnow()
        with transaction.owned():
            posted = sites.add_site("BENCH", "Kantor Cabang Bench", daily_quota=UNLIMITED_QUOTA)
            office = sites.add_site("OFFICE", "Kantor Cabang Office")
            door = accounts.add_user("bench-door", "door", PASSWORD, posted, by=None, now=now)
            token = accounts.issue_token(door, "wrk")
            places = zip(PLACES, (office, posted), strict=True)
            secrets = {place: staff(site, place, now) for place, site in places}
            fill_a_day(office, now)
        db.engine.dispose()
    return Setting(token, secrets, app.config["QUOTA_POLL_SECONDS"])


def staff(site: Site, place: str, now: datetime) -> str:
    """Give ``site`` door tablets and officers holding a booth each; return a display secret."""
    manager = accounts.add_user(f"{place}-manager", "manager", PASSWORD, site, by=None, now=now)
    for index in range(TABLETS):
        accounts.add_user(f"{place}-door{index}", "door", PASSWORD, site, by=None, now=now)
    for index in range(CONSOLES):
        officer = accounts.add_user(
            f"{place}-officer{index}", "officer", PASSWORD, site, by=None, now=now
        )
        floor.open_booth(site, officer, index + 1, now)
    return display.issue_display_token(site, "bench TV", manager, now)


def fill_a_day(
    site: Site, now: datetime, admitted: int = OFFICE_ADMITTED, called: int = OFFICE_CALLED
) -> None:
    """Admit ``admitted`` visitors of the morning and call the first ``called`` of them,
    served or at a booth, in the caller's transaction."""
    passing = CheckInData(temperature_dc=365, hand_sanitiser=True, mask=True, distancing=True)
    booths = list(db.session.scalars(sa.select(Booth).where(Booth.site_id == site.id)))
    for index in range(admitted):
        visit = checkins.check_in(site, None, passing, now - timedelta(hours=2)).visit
        if index < called:
            visit.floor_state = DONE if index < called - len(booths) else CALLED
            visit.booth = booths[index % len(booths)]
            visit.called_at = now - timedelta(minutes=called - index)
            visit.calls = 1


def request(port: int, method: str, path: str, headers: dict[str, str], body: str = ""):
    """Send one request on a new connection (sync workers close each); return the response."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(method, path, body=body or None, headers=headers)
        response = connection.getresponse()
        response.read()
        return response
    finally:
        connection.close()


def log_in(port: int, username: str) -> dict[str, str]:
    """Log in through the login form, as a browser does; return the session cookie header."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", "/login")
    page = connection.getresponse()
    html = page.read().decode()
    connection.close()
    cookie = page.getheader("Set-Cookie").split(";", 1)[0]
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
    form = urlencode({"csrf_token": csrf, "username": username, "password": PASSWORD})
    answer = request(
        port,
        "POST",
        "/login",
        {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"},
        form,
    )
    assert answer.status == 302, answer.status
    return {"Cookie": answer.getheader("Set-Cookie").split(";", 1)[0]}


def screens(port: int, setting: Setting, place: str) -> list[Screen]:
    """Open every screen of a place's floor: the display, the consoles and the door tablets."""
    cookie = {"Cookie": f"{COOKIE}={setting.display_secrets[place]}"}
    shown = [
        Screen("display", "/display/board.json", cookie, POLL_MILLISECONDS / 1000)
        for _ in range(DISPLAYS)
    ]
    shown += [
        Screen(
            "console",
            "/floor/state",
            log_in(port, f"{place}-officer{index}"),
            CONSOLE_POLL_SECONDS,
        )
        for index in range(CONSOLES)
    ]
    shown += [
        Screen(
            "tablet",
            "/api/v1/quota/today",
            log_in(port, f"{place}-door{index}") | {"Accept": "application/json"},
            setting.tablet_poll_seconds,
        )
        for index in range(TABLETS)
    ]
    return shown


def poll(port: int, screen: Screen, until: float, polls: Polls) -> None:
    """Ask as the screen's page does until ``until``, sending back the last ETag."""
    etag = None
    while time.monotonic() < until:
        began = time.perf_counter()
        headers = screen.headers | ({"If-None-Match": etag} if etag else {})
        try:
            response = request(port, "GET", screen.path, headers)
        except (OSError, http.client.HTTPException):
            polls.add(NO_ANSWER, (time.perf_counter() - began) * 1000)
        else:
            polls.add(response.status, (time.perf_counter() - began) * 1000)
            etag = response.getheader("ETag") or etag
        time.sleep(max(0.0, screen.every_seconds - (time.perf_counter() - began)))


def check_ins(
    port: int, token: str, seconds: int, shown: list[Screen] | None
) -> tuple[dict, Polls]:
    """Post check-ins with wrk for ``seconds``, with the screens polling when ``shown``."""
    polls = Polls()
    threads = [
        threading.Thread(target=poll, args=(port, screen, time.monotonic() + seconds, polls))
        for screen in shown or []
    ]
    for thread in threads:
        thread.start()
    figures = run_wrk(port, CONNECTIONS, seconds, token)
    for thread in threads:
        thread.join()
    return figures, polls


@dataclass(frozen=True)
class Round:
    """One round's check-ins alone (place None) or beside a place's screens."""

    engine: str
    place: str | None
    requests_per_second: float
    p99_ms: float
    failures: int
    polls: int
    poll_p99_ms: float | None
    load: float


def measure(engine: str, seconds: int) -> list[Round]:
    """Alternate rounds alone and beside each place's screens on one server of ``engine``."""
    rounds = []
    with fresh_database(engine, "checkin_bench_mixed") as url:
        setting = prepare(url)
        env = {"CHECKIN_DATABASE_URL": url, "CHECKIN_SECRET_KEY": "bench"}
        with gunicorn("wsgi:app", env, workers=WORKERS) as server:
            shown = {place: screens(server.port, setting, place) for place in PLACES}
            run_wrk(server.port, CONNECTIONS, 1, setting.token)  # warm up
            for _round in range(ROUNDS):
                for place in (None, *PLACES):
                    figures, polls = check_ins(
                        server.port, setting.token, seconds, shown.get(place)
                    )
                    rounds.append(a_round(engine, place, figures, polls))
                    print(f"  {rounds[-1]}", flush=True)
    return rounds


def a_round(engine: str, place: str | None, figures: dict, polls: Polls) -> Round:
    """Return what wrk and the screens saw in one round."""
    latencies = sorted(polls.latencies_ms)
    return Round(
        engine=engine,
        place=place,
        requests_per_second=figures["requests"] / (figures["duration_us"] / 1e6),
        p99_ms=figures["p99_us"] / 1000,
        # A screen's failed poll counts as much as a refused check-in.
        failures=figures["non_2xx"]
        + figures["socket_errors"]
        + sum(count for status, count in polls.statuses.items() if status not in (200, 304)),
        polls=len(latencies),
        poll_p99_ms=latencies[int(len(latencies) * 0.99)] if latencies else None,
        load=os.getloadavg()[0],
    )


def run(seconds: int) -> str:
    """Measure each engine and return a Markdown table with the targets checked."""
    lines = [
        "| engine | screens watch | req/s alone (rounds) | req/s with screens (rounds) | drop "
        "| p99 ms alone (worst) | p99 ms with screens (worst) | polls | poll p99 ms | failures "
        "| load 1 min | targets |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for engine in ENGINES:
        rounds = measure(engine, seconds)
        alone = [item for item in rounds if item.place is None]
        rate_alone = statistics.median(item.requests_per_second for item in alone)
        for place in PLACES:
            beside = [item for item in rounds if item.place == place]
            drop = 1 - statistics.median(item.requests_per_second for item in beside) / rate_alone
            p99 = max(item.p99_ms for item in beside)
            failures = sum(item.failures for item in (*alone, *beside))
            met = drop < TARGET_DROP and p99 < TARGET_P99_MS and failures == 0
            loads = [item.load for item in (*alone, *beside)]
            lines.append(
                f"| {engine} | {place} "
                f"| {' / '.join(f'{item.requests_per_second:.0f}' for item in alone)} "
                f"| {' / '.join(f'{item.requests_per_second:.0f}' for item in beside)} "
                f"| {drop:+.1%} | {max(item.p99_ms for item in alone):.1f} | {p99:.1f} "
                f"| {sum(item.polls for item in beside)} "
                f"| {max(item.poll_p99_ms or 0 for item in beside):.1f} "
                f"| {failures} "
                f"| {min(loads):.1f}-{max(loads):.1f} | {'met' if met else 'missed'} |"
            )
    return "\n".join(lines)
