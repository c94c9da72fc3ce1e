"""Check-in throughput and latency under gunicorn: the app, its bare SQL and the floor, same run."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from datetime import date
from itertools import product
from pathlib import Path

import sqlalchemy as sa

from bench.databases import ENGINES, bench_app, fresh_database
from bench.floor_app import floor_table_sql
from checkin.extensions import db
from checkin.models import DayQuota, Site, utcnow
from checkin.services import accounts, sites, transaction
from tests.serving import gunicorn

POST_SCRIPT = Path(__file__).with_name("post.lua")
# The app, its three statements in a minimal app (bench/bare_app.py), the one-INSERT floor.
SUBJECTS = ("app", "bare", "floor")
WORKER_COUNTS = (2, 4)
CONNECTIONS = (8, 16)
WARM_UP_SECONDS = 1
# Big enough that every posted check-in passes and claims a slot: the costliest path.
UNLIMITED_QUOTA = 10_000_000
TARGET_RATIO = 0.5
TARGET_P99_MS = 50.0


@dataclass(frozen=True)
class Measurement:
    """What wrk saw for one server at one concurrency."""

    engine: str
    workers: int
    connections: int
    subject: str
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    worker_cpu_ms: float
    failures: int
    load_before: float
    load_after: float


def prepare_app_database(url: str) -> str:
    """Create the app's tables, a site with room for every post and a door token; return it."""
    app = bench_app(url)
    with app.app_context():
        db.create_all()
        with transaction.owned():
            site = sites.add_site("BENCH", "Kantor Cabang Bench", daily_quota=UNLIMITED_QUOTA)
            door = accounts.add_user(
                "bench-door", "door", "bench-password-1", site, by=None, now=utcnow()
            )
            token = accounts.issue_token(door, "wrk")
        db.engine.dispose()
    return token


def prepare_bare_database(url: str) -> tuple[str, date]:
    """Prepare the app's database with today's counter row open; return a door token and the day.

    The bare app only claims slots on an existing row: creating it is the app's business.
    """
    token = prepare_app_database(url)
    app = bench_app(url)
    with app.app_context():
        site = db.session.scalars(sa.select(Site)).one()
        day = site.local_day(utcnow())
        db.session.add(DayQuota(site_id=site.id, day=day, limit=site.daily_quota))
        db.session.commit()
        db.engine.dispose()
    return token, day


def prepare_floor_database(url: str) -> None:
    """Create the floor app's one table."""
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text(floor_table_sql(engine.dialect.name)))
    engine.dispose()


def run_wrk(port: int, connections: int, seconds: int, token: str) -> dict:
    """Post check-ins with wrk for ``seconds`` and return the figures its script prints."""
    completed = subprocess.run(
        [
            "wrk",
            "--threads",
            "2",
            "--connections",
            str(connections),
            "--duration",
            f"{seconds}s",
            "--timeout",
            "10s",
            "--latency",
            "--script",
            str(POST_SCRIPT),
            f"http://127.0.0.1:{port}/api/v1/checkins",
        ],
        env=os.environ | {"BENCH_TOKEN": token},
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 60,
    )
    return json.loads(completed.stdout.strip().splitlines()[-1])


def measure(engine: str, workers: int, connections: int, subject: str, seconds: int) -> Measurement:
    """Serve ``subject`` (one of SUBJECTS) on a fresh database and measure it with wrk."""
    with fresh_database(engine, f"checkin_bench_{subject}") as url:
        if subject == "app":
            token = prepare_app_database(url)
            app_spec, env = "wsgi:app", {"CHECKIN_DATABASE_URL": url, "CHECKIN_SECRET_KEY": "b"}
        elif subject == "bare":
            token, day = prepare_bare_database(url)
            app_spec = "bench.bare_app:create_app()"
            env = {"BARE_DATABASE_URL": url, "BARE_DAY": day.isoformat()}
        else:
            prepare_floor_database(url)
            token, app_spec, env = "", "bench.floor_app:create_app()", {"FLOOR_DATABASE_URL": url}
        with gunicorn(app_spec, env, workers) as server:
            run_wrk(server.port, connections, WARM_UP_SECONDS, token)
            load_before = os.getloadavg()[0]
            cpu_before = worker_cpu_seconds(server.process.pid)
            figures = run_wrk(server.port, connections, seconds, token)
            cpu_after = worker_cpu_seconds(server.process.pid)
            load_after = os.getloadavg()[0]
    return Measurement(
        engine=engine,
        workers=workers,
        connections=connections,
        subject=subject,
        requests_per_second=figures["requests"] / (figures["duration_us"] / 1e6),
        p50_ms=figures["p50_us"] / 1000,
        p99_ms=figures["p99_us"] / 1000,
        max_ms=figures["max_us"] / 1000,
        worker_cpu_ms=(cpu_after - cpu_before) * 1000 / max(figures["requests"], 1),
        failures=figures["non_2xx"] + figures["socket_errors"],
        load_before=load_before,
        load_after=load_after,
    )


def worker_cpu_seconds(master_pid: int) -> float:
    """Return the CPU time (user + system) the gunicorn workers of ``master_pid`` have used.

    Unlike req/s, CPU per request hardly depends on what else the shared machine runs.
    """
    total_ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process ended while we looked
        # After the command name: state, ppid, ... utime and stime are fields 14 and 15.
        if int(fields[1]) == master_pid:
            total_ticks += int(fields[11]) + int(fields[12])
    return total_ticks / os.sysconf("SC_CLK_TCK")


def run(seconds: int, engines: tuple[str, ...] = ENGINES) -> list[Measurement]:
    """Measure every subject for every engine, worker count and concurrency, interleaved.

    The order of the subjects flips from one cell to the next so that a load change on the
    shared machine does not always fall on the same side.
    """
    measurements = []
    cells = product(engines, WORKER_COUNTS, CONNECTIONS)
    for index, (engine, workers, connections) in enumerate(cells):
        for subject in SUBJECTS if index % 2 == 0 else SUBJECTS[::-1]:
            measurements.append(measure(engine, workers, connections, subject, seconds))
            print(f"  {measurements[-1]}", flush=True)
    return measurements


def table(measurements: list[Measurement]) -> str:
    """Return a Markdown table of each cell's subjects side by side, with the targets checked."""
    lines = [
        "| engine | workers | conns | app req/s | bare req/s | floor req/s | app/floor "
        "| bare/floor | app p50 ms | app p99 ms | floor p50 ms | floor p99 ms "
        "| worker CPU ms/req app/bare/floor | failures app/bare/floor | load 1 min |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    cells: dict[tuple, dict[str, Measurement]] = {}
    for item in measurements:
        cells.setdefault((item.engine, item.workers, item.connections), {})[item.subject] = item
    for (engine, workers, connections), cell in cells.items():
        app, bare, floor = (cell[subject] for subject in SUBJECTS)
        ratio = app.requests_per_second / floor.requests_per_second
        loads = [value for item in cell.values() for value in (item.load_before, item.load_after)]
        lines.append(
            f"| {engine} | {workers} | {connections} | {app.requests_per_second:.0f} "
            f"| {bare.requests_per_second:.0f} | {floor.requests_per_second:.0f} "
            f"| {ratio:.0%}{verdict(ratio >= TARGET_RATIO)} "
            f"| {bare.requests_per_second / floor.requests_per_second:.0%} "
            f"| {app.p50_ms:.1f} | {app.p99_ms:.1f}"
            f"{verdict(engine != 'sqlite' or app.p99_ms < TARGET_P99_MS)} "
            f"| {floor.p50_ms:.1f} | {floor.p99_ms:.1f} "
            f"| {app.worker_cpu_ms:.2f}/{bare.worker_cpu_ms:.2f}/{floor.worker_cpu_ms:.2f} "
            f"| {app.failures}/{bare.failures}/{floor.failures} "
            f"| {min(loads):.2f}-{max(loads):.2f} |"
        )
    return "\n".join(lines)


def verdict(met: bool) -> str:
    """Mark a figure that misses its target."""
    return "" if met else " (missed)"
