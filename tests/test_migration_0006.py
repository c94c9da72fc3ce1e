"""Migration 0006 (the office calendar) keeps the days counted before it, and undoes cleanly."""

from __future__ import annotations

import flask_migrate
import sqlalchemy as sa

from checkin.extensions import db
from checkin.models import DayQuota, Site
from checkin.services import calendar, checkins, transaction
from checkin.services.checkins import CheckInData
from tests.conftest import PASSING
from tests.test_migrations import empty_database  # noqa: F401 (a fixture)

OLD_SITE = (
    "INSERT INTO site (code, name, timezone, daily_quota, fever_cutoff_dc, recheck_minutes,"
    " online_service_url, created_at, booths_per_officer, wait_kpi_minutes)"
    " VALUES ('KDR', 'Kediri', 'Asia/Jakarta', 60, 373, :wait, '', :at, 5, 30)"
)
OLD_DAY = (
    "INSERT INTO day_quota (site_id, day, quota_limit, used, issued, checks, refused, rechecks,"
    " refused_fever, refused_no_hand_sanitiser, refused_no_mask, refused_no_distancing,"
    " refused_quota_full, admitted, refused_no_offline_slot)"
    " VALUES (1, :day, 60, 2, 2, 2, 0, 0, 0, 0, 0, 0, 0, 2, 0)"
)


def test_upgrading_from_0005_keeps_today_open_and_counting(empty_database, clock):  # noqa: F811
    flask_migrate.upgrade(revision="0005")
    day = clock.now.date()
    with db.engine.begin() as connection:
        connection.execute(sa.text(OLD_SITE), {"at": clock.now, "wait": 45})
        connection.execute(sa.text(OLD_DAY), {"day": day})
    flask_migrate.upgrade()
    site = db.session.scalar(sa.select(Site))
    assert site.retest_minutes == 30  # held to the new range
    row = db.session.get(DayQuota, (site.id, day))
    assert (row.closed, row.refused_closed, row.limit) == (False, 0, 60)
    with transaction.owned():
        result = checkins.check_in(site, None, CheckInData(**PASSING), clock.now)
    assert (result.visit.slot, result.quota.used) == (3, 3)


def test_downgrading_counts_closed_day_refusals_as_quota_full(empty_database, clock):  # noqa: F811
    flask_migrate.upgrade()
    with db.engine.begin() as connection:
        connection.execute(sa.text(OLD_SITE), {"at": clock.now, "wait": 5})
    site = db.session.scalar(sa.select(Site))
    with transaction.owned():
        calendar.add_closed_day(site, clock.now.date(), "Banjir", None, clock.now)
        refused = checkins.check_in(site, None, CheckInData(**PASSING), clock.now).visit
    assert refused.reasons == ["closed"]
    db.session.remove()
    flask_migrate.downgrade(revision="0005")
    with db.engine.connect() as connection:
        assert connection.scalar(sa.text("SELECT reasons FROM visit")) == "quota_full"
        assert connection.scalar(sa.text("SELECT refused_quota_full FROM day_quota")) == 1
        tables = sa.inspect(connection).get_table_names()
    assert "closed_day" not in tables and "weekday_quota" not in tables
