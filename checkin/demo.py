"""Plausible demo history: weekday walk-ins of a branch office, built with the real rules."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

from checkin import admission
from checkin.extensions import db
from checkin.models import DayQuota, Site, User, Visit

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
        day += timedelta(days=1)
    db.session.commit()
    return count


def _seed_day(
    site: Site,
    staff: list[User],
    day: date,
    visitors: int,
    rng: random.Random,
    until: datetime | None,
) -> int:
    """Add one day's ``visitors`` checks, screened by the site's rules, and its counter row."""
    counter = DayQuota(
        site_id=site.id, day=day, limit=site.daily_quota, **dict.fromkeys(DayQuota.COUNTERS, 0)
    )
    arrivals = sorted(_arrival(site, day, rng) for _ in range(visitors))
    arrivals = [arrival for arrival in arrivals if until is None or arrival <= until]
    visits = []
    for checked_at in arrivals:
        first = _check(site, counter, rng.choice(staff), checked_at, rng, None)
        visits.append(first)
        if first.status == admission.RECHECK:
            retest_at = checked_at + timedelta(minutes=rng.randint(site.recheck_minutes, 15))
            if until is not None and retest_at > until:
                continue  # still resting: the door list shows them waiting for a re-test
            visits.append(_check(site, counter, rng.choice(staff), retest_at, rng, first))
    db.session.add(counter)
    db.session.add_all(visits)
    return len(visits)


def _arrival(site: Site, day: date, rng: random.Random) -> datetime:
    """Return a random arrival instant on ``day`` following the office's rush hours."""
    hour = rng.choices(list(HOUR_WEIGHTS), weights=list(HOUR_WEIGHTS.values()))[0]
    return datetime.combine(day, time(hour, rng.randrange(60), rng.randrange(60)), site.zone)


def _check(
    site: Site,
    counter: DayQuota,
    recorder: User,
    checked_at: datetime,
    rng: random.Random,
    recheck_of: Visit | None,
) -> Visit:
    """Screen one made-up visitor (or re-test ``recheck_of``) and count the decision."""
    if recheck_of is None:
        temperature = rng.choice([rng.randint(355, 372)] * 30 + [rng.randint(373, 385)])
        name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        phone = f"08{rng.randrange(10**9, 10**10)}"
        nik = f"{rng.randrange(10**4):04d}"
        purpose = rng.choice(admission.PURPOSES)
    else:
        temperature = rng.choice([rng.randint(360, 372)] * 2 + [rng.randint(373, 383)])
        name, phone = recheck_of.visitor_name, recheck_of.phone
        nik, purpose = recheck_of.nik_last4, recheck_of.purpose
    reading = admission.Reading(
        temperature_dc=temperature,
        hand_sanitiser=rng.random() > 0.02,
        mask=rng.random() > 0.05,
        distancing=rng.random() > 0.02,
        is_recheck=recheck_of is not None,
    )
    screening = admission.screen(reading, site.policy)
    slot = None
    if screening.passed:
        if counter.used < counter.limit:
            counter.used += 1
            counter.issued += 1
            slot = counter.issued
        else:
            screening = admission.quota_refusal()
    counter.checks += 1
    if screening.status == admission.REFUSED:
        counter.refused += 1
        for reason in screening.reasons:
            setattr(counter, f"refused_{reason}", getattr(counter, f"refused_{reason}") + 1)
    elif screening.status == admission.RECHECK:
        counter.rechecks += 1
    return Visit(
        site_id=site.id,
        day=checked_at.astimezone(site.zone).date(),
        local_hour=checked_at.astimezone(site.zone).hour,
        checked_at=checked_at,
        recorded_by_id=recorder.id,
        visitor_name=name,
        phone=phone,
        nik_last4=nik,
        purpose=purpose,
        temperature_dc=temperature,
        hand_sanitiser=reading.hand_sanitiser,
        mask=reading.mask,
        distancing=reading.distancing,
        status=screening.status,
        reason_codes=",".join(screening.reasons),
        slot=slot,
        recheck_of=recheck_of,
    )
