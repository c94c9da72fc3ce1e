"""Admitting a visitor past a full quota, on both engines: a manager turns today's check refused
for the quota alone into an admission with a reason; counted apart, the quota's counts exact; a
queue number of the one series; audited and marked on the day's log."""

from __future__ import annotations

from datetime import timedelta

import flask_migrate
import pytest
import sqlalchemy as sa

from checkin.domain.calling import WAITING
from checkin.domain.errors import NotOverridable, OverrideNoteMissing, OverrideReasonUnknown
from checkin.extensions import db
from checkin.models import AuditEntry, DayQuota
from checkin.services import checkins, overrides, transaction
from checkin.words.audit import describe_audit
from tests.test_booking_migration import empty_database
from tests.test_migrations import (
    applied_revision,
    insert_old_admitted_visit,
    insert_old_site,
    site_as_migrated,
)

__all__ = ["empty_database"]  # the fixture the migration test asks for


@pytest.fixture
def full_site(site):
    """The default site with a quota of one."""
    site.daily_quota = 1
    db.session.commit()
    return site


def test_a_manager_admits_a_visitor_refused_for_the_quota_counted_apart(
    app, full_site, make_visit, manager_user, clock
):
    make_visit()
    refused = make_visit(visitor_name="Ibu Sri").visit
    assert refused.reasons == ["quota_full"]
    overrides.admit_past_quota(refused, manager_user, "elderly", None, clock.now)
    assert (refused.status, refused.slot, refused.floor_state) == ("admitted", 2, WAITING)
    assert (refused.override_reason, refused.override_note) == ("elderly", None)
    row = db.session.get(DayQuota, (full_site.id, refused.day))
    db.session.refresh(row)
    # The quota's counts stay exact: one slot of one, one admitted; the override apart.
    assert (row.limit, row.used, row.admitted, row.overrides) == (1, 1, 1, 1)
    assert (row.checks, row.refused, row.refused_quota_full) == (2, 0, 0)
    entry = db.session.scalar(
        sa.select(AuditEntry).where(AuditEntry.action == "admitted_past_quota")
    )
    assert (entry.user_id, entry.visit_id, entry.detail) == (
        manager_user.id,
        refused.id,
        {"reason": "elderly", "slot": 2},
    )
    with app.test_request_context():
        assert "No. 2" in describe_audit(entry, full_site)
    # The next walk-in is still refused: the quota did not grow.
    assert make_visit().visit.reasons == ["quota_full"]


@pytest.mark.parametrize(
    ("reason", "note", "error"),
    [
        ("bribe", None, OverrideReasonUnknown),
        ("other", None, OverrideNoteMissing),
        ("other", "   ", OverrideNoteMissing),
    ],
)
def test_a_reason_off_the_list_or_other_without_words_stores_nothing(
    full_site, make_visit, manager_user, clock, reason, note, error
):
    make_visit()
    refused = make_visit().visit
    with pytest.raises(error):
        overrides.admit_past_quota(refused, manager_user, reason, note, clock.now)
    db.session.rollback()
    db.session.refresh(refused)
    assert (refused.status, refused.override_reason) == ("refused", None)
    assert db.session.get(DayQuota, (full_site.id, refused.day)).overrides == 0


def test_other_with_words_keeps_them_on_the_visit(full_site, make_visit, manager_user, clock):
    make_visit()
    refused = make_visit().visit
    overrides.admit_past_quota(refused, manager_user, "other", " came from far ", clock.now)
    assert (refused.override_reason, refused.override_note) == ("other", "came from far")


def test_only_a_check_refused_for_the_quota_alone_today_may_be_admitted_once(
    full_site, make_visit, manager_user, clock
):
    make_visit()
    fever = make_visit(temperature_dc=385).visit
    no_mask_and_full = make_visit(mask=False).visit
    refused = make_visit().visit
    overrides.admit_past_quota(refused, manager_user, "pregnant", None, clock.now)
    for visit in (fever, no_mask_and_full, refused):
        with pytest.raises(NotOverridable):
            overrides.admit_past_quota(visit, manager_user, "pregnant", None, clock.now)
    yesterday_s = make_visit().visit
    with pytest.raises(NotOverridable):
        overrides.admit_past_quota(
            yesterday_s, manager_user, "elderly", None, clock.now + timedelta(days=1)
        )


def test_voiding_an_override_takes_it_off_the_day_and_frees_no_walk_in_slot(
    full_site, make_visit, manager_user, clock
):
    make_visit()
    refused = make_visit().visit
    overrides.admit_past_quota(refused, manager_user, "disability", None, clock.now)
    with transaction.owned():
        checkins.void_visit(refused, manager_user, "typed twice", clock.now)
    row = db.session.get(DayQuota, (full_site.id, refused.day))
    db.session.refresh(row)
    assert (row.used, row.admitted, row.overrides, row.checks) == (1, 1, 0, 1)


def test_the_manager_admits_past_the_quota_from_the_check_s_page_and_the_log_shows_it(
    full_site, make_visit, client, login, manager_user, door_user
):
    make_visit()
    refused = make_visit().visit
    login(door_user)
    assert (
        client.post(f"/manage/visits/{refused.id}/override", data={"reason": "elderly"}).status_code
        == 403
    )
    client.post("/logout")
    login(manager_user)
    page = client.get(f"/manage/visits/{refused.id}")
    assert 'class="override-form"' in page.text
    missing = client.post(f"/manage/visits/{refused.id}/override", data={"reason": "other"})
    assert missing.status_code == 422 and 'class="override-form"' in missing.text
    done = client.post(f"/manage/visits/{refused.id}/override", data={"reason": "urgent_claim"})
    assert done.status_code == 302
    log = client.get(done.location)
    assert 'data-override="urgent_claim"' in log.text
    again = client.get(f"/manage/visits/{refused.id}")
    assert (
        'class="override-form"' not in again.text and 'data-override="urgent_claim"' in again.text
    )


def test_upgrading_to_0014_counts_no_override_on_days_before_and_admits_past_the_quota(
    empty_database, clock
):
    flask_migrate.upgrade(revision="0013")
    with db.engine.begin() as connection:
        insert_old_site(connection, clock.now)
        insert_old_admitted_visit(connection, clock.now, "Siti Aminah")
        connection.execute(sa.text("UPDATE day_quota SET quota_limit = 1"))  # used up
    flask_migrate.upgrade(revision="0014")
    assert applied_revision() == "0014"
    site = site_as_migrated()
    assert db.session.get(DayQuota, (site.id, clock.now.date())).overrides == 0
    with transaction.owned():
        refused = checkins.check_in(
            site,
            None,
            checkins.CheckInData(
                temperature_dc=365, hand_sanitiser=True, mask=True, distancing=True
            ),
            clock.now,
        ).visit
    assert refused.reasons == ["quota_full"]
    with transaction.owned():
        overrides.admit_past_quota(refused, None, "return_visit", None, clock.now)
    assert refused.slot == 2
    db.session.remove()
    flask_migrate.downgrade(revision="0013")
    assert applied_revision() == "0013"
    with db.engine.connect() as connection:
        assert (
            connection.scalar(sa.text("SELECT count(*) FROM visit WHERE status = 'admitted'")) == 2
        )
