"""Quota, day rollover, settings and voiding, through the service layer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from checkin.domain.errors import (
    AlreadyVoided,
    QuotaBelowAdmitted,
    RetestTooEarly,
    VoidReasonMissing,
)
from checkin.extensions import db
from checkin.models import AuditEntry, DayQuota, Visit
from checkin.services import (
    checkins,
    day_counter,
    entry_log,
    logins,
    privacy,
    reports,
    retests,
    sites,
    transaction,
)
from checkin.services.sites import SiteSettings

ADDRESS = "192.0.2.10"


def admitted_rows(site, day) -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).where(
            Visit.site_id == site.id,
            Visit.day == day,
            Visit.status == "admitted",
            Visit.voided_at.is_(None),
        )
    )


def test_sixty_first_passing_visitor_gets_quota_full(site, make_visit):
    slots = [make_visit().visit.slot for _ in range(60)]
    assert slots == list(range(1, 61))
    result = make_visit()
    assert (result.visit.status, result.visit.reasons, result.visit.slot) == (
        "refused",
        ["quota_full"],
        None,
    )
    assert (result.quota.used, result.quota.left) == (60, 0)
    assert admitted_rows(site, result.quota.day) == 60


@pytest.mark.parametrize(
    "failing", [{"mask": False}, {"hand_sanitiser": False}, {"temperature_dc": 373}]
)
def test_refused_and_retest_visitors_take_no_slot(make_visit, failing):
    assert make_visit(**failing).quota.used == 0
    assert make_visit().visit.slot == 1


@pytest.mark.parametrize(
    ("timezone", "last_minute_utc", "first_day", "next_day"),
    [
        # 23:59 WIB is 16:59 UTC; 23:59 WITA (UTC+8) is 15:59 UTC.
        ("Asia/Jakarta", datetime(2026, 11, 25, 16, 59, tzinfo=UTC), "2026-11-25", "2026-11-26"),
        ("Asia/Makassar", datetime(2026, 11, 25, 15, 59, tzinfo=UTC), "2026-11-25", "2026-11-26"),
        ("Asia/Jayapura", datetime(2026, 11, 25, 14, 59, tzinfo=UTC), "2026-11-25", "2026-11-26"),
    ],
)
def test_a_new_local_day_starts_at_zero(
    make_site, make_visit, timezone, last_minute_utc, first_day, next_day
):
    site = make_site(timezone=timezone, daily_quota=2)
    make_visit(site, now=last_minute_utc)
    late = make_visit(site, now=last_minute_utc)
    assert (str(late.quota.day), late.quota.left) == (first_day, 0)
    assert make_visit(site, now=last_minute_utc).visit.reasons == ["quota_full"]
    after_midnight = make_visit(site, now=last_minute_utc + timedelta(minutes=1))
    assert (str(after_midnight.quota.day), after_midnight.visit.slot) == (next_day, 1)
    assert after_midnight.visit.local_hour == 0


def test_quota_today_reads_without_writing(site, clock):
    quota = day_counter.quota_today(site, clock.now)
    assert (quota.limit, quota.used, quota.left) == (60, 0, 60)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DayQuota)) == 0


def settings(quota: int, cutoff: int = 373, url: str = "") -> SiteSettings:
    return SiteSettings(daily_quota=quota, fever_cutoff_dc=cutoff, online_service_url=url)


def test_raising_the_quota_applies_today(site, make_visit, manager_user, clock):
    sites.update_site_settings(site, settings(2), manager_user, clock.now)
    make_visit()
    make_visit()
    assert make_visit().visit.reasons == ["quota_full"]
    quota = sites.update_site_settings(site, settings(3), manager_user, clock.now)
    assert quota.left == 1
    assert make_visit().visit.slot == 3


def test_quota_cannot_go_below_todays_admitted(site, make_visit, manager_user, clock):
    for _ in range(3):
        make_visit()
    with pytest.raises(QuotaBelowAdmitted) as error, transaction.owned():
        sites.update_site_settings(site, settings(2), manager_user, clock.now)
    assert error.value.admitted == 3
    db.session.refresh(site)
    assert site.daily_quota == 60
    assert sites.update_site_settings(site, settings(3), manager_user, clock.now).left == 0


def test_settings_changes_are_audited(site, manager_user, clock):
    sites.update_site_settings(site, settings(50, 375, "https://x.test"), manager_user, clock.now)
    (entry,) = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "settings"))
    assert entry.detail == {
        "daily_quota": [60, 50],
        "fever_cutoff_dc": [373, 375],
        "online_service_url": ["https://example.org/online", "https://x.test"],
    }
    assert entry.user_id == manager_user.id


def test_void_frees_the_slot_but_never_reissues_its_number(site, make_visit, manager_user, clock):
    sites.update_site_settings(site, settings(2), manager_user, clock.now)
    first = make_visit().visit
    make_visit()
    checkins.void_visit(first, manager_user, "typed twice", clock.now)
    replacement = make_visit()
    assert (replacement.visit.slot, replacement.quota.used) == (3, 2)
    assert admitted_rows(site, first.day) == 2
    with pytest.raises(AlreadyVoided):
        checkins.void_visit(first, manager_user, "again", clock.now)
    assert db.session.get(Visit, first.id).void_reason == "typed twice"


def test_void_uncounts_a_refusal(site, make_visit, manager_user, clock):
    refused = make_visit(mask=False).visit
    checkins.void_visit(refused, manager_user, "wrong button", clock.now)
    row = db.session.scalar(sa.select(DayQuota))
    assert (row.checks, row.refused, row.refused_no_mask) == (0, 0, 0)


def test_void_needs_a_reason(make_visit, manager_user, clock):
    with pytest.raises(VoidReasonMissing):
        checkins.void_visit(make_visit().visit, manager_user, "  ", clock.now)


def test_day_counters_match_the_rows(site, make_visit, clock):
    cases = [{}, {"mask": False}, {"temperature_dc": 380}, {"distancing": False, "mask": False}]
    for case in cases * 5:
        make_visit(**case)
    row = db.session.scalar(sa.select(DayQuota))
    counted = dict(
        db.session.execute(sa.select(Visit.status, sa.func.count()).group_by(Visit.status)).all()
    )
    assert (row.used, row.refused, row.retests, row.checks) == (
        counted["admitted"],
        counted["refused"],
        counted["recheck"],
        20,
    )
    assert row.reason_counts() == {
        "fever": 0,
        "no_hand_sanitiser": 0,
        "no_mask": 10,
        "no_distancing": 5,
        "quota_full": 0,
        "no_offline_slot": 0,
        "closed": 0,
    }


def test_entry_log_pages_by_time_then_id(site, make_visit, clock):
    for minute in (3, 1, 2, 1):
        make_visit(now=clock.now + timedelta(minutes=minute))
    day = site.local_day(clock.now)
    first = entry_log.entry_log(site, day, limit=2)
    second = entry_log.entry_log(site, day, after=first.next_after, limit=2)
    times = [visit.checked_at.minute for visit in first.visits + second.visits]
    assert times == [1, 1, 2, 3]
    assert second.next_after is None


def test_lockout_after_repeated_failures(door_user, clock):
    name, right = door_user.username, "correct horse battery"
    for _ in range(logins.LOCKOUT_AFTER):
        assert logins.log_in(name, "wrong", ADDRESS, clock.now).user is None
    assert logins.log_in(name, right, ADDRESS, clock.now).locked_until is not None
    assert logins.log_in(name, right, ADDRESS, clock.now).user is None
    later = clock.now + timedelta(minutes=logins.LOCKOUT_MINUTES, seconds=1)
    assert logins.log_in(name, right, ADDRESS, later).user == door_user


def test_purge_personal_keeps_counts_and_is_repeatable(site, make_visit, clock):
    old = make_visit(
        now=clock.now - timedelta(days=31), visitor_name="Siti", phone="0812", nik_last4="9012"
    ).visit
    recent = make_visit(visitor_name="Budi", phone="0813", nik_last4="1234").visit
    assert privacy.purge_personal(30, clock.now).checks == 1
    assert privacy.purge_personal(30, clock.now).checks == 0
    db.session.expire_all()
    assert (old.visitor_name, old.phone, old.nik_last4, old.status, old.slot) == (
        None,
        None,
        None,
        "admitted",
        1,
    )
    assert recent.visitor_name == "Budi"


def test_national_summary_sums_day_rows_per_site(make_site, make_visit, clock):
    east, west = make_site("EE"), make_site("WW", timezone="Asia/Makassar")
    make_site("QQ")
    for _ in range(3):
        make_visit(east)
    make_visit(west, mask=False)
    totals = {row.code: row for row in reports.national_summary(*[clock.now.date()] * 3)}
    assert (totals["EE"].admitted, totals["EE"].checks, totals["EE"].days) == (3, 3, 1)
    assert (totals["WW"].refused, totals["WW"].admitted) == (1, 0)
    assert (totals["QQ"].checks, totals["QQ"].days) == (0, 0)


def test_entry_log_cursor_of_another_site_reveals_nothing(site, make_site, make_visit, clock):
    other = make_site("OTHER")
    make_visit(now=clock.now + timedelta(minutes=10))
    foreign = make_visit(other, now=clock.now).visit
    page = entry_log.entry_log(site, site.local_day(clock.now), after=foreign.id)
    assert page.visits == []


@pytest.mark.parametrize(
    ("first_reading", "ready"),
    [
        (timedelta(0), timedelta(minutes=5)),
        (timedelta(seconds=1), timedelta(minutes=6)),
        (timedelta(minutes=36, seconds=35), timedelta(minutes=42)),
        (timedelta(seconds=59, microseconds=500_000), timedelta(minutes=6)),
    ],
)
def test_a_re_test_may_happen_from_the_whole_minute_staff_are_shown(
    make_visit, site, clock, first_reading, ready
):
    start = clock.now
    first = make_visit(now=start + first_reading, temperature_dc=375).visit
    assert retests.ready_at(first, site) == start + ready
    with pytest.raises(RetestTooEarly):
        make_visit(now=start + ready - timedelta(seconds=1), retest_of=first.id)
    assert make_visit(now=start + ready, retest_of=first.id).visit.status == "admitted"


def test_a_visit_stored_by_the_core_insert_holds_every_column_the_model_defines(make_visit):
    # The check-in path writes the visit with one Core INSERT and attaches the object it built:
    # a column added to the model but not set there would be missing from that object.
    visit = make_visit(visitor_name="Siti Aminah", nik_last4="1234", purpose="enquiry").visit
    state = sa.inspect(visit)
    columns = {prop.key for prop in Visit.__mapper__.column_attrs}
    assert state.persistent and state.unloaded & columns == set()
    stored = db.session.execute(sa.select(Visit.__table__).where(Visit.id == visit.id)).one()
    for prop in Visit.__mapper__.column_attrs:
        assert getattr(visit, prop.key) == getattr(stored, prop.columns[0].name), prop.key
