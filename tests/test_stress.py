"""Many clients, four workers, two sites, five days: the quota holds to the slot."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from datetime import timedelta

import pytest
import sqlalchemy as sa

from checkin.extensions import db
from checkin.models import DayQuota, Visit
from tests.conftest import DEFAULT_NOW
from tests.serving import CLAIM_DELAY_VARIABLE, TEST_NOW_HEADER, gunicorn

pytestmark = pytest.mark.slow

DAYS = 5
POSTS_PER_SITE_DAY = 100
QUOTAS = {"KDR": 60, "MLG": 35}
CLIENTS = 16
# Held between claiming a slot and inserting the visit: a weaker design would over-admit here.
CLAIM_DELAY = "0.005"
PASSING = {"temperature_c": 36.5, "hand_sanitiser": True, "mask": True, "distancing": True}
NO_MASK = PASSING | {"mask": False}


def planned_requests(tokens: dict[str, str]) -> list[tuple[str, dict, dict]]:
    """Return (site code, body, headers) for every post, a day at a time, sites interleaved."""
    shuffle = random.Random(5).shuffle
    plan = []
    for offset in range(DAYS):
        instant = (DEFAULT_NOW + timedelta(days=offset)).isoformat()
        day_plan = [
            (code, NO_MASK if number % 10 == 0 else PASSING, token)
            for code, token in tokens.items()
            for number in range(POSTS_PER_SITE_DAY)
        ]
        shuffle(day_plan)
        plan += [
            (code, body, {"Authorization": f"Bearer {token}", TEST_NOW_HEADER: instant})
            for code, body, token in day_plan
        ]
    return plan


def test_quota_holds_for_two_sites_over_five_days(
    database_url, site, make_site, make_user, auth_headers
):
    sites = {"KDR": site, "MLG": make_site("MLG", daily_quota=QUOTAS["MLG"])}
    tokens = {
        code: auth_headers(make_user("door", site_))["Authorization"].removeprefix("Bearer ")
        for code, site_ in sites.items()
    }
    plan = planned_requests(tokens)
    env = {
        "CHECKIN_DATABASE_URL": database_url,
        "CHECKIN_SECRET_KEY": "stress",
        CLAIM_DELAY_VARIABLE: CLAIM_DELAY,
    }
    with gunicorn("tests.serving:header_clock_app()", env) as server:
        answers = server.post_each(
            "/api/v1/checkins", [(body, headers) for _code, body, headers in plan], CLIENTS
        )

    assert Counter(status for status, _body in answers) == {201: len(plan)}
    db.session.rollback()
    stored = {visit.id: visit for visit in db.session.scalars(sa.select(Visit))}
    assert len(stored) == len(plan)
    slots = defaultdict(list)
    for (code, _body, _headers), (_status, answer) in zip(plan, answers, strict=True):
        visit = stored[answer["id"]]
        assert (visit.site_id, visit.status, visit.slot) == (
            sites[code].id,
            answer["status"],
            answer["slot"],
        )
        if visit.slot is not None:
            slots[code, visit.day].append(visit.slot)
    rows = list(db.session.scalars(sa.select(DayQuota)))
    assert len(rows) == len(sites) * DAYS
    for row in rows:
        code = next(code for code, site_ in sites.items() if site_.id == row.site_id)
        assert sorted(slots[code, row.day]) == list(range(1, QUOTAS[code] + 1)), (code, row.day)
        assert row.used == row.issued == row.limit == QUOTAS[code]
        assert row.checks == POSTS_PER_SITE_DAY
        assert row.refused_no_mask == POSTS_PER_SITE_DAY // 10
        assert row.refused_quota_full == POSTS_PER_SITE_DAY - POSTS_PER_SITE_DAY // 10 - row.used
