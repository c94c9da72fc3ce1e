"""Bookings at scale: finding one at the door among 10,000 of the site, importing 2,000 rows.

Two sites of 10,000 bookings each: one over 115 days (87 a day, as the Kediri branch books),
and a worst case with all 10,000 on the day searched (the name and phone searches read the
day's bookings). The import books 2,000 rows of a fresh site into sessions with room for them,
one commit, as ``flask bookings import`` does. Run alone with
``python -m bench.bookings [sqlite|postgresql]``.
"""

from __future__ import annotations

import os
import statistics
import sys
import time as clock_time
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa

from bench import databases
from bench.report_scale import Timing, captured_statements, in_fresh_session, timed
from checkin.domain import booking_rules
from checkin.extensions import db
from checkin.models import Booking, BookingSession, Site
from checkin.services import bookings, sites

TARGETS_MS = {"find": 20.0, "import": 5000.0}
BOOKINGS = 10_000
SPREAD_PER_DAY = 87
IMPORTED_ROWS = 2_000
IMPORT_RUNS = 3
TODAY = date(2026, 11, 25)
# 10:00 in Kediri.
CLOCK = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
SESSIONS = ((time(8), time(10)), (time(10), time(12)), (time(13), time(15)))


def add_site(code: str, places: int) -> Site:
    """Add a site whose three sessions have ``places`` each."""
    site = sites.add_site(code, f"Bench {code}", "Asia/Jakarta")
    for starts, ends in SESSIONS:
        db.session.add(BookingSession(site_id=site.id, starts=starts, ends=ends, capacity=places))
    db.session.commit()
    return site


def fill(site: Site, days: list[date]) -> list[str]:
    """Store ``BOOKINGS`` bookings of ``site`` over ``days`` in turn; return their codes.

    Written in bulk, past the service: only the search is timed here, not the booking.
    """
    sessions = bookings.sessions_of(site)
    codes = [booking_rules.new_code() for _ in range(BOOKINGS)]
    rows = [
        {
            "site_id": site.id,
            "day": days[number % len(days)],
            "session_id": sessions[number % len(sessions)].id,
            "kind": "visit",
            "name": f"Pengunjung {number}",
            "name_key": f"pengunjung {number}",
            "phone": f"0812{site.id:02d}{number:06d}",
            "nik_last4": f"{number % 10_000:04d}",
            "purpose": "jht_claim",
            "contact": None,
            "external_ref": f"AO-{site.id}-{number}",
            "code": code,
            "status": "booked",
            "created_at": CLOCK,
            "admitted_at": None,
            "visit_id": None,
        }
        for number, code in enumerate(codes)
    ]
    db.session.execute(sa.insert(Booking), rows)
    db.session.commit()
    return codes


def time_finding(url: str) -> list[Timing]:
    """Time finding a booking by code, name and phone on both sites."""
    app = databases.bench_app(url, CLOCK=lambda: CLOCK)
    timings = []
    with app.app_context():
        db.create_all()
        engine = db.engine
        spread = add_site("SPREAD", BOOKINGS)
        days = [TODAY + timedelta(days=offset) for offset in range(BOOKINGS // SPREAD_PER_DAY + 1)]
        spread_codes = fill(spread, days)
        crowded = add_site("CROWDED", BOOKINGS)
        crowded_codes = fill(crowded, [TODAY])
        for label, site_code, codes in (
            ("87 a day", "SPREAD", spread_codes),
            ("10,000 today", "CROWDED", crowded_codes),
        ):
            site_id = db.session.scalar(sa.select(Site.id).where(Site.code == site_code))
            searches = {
                "code": codes[BOOKINGS // 2],
                "code typed in groups": codes[-1][:5].lower() + "-" + codes[-1][5:].lower(),
                "name, part": "pengunjung 50",
                "name, no match": "siti nobody",
                "phone, part": f"{site_id:02d}000050",
            }
            for name, typed in searches.items():

                def run(typed: str = typed, site_id: int = site_id) -> None:
                    bookings.find(db.session.get(Site, site_id), typed, TODAY)

                timing = timed(f"find by {name} ({label})", engine, in_fresh_session(run))
                timings.append(replace(timing, plan=plans(engine, in_fresh_session(run))))
        engine.dispose()
    return timings


def plans(engine: sa.Engine, run) -> str:
    """Return the plans of the statements ``run`` sends that read bookings."""
    with captured_statements(engine) as statements:
        run()
    prefix = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
    found = []
    with engine.connect() as connection:
        for statement, parameters in statements:
            if "FROM booking" in statement:
                rows = connection.exec_driver_sql(prefix + statement, parameters).all()
                found.append("\n".join(" ".join(str(part) for part in row) for row in rows))
    return "\n---\n".join(found)


def import_text(rows: int) -> str:
    """Return a CSV of ``rows`` bookings for tomorrow, spread over the three sessions."""
    header = "date,session,name,phone,nik_last4,purpose,external_ref"
    day = (TODAY + timedelta(days=1)).isoformat()
    lines = [
        f"{day},{SESSIONS[number % 3][0]:%H:%M},Pengunjung {number},"
        f"+62 812 {number:07d},{number % 10_000:04d},jht_claim,AO-{number}"
        for number in range(rows)
    ]
    return "\n".join([header, *lines]) + "\n"


def time_import(url: str) -> Timing:
    """Time importing ``IMPORTED_ROWS`` rows into a fresh site, once per run, one commit each."""
    app = databases.bench_app(url, CLOCK=lambda: CLOCK)
    text = import_text(IMPORTED_ROWS)
    durations = []
    with app.app_context():
        for run in range(IMPORT_RUNS):
            site = add_site(f"IMPORT{run}", IMPORTED_ROWS)
            started = clock_time.perf_counter()
            report = bookings.import_csv(site, text, None, CLOCK)
            db.session.commit()
            durations.append((clock_time.perf_counter() - started) * 1000)
            assert (report.imported, report.refused) == (IMPORTED_ROWS, {}), report.refused
            db.session.remove()
        db.engine.dispose()
    return Timing(
        f"import {IMPORTED_ROWS:,} rows",
        statistics.median(durations),
        min(durations),
        max(durations),
        "",
    )


def verdict(timing: Timing) -> str:
    """Return the target a timing is held to and whether it met it."""
    target = TARGETS_MS["import" if timing.name.startswith("import") else "find"]
    return f"< {target:.0f} ms " + ("met" if timing.median_ms < target else "MISSED")


def main() -> None:
    """Time finding and importing on a fresh database of the engine given; print a table."""
    engine = sys.argv[1] if len(sys.argv) > 1 else "sqlite"
    with databases.fresh_database(engine, "checkin_bench_bookings") as url:
        timings = time_finding(url)
        timings.append(time_import(url))
    print(f"{engine}: load {', '.join(f'{load:.2f}' for load in os.getloadavg())}\n")
    print("| query | median ms | min ms | max ms | target |\n|---|---|---|---|---|")
    for timing in timings:
        print(
            f"| {timing.name} | {timing.median_ms:.1f} | {timing.min_ms:.1f} "
            f"| {timing.max_ms:.1f} | {verdict(timing)} |"
        )
    for timing in timings:
        if timing.plan:
            print(f"\n{timing.name}:\n")
            print("\n".join(f"    {line}" for line in timing.plan.splitlines()))


if __name__ == "__main__":
    main()
