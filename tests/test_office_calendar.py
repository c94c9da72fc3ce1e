"""The office calendar: the pure rule of a day's quota, and the services across days."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from checkin.domain import admission, office_calendar
from checkin.domain.errors import (
    AlreadyClosed,
    ClosedDayInPast,
    ClosedLabelInvalid,
    NotAHoliday,
    QuotaBelowAdmitted,
    UnknownClosedDay,
)
from checkin.domain.office_calendar import CLOSED, CLOSED_DATE, CLOSED_WEEKDAY, HOLIDAY, DayPlan
from checkin.extensions import db
from checkin.models import AuditEntry, ClosedDay, DayQuota, LeasedSlot
from checkin.services import calendar, day_counter, leases, reports, sites
from tests.conftest import counters_of, counters_of_rows

FRIDAY, SATURDAY, SUNDAY, MONDAY = (
    date(2026, 11, 27),
    date(2026, 11, 28),
    date(2026, 11, 29),
    date(2026, 11, 30),
)
CHRISTMAS = date(2026, 12, 25)
WEEKEND = {5: 30, 6: CLOSED}


def local(day: date, hour: int, minute: int = 0) -> datetime:
    """Return the instant of a wall-clock time in Kediri (WIB, UTC+7)."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC) - timedelta(hours=7)


@pytest.mark.parametrize(
    ("day", "weekdays", "closed_dates", "holidays", "plan"),
    [
        (FRIDAY, {}, (), (), DayPlan(60)),
        (FRIDAY, WEEKEND, (), (), DayPlan(60)),
        (SATURDAY, WEEKEND, (), (), DayPlan(30)),
        (SUNDAY, WEEKEND, (), (), DayPlan(0, CLOSED_WEEKDAY)),
        (MONDAY, {0: 0}, (), (), DayPlan(0)),
        (SATURDAY, WEEKEND, (SATURDAY,), (), DayPlan(0, CLOSED_DATE)),
        (CHRISTMAS, WEEKEND, (), (CHRISTMAS,), DayPlan(0, HOLIDAY)),
        (CHRISTMAS, {}, (CHRISTMAS,), (CHRISTMAS,), DayPlan(0, HOLIDAY)),
        (SUNDAY, WEEKEND, (SUNDAY,), (), DayPlan(0, CLOSED_DATE)),
        (FRIDAY, WEEKEND, (SATURDAY,), (CHRISTMAS,), DayPlan(60)),
    ],
)
def test_the_quota_of_a_date(day, weekdays, closed_dates, holidays, plan):
    assert office_calendar.day_plan(day, 60, weekdays, closed_dates, holidays) == plan


@pytest.mark.parametrize(
    ("today", "years"),
    [
        (date(2026, 1, 1), (2026,)),
        (date(2026, 11, 30), (2026,)),
        (date(2026, 12, 1), (2026, 2027)),
        (date(2026, 12, 31), (2026, 2027)),
    ],
)
def test_settings_show_next_year_s_holidays_in_december(today, years):
    assert office_calendar.holiday_years(today) == years


@pytest.mark.parametrize(
    ("language", "independence", "leave"),
    [("en", "Independence Day", "Christmas"), ("id", "Kemerdekaan", "Cuti Bersama")],
)
def test_national_holidays_and_collective_leave_in_each_language(language, independence, leave):
    found = office_calendar.national_holidays([2026], language)
    assert independence in found[date(2026, 8, 17)]
    assert leave in found[date(2026, 12, 24)]  # collective leave before Christmas
    assert list(found) == sorted(found)


def weekend(site, manager, now, weekdays=WEEKEND):
    settings = sites.SiteSettings(60, 373, "", weekday_quotas=weekdays)
    return sites.update_site_settings(site, settings, manager, now)


def row(site, day) -> DayQuota:
    db.session.expire_all()
    return db.session.get(DayQuota, (site.id, day))


def test_the_quota_follows_the_weekday_across_midnight(site, manager_user, make_visit, clock):
    weekend(site, manager_user, clock.now)
    friday = make_visit(now=local(FRIDAY, 23, 59))
    assert (friday.visit.day, friday.quota.limit) == (FRIDAY, 60)
    saturday = make_visit(now=local(SATURDAY, 0, 0))
    assert (saturday.visit.day, saturday.visit.slot, saturday.quota.limit) == (SATURDAY, 1, 30)
    sunday = make_visit(now=local(SUNDAY, 0, 0))
    assert (sunday.visit.status, sunday.visit.reasons, sunday.visit.slot) == (
        "refused",
        ["closed"],
        None,
    )
    assert (sunday.quota.limit, sunday.quota.left) == (0, 0)
    assert make_visit(now=local(MONDAY, 8)).quota.limit == 60


def test_on_a_closed_day_only_a_passing_visitor_is_refused_as_closed(
    site, manager_user, make_visit, clock
):
    weekend(site, manager_user, clock.now)
    sunday = local(SUNDAY, 9)
    assert make_visit(now=sunday, mask=False).visit.reasons == ["no_mask"]
    assert make_visit(now=sunday, temperature_dc=380).visit.status == "recheck"
    assert make_visit(now=sunday).visit.reasons == ["closed"]
    counted = row(site, SUNDAY)
    assert (counted.closed, counted.refused_closed, counted.refused_quota_full) == (True, 1, 0)
    assert counters_of(counted) == counters_of_rows(site.id, SUNDAY)
    assert day_counter.quota_today(site, sunday).closed


def test_quota_today_before_any_check_says_what_the_calendar_says(site, manager_user, clock):
    weekend(site, manager_user, clock.now)
    assert day_counter.quota_today(site, local(SATURDAY, 8)) == day_counter.Quota(SATURDAY, 30, 0)
    assert day_counter.quota_today(site, local(SUNDAY, 8)) == day_counter.Quota(
        SUNDAY, 0, 0, closed=True
    )
    assert row(site, SATURDAY) is None


def test_a_ticked_holiday_closes_the_office(site, manager_user, make_visit, clock):
    calendar.set_holidays(site, [CHRISTMAS], manager_user, clock.now)
    assert make_visit(now=local(CHRISTMAS, 9)).visit.reasons == ["closed"]
    assert make_visit(now=local(CHRISTMAS + timedelta(days=1), 9)).visit.slot == 1
    stored = db.session.get(ClosedDay, (site.id, CHRISTMAS))
    assert (stored.holiday, stored.label) == (True, "Hari Raya Natal")
    closure = calendar.closure(site, CHRISTMAS, "en")
    assert (closure.because, closure.name) == (HOLIDAY, "Christmas Day")


def test_unticking_a_holiday_opens_it_and_both_are_audited(site, manager_user, make_visit, clock):
    calendar.set_holidays(site, [CHRISTMAS, date(2026, 12, 24)], manager_user, clock.now)
    calendar.set_holidays(site, [date(2026, 12, 24)], manager_user, clock.now)
    assert make_visit(now=local(CHRISTMAS, 9)).visit.slot == 1
    details = [
        entry.detail
        for entry in db.session.scalars(
            sa.select(AuditEntry).where(AuditEntry.action == "closed_days").order_by(AuditEntry.id)
        )
    ]
    assert [len(detail["closed"]) for detail in details] == [2, 0]
    assert details[1]["opened"] == [["2026-12-25", "Hari Raya Natal"]]


def test_a_date_that_is_no_holiday_cannot_be_ticked(site, manager_user, clock):
    with pytest.raises(NotAHoliday):
        calendar.set_holidays(site, [CHRISTMAS, date(2026, 12, 23)], manager_user, clock.now)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ClosedDay)) == 0


def test_a_holiday_already_past_keeps_its_tick(site, manager_user, clock):
    independence = date(2026, 8, 17)
    db.session.add(ClosedDay(site_id=site.id, day=independence, label="HUT RI", holiday=True))
    db.session.commit()
    calendar.set_holidays(site, [], manager_user, clock.now)
    assert db.session.get(ClosedDay, (site.id, independence)) is not None


def test_a_day_s_quota_is_fixed_when_its_row_is_made(site, manager_user, make_visit, clock):
    make_visit(now=local(FRIDAY, 9))
    weekend(site, manager_user, local(SATURDAY, 9), {4: 10, **WEEKEND})
    assert row(site, FRIDAY).limit == 60
    assert row(site, SATURDAY).limit == 30  # made by the settings change: today applies at once


def test_a_manager_still_changes_today_s_quota(site, manager_user, make_visit, clock):
    weekend(site, manager_user, clock.now)
    make_visit(now=local(SATURDAY, 9))
    assert weekend(site, manager_user, local(SATURDAY, 10), {5: 45, 6: CLOSED}).limit == 45
    assert row(site, SATURDAY).limit == 45
    with pytest.raises(QuotaBelowAdmitted):
        weekend(site, manager_user, local(SATURDAY, 11), {5: 0, 6: CLOSED})
    assert row(site, SATURDAY).limit == 45


def test_closing_today_keeps_the_admitted_and_asks_the_tablets_back(
    site, manager_user, make_visit, clock, pair_tablet
):
    tablet = pair_tablet().device
    make_visit()
    make_visit()
    lease = leases.top_up(tablet, clock.now)
    assert len(lease.slots) == 5
    quota = calendar.add_closed_day(site, clock.now.date(), "Banjir", manager_user, clock.now)
    assert (quota.closed, quota.limit, quota.used, quota.left) == (True, 7, 7, 0)
    assert quota.return_held
    refused = make_visit()
    assert refused.visit.reasons == ["closed"]
    assert leases.top_up(tablet, clock.now).slots == lease.slots  # nothing new
    assert leases.give_back(tablet, clock.now.date(), lease.slots, clock.now) == 5
    reopened = calendar.remove_closed_day(site, clock.now.date(), manager_user, clock.now)
    assert (reopened.closed, reopened.limit, reopened.used) == (False, 60, 2)
    assert [make_visit().visit.slot for _ in range(6)] == [3, 4, 5, 6, 7, 8]


def test_a_closed_day_leases_nothing(site, manager_user, clock, pair_tablet):
    weekend(site, manager_user, clock.now)
    lease = leases.top_up(pair_tablet().device, local(SUNDAY, 7))
    assert lease.slots == [] and lease.quota.closed
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LeasedSlot)) == 0


@pytest.mark.parametrize(
    ("day", "label", "error"),
    [
        (date(2026, 11, 24), "Banjir", ClosedDayInPast),
        (FRIDAY, "", ClosedLabelInvalid),
        (FRIDAY, "   ", ClosedLabelInvalid),
        (FRIDAY, "x" * 121, ClosedLabelInvalid),
        (FRIDAY, "bad\x1b[2J", ClosedLabelInvalid),
    ],
)
def test_a_closed_day_needs_a_coming_date_and_a_reason(
    site, manager_user, clock, day, label, error
):
    with pytest.raises(error):
        calendar.add_closed_day(site, day, label, manager_user, clock.now)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ClosedDay)) == 0
    changes = sa.select(sa.func.count()).where(AuditEntry.action == "closed_days")
    assert db.session.scalar(changes) == 0


def test_a_day_is_closed_once(site, manager_user, clock):
    calendar.set_holidays(site, [CHRISTMAS], manager_user, clock.now)
    with pytest.raises(AlreadyClosed):
        calendar.add_closed_day(site, CHRISTMAS, "Natal", manager_user, clock.now)
    with pytest.raises(UnknownClosedDay):  # a holiday is opened by its tick, not removed
        calendar.remove_closed_day(site, CHRISTMAS, manager_user, clock.now)


def test_another_site_s_calendar_stays_its_own(site, make_site, manager_user, make_visit, clock):
    other = make_site("MLG")
    calendar.add_closed_day(site, FRIDAY, "Banjir", manager_user, clock.now)
    assert make_visit(site_=other, now=local(FRIDAY, 9)).visit.slot == 1
    assert make_visit(now=local(FRIDAY, 9)).visit.reasons == ["closed"]


def test_the_closed_reason_is_counted_in_reports(site, manager_user, make_visit, clock):
    weekend(site, manager_user, clock.now)
    make_visit(now=local(SUNDAY, 9))
    [sunday] = reports.daily_report(site, SUNDAY, SUNDAY, SUNDAY)
    assert sunday.reasons[admission.CLOSED] == 1


def test_today_opened_again_after_its_quota_was_lowered_keeps_the_slots_taken(
    site, manager_user, make_visit, clock
):
    for _ in range(3):
        make_visit()
    calendar.add_closed_day(site, clock.now.date(), "Banjir", manager_user, clock.now)
    changed = sites.SiteSettings(1, site.fever_cutoff_dc, site.online_service_url)
    sites.update_site_settings(site, changed, manager_user, clock.now)
    quota = calendar.remove_closed_day(site, clock.now.date(), manager_user, clock.now)
    assert (quota.closed, quota.limit, quota.used, quota.left) == (False, 3, 3, 0)
