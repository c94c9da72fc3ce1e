"""The whole agency on one server: N branches' door tablets, displays, consoles and check-ins.

Every branch has 3 door tablets polling the quota (each with its own token), a waiting-room
display polling its board with its ETag, and 3 officer consoles polling the floor with theirs
(each its own logged-in session), each at the rate its page polls; check-ins arrive as in the
morning rush (40 % of a branch's 147 visitors in its first two hours) with a burst of ten times
that rate for one second in every ten; head office reloads its page every 30 seconds. The load
is open: requests are sent on time whether or not the server keeps up, so a saturated server
shows as latency and errors rather than as fewer requests.

The server is gunicorn with the production settings (deploy/gunicorn.conf.py: one sync worker
per core) on PostgreSQL. The figures per branch count are the workers' CPU (from /proc, so that
the load generator's own CPU, spent in this process on the same machine, is not counted; it
is reported beside it), PostgreSQL's, and p50/p99 of each kind of request, timed from connect
to the last byte. The generator shares the two cores, so its CPU inflates the latencies at the
top of the curve; the workers' CPU per request does not depend on it.

``python -m bench.agency`` runs the whole curve (under 10 minutes); ``--smoke`` one small
branch count for a few seconds, which CI runs so that this cannot rot.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import time
from collections import defaultdict
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from unittest import mock

import pygal
from werkzeug.security import generate_password_hash

from bench.databases import bench_app, fresh_database
from bench.mixed_load import fill_a_day
from bench.throughput import worker_cpu_seconds
from checkin.extensions import db
from checkin.models import accounts as account_models
from checkin.models import utcnow
from checkin.services import accounts, display, floor, sites, transaction
from checkin.web.display import COOKIE as DISPLAY_COOKIE
from checkin.web.display import POLL_MILLISECONDS
from checkin.web.floor import POLL_SECONDS as CONSOLE_POLL_SECONDS
from tests.serving import PROJECT_ROOT, Server, gunicorn

BRANCH_COUNTS = (25, 50, 100, 200, 325, 500)
SECONDS = 20
SMOKE_BRANCHES, SMOKE_SECONDS = 3, 3
TABLETS, DISPLAYS, CONSOLES = 3, 1, 3
TABLET_POLL_SECONDS = 5  # the app's QUOTA_POLL_SECONDS
HEAD_OFFICE_SECONDS = 30
DAY_VISITORS, RUSH_SHARE, RUSH_SECONDS = 147, 0.4, 2 * 3600
BURST_FACTOR, BURST_EVERY_SECONDS = 10, 10
ADMITTED_BEFORE, CALLED_BEFORE = 20, 12  # each branch's morning so far, for the screens
TIMEOUT_SECONDS = 10
P99_TARGET_MS = 100.0
PASSWORD = "bench-password-1"
# The accounts are made here, not by people: a cheap hash keeps making 1,500 of them short.
CHEAP_HASH = "scrypt:1024:8:1"
PASSING = {"temperature_c": 36.6, "hand_sanitiser": True, "mask": True, "distancing": True}
KINDS = ("check-in", "quota poll", "display poll", "console poll", "head office")


@dataclass(frozen=True)
class Branch:
    """What one branch's screens send: a token per tablet, the display's secret, officers."""

    code: str
    tablet_tokens: tuple[str, ...]
    display_secret: str
    officers: tuple[str, ...]


@dataclass
class Seen:
    """Latencies and statuses of one run, by kind of request."""

    latencies_ms: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def add(self, kind: str, status: int, milliseconds: float) -> None:
        self.latencies_ms[kind].append(milliseconds)
        if status not in (200, 201, 304):
            self.errors[kind] += 1


@dataclass(frozen=True)
class Point:
    """One branch count's figures."""

    branches: int
    requests_per_second: float
    worker_cores: float
    postgres_cores: float
    generator_cores: float
    p50_ms: dict[str, float]
    p99_ms: dict[str, float]
    errors: int
    load: float

    @property
    def worker_ms_per_branch_second(self) -> float:
        return self.worker_cores * 1000 / self.branches


def prepare(url: str, count: int) -> list[Branch]:
    """Make ``count`` branches, each with its tablets' tokens, a display, officers at booths
    and a morning of visitors, some called."""
    app = bench_app(url)
    branches = []
    with (
        app.app_context(),
        mock.patch.object(account_models, "generate_password_hash", _cheap_hash),
    ):
        db.create_all()
        now = utcnow()
        with transaction.owned():
            accounts.add_user("agency-head", "head_office", PASSWORD, None, by=None, now=now)
            for number in range(count):
                branches.append(_branch(f"B{number:03d}", now))
        db.engine.dispose()
    return branches


def _cheap_hash(password: str) -> str:
    return generate_password_hash(password, method=CHEAP_HASH)


def _branch(code: str, now) -> Branch:
    site = sites.add_site(code, f"Kantor Cabang {code}")
    door = accounts.add_user(f"{code}-door", "door", PASSWORD, site, by=None, now=now)
    manager = accounts.add_user(f"{code}-manager", "manager", PASSWORD, site, by=None, now=now)
    tokens = tuple(accounts.issue_token(door, f"tablet {index}") for index in range(TABLETS))
    officers = []
    for index in range(CONSOLES):
        officer = accounts.add_user(
            f"{code}-officer{index}", "officer", PASSWORD, site, by=None, now=now
        )
        floor.open_booth(site, officer, index + 1, now)
        officers.append(officer.username)
    secret = display.issue_display_token(site, "waiting room", manager, now)
    fill_a_day(site, now, ADMITTED_BEFORE, CALLED_BEFORE)
    return Branch(code, tokens, secret, tuple(officers))


async def send(port: int, method: str, path: str, headers: dict[str, str], body: bytes = b""):
    """Send one request on its own connection (sync workers close each); return the status,
    the headers and the body."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        head = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
        head += [f"{name}: {value}" for name, value in headers.items()]
        if body:
            head.append(f"Content-Length: {len(body)}")
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        answer = await reader.read(-1)
    finally:
        writer.close()
    top, _blank, content = answer.partition(b"\r\n\r\n")
    lines = top.decode("latin-1").split("\r\n")
    found = {}
    for line in lines[1:]:
        name, _colon, value = line.partition(":")
        found[name.strip().lower()] = value.strip()
    return int(lines[0].split()[1]), found, content


async def timed(seen: Seen, kind: str, port: int, method: str, path: str, headers, body=b""):
    """Send one request and record how long it took; return its headers, or {} on failure."""
    began = time.perf_counter()
    try:
        status, found, _content = await asyncio.wait_for(
            send(port, method, path, headers, body), TIMEOUT_SECONDS
        )
    except (OSError, TimeoutError, IndexError, ValueError):
        status, found = 0, {}
    seen.add(kind, status, (time.perf_counter() - began) * 1000)
    return found


async def log_in(port: int, username: str) -> str:
    """Log in through the login form, as a browser does; return the session cookie."""
    _status, found, page = await send(port, "GET", "/login", {})
    cookie = found["set-cookie"].split(";", 1)[0]
    html = page.decode()
    start = html.index('name="csrf_token"')
    value_at = html.index('value="', start) + len('value="')
    csrf = html[value_at : html.index('"', value_at)]
    form = f"csrf_token={csrf}&username={username}&password={PASSWORD}".encode()
    headers = {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"}
    status, found, _page = await send(port, "POST", "/login", headers, form)
    if status != 302:
        raise RuntimeError(f"logging {username} in answered {status}")
    return found["set-cookie"].split(";", 1)[0]


async def poll_every(
    seen: Seen, kind: str, port: int, path: str, headers: dict, every: float, until: float
) -> None:
    """Poll as a page does, sending back the last ETag, on time whatever the answers take."""
    etag: list[str] = []
    pending = set()
    next_at = time.monotonic() + random.uniform(0, every)
    while next_at < until:
        await asyncio.sleep(max(0.0, next_at - time.monotonic()))
        asked = headers | ({"If-None-Match": etag[0]} if etag else {})
        task = asyncio.create_task(timed(seen, kind, port, "GET", path, asked))
        task.add_done_callback(lambda done: _keep_etag(done, etag))
        pending.add(task)
        task.add_done_callback(pending.discard)
        next_at += every
    await asyncio.gather(*pending)


def _keep_etag(done: asyncio.Task, etag: list[str]) -> None:
    tag = done.result().get("etag")
    if tag:
        etag[:] = [tag]


async def check_in_rush(seen: Seen, ports: list[int], branches: list[Branch], until: float) -> None:
    """Post passing check-ins at the morning rush's rate, ten times it one second in ten."""
    rate = len(branches) * DAY_VISITORS * RUSH_SHARE / RUSH_SECONDS
    body = json.dumps(PASSING).encode()
    pending = set()
    # Arrivals are drawn ahead on the clock: waiting out a draw past the end would stretch the
    # run (at 25 branches one draw is 5 s on average) and thin every figure per second.
    arrives = time.monotonic()
    while True:
        bursting = (arrives % BURST_EVERY_SECONDS) < 1
        arrives += random.expovariate(rate * (BURST_FACTOR if bursting else 1))
        if arrives >= until:
            break
        await asyncio.sleep(max(0.0, arrives - time.monotonic()))
        index = random.randrange(len(branches))
        branch = branches[index]
        headers = {
            "Authorization": f"Bearer {random.choice(branch.tablet_tokens)}",
            "Content-Type": "application/json",
            "Accept": "application/json",
        }
        task = asyncio.create_task(
            timed(
                seen,
                "check-in",
                ports[index % len(ports)],
                "POST",
                "/api/v1/checkins",
                headers,
                body,
            )
        )
        pending.add(task)
        task.add_done_callback(pending.discard)
    await asyncio.gather(*pending)


async def a_run(ports: list[int], branches: list[Branch], sessions: dict[str, str], seconds: float):
    """Play every screen of ``branches`` and the rush for ``seconds``; return what was seen.

    With several servers, each branch is served by one of them, as a balancer that keeps a
    client on its server would do.
    """
    seen = Seen()
    until = time.monotonic() + seconds
    jobs = [check_in_rush(seen, ports, branches, until)]
    for index, branch in enumerate(branches):
        port = ports[index % len(ports)]
        quota = [
            {"Authorization": f"Bearer {token}", "Accept": "application/json"}
            for token in branch.tablet_tokens
        ]
        jobs += [
            poll_every(
                seen, "quota poll", port, "/api/v1/quota/today", h, TABLET_POLL_SECONDS, until
            )
            for h in quota
        ]
        board = {"Cookie": f"{DISPLAY_COOKIE}={branch.display_secret}"}
        jobs += [
            poll_every(
                seen,
                "display poll",
                port,
                "/display/board.json",
                board,
                POLL_MILLISECONDS / 1000,
                until,
            )
            for _display in range(DISPLAYS)
        ]
        jobs += [
            poll_every(
                seen,
                "console poll",
                port,
                "/floor/state",
                {"Cookie": sessions[officer]},
                CONSOLE_POLL_SECONDS,
                until,
            )
            for officer in branch.officers
        ]
    head = {"Cookie": sessions["agency-head"]}
    jobs.append(
        poll_every(seen, "head office", ports[0], "/headoffice", head, HEAD_OFFICE_SECONDS, until)
    )
    await asyncio.gather(*jobs)
    return seen


async def sign_in(port: int, usernames: list[str], sessions: dict[str, str]) -> None:
    """Log in every account not logged in yet, a few at a time."""
    wanted = [name for name in usernames if name not in sessions]
    for start in range(0, len(wanted), 20):
        batch = wanted[start : start + 20]
        for name, cookie in zip(
            batch, await asyncio.gather(*(log_in(port, n) for n in batch)), strict=True
        ):
            sessions[name] = cookie


def postgres_cpu_seconds() -> float:
    """Return the CPU time every PostgreSQL process on this machine has used."""
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        if "(postgres)" in text:
            fields = text.rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def measure(servers: list[Server], branches: list[Branch], sessions, seconds: float) -> Point:
    """Run the load of ``branches`` once and return its point of the curve."""
    ports = [server.port for server in servers]
    officers = [name for branch in branches for name in branch.officers]
    asyncio.run(sign_in(ports[0], officers, sessions))
    workers, postgres = workers_cpu_seconds(servers), postgres_cpu_seconds()
    generator, began = time.process_time(), time.monotonic()
    seen = asyncio.run(a_run(ports, branches, sessions, seconds))
    wall = time.monotonic() - began
    count = sum(len(found) for found in seen.latencies_ms.values())
    return Point(
        branches=len(branches),
        requests_per_second=count / wall,
        worker_cores=(workers_cpu_seconds(servers) - workers) / wall,
        postgres_cores=(postgres_cpu_seconds() - postgres) / wall,
        generator_cores=(time.process_time() - generator) / wall,
        p50_ms={k: statistics.median(v) for k, v in seen.latencies_ms.items()},
        p99_ms={k: _p99(v) for k, v in seen.latencies_ms.items()},
        errors=sum(seen.errors.values()),
        load=os.getloadavg()[0],
    )


def _p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98] if len(values) > 1 else values[0]


def workers_cpu_seconds(servers: list[Server]) -> float:
    """Return the CPU time the workers of every server have used."""
    return sum(worker_cpu_seconds(server.process.pid) for server in servers)


def curve(counts: tuple[int, ...], seconds: float, servers: int = 1) -> list[Point]:
    """Measure each branch count against ``servers`` app servers (gunicorn, production
    settings) on one PostgreSQL database."""
    points = []
    with fresh_database("postgresql", "checkin_bench_agency") as url, ExitStack() as stack:
        branches = prepare(url, max(counts))
        env = {"CHECKIN_DATABASE_URL": url, "CHECKIN_SECRET_KEY": "bench"}
        config = ["--config", str(PROJECT_ROOT / "deploy" / "gunicorn.conf.py")]
        serving = [
            stack.enter_context(gunicorn("wsgi:app", env, os.cpu_count() or 2, config))
            for _server in range(servers)
        ]
        sessions: dict[str, str] = {}
        asyncio.run(sign_in(serving[0].port, ["agency-head"], sessions))
        for count in counts:
            points.append(measure(serving, branches[:count], sessions, seconds))
            print(f"  {row(points[-1])}", flush=True)
    return points


HEADER = (
    "| branches | req/s | workers' CPU (cores of 2) | ms CPU per branch-second | PostgreSQL"
    " (cores) | generator (cores) | "
    + " | ".join(f"{kind} p50/p99 ms" for kind in KINDS)
    + " | errors | load |\n|"
    + "---|" * (8 + len(KINDS))
)


def row(point: Point) -> str:
    cells = [
        f"{point.p50_ms[k]:.0f}/{point.p99_ms[k]:.0f}" if k in point.p50_ms else "-" for k in KINDS
    ]
    return (
        f"| {point.branches} | {point.requests_per_second:.0f} | {point.worker_cores:.2f}"
        f" | {point.worker_ms_per_branch_second:.1f} | {point.postgres_cores:.2f}"
        f" | {point.generator_cores:.2f} | "
        + " | ".join(cells)
        + f" | {point.errors} | {point.load:.1f} |"
    )


def chart(points: list[Point], servers: int) -> str:
    """Return the curve as an SVG: workers' CPU and the worst p99 against branches."""
    figure = pygal.XY(
        title=f"checkin, {servers} app server(s) on 2 cores: branches vs CPU and p99",
        x_title="branches",
        y_title="workers' CPU (% of 2 cores) / worst p99 (ms)",
        show_dots=True,
        disable_xml_declaration=True,
    )
    figure.add("workers' CPU %", [(p.branches, p.worker_cores * 50) for p in points])
    figure.add("worst p99 ms", [(p.branches, max(p.p99_ms.values())) for p in points])
    figure.add("half the CPU", [(points[0].branches, 50), (points[-1].branches, 50)])
    return figure.render(is_unicode=True)


def run(smoke: bool = False, servers: int = 1) -> str:
    """Return the curve as a Markdown table (and write its chart beside the results)."""
    counts, seconds = ((SMOKE_BRANCHES,), SMOKE_SECONDS) if smoke else (BRANCH_COUNTS, SECONDS)
    points = curve(counts, seconds, servers)
    if not smoke:
        name = "agency.svg" if servers == 1 else f"agency-{servers}-servers.svg"
        (PROJECT_ROOT / "bench" / name).write_text(chart(points, servers))
    return HEADER + "\n" + "\n".join(row(point) for point in points)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="one small branch count, a few s")
    parser.add_argument("--servers", type=int, default=1, help="app servers on one database")
    arguments = parser.parse_args()
    print(run(arguments.smoke, arguments.servers))
