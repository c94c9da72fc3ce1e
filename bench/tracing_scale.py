"""Contact tracing and the head-office page at scale, on the report benchmark's generated years.

Searches cover a whole year (the longest range allowed) at the generated site S001; the worst
case is a term that matches nothing, which reads every check of the year. Run alone with
``python -m bench.tracing_scale [sqlite|postgresql] [sites] [days]``.
"""

from __future__ import annotations

import statistics
import sys
import time
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from bench import databases, report_scale
from bench.report_scale import LAST_DAY, Timing, in_fresh_session, timed
from checkin.extensions import db
from checkin.models import Site, User, Visit
from checkin.services import headoffice, tracing, transaction

TARGETS_MS = {"search": 100.0, "same time": 100.0, "/headoffice page": 200.0}
YEAR = (LAST_DAY - timedelta(days=tracing.MAX_SEARCH_DAYS - 1), LAST_DAY)
SEARCHES = {
    "search: name, no match": {"name": "nobody"},
    "search: name, many matches": {"name": "pengunjung 7"},
    "search: phone part": {"phone": "81210001"},
    "search: NIK last four": {"nik_last4": "0042"},
    "search: by time only": {},
}
# 10:00 in Kediri on the last generated day.
CLOCK = datetime.combine(LAST_DAY, datetime.min.time(), UTC) + timedelta(hours=3)


def time_tracing(database_url: str) -> list[Timing]:
    """Time each kind of search over a year, the "same time" list, and the head-office page."""
    app = databases.bench_app(database_url, CLOCK=lambda: CLOCK)
    with app.app_context():
        engine = db.engine
        site = db.session.scalar(sa.select(Site).where(Site.code == "S001"))
        manager = db.session.scalar(sa.select(User).where(User.username == "bench-manager"))
        check_id = db.session.scalar(
            sa.select(Visit.id).where(
                Visit.site_id == site.id, Visit.day == LAST_DAY, Visit.slot == 30
            )
        )
        runs = {
            name: lambda terms=terms: tracing.search(
                site, tracing.SearchTerms(*YEAR, **terms), manager, CLOCK
            )
            for name, terms in SEARCHES.items()
        }
        # The check is loaded in each run, as the page loads it.
        for minutes in (60, 240):
            runs[f"same time (±{minutes} min)"] = lambda minutes=minutes: tracing.contacts(
                db.session.get(Visit, check_id), minutes, manager, CLOCK
            )
        runs["head office: every site today"] = lambda: headoffice.today_by_site(CLOCK, "-used")
        # Each run commits what it records in the audit log, as its page does.
        runs = {name: transaction.owned()(run) for name, run in runs.items()}
        timings = [timed(name, engine, in_fresh_session(run)) for name, run in runs.items()]
        worst = "search: name, no match"
        timings.append(cpu_time(f"{worst}, process CPU", in_fresh_session(runs[worst])))
    client = app.test_client()
    logged_in = client.post(
        "/login",
        data={"username": "bench-head-office", "password": report_scale.MANAGER_PASSWORD},
    )
    assert logged_in.status_code == 302, logged_in.status_code
    page = report_scale.page_getter(client, "/headoffice")
    timings.append(timed("/headoffice page", engine, page))
    timings.append(cpu_time("/headoffice page, process CPU", page))
    engine.dispose()
    return timings


def cpu_time(name: str, run) -> Timing:
    """Time ``run`` in this process's CPU time: what the page costs, whatever the machine's load.

    The database server's own work (PostgreSQL) is not in it; the wall-clock row beside it is.
    """
    run()
    durations = []
    for _ in range(report_scale.RUNS):
        started = time.process_time()
        run()
        durations.append((time.process_time() - started) * 1000)
    return Timing(name, statistics.median(durations), min(durations), max(durations), "")


def add_head_office(database_url: str) -> None:
    """Add the head-office account the page is timed with."""
    from checkin.models import utcnow
    from checkin.services import accounts

    app = databases.bench_app(database_url)
    with app.app_context():
        with transaction.owned():
            accounts.add_user(
                "bench-head-office",
                "head_office",
                report_scale.MANAGER_PASSWORD,
                None,
                by=None,
                now=utcnow(),
            )
        db.engine.dispose()


def verdict(timing: Timing) -> str:
    """Return the target a timing is held to and whether it met it."""
    target = next(
        (limit for prefix, limit in TARGETS_MS.items() if timing.name.startswith(prefix)),
        TARGETS_MS["search"],
    )
    return f"< {target:.0f} ms " + ("met" if timing.median_ms < target else "MISSED")


def main() -> None:
    """Generate a dataset, time tracing and the head-office page on it, print a table."""
    engine = sys.argv[1] if len(sys.argv) > 1 else "sqlite"
    sites = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    days = int(sys.argv[3]) if len(sys.argv) > 3 else 5 * 365 + 1
    with databases.fresh_database(engine, "checkin_bench_tracing") as url:
        dataset = report_scale.generate(databases.bench_app(url), sites, days)
        add_head_office(url)
        timings = time_tracing(url)
    print(
        f"{engine}: {dataset.sites} site(s) x {dataset.days} days = {dataset.visits:,} visits, "
        f"generated in {dataset.seconds:.0f} s\n"
    )
    print("| query | median ms | min ms | max ms | target |\n|---|---|---|---|---|")
    for timing in timings:
        print(
            f"| {timing.name} | {timing.median_ms:.1f} | {timing.min_ms:.1f} "
            f"| {timing.max_ms:.1f} | {verdict(timing)} |"
        )
    for timing in timings:
        print(f"\n{timing.name}:\n")
        print("\n".join(f"    {line}" for line in timing.plan.splitlines()))


if __name__ == "__main__":
    main()
