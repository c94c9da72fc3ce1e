"""Plausible demo history: weekday walk-ins of a branch office, recorded by the real service.

Every made-up check goes through :func:`checkin.services.checkins.record` at the time it
happened, so the demo's counters, slots and re-tests follow the same rules as a live door.
"""

from __future__ import annotations

import heapq
import random
from datetime import date, datetime, time, timedelta

from checkin import admission
from checkin.extensions import db
from checkin.models import Site, User, Visit
from checkin.services import checkins
from checkin.services.checkins import CheckInData

FIRST_NAMES = (
    "Siti",
    "Budi",
    "Dewi",
    "Agus",
    "Sri",
    "Eko",
    "Rina",
    "Joko",
    "Wahyu",
    "Ayu",
    "Putri",
    "Hendra",
    "Nur",
    "Bambang",
    "Yuliana",
    "Rudi",
    "Fitri",
    "Dimas",
)
LAST_NAMES = (
    "Aminah",
    "Santoso",
    "Lestari",
    "Wijaya",
    "Rahayu",
    "Pratama",
    "Hidayat",
    "Susanti",
    "Nugroho",
    "Setiawan",
    "Kurniawan",
    "Wulandari",
    "Saputra",
)
# Walk-ins queue before the 08:00 opening and thin out after lunch.
HOUR_WEIGHTS = {7: 18, 8: 30, 9: 20, 10: 12, 11: 8, 12: 4, 13: 5, 14: 3}
# Monday brings the weekend's backlog; Friday prayers shorten the day.
WEEKDAY_DEMAND = (1.3, 1.1, 1.0, 0.95, 0.75)
TYPICAL_ARRIVALS = 62
# Over the months more members file claims online, so walk-ins slowly fall by this share.
ONLINE_UPTAKE = 0.25


def seed_history(
    site: Site,
    staff: list[User],
    start: date,
    end: date,
    rng: random.Random,
    until: datetime | None = None,
) -> int:
    """Add weekday checks from ``start`` to ``end`` inclusive, none after ``until``; count them."""
    count = 0
    day = start
    span = max((end - start).days, 1)
    while day <= end:
        if day.weekday() < 5:
            trend = 1 + ONLINE_UPTAKE / 2 - ONLINE_UPTAKE * (day - start).days / span
            expected = TYPICAL_ARRIVALS * WEEKDAY_DEMAND[day.weekday()] * trend
            visitors = max(5, round(rng.gauss(expected, 7)))
            count += _seed_day(site, staff, day, visitors, rng, until)
            db.session.commit()
        day += timedelta(days=1)
    return count


def _seed_day(
    site: Site,
    staff: list[User],
    day: date,
    visitors: int,
    rng: random.Random,
    until: datetime | None,
) -> int:
    """Record one day's ``visitors`` and their re-tests in the order they happen."""
    # (when, tie-breaker, first reading to re-test or None for a new arrival)
    queue: list[tuple[datetime, int, Visit | None]] = [
        (_arrival(site, day, rng), number, None) for number in range(visitors)
    ]
    heapq.heapify(queue)
    recorded = 0
    while queue:
        checked_at, number, first = heapq.heappop(queue)
        if until is not None and checked_at > until:
            continue  # still to come, or still resting: the door shows them waiting to re-test
        data = _made_up_check(rng) if first is None else _second_reading(first, rng)
        visit = checkins.record(site, rng.choice(staff), data, checked_at).visit
        recorded += 1
        if visit.status == admission.RECHECK:
            rested = checked_at + timedelta(minutes=rng.randint(site.recheck_minutes, 15))
            retest_at = max(rested, checkins.retest_ready_at(visit, site))
            heapq.heappush(queue, (retest_at, number, visit))
    return recorded


def _arrival(site: Site, day: date, rng: random.Random) -> datetime:
    """Return a random arrival instant on ``day`` following the office's rush hours."""
    hour = rng.choices(list(HOUR_WEIGHTS), weights=list(HOUR_WEIGHTS.values()))[0]
    return datetime.combine(day, time(hour, rng.randrange(60), rng.randrange(60)), site.zone)


def _second_reading(first: Visit, rng: random.Random) -> CheckInData:
    """Return the re-test of ``first``: most have cooled down after resting."""
    cooled = rng.choice([rng.randint(360, 372)] * 2 + [rng.randint(373, 383)])
    return checkins.second_reading(first, cooled)


def _made_up_check(rng: random.Random) -> CheckInData:
    """Return a made-up visitor's first check: most pass, a few forget a mask or run warm."""
    return CheckInData(
        temperature_dc=rng.choice([rng.randint(355, 372)] * 30 + [rng.randint(373, 385)]),
        hand_sanitiser=rng.random() > 0.02,
        mask=rng.random() > 0.05,
        distancing=rng.random() > 0.02,
        visitor_name=f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
        phone=f"08{rng.randrange(10**9, 10**10)}",
        nik_last4=f"{rng.randrange(10**4):04d}",
        purpose=rng.choice(admission.PURPOSES),
    )
