"""Slot leases, client references and offline uploads: the service and the JSON API."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from checkin.extensions import db
from checkin.models import AuditEntry, DayQuota, LeasedSlot, UploadConflict, Visit
from checkin.services import checkins, day_counter, leases, sites, uploads
from checkin.services.checkins import CheckInData
from checkin.services.errors import DeviceOfAnotherSite
from checkin.services.uploads import OfflineDecision
from tests.conftest import PASSING, counters_of, counters_of_rows

TABLET, OTHER_TABLET = str(uuid.uuid4()), str(uuid.uuid4())
BODY = {"temperature_c": 36.6, "hand_sanitiser": True, "mask": True, "distancing": True}


def ref() -> str:
    """Return a new client reference."""
    return str(uuid.uuid4())


def assert_counters_equal_rows(site) -> None:
    """Check every day row of the site against its visits and leased slots."""
    for row in db.session.scalars(sa.select(DayQuota).where(DayQuota.site_id == site.id)):
        assert counters_of(row) == counters_of_rows(site.id, row.day), row.day


def set_quota(site, limit, by, now) -> None:
    """Change the site's daily quota from ``now`` on."""
    settings = sites.SiteSettings(limit, site.fever_cutoff_dc, site.online_service_url)
    sites.update_site_settings(site, settings, by, now)


def test_a_lease_takes_five_slots_from_the_counter(site, clock):
    lease = leases.take(site, TABLET, clock.now, "Pintu 1")
    assert lease.slots == [1, 2, 3, 4, 5]
    assert (lease.quota.used, lease.quota.left) == (5, 55)
    assert (lease.policy.fever_cutoff_dc, lease.policy.recheck_minutes) == (373, 5)
    assert leases.take(site, TABLET, clock.now).slots == [1, 2, 3, 4, 5]
    row = db.session.get(DayQuota, (site.id, lease.day))
    assert (row.used, row.admitted, row.held, row.issued, row.checks) == (5, 0, 5, 5, 0)


def test_a_lease_never_takes_more_than_a_fair_share_of_what_is_left(
    site, manager_user, make_visit, clock
):
    set_quota(site, 10, manager_user, clock.now)
    make_visit()
    make_visit()
    # 8 left, one tablet: a share of 4; then 4 left, two tablets: a share of 1.
    assert leases.take(site, TABLET, clock.now).slots == [3, 4, 5, 6]
    assert leases.take(site, OTHER_TABLET, clock.now).slots == [7]
    assert day_counter.quota_today(site, clock.now).left == 3


def test_a_lease_is_never_taken_past_the_quota(site, manager_user, make_visit, clock):
    set_quota(site, 2, manager_user, clock.now)
    make_visit()
    make_visit()
    assert leases.take(site, TABLET, clock.now).slots == []
    assert make_visit().visit.reasons == ["quota_full"]


def test_an_online_check_from_a_tablet_takes_a_slot_of_its_lease_first(site, make_visit, clock):
    leases.take(site, TABLET, clock.now)
    other = make_visit()  # no tablet: from the counter
    assert other.visit.slot == 6
    first = make_visit(device_id=TABLET)
    assert (first.visit.slot, first.quota.used, first.visit.device_id) == (1, 6, 1)
    assert leases.take(site, TABLET, clock.now).slots == [2, 3, 4, 5, 7]
    assert_counters_equal_rows(site)


def test_a_tablet_of_another_site_is_refused(site, make_site, clock):
    leases.take(site, TABLET, clock.now)
    with pytest.raises(DeviceOfAnotherSite):
        leases.take(make_site("MLG"), TABLET, clock.now)


def test_a_revoked_lease_is_never_reissued_and_its_uploads_are_accepted(
    site, manager_user, make_visit, clock
):
    set_quota(site, 6, manager_user, clock.now)
    lease = leases.take(site, TABLET, clock.now)
    assert lease.slots == [1, 2, 3]
    device = leases.device_of(site, TABLET)
    assert leases.revoke(device, manager_user, clock.now) == 3
    (entry,) = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "lease_revoked"))
    assert entry.detail == {"device": TABLET[:8], "slots": 3}
    assert [make_visit().visit.slot for _ in range(4)] == [4, 5, 6, None]
    assert make_visit(device_id=TABLET).visit.reasons == ["quota_full"]
    decided = OfflineDecision(clock.now, "admitted", (), 2)
    stored = upload(site, decided)
    assert (stored.visit.slot, stored.conflict) == (2, None)
    assert_counters_equal_rows(site)


def upload(site, decided, **fields):
    """Upload one check recorded offline by TABLET."""
    data = CheckInData(**(PASSING | {"client_ref": ref(), "device_id": TABLET} | fields))
    return uploads.upload(site, None, data, decided, decided.recorded_at + timedelta(minutes=1))


def test_an_offline_check_is_stored_at_its_time_with_the_slot_the_tablet_gave(site, clock):
    leases.take(site, TABLET, clock.now)
    recorded = clock.now + timedelta(minutes=20)
    result = upload(site, OfflineDecision(recorded, "admitted", (), 3))
    assert (result.visit.slot, result.visit.checked_at, result.created) == (3, recorded, True)
    refused = upload(site, OfflineDecision(recorded, "refused", ("no_mask",), None), mask=False)
    assert refused.visit.reasons == ["no_mask"]
    no_slot = upload(site, OfflineDecision(recorded, "refused", ("no_offline_slot",), None))
    assert no_slot.visit.reasons == ["no_offline_slot"]
    row = db.session.scalar(sa.select(DayQuota))
    assert (row.used, row.admitted, row.refused_no_offline_slot) == (5, 1, 1)
    assert_counters_equal_rows(site)


def test_an_offline_re_test_names_its_first_reading_by_reference(site, clock):
    leases.take(site, TABLET, clock.now)
    first_ref = ref()
    first = upload(
        site,
        OfflineDecision(clock.now, "recheck", ("fever",), None),
        client_ref=first_ref,
        temperature_dc=376,
    )
    later = clock.now + timedelta(minutes=5)
    second = upload(site, OfflineDecision(later, "admitted", (), 1), recheck_of_ref=first_ref)
    assert (second.visit.recheck_of_id, second.visit.slot) == (first.visit.id, 1)
    too_early = upload(
        site,
        OfflineDecision(clock.now + timedelta(minutes=1), "refused", ("fever",), None),
        recheck_of_ref=upload(
            site, OfflineDecision(clock.now, "recheck", ("fever",), None), temperature_dc=380
        ).visit.client_ref,
        temperature_dc=380,
    )
    assert (too_early.visit, too_early.conflict.cause) == (None, "retest_too_early")


@pytest.mark.parametrize(
    ("decided", "fields", "cause"),
    [
        (lambda now: OfflineDecision(now, "admitted", (), 9), {}, "slot_not_leased"),
        (lambda now: OfflineDecision(now, "admitted", (), 1), {}, "slot_already_used"),
        (
            lambda now: OfflineDecision(now - timedelta(minutes=3), "admitted", (), 2),
            {},
            "recorded_before_lease",
        ),
        (lambda now: OfflineDecision(now, "admitted", (), 2), {"mask": False}, "decision_differs"),
        (lambda now: OfflineDecision(now, "refused", ("no_mask",), None), {}, "decision_differs"),
    ],
)
def test_an_offline_check_not_stored_as_decided_is_kept_for_the_manager(
    site, make_visit, clock, decided, fields, cause
):
    leases.take(site, TABLET, clock.now)
    make_visit(device_id=TABLET)  # takes slot 1 online
    before = counters_of(db.session.scalar(sa.select(DayQuota)))
    result = upload(site, decided(clock.now), **fields)
    assert (result.visit, result.conflict.cause) == (None, cause)
    again = upload(site, decided(clock.now), client_ref=result.conflict.client_ref, **fields)
    assert (again.conflict.id, again.created) == (result.conflict.id, False)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(UploadConflict)) == 1
    assert counters_of(db.session.scalar(sa.select(DayQuota))) == before
    detail = db.session.scalar(sa.select(UploadConflict.detail))
    assert "visitor_name" not in detail and "phone" not in detail


def test_a_tablet_first_heard_of_in_its_upload_is_registered_without_a_lease(site, clock):
    refused = upload(site, OfflineDecision(clock.now, "refused", ("no_mask",), None), mask=False)
    admitted = upload(site, OfflineDecision(clock.now, "admitted", (), 1))
    assert (refused.visit.status, admitted.visit, admitted.conflict.cause) == (
        "refused",
        None,
        uploads.SLOT_NOT_LEASED,
    )
    assert leases.device_of(site, TABLET).id == refused.visit.device_id


@pytest.mark.parametrize(
    ("recorded", "cause"),
    [
        (timedelta(minutes=6), uploads.RECORDED_IN_THE_FUTURE),
        (timedelta(days=-9000), uploads.RECORDED_BEFORE_TABLET),
        (timedelta(minutes=-6), uploads.RECORDED_BEFORE_TABLET),
    ],
)
def test_an_offline_check_dated_outside_the_tablet_s_time_is_kept_for_the_manager(
    site, clock, recorded, cause
):
    leases.take(site, TABLET, clock.now)
    decided = OfflineDecision(clock.now + recorded, "refused", ("no_mask",), None)
    data = CheckInData(**(PASSING | {"mask": False, "client_ref": ref(), "device_id": TABLET}))
    result = uploads.upload(site, None, data, decided, clock.now)
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


def test_the_api_takes_reads_and_revokes_leases(client, auth_headers, door_user, manager_user):
    door = auth_headers(door_user)
    taken = client.post(
        "/api/v1/leases", json={"device_id": TABLET, "name": "Pintu 1"}, headers=door
    )
    assert taken.status_code == 200, taken.json
    assert taken.json["slots"] == [1, 2, 3, 4, 5]
    assert taken.json["policy"] == {
        "fever_cutoff_c": 37.3,
        "recheck_minutes": 5,
        "timezone": "Asia/Jakarta",
        "plausible_min_c": 34.0,
        "plausible_max_c": 42.0,
    }
    assert taken.json["quota"]["left"] == 55
    assert client.get(f"/api/v1/leases/{TABLET}", headers=door).json["slots"] == [1, 2, 3, 4, 5]
    assert client.delete(f"/api/v1/leases/{TABLET}", headers=door).status_code == 403
    revoked = client.delete(f"/api/v1/leases/{TABLET}", headers=auth_headers(manager_user))
    assert revoked.json == {"device_id": TABLET, "revoked": 5}
    assert client.get(f"/api/v1/leases/{TABLET}", headers=door).json["slots"] == []
    assert client.get(f"/api/v1/leases/{OTHER_TABLET}", headers=door).status_code == 422


@pytest.mark.parametrize(
    "body",
    [
        {"device_id": "not-a-uuid"},
        {"device_id": TABLET.upper()},
        {"device_id": TABLET, "shoe_size": 44},
        {"device_id": TABLET, "name": "x" * 81},
        {},
    ],
)
def test_a_bad_lease_request_is_422_and_takes_nothing(client, auth_headers, door_user, body):
    response = client.post("/api/v1/leases", json=body, headers=auth_headers(door_user))
    assert response.status_code == 422
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LeasedSlot)) == 0


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
    client, auth_headers, door_user, site, clock
):
    door = auth_headers(door_user)
    client.post("/api/v1/leases", json={"device_id": TABLET}, headers=door)
    offline = {"recorded_at": clock.now.isoformat(), "status": "admitted", "reasons": [], "slot": 2}
    body = BODY | {"client_ref": ref(), "device_id": TABLET, "offline": offline}
    stored = client.post("/api/v1/checkins", json=body, headers=door)
    assert (stored.status_code, stored.json["slot"]) == (201, 2)
    clash = body | {"client_ref": ref()}
    conflict = client.post("/api/v1/checkins", json=clash, headers=door)
    assert conflict.status_code == 409
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
    ],
)
def test_a_malformed_offline_upload_is_422_and_stores_nothing(
    client, auth_headers, door_user, changes
):
    body = BODY | {"client_ref": ref(), "device_id": TABLET} | changes
    response = client.post("/api/v1/checkins", json=body, headers=auth_headers(door_user))
    assert response.status_code == 422, response.json
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Visit)) == 0


def test_the_door_form_carries_a_reference_so_a_second_post_stores_nothing(
    client, door_user, login
):
    login(door_user)
    page = client.get("/").text
    assert 'name="client_ref"' in page and 'name="device_id"' in page
    form = {"temperature": "36.5", "hand_sanitiser": "y", "mask": "y", "distancing": "y"}
    form["client_ref"] = ref()
    first = client.post("/", data=form)
    second = client.post("/", data=form)
    assert first.status_code == second.status_code == 303
    assert first.location == second.location
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Visit)) == 1


def test_the_manager_sees_slots_held_by_tablets_and_can_revoke_them(
    client, login, manager_user, site, clock
):
    leases.take(site, TABLET, clock.now, "Pintu 1")
    login(manager_user)
    log = client.get("/manage/log?lang=en").text
    assert "5 slots held by tablets, not used" in log
    tablets = client.get("/manage/tablets?lang=en").text
    assert "Pintu 1" in tablets and "Revoke the slots of Pintu 1" in tablets
    response = client.post(f"/manage/tablets/{TABLET}/revoke?lang=en")
    assert response.status_code == 302
    assert "5 slots will not be given out again today" in client.get("/manage/tablets?lang=en").text
    assert client.post(f"/manage/tablets/{OTHER_TABLET}/revoke").status_code == 404
    report = client.get("/api/v1/reports/daily?from=2026-11-25&to=2026-11-25").json
    assert report["days"][0]["held"] == 5


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


def test_a_tablet_s_lease_adds_at_most_one_statement_to_an_online_check_in(site, make_visit, clock):
    make_visit()  # the day's counter row exists, as it does after the first visitor
    without = statements_of(lambda: make_visit(client_ref=ref()))
    leases.take(site, TABLET, clock.now)
    from_lease = statements_of(lambda: make_visit(client_ref=ref(), device_id=TABLET))
    for _slot in range(leases.LEASE_SIZE):
        make_visit(device_id=TABLET)
    lease_used_up = statements_of(lambda: make_visit(client_ref=ref(), device_id=TABLET))
    assert from_lease <= without + 1 and lease_used_up <= without + 1, (
        without,
        from_lease,
        lease_used_up,
    )


def test_a_revoked_tablet_gets_no_more_slots_that_day(site, manager_user, make_visit, clock):
    leases.take(site, TABLET, clock.now)
    make_visit(device_id=TABLET)  # one of its slots given out before it was lost
    assert leases.revoke(leases.device_of(site, TABLET), manager_user, clock.now) == 4
    assert leases.take(site, TABLET, clock.now + timedelta(minutes=1)).slots == []
    (tablet,) = leases.tablets(site, clock.now)
    assert (tablet.leased, tablet.used, tablet.revoked) == (5, 1, 4)
    assert day_counter.quota_today(site, clock.now).used == 5
    assert leases.take(site, TABLET, clock.now + timedelta(days=1)).slots == [1, 2, 3, 4, 5]


def test_a_re_test_sent_again_answers_the_stored_one(site, make_visit, clock):
    first = make_visit(temperature_dc=380).visit
    later = clock.now + timedelta(minutes=6)
    client_ref = ref()
    second = checkins.second_reading(first, 366, client_ref)
    stored = checkins.check_in(site, None, second, later)
    again = checkins.check_in(site, None, second, later + timedelta(seconds=2))
    assert (again.visit.id, again.created) == (stored.visit.id, False)
    assert_counters_equal_rows(site)
