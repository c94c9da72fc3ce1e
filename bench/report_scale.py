"""Report queries at scale: years of visits generated with set-based SQL, then timed and explained.

Every generated day follows the rules with the default policy (quota 60, cut-off 37.3 °C): of
150 checks, 6 are first readings at 38.0 °C (re-test), 6 are refused for no mask, the first 60
passing visitors get slots 1..60 and the other 78 are refused with ``quota_full``. The day rows
are then rolled up from the visits with GROUP BY, so their counters equal the rows by construction.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from flask import Flask

from bench.databases import bench_app
from checkin.extensions import db
from checkin.models import Site, User, utcnow
from checkin.services import accounts, entry_log, reports, transaction

VISITS_PER_DAY = 150
QUOTA = 60
LAST_DAY = date(2026, 11, 24)
MANAGER_PASSWORD = "bench-manager-1"
RUNS = 11
TARGETS_MS = {
    "day log": 20.0,
    "/manage/log page": 20.0,
    "year report": 100.0,
    "national month": 200.0,
}
SITES_PER_STATEMENT = 25
# Past this the generation is broken or the machine is overloaded: stop, do not run for an hour.
GENERATION_TIMEOUT = "20min"

# Per visit number n (1..150) of a day: n % 25 = 7 has a fever, n % 25 = 13 wears no mask; a
# passing visitor's rank is n minus the failing numbers up to n, and ranks 1..60 get slot = rank.
VISIT_COLUMNS = """
    site_id, day, local_hour, checked_at, recorded_by_id, visitor_name, phone, nik_last4,
    purpose, temperature_dc, hand_sanitiser, mask, distancing, status, reasons, slot
"""
VISIT_VALUES = """
    site.id, {day}, 7 + (3 * n) / 60, {checked_at}, door.id, 'Pengunjung ' || n,
    '0812' || (1000000 + n), substr('000' || n, -4, 4), 'jht_claim',
    CASE WHEN n % 25 = 7 THEN 380 ELSE 365 END, {true}, n % 25 <> 13, {true},
    CASE WHEN n % 25 = 7 THEN 'recheck' WHEN n % 25 = 13 THEN 'refused'
         WHEN n - (n + 18) / 25 - (n + 12) / 25 <= {quota} THEN 'admitted' ELSE 'refused' END,
    CASE WHEN n % 25 = 7 THEN 'fever' WHEN n % 25 = 13 THEN 'no_mask'
         WHEN n - (n + 18) / 25 - (n + 12) / 25 <= {quota} THEN '' ELSE 'quota_full' END,
    CASE WHEN n % 25 NOT IN (7, 13) AND n - (n + 18) / 25 - (n + 12) / 25 <= {quota}
         THEN n - (n + 18) / 25 - (n + 12) / 25 END
"""
VISIT_SOURCES = {
    "postgresql": """
        FROM site
        JOIN user_account door ON door.site_id = site.id AND door.role = 'door'
        CROSS JOIN generate_series(0, :days - 1) AS d
        CROSS JOIN generate_series(1, {per_day}) AS n
        WHERE site.id BETWEEN :first_site AND :last_site
        ORDER BY site.id, d, n
    """,
    "sqlite": """
        FROM site
        JOIN user_account door ON door.site_id = site.id AND door.role = 'door'
        CROSS JOIN (WITH RECURSIVE days(d) AS (SELECT 0 UNION ALL SELECT d + 1 FROM days
                    WHERE d + 1 < :days) SELECT d FROM days)
        CROSS JOIN (WITH RECURSIVE numbers(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM numbers
                    WHERE n < {per_day}) SELECT n FROM numbers)
        WHERE site.id BETWEEN :first_site AND :last_site
        ORDER BY site.id, d, n
    """,
}
# Dates and instants as each engine stores them (SQLite: the text SQLAlchemy writes).
DIALECT_EXPRESSIONS = {
    "postgresql": {
        "day": "CAST(:first_day AS date) + d",
        "checked_at": "CAST(:first_day AS timestamp) AT TIME ZONE 'UTC'"
        " + (d * 1440 + 3 * n) * interval '1 minute'",
        "true": "true",
    },
    "sqlite": {
        "day": "date(:first_day, '+' || d || ' days')",
        "checked_at": "strftime('%Y-%m-%d %H:%M:%S.000000', :first_day, '+' || d || ' days', "
        "'+' || (3 * n) || ' minutes')",
        "true": "1",
    },
}
ROLLUP = f"""
INSERT INTO day_quota (site_id, day, quota_limit, used, issued, checks, refused, rechecks,
    refused_fever, refused_no_hand_sanitiser, refused_no_mask, refused_no_distancing,
    refused_quota_full, admitted, refused_no_offline_slot, refused_closed, closed)
SELECT site_id, day, {QUOTA},
    SUM(CASE WHEN status = 'admitted' THEN 1 ELSE 0 END),
    SUM(CASE WHEN status = 'admitted' THEN 1 ELSE 0 END),
    COUNT(*),
    SUM(CASE WHEN status = 'refused' THEN 1 ELSE 0 END),
    SUM(CASE WHEN status = 'recheck' THEN 1 ELSE 0 END),
    SUM(CASE WHEN status = 'refused' AND reasons LIKE '%fever%' THEN 1 ELSE 0 END),
    SUM(CASE WHEN reasons LIKE '%no_hand_sanitiser%' THEN 1 ELSE 0 END),
    SUM(CASE WHEN reasons LIKE '%no_mask%' THEN 1 ELSE 0 END),
    SUM(CASE WHEN reasons LIKE '%no_distancing%' THEN 1 ELSE 0 END),
    SUM(CASE WHEN reasons LIKE '%quota_full%' THEN 1 ELSE 0 END),
    SUM(CASE WHEN status = 'admitted' THEN 1 ELSE 0 END),
    0,
    0,
    1 = 0
FROM visit GROUP BY site_id, day
"""
CONSISTENCY = """
SELECT
    (SELECT COUNT(*) FROM visit),
    (SELECT SUM(checks) FROM day_quota),
    (SELECT COUNT(*) FROM day_quota WHERE used <> issued OR used > quota_limit),
    (SELECT COUNT(*) FROM (SELECT site_id, day FROM visit WHERE slot IS NOT NULL
        GROUP BY site_id, day HAVING MIN(slot) <> 1 OR MAX(slot) <> COUNT(*)) AS bad_days)
"""


@dataclass(frozen=True)
class Dataset:
    """What was generated and how long it took."""

    engine: str
    sites: int
    days: int
    visits: int
    day_rows: int
    seconds: float


@dataclass(frozen=True)
class Timing:
    """The median and spread of several runs of one query or page."""

    name: str
    median_ms: float
    min_ms: float
    max_ms: float
    plan: str


def generate(app: Flask, sites: int, days: int) -> Dataset:
    """Fill the app's empty database with ``sites`` x ``days`` x 150 visits and their day rows."""
    started = time.perf_counter()
    first_day = LAST_DAY - timedelta(days=days - 1)
    with app.app_context():
        db.create_all()
        password_hash = _hash(MANAGER_PASSWORD)
        site_rows = [
            Site(code=f"S{number:03d}", name=f"Kantor Cabang {number:03d}", daily_quota=QUOTA)
            for number in range(1, sites + 1)
        ]
        db.session.add_all(site_rows)
        db.session.flush()
        db.session.add_all(
            User(username=f"door-{site.code}", role="door", site=site, password_hash=password_hash)
            for site in site_rows
        )
        db.session.commit()
        with transaction.owned():
            accounts.add_user(
                "bench-manager", "manager", MANAGER_PASSWORD, site_rows[0], by=None, now=utcnow()
            )
        engine = db.engine.dialect.name
        expressions = DIALECT_EXPRESSIONS[engine]
        insert = sa.text(
            f"INSERT INTO visit ({VISIT_COLUMNS}) SELECT "
            + VISIT_VALUES.format(quota=QUOTA, **expressions)
            + VISIT_SOURCES[engine].format(per_day=VISITS_PER_DAY)
        )
        with db.engine.begin() as connection:
            _speed_up_bulk_load(connection)
            for first_site in range(1, sites + 1, SITES_PER_STATEMENT):
                connection.execute(
                    insert,
                    {
                        "days": days,
                        "first_day": first_day.isoformat(),
                        "first_site": first_site,
                        "last_site": first_site + SITES_PER_STATEMENT - 1,
                    },
                )
            connection.execute(sa.text(ROLLUP))
            visits, checks, bad_rows, bad_days = connection.execute(sa.text(CONSISTENCY)).one()
        assert visits == checks == sites * days * VISITS_PER_DAY, (visits, checks)
        assert bad_rows == bad_days == 0, (bad_rows, bad_days)
        _refresh_statistics(db.engine)
        db.engine.dispose()
    return Dataset(engine, sites, days, visits, sites * days, time.perf_counter() - started)


def _hash(password: str) -> str:
    """Return a password hash, computed once for all generated accounts."""
    user = User()
    user.set_password(password)
    return user.password_hash


def _speed_up_bulk_load(connection: sa.Connection) -> None:
    """Bound the load's time and skip per-row foreign-key triggers (the rows are consistent)."""
    if connection.dialect.name == "postgresql":
        connection.execute(sa.text(f"SET LOCAL statement_timeout = '{GENERATION_TIMEOUT}'"))
        connection.execute(sa.text("SET LOCAL session_replication_role = replica"))
        connection.execute(sa.text("SET LOCAL synchronous_commit = off"))


def _refresh_statistics(engine: sa.Engine) -> None:
    """Give the planner fresh statistics, as autovacuum would on a live database."""
    statement = "VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        if engine.dialect.name == "postgresql":
            # The app's few-second statement timeout is for requests, not for a bulk VACUUM.
            connection.execute(sa.text(f"SET statement_timeout = '{GENERATION_TIMEOUT}'"))
        connection.execute(sa.text(statement))


@contextmanager
def captured_statements(engine: sa.Engine) -> Iterator[list[tuple[str, object]]]:
    """Collect the SQL statements and parameters sent while the block runs."""
    statements: list[tuple[str, object]] = []

    def record(_conn, _cursor, statement, parameters, _context, _many) -> None:
        statements.append((statement, parameters))

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


def explain(engine: sa.Engine, run: Callable[[], object]) -> str:
    """Return the plans of the statements ``run`` sends that read visits or day rows."""
    with captured_statements(engine) as statements:
        run()
    prefix = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
    plans = []
    with engine.connect() as connection:
        for statement, parameters in statements:
            if "FROM visit" not in statement and "day_quota" not in statement:
                continue
            rows = connection.exec_driver_sql(prefix + statement, parameters).all()
            plans.append("\n".join(" ".join(str(part) for part in row) for row in rows))
    return "\n---\n".join(plans)


def timed(name: str, engine: sa.Engine, run: Callable[[], object]) -> Timing:
    """Run ``run`` twice to warm up, then ``RUNS`` times; return the median and its plan."""
    for _ in range(2):
        run()
    durations = []
    for _ in range(RUNS):
        started = time.perf_counter()
        run()
        durations.append((time.perf_counter() - started) * 1000)
    return Timing(
        name,
        statistics.median(durations),
        min(durations),
        max(durations),
        explain(engine, run),
    )


def in_fresh_session(query: Callable[[], object]) -> Callable[[], None]:
    """Wrap a service call so each run starts from an empty session, as a request does."""

    def run() -> None:
        query()
        db.session.remove()

    return run


def time_reports(database_url: str) -> list[Timing]:
    """Time the day log (service and page), a month and a year report, and a national month."""
    # 10:00 in Kediri on the last generated day, so /manage/log shows that day's 150 checks.
    clock = datetime.combine(LAST_DAY, datetime.min.time(), UTC) + timedelta(hours=3)
    app = bench_app(database_url, CLOCK=lambda: clock)
    end_of_last_month = LAST_DAY.replace(day=1) - timedelta(days=1)
    month = (end_of_last_month.replace(day=1), end_of_last_month)
    with app.app_context():
        site = db.session.scalar(sa.select(Site).where(Site.code == "S001"))
        engine = db.engine
        checks = {
            "day log": lambda: entry_log.entry_log(site, LAST_DAY),
            "month report": lambda: reports.daily_report(site, *month, LAST_DAY),
            "year report": lambda: reports.daily_report(
                site, LAST_DAY - timedelta(days=364), LAST_DAY, LAST_DAY
            ),
            "national month": lambda: reports.national_summary(*month, LAST_DAY),
        }
        timings = [timed(name, engine, in_fresh_session(run)) for name, run in checks.items()]
    # Outside the app context, so that each request gets its own, as under a server.
    client = app.test_client()
    logged_in = client.post(
        "/login", data={"username": "bench-manager", "password": MANAGER_PASSWORD}
    )
    assert logged_in.status_code == 302, logged_in.status_code
    timings.append(timed("/manage/log page", engine, page_getter(client, "/manage/log")))
    engine.dispose()
    return timings


def page_getter(client, path: str) -> Callable[[], None]:
    """Return a function that fetches ``path`` and fails unless it answers 200."""

    def get() -> None:
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)

    return get


def table(dataset: Dataset, timings: list[Timing], load: tuple[float, float]) -> str:
    """Return a Markdown table of the timings against their targets."""
    lines = [
        f"{dataset.engine}: {dataset.sites} site(s) x {dataset.days} days x {VISITS_PER_DAY} = "
        f"{dataset.visits:,} visits, {dataset.day_rows:,} day rows, generated in "
        f"{dataset.seconds:.0f} s; load {load[0]:.2f}-{load[1]:.2f}",
        "",
        "| query | median ms | min ms | max ms | target |",
        "|---|---|---|---|---|",
    ]
    for timing in timings:
        target = TARGETS_MS.get(timing.name)
        verdict = (
            ""
            if target is None
            else f"< {target:.0f} ms " + ("met" if timing.median_ms < target else "MISSED")
        )
        lines.append(
            f"| {timing.name} | {timing.median_ms:.1f} | {timing.min_ms:.1f} "
            f"| {timing.max_ms:.1f} | {verdict} |"
        )
    return "\n".join(lines)
