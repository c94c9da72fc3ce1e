"""Slot leases, client references and offline uploads: the service and the JSON API.

Only a paired tablet holds slots; a held slot comes back when its tablet gives it back or a
manager releases it; numbers given back are given out again, to visitors admitted online.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from checkin.extensions import db
from checkin.models import AuditEntry, DayQuota, Device, LeasedSlot, UploadConflict, Visit
from checkin.services import checkins, day_counter, leases, pairing, sites, transaction
from checkin.services.checkins import CheckInData, OfflineDecision
from tests.conftest import PASSING, PASSWORD, counters_of, counters_of_rows, on_tablet

BODY = {"temperature_c": 36.6, "hand_sanitiser": True, "mask": True, "distancing": True}


def ref() -> str:
    """Return a new client reference."""
    return str(uuid.uuid4())


def assert_counters_equal_rows(site) -> None:
    """Check every day row of the site against its visits, leased and free slots."""
    for row in db.session.scalars(sa.select(DayQuota).where(DayQuota.site_id == site.id)):
        assert counters_of(row) == counters_of_rows(site.id, row.day), row.day


def set_quota(site, limit, by, now) -> None:
    """Change the site's daily quota from ``now`` on."""
    settings = sites.SiteSettings(limit, site.fever_cutoff_dc, site.online_service_url)
    sites.update_site_settings(site, settings, by, now)


@pytest.fixture
def tablet(pair_tablet) -> Device:
    """Return a door tablet of the default site, paired by its manager."""
    return pair_tablet(name="Pintu 1").device


@pytest.fixture
def other_tablet(pair_tablet) -> Device:
    """Return a second paired door tablet of the default site."""
    return pair_tablet(name="Pintu 2").device


def test_a_lease_takes_five_slots_from_the_counter(site, tablet, clock):
    lease = leases.top_up(tablet, clock.now)
    assert lease.slots == [1, 2, 3, 4, 5]
    assert (lease.quota.used, lease.quota.left, lease.quota.held) == (5, 55, 5)
    assert (lease.rules.checks[0].at_least_dc, lease.rules.retest_minutes) == (373, 5)
    assert leases.top_up(tablet, clock.now).slots == [1, 2, 3, 4, 5]
    row = db.session.get(DayQuota, (site.id, lease.day))
    assert (row.used, row.admitted, row.held, row.issued, row.checks) == (5, 0, 5, 5, 0)


def test_a_lease_never_takes_more_than_a_fair_share_of_what_is_left(
    site, manager_user, make_visit, clock, tablet, other_tablet
):
    set_quota(site, 10, manager_user, clock.now)
    make_visit()
    make_visit()
    # 8 left, one tablet: a share of 4; then 4 left, two tablets: a share of 1.
    assert leases.top_up(tablet, clock.now).slots == [3, 4, 5, 6]
    assert leases.top_up(other_tablet, clock.now).slots == [7]
    assert day_counter.quota_today(site, clock.now).left == 3


def test_a_lease_is_never_taken_past_the_quota(site, manager_user, make_visit, clock, tablet):
    set_quota(site, 2, manager_user, clock.now)
    make_visit()
    make_visit()
    assert leases.top_up(tablet, clock.now).slots == []
    assert make_visit().visit.reasons == ["quota_full"]


def test_an_online_check_from_a_tablet_takes_a_slot_of_its_lease_first(
    site, make_visit, clock, tablet
):
    leases.top_up(tablet, clock.now)
    other = make_visit()  # no tablet: from the counter
    assert other.visit.slot == 6
    first = make_visit(tablet_id=tablet.id)
    assert (first.visit.slot, first.quota.used, first.visit.device_id) == (1, 6, tablet.id)
    assert leases.top_up(tablet, clock.now).slots == [2, 3, 4, 5, 7]
    assert_counters_equal_rows(site)


def test_slots_given_back_are_given_out_again_lowest_first_and_never_leased(
    site, make_visit, clock, tablet, other_tablet
):
    leases.top_up(tablet, clock.now)
    day = site.local_day(clock.now)
    assert leases.give_back(tablet, day, [2, 4, 99], clock.now) == 2
    assert leases.give_back(tablet, day, [2, 4], clock.now) == 0  # the same message again
    quota = day_counter.quota_today(site, clock.now)
    assert (quota.used, quota.held) == (3, 3)
    # A tablet leases new numbers only, while numbers given back wait for a visitor.
    assert leases.top_up(other_tablet, clock.now).slots == []
    assert [make_visit().visit.slot for _ in range(3)] == [2, 4, 6]
    assert leases.top_up(other_tablet, clock.now).slots == [7, 8, 9, 10, 11]
    assert leases.top_up(tablet, clock.now).slots == [1, 3, 5, 12, 13]
    assert_counters_equal_rows(site)


def test_tablets_give_back_what_they_hold_when_no_slot_is_left_unheld(
    site, manager_user, make_visit, clock, tablet, other_tablet
):
    set_quota(site, 8, manager_user, clock.now)
    assert leases.top_up(tablet, clock.now).slots == [1, 2, 3, 4]
    assert leases.top_up(other_tablet, clock.now).slots == [5]
    make_visit(tablet_id=tablet.id)
    assert [make_visit().visit.slot for _ in range(3)] == [6, 7, 8]
    quota = day_counter.quota_today(site, clock.now)
    assert (quota.left, quota.held, quota.return_held) == (0, 4, True)
    assert make_visit(tablet_id=other_tablet.id).visit.slot == 5  # its own slot
    assert make_visit(tablet_id=other_tablet.id).visit.reasons == ["quota_full"]
    # The idle tablet hears on its next poll and gives back its three unused slots.
    assert leases.give_back(tablet, site.local_day(clock.now), [2, 3, 4], clock.now) == 3
    assert make_visit(tablet_id=other_tablet.id).visit.slot == 2
    quota = day_counter.quota_today(site, clock.now)
    assert (quota.used, quota.admitted, quota.left, quota.return_held) == (6, 6, 2, False)
    assert_counters_equal_rows(site)


def test_a_revoked_tablet_leases_nothing_more_that_day_even_holding_nothing(
    site, manager_user, make_visit, clock, tablet
):
    assert leases.revoke(tablet, manager_user, clock.now) == 0
    assert leases.top_up(tablet, clock.now + timedelta(minutes=1)).slots == []
    assert day_counter.quota_today(site, clock.now).used == 0
    tomorrow = clock.now + timedelta(days=1)
    assert leases.top_up(tablet, tomorrow).slots == [1, 2, 3, 4, 5]


def test_a_revoked_tablet_s_slots_stay_held_until_it_gives_them_back(
    site, manager_user, make_visit, clock, tablet
):
    set_quota(site, 6, manager_user, clock.now)
    assert leases.top_up(tablet, clock.now).slots == [1, 2, 3]
    make_visit(tablet_id=tablet.id)  # one of its slots given out before it was stopped
    assert leases.revoke(tablet, manager_user, clock.now) == 2
    (entry,) = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "lease_revoked"))
    assert entry.detail == {"device": "Pintu 1", "slots": 2}
    lease = leases.lease_of(tablet, clock.now)
    assert (lease.slots, lease.stopped) == ([], True)
    (row,) = leases.tablets(site, clock.now)
    assert (row.leased, row.used, row.held, row.revoked, row.stopped) == (3, 1, 2, 2, True)
    # Not offered online any more: its next passing visitor takes a number from the counter.
    assert make_visit(tablet_id=tablet.id).visit.slot == 4
    # An offline admission it made before it heard is accepted.
    stored = upload(site, tablet, OfflineDecision(clock.now, "admitted", (), 2, tablet.public_id))
    assert (stored.visit.slot, stored.conflict) == (2, None)
    assert leases.give_back(tablet, site.local_day(clock.now), [3], clock.now) == 1
    assert [make_visit().visit.slot for _ in range(3)] == [3, 5, 6]
    assert make_visit().visit.reasons == ["quota_full"]
    assert_counters_equal_rows(site)


def test_releasing_a_lost_tablet_s_slots_gives_them_out_again_and_keeps_its_uploads_apart(
    site, manager_user, make_visit, clock, tablet
):
    set_quota(site, 5, manager_user, clock.now)
    assert leases.top_up(tablet, clock.now).slots == [1, 2, 3]
    assert leases.release(tablet, manager_user, clock.now) == 3
    (entry,) = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.action == "lease_released")
    )
    assert entry.detail == {"device": "Pintu 1", "slots": 3}
    assert [make_visit().visit.slot for _ in range(6)] == [1, 2, 3, 4, 5, None]
    assert leases.top_up(tablet, clock.now).slots == []
    # The tablet was not lost after all: it admitted a visitor offline with slot 2.
    kept = upload(site, tablet, OfflineDecision(clock.now, "admitted", (), 2, tablet.public_id))
    assert (kept.visit, kept.conflict.cause) == (None, leases.SLOT_RELEASED)
    assert day_counter.quota_today(site, clock.now).admitted == 5
    assert_counters_equal_rows(site)


def upload(site, tablet, decided, **fields):
    """Upload one check recorded offline, from ``tablet`` (None: a browser no manager paired)."""
    tablet_id = tablet.id if tablet is not None else None
    data = CheckInData(**(PASSING | {"client_ref": ref(), "tablet_id": tablet_id} | fields))
    uploaded_at = decided.recorded_at + timedelta(minutes=1)
    return checkins.check_in(site, None, data, uploaded_at, decided)


def decision(tablet, recorded_at, status="admitted", reasons=(), slot=None):
    """Return what ``tablet`` decided offline at ``recorded_at``."""
    return OfflineDecision(recorded_at, status, reasons, slot, tablet.public_id)


def test_an_offline_check_is_stored_at_its_time_with_the_slot_the_tablet_gave(site, clock, tablet):
    leases.top_up(tablet, clock.now)
    recorded = clock.now + timedelta(minutes=20)
    result = upload(site, tablet, decision(tablet, recorded, slot=3))
    assert (result.visit.slot, result.visit.checked_at, result.created) == (3, recorded, True)
    refused = upload(site, tablet, decision(tablet, recorded, "refused", ("no_mask",)), mask=False)
    assert refused.visit.reasons == ["no_mask"]
    no_slot = upload(site, tablet, decision(tablet, recorded, "refused", ("no_offline_slot",)))
    assert no_slot.visit.reasons == ["no_offline_slot"]
    row = db.session.scalar(sa.select(DayQuota))
    assert (row.used, row.admitted, row.refused_no_offline_slot) == (5, 1, 1)
    assert_counters_equal_rows(site)


def test_an_offline_re_test_names_its_first_reading_by_reference(site, clock, tablet):
    leases.top_up(tablet, clock.now)
    first_ref = ref()
    first = upload(
        site,
        tablet,
        decision(tablet, clock.now, "recheck", ("fever",)),
        client_ref=first_ref,
        temperature_dc=376,
    )
    later = clock.now + timedelta(minutes=5)
    second = upload(site, tablet, decision(tablet, later, slot=1), retest_of_ref=first_ref)
    assert (second.visit.retest_of_id, second.visit.slot) == (first.visit.id, 1)
    resting = upload(
        site, tablet, decision(tablet, clock.now, "recheck", ("fever",)), temperature_dc=380
    )
    too_early = upload(
        site,
        tablet,
        decision(tablet, clock.now + timedelta(minutes=1), "refused", ("fever",)),
        retest_of_ref=resting.visit.client_ref,
        temperature_dc=380,
    )
    assert (too_early.visit, too_early.conflict.cause) == (None, "retest_too_early")


@pytest.mark.parametrize(
    ("slot", "fields", "cause"),
    [
        (9, {}, leases.SLOT_NOT_LEASED),
        (1, {}, leases.SLOT_ALREADY_USED),
        (3, {}, leases.SLOT_RETURNED),
        (2, {"lease_minutes": 6}, leases.RECORDED_BEFORE_LEASE),
        (2, {"mask": False}, checkins.DECISION_DIFFERS),
        (2, {"tablet": "other"}, checkins.NOT_THIS_TABLET),
        (2, {"tablet": "none"}, checkins.NOT_THIS_TABLET),
        (None, {"status": ("refused", ("no_mask",))}, checkins.DECISION_DIFFERS),
    ],
)
def test_an_offline_check_not_stored_as_decided_is_kept_for_the_manager(
    site, make_visit, clock, tablet, other_tablet, slot, fields, cause
):
    leased_at = clock.now + timedelta(minutes=10)  # well after the tablet was paired
    leases.top_up(tablet, leased_at)
    make_visit(tablet_id=tablet.id)  # takes slot 1 online
    leases.give_back(tablet, site.local_day(clock.now), [3], clock.now)
    before = counters_of(db.session.scalar(sa.select(DayQuota)))
    fields = dict(fields)
    status, reasons = fields.pop("status", ("admitted", ()))
    # A tablet's clock may be a little behind the server's, not more.
    recorded = leased_at - timedelta(minutes=fields.pop("lease_minutes", 0))
    uploader = {"other": other_tablet, "none": None}.get(fields.pop("tablet", ""), tablet)
    decided = decision(tablet, recorded, status, reasons, slot)
    result = upload(site, uploader, decided, **fields)
    assert (result.visit, result.conflict.cause) == (None, cause)
    again = upload(site, uploader, decided, client_ref=result.conflict.client_ref, **fields)
    assert (again.conflict.id, again.created) == (result.conflict.id, False)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(UploadConflict)) == 1
    assert counters_of(db.session.scalar(sa.select(DayQuota))) == before
    detail = db.session.scalar(sa.select(UploadConflict.detail))
    assert "visitor_name" not in detail and "phone" not in detail


@pytest.mark.parametrize("recorded", [timedelta(0), timedelta(days=-8000)])
def test_only_the_paired_tablet_that_decided_a_check_offline_may_upload_it(site, clock, recorded):
    made_up = str(uuid.uuid4())
    at = clock.now + recorded
    refused = upload(
        site, None, OfflineDecision(at, "refused", ("no_mask",), None, made_up), mask=False
    )
    admitted = upload(site, None, OfflineDecision(at, "admitted", (), 1, made_up))
    assert (refused.visit, refused.conflict.cause) == (None, checkins.NOT_THIS_TABLET)
    assert (admitted.visit, admitted.conflict.cause) == (None, checkins.NOT_THIS_TABLET)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Device)) == 0
    assert db.session.scalars(sa.select(DayQuota.day)).all() == []  # no day reached into


@pytest.mark.parametrize(
    "problem",
    [
        {"recorded_at": timedelta(minutes=6)},  # recorded in the future
        {"mask": False},  # decided otherwise than the rules
        {"retest_of_ref": "6f0f7c4e-1b1e-4a58-9f5e-0c1d2e3f4a5b"},  # a re-test of nothing
    ],
)
def test_a_slot_given_in_a_check_kept_as_a_conflict_is_never_given_again(
    site, make_visit, clock, tablet, problem
):
    leases.top_up(tablet, clock.now)
    problem = dict(problem)
    recorded = clock.now + problem.pop("recorded_at", timedelta(0))
    data = CheckInData(**(PASSING | {"client_ref": ref(), "tablet_id": tablet.id} | problem))
    kept = checkins.check_in(site, None, data, clock.now, decision(tablet, recorded, slot=1))
    assert kept.conflict is not None and kept.visit is None
    assert leases.lease_of(tablet, clock.now).slots == [2, 3, 4, 5]
    assert make_visit(tablet_id=tablet.id).visit.slot == 2
    # Given back by mistake, or released, it still never reaches another visitor: the visitor
    # the manager will look at holds that number, and it stays counted.
    assert leases.give_back(tablet, site.local_day(clock.now), [1], clock.now) == 0
    assert leases.release(tablet, None, clock.now) == 3
    assert 1 not in [make_visit().visit.slot for _ in range(5)]
    (row,) = leases.tablets(site, clock.now)
    assert (row.kept, row.held, day_counter.quota_today(site, clock.now).held) == (1, 0, 1)
    assert_counters_equal_rows(site)


def test_a_closed_day_admits_nobody_online_even_on_a_slot_a_tablet_holds(
    site, manager_user, make_visit, clock, tablet
):
    from checkin.services import calendar

    assert leases.top_up(tablet, clock.now).slots == [1, 2, 3, 4, 5]
    calendar.add_closed_day(site, site.local_day(clock.now), "Banjir", manager_user, clock.now)
    refused = make_visit(tablet_id=tablet.id).visit
    assert (refused.status, refused.reasons, refused.slot) == ("refused", ["closed"], None)
    assert day_counter.quota_today(site, clock.now).admitted == 0
    assert_counters_equal_rows(site)


@pytest.mark.parametrize(
    ("recorded", "cause"),
    [
        (timedelta(minutes=6), checkins.RECORDED_IN_THE_FUTURE),
        (timedelta(days=-9000), checkins.RECORDED_BEFORE_TABLET),
        (timedelta(minutes=-6), checkins.RECORDED_BEFORE_TABLET),
    ],
)
def test_an_offline_check_dated_outside_the_tablet_s_time_is_kept_for_the_manager(
    site, clock, tablet, recorded, cause
):
    leases.top_up(tablet, clock.now)
    decided = decision(tablet, clock.now + recorded, "refused", ("no_mask",))
    data = CheckInData(**(PASSING | {"mask": False, "client_ref": ref(), "tablet_id": tablet.id}))
    result = checkins.check_in(site, None, data, clock.now, decided)
    assert (result.visit, result.conflict.cause) == (None, cause)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Visit)) == 0
    assert db.session.scalars(sa.select(DayQuota.day)).all() == [site.local_day(clock.now)]


def test_a_check_sent_twice_is_stored_once(site, make_visit):
    client_ref = ref()
    first = make_visit(client_ref=client_ref)
    again = make_visit(client_ref=client_ref)
    assert (again.visit.id, again.visit.slot, again.created) == (first.visit.id, 1, False)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Visit)) == 1
    assert_counters_equal_rows(site)


def test_the_api_takes_reads_and_revokes_a_paired_tablet_s_lease(
    client, app, auth_headers, door_user, manager_user, pair_tablet
):
    paired = pair_tablet(name="Pintu 1")
    tablet_id = paired.device.public_id
    door = auth_headers(door_user)
    on_tablet(client, paired)
    taken = client.post("/api/v1/leases", json={"device_id": tablet_id}, headers=door)
    assert taken.status_code == 200, taken.json
    assert (taken.json["slots"], taken.json["stopped"]) == ([1, 2, 3, 4, 5], False)
    assert taken.json["rules"] == {
        "checks": [
            {"reason": "fever", "field": "temperature_dc", "at_least_dc": 373},
            {"reason": "no_hand_sanitiser", "field": "hand_sanitiser", "at_least_dc": None},
            {"reason": "no_mask", "field": "mask", "at_least_dc": None},
            {"reason": "no_distancing", "field": "distancing", "at_least_dc": None},
        ],
        "retest_when_only": ["fever"],
        "plausible_min_dc": 340,
        "plausible_max_dc": 420,
        "recheck_minutes": 5,
        "timezone": "Asia/Jakarta",
    }
    assert (taken.json["quota"]["left"], taken.json["quota"]["held"]) == (55, 5)
    assert client.post("/api/v1/leases", json={}, headers=door).json["slots"] == [1, 2, 3, 4, 5]
    assert client.get(f"/api/v1/leases/{tablet_id}", headers=door).json["slots"] == [1, 2, 3, 4, 5]
    assert client.delete(f"/api/v1/leases/{tablet_id}", headers=door).status_code == 403
    manager = app.test_client()
    revoked = manager.delete(f"/api/v1/leases/{tablet_id}", headers=auth_headers(manager_user))
    assert revoked.json == {"device_id": tablet_id, "revoked": 5}
    lease = client.get(f"/api/v1/leases/{tablet_id}", headers=door).json
    assert (lease["slots"], lease["stopped"], lease["quota"]["held"]) == ([], True, 5)


@pytest.mark.parametrize(
    "device_id",
    ["not-a-uuid", "00000000-0000-4000-8000-000000000000", "a\x00b", "9" * 5000, "%00"],
)
def test_an_unknown_or_odd_tablet_id_is_404(client, auth_headers, manager_user, device_id):
    manager = auth_headers(manager_user)
    assert client.get(f"/api/v1/leases/{device_id}", headers=manager).status_code == 404
    assert client.delete(f"/api/v1/leases/{device_id}", headers=manager).status_code == 404


def test_browsers_and_made_up_tablets_take_no_slot(
    client, app, auth_headers, door_user, manager_user, login, site, clock, make_site, pair_tablet
):
    door = auth_headers(door_user)
    for _tablet in range(33):
        made_up = client.post("/api/v1/leases", json={"device_id": ref()}, headers=door)
        assert made_up.status_code == 404
    assert client.post("/api/v1/leases", json={}, headers=door).status_code == 404
    browser = app.test_client()
    browser.post("/login", data={"username": manager_user.username, "password": PASSWORD})
    assert browser.post("/api/v1/leases", json={}).status_code == 404
    assert browser.get("/").status_code == 200
    # A tablet paired to another site holds none of this one's.
    elsewhere = on_tablet(app.test_client(), pair_tablet(site_=make_site("MLG")))
    assert elsewhere.post("/api/v1/leases", json={}, headers=door).status_code == 404
    quota = day_counter.quota_today(site, clock.now)
    assert (quota.used, quota.held) == (0, 0)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LeasedSlot)) == 0


@pytest.mark.parametrize(
    "body",
    [
        {"device_id": "not-a-uuid"},
        {"device_id": None, "shoe_size": 44},
        {"name": "Pintu 1"},
        [],
    ],
)
def test_a_bad_lease_request_is_422_and_takes_nothing(
    client, auth_headers, door_user, pair_tablet, body
):
    on_tablet(client, pair_tablet())
    response = client.post("/api/v1/leases", json=body, headers=auth_headers(door_user))
    assert response.status_code in (400, 422)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LeasedSlot)) == 0


def test_a_tablet_gives_back_by_its_credential_even_once_unpaired(
    client, app, auth_headers, door_user, manager_user, pair_tablet, site, clock
):
    paired = pair_tablet()
    door = auth_headers(door_user)
    on_tablet(client, paired)
    day = site.local_day(clock.now).isoformat()
    assert client.post("/api/v1/leases", json={}, headers=door).json["slots"] == [1, 2, 3, 4, 5]
    back = client.post("/api/v1/leases/return", json={"day": day, "slots": [5]})
    assert (back.status_code, back.json["returned"], back.json["quota"]["held"]) == (200, 1, 4)
    with transaction.owned():
        pairing.unpair(paired.device, manager_user, clock.now)
    assert client.post("/api/v1/leases", json={}, headers=door).status_code == 404
    assert client.get("/api/v1/tablet").json == {
        "device_id": paired.device.public_id,
        "paired": False,
        "site": "KDR",
    }
    back = client.post("/api/v1/leases/return", json={"day": day, "slots": [1, 2, 3, 4, 5]})
    assert (back.json["returned"], back.json["quota"]["used"]) == (4, 0)
    stranger = app.test_client().post("/api/v1/leases/return", json={"day": day, "slots": [1]})
    assert stranger.status_code == 404
    bad = client.post("/api/v1/leases/return", json={"day": day, "slots": ["1"]})
    assert bad.status_code == 422


def test_the_api_answers_a_repeated_reference_with_the_stored_check(
    client, auth_headers, door_user
):
    body = BODY | {"client_ref": ref()}
    first = client.post("/api/v1/checkins", json=body, headers=auth_headers(door_user))
    again = client.post("/api/v1/checkins", json=body, headers=auth_headers(door_user))
    assert (first.status_code, again.status_code) == (201, 200)
    assert {key: value for key, value in again.json.items() if key != "quota"} == {
        key: value for key, value in first.json.items() if key != "quota"
    }


def test_the_api_stores_an_offline_check_or_answers_409_with_the_conflict(
    client, auth_headers, door_user, pair_tablet, clock
):
    paired = pair_tablet()
    door = auth_headers(door_user)
    on_tablet(client, paired)
    client.post("/api/v1/leases", json={}, headers=door)
    offline = {"recorded_at": clock.now.isoformat(), "status": "admitted", "reasons": [], "slot": 2}
    tablet_id = paired.device.public_id
    body = BODY | {"client_ref": ref(), "device_id": tablet_id, "offline": offline}
    stored = client.post("/api/v1/checkins", json=body, headers=door)
    assert (stored.status_code, stored.json["slot"]) == (201, 2)
    clash = body | {"client_ref": ref()}
    conflict = client.post("/api/v1/checkins", json=clash, headers=door)
    assert (conflict.status_code, conflict.json["code"]) == (409, "kept_for_manager")
    assert conflict.json["errors"] == {
        "offline": ["The tablet gave a queue number that was already used."]
    }
    assert client.post("/api/v1/checkins", json=clash, headers=door).status_code == 409


@pytest.mark.parametrize(
    "changes",
    [
        {"offline": {"recorded_at": "2026-11-25T03:00:00", "status": "admitted", "reasons": []}},
        {"offline": {"recorded_at": "2026-11-25T03:00:00Z", "status": "maybe", "reasons": []}},
        {
            "offline": {"recorded_at": "2026-11-25T03:00:00Z", "status": "admitted", "reasons": []},
            "client_ref": None,
        },
        {"offline": {"recorded_at": "0001-01-01T00:00:00Z", "status": "admitted", "reasons": []}},
        {"client_ref": "1234"},
        {"recheck_of": 1, "recheck_of_ref": str(uuid.uuid4())},
        {"nik_last4": "12345"},
        {"nik_last4": "1234", "id_number": "3506123412341234"},
    ],
)
def test_a_malformed_offline_upload_is_422_and_stores_nothing(
    client, auth_headers, door_user, changes
):
    body = BODY | {"client_ref": ref(), "device_id": ref()} | changes
    response = client.post("/api/v1/checkins", json=body, headers=auth_headers(door_user))
    assert response.status_code == 422, response.json
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Visit)) == 0


def test_a_check_may_carry_only_the_nik_s_last_four_digits(client, auth_headers, door_user):
    body = BODY | {"nik_last4": "9876"}
    response = client.post("/api/v1/checkins", json=body, headers=auth_headers(door_user))
    assert response.status_code == 201
    assert db.session.scalar(sa.select(Visit.nik_last4)) == "9876"


def test_the_door_form_carries_a_reference_so_a_second_post_stores_nothing(
    client, door_user, login
):
    login(door_user)
    page = client.get("/").text
    assert 'name="client_ref"' in page
    form = {"temperature": "36.5", "hand_sanitiser": "y", "mask": "y", "distancing": "y"}
    form["client_ref"] = ref()
    first = client.post("/", data=form)
    second = client.post("/", data=form)
    assert first.status_code == second.status_code == 303
    assert first.location == second.location
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Visit)) == 1


def test_the_manager_sees_slots_held_by_tablets_and_can_stop_and_release_them(
    client, login, manager_user, site, clock, tablet
):
    with transaction.owned():
        leases.top_up(tablet, clock.now)
    login(manager_user)
    log = client.get("/manage/log?lang=en").text
    assert 'data-held="5"' in log
    page = client.get("/manage/tablets")
    assert page.status_code == 200
    assert f'data-device="{tablet.public_id}"' in page.text
    stopped = client.post(f"/manage/tablets/{tablet.public_id}/revoke")
    assert stopped.status_code == 302
    assert leases.lease_of(tablet, clock.now).stopped
    released = client.post(f"/manage/tablets/{tablet.public_id}/release")
    assert released.status_code == 302
    assert day_counter.quota_today(site, clock.now).held == 0
    for odd in ("00000000-0000-4000-8000-000000000000", "x", "a%00b"):
        assert client.post(f"/manage/tablets/{odd}/revoke").status_code == 404
        assert client.post(f"/manage/tablets/{odd}/release").status_code == 404
        assert client.post(f"/manage/tablets/{odd}/unpair").status_code == 404
    report = client.get("/api/v1/reports/daily?from=2026-11-25&to=2026-11-25").json
    assert report["days"][0]["held"] == 0


def statements_of(check_in) -> int:
    """Return how many SQL statements ``check_in()`` sends."""
    sent = []

    def count(*_args) -> None:
        sent.append(1)

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        check_in()
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    return len(sent)


def test_a_tablet_s_lease_adds_at_most_one_statement_to_an_online_check_in(
    site, make_visit, clock, tablet
):
    make_visit()  # the day's counter row exists, as it does after the first visitor
    without = statements_of(lambda: make_visit(client_ref=ref()))
    leases.top_up(tablet, clock.now)
    from_lease = statements_of(lambda: make_visit(client_ref=ref(), tablet_id=tablet.id))
    for _slot in range(leases.LEASE_SIZE):
        make_visit(tablet_id=tablet.id)
    lease_used_up = statements_of(lambda: make_visit(client_ref=ref(), tablet_id=tablet.id))
    assert from_lease <= without + 1 and lease_used_up <= without + 1, (
        without,
        from_lease,
        lease_used_up,
    )


def test_a_re_test_sent_again_answers_the_stored_one(site, make_visit, clock):
    first = make_visit(temperature_dc=380).visit
    later = clock.now + timedelta(minutes=6)
    client_ref = ref()
    second = checkins.second_reading(first, 366, client_ref)
    stored = checkins.check_in(site, None, second, later)
    again = checkins.check_in(site, None, second, later + timedelta(seconds=2))
    assert (again.visit.id, again.created) == (stored.visit.id, False)
    assert_counters_equal_rows(site)


def test_closing_today_asks_tablets_back_and_opening_it_lets_them_lease_again(
    site, manager_user, make_visit, clock, tablet
):
    from checkin.services import calendar

    leases.top_up(tablet, clock.now)
    make_visit(tablet_id=tablet.id)
    day = site.local_day(clock.now)
    quota = calendar.add_closed_day(site, day, "Banjir", manager_user, clock.now)
    assert (quota.closed, quota.left, quota.return_held) == (True, 0, True)
    assert leases.top_up(tablet, clock.now).slots == [2, 3, 4, 5]  # held, nothing new
    assert leases.give_back(tablet, day, [2, 3, 4, 5], clock.now) == 4
    quota = day_counter.quota_today(site, clock.now)
    assert (quota.used, quota.admitted, quota.left) == (1, 1, 0)
    assert make_visit().visit.reasons == ["closed"]
    calendar.remove_closed_day(site, day, manager_user, clock.now)
    assert leases.top_up(tablet, clock.now).slots == []  # numbers given back go first
    assert [make_visit().visit.slot for _ in range(4)] == [2, 3, 4, 5]
    assert leases.top_up(tablet, clock.now).slots == [6, 7, 8, 9, 10]
    assert_counters_equal_rows(site)
