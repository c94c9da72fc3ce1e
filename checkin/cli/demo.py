"""Plausible demo history: weekday walk-ins of a branch office, recorded by the real service.

Every made-up check goes through :func:`checkin.services.checkins.record` at the time it
happened, so the demo's counters, slots and re-tests follow the same rules as a live door.
Admitted visitors are then called, served and sometimes not come through the floor's service
(:mod:`checkin.services.floor`), at the times they happened.
"""

from __future__ import annotations

import heapq
import random
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa

from checkin.domain import admission
from checkin.domain.calling import WAITING
from checkin.extensions import db
from checkin.models import Site, User, Visit
from checkin.services import checkins, floor, retests, transaction
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
# The demo officers open these booths at this local time, each serving several at once.
DEMO_BOOTHS = ((1, 2, 3, 4, 5), (6, 7, 8))
FLOOR_OPENS = time(7, 30)
NO_SHOW_SHARE = 0.05


def seed_history(
    site: Site,
    staff: list[User],
    start: date,
    end: date,
    rng: random.Random,
    until: datetime | None = None,
    officers: tuple[User, ...] = (),
) -> int:
    """Add weekday checks from ``start`` to ``end`` inclusive, none after ``until``; count them.

    With ``officers``, the admitted visitors of each day are called and served too. A day's checks
    and its floor are each a transaction of their own, so ninety days do not wait on one commit.
    """
    count = 0
    day = start
    span = max((end - start).days, 1)
    while day <= end:
        if day.weekday() < 5:
            trend = 1 + ONLINE_UPTAKE / 2 - ONLINE_UPTAKE * (day - start).days / span
            expected = TYPICAL_ARRIVALS * WEEKDAY_DEMAND[day.weekday()] * trend
            visitors = max(5, round(rng.gauss(expected, 7)))
            with transaction.owned():
                count += _seed_day(site, staff, day, visitors, rng, until)
            if officers:
                with transaction.owned():
                    _serve_day(site, officers, day, rng, until)
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
        if visit.status == admission.RETEST:
            rested = checked_at + timedelta(minutes=rng.randint(site.retest_minutes, 15))
            retest_at = max(rested, retests.ready_at(visit, site))
            heapq.heappush(queue, (retest_at, number, visit))
    return recorded


def _serve_day(
    site: Site, officers: tuple[User, ...], day: date, rng: random.Random, until: datetime | None
) -> None:
    """Call the day's admitted visitors to the officers' booths in queue order, and serve them.

    Each booth takes the next number once its visitor is done (5-25 minutes) or has not come
    (5 %, after a recall); nothing happens after ``until``, so today stops mid-way.
    """
    opens = datetime.combine(day, FLOOR_OPENS, site.zone)
    officer_at = {
        number: officer
        for officer, numbers in zip(officers, DEMO_BOOTHS, strict=False)
        for number in numbers
    }
    for number, officer in officer_at.items():
        floor.open_booth(site, officer, number, opens)
    free_at = dict.fromkeys(officer_at, opens)
    last_call = opens
    for arrived in _admitted_on(site, day):
        number = min(free_at, key=free_at.__getitem__)
        # Calls go out in queue order; an officer serving several at once calls a bit late.
        ready = max(arrived + timedelta(minutes=2), free_at[number])
        call_at = max(ready + timedelta(minutes=rng.uniform(0, 8)), last_call)
        if until is not None and call_at > until:
            return  # the rest still wait, as the console shows them now
        visit_id = floor.call_next(site, officer_at[number], number, call_at).id
        last_call = call_at
        free_at[number] = _serve(site, officer_at[number], number, visit_id, call_at, rng, until)
    if until is None or day < site.local_day(until):  # today the booths stay open
        for number, officer in officer_at.items():
            floor.close_booth(site, officer, number, max(free_at.values()))


def _serve(
    site: Site,
    officer: User,
    number: int,
    visit_id: int,
    called_at: datetime,
    rng: random.Random,
    until: datetime | None,
) -> datetime:
    """Take a called visitor through the steps up to ``until``; return when the booth is free."""
    if rng.random() < NO_SHOW_SHARE:
        steps = [
            (floor.recall, called_at + timedelta(minutes=3)),
            (floor.no_show, called_at + timedelta(minutes=rng.uniform(5, 8))),
        ]
    else:
        started = called_at + timedelta(minutes=rng.uniform(0.5, 3))
        steps = [
            (floor.start, started),
            (floor.finish, started + timedelta(minutes=rng.uniform(5, 25))),
        ]
    for step, at in steps:
        if until is not None and at > until:
            return at  # still at the booth now
        step(site, officer, number, visit_id, at)
    return steps[-1][1]


def _admitted_on(site: Site, day: date) -> list[datetime]:
    """Return when each visitor waiting on the floor on ``day`` was admitted, in queue order."""
    return list(
        db.session.scalars(
            sa.select(Visit.checked_at)
            .where(Visit.site_id == site.id, Visit.day == day, Visit.floor_state == WAITING)
            .order_by(Visit.slot)
        )
    )


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
