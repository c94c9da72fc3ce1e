"""Booked visitors at an offline door, on both engines: a paired tablet keeps today's bookings
(only it, compactly, with an ETag), admits a booked visitor offline to their booked place without
a walk-in slot, and uploads the check with the booking's code; the first admission of a booking
across tablets takes the place, any other is kept for the manager, and the same upload again
stores nothing new."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import datetime

import pytest
import sqlalchemy as sa

from checkin.domain import limits
from checkin.domain.booking_errors import BookingAlreadyAdmitted
from checkin.extensions import db
from checkin.models import AuditEntry, Booking, LeasedSlot, SiteBooking, UploadConflict, Visit
from checkin.services import bookings, checkins, leases, transaction
from checkin.services.bookings import BookingData
from checkin.services.checkins import CheckInData, OfflineDecision
from tests.conftest import PASSING, PASSWORD, on_tablet
from tests.test_booking_races import RACERS, postgresql_only, race
from tests.test_bookings import (
    AFTERNOON,
    LATE_MORNING,
    MORNING,
    TODAY,
    TOMORROW,
    at,
    session_row,
    visitor,
)
from tests.test_door_bookings import booked, walk_in_counters, widened_admissions
from tests.test_leases import assert_counters_equal_rows

__all__ = ["postgresql_only", "widened_admissions"]  # fixtures the race tests ask for


def leasing(pair_tablet, name: str):
    """Return a tablet of the default site, paired by its manager, holding a lease at 10:00."""
    made = pair_tablet(name=name)
    with transaction.owned():
        leases.top_up(made.device, at(10))
    return made


@pytest.fixture
def paired(pair_tablet):
    """Return a paired tablet of the default site, holding a lease."""
    return leasing(pair_tablet, "Pintu 1")


@pytest.fixture
def other(pair_tablet):
    """Return a second paired tablet of the default site, holding a lease."""
    return leasing(pair_tablet, "Pintu 2")


def admitted_offline(tablet, code: str, recorded_at: datetime, slot: int | None = None) -> tuple:
    """Return an offline admission of the visitor with booking ``code``, as the tablet uploads
    it: to the booked place (no slot), or by the walk-in rules with a ``slot`` of its lease."""
    data = CheckInData(
        **PASSING, client_ref=str(uuid.uuid4()), tablet_id=tablet.id, booking_code=code
    )
    decided = OfflineDecision(recorded_at, "admitted", (), slot, tablet.public_id)
    return data, decided


def upload(site, data, decided, now: datetime) -> checkins.CheckInResult:
    """Upload one offline check in a transaction of its own, as the API does."""
    return transaction.owned_after_race(
        lambda: checkins.check_in(site, None, data, now, decided),
        lambda lost: checkins.after_lost_race(site, None, data, now, decided, lost),
    )


def held_unused(tablet) -> list[int]:
    """Return the slots the tablet holds unused: an admission to a booked place takes none."""
    return db.session.scalars(
        sa.select(LeasedSlot.slot).where(
            LeasedSlot.device_id == tablet.id, LeasedSlot.used_at.is_(None)
        )
    ).all()


def test_an_offline_admission_of_a_booking_takes_its_place_and_a_number_at_upload(site, paired):
    booking = booked(site, starts=LATE_MORNING)
    tablet = paired.device
    data, decided = admitted_offline(tablet, booking.code, at(10, 5))
    result = upload(site, data, decided, at(10, 20))
    assert result.created and result.conflict is None
    visit = result.visit
    # The number comes at upload, after the five the lease took: no walk-in slot was used.
    assert (visit.status, visit.slot, visit.booking_id) == ("admitted", 6, booking.id)
    assert visit.checked_at == at(10, 5)
    db.session.expire_all()
    stored = db.session.get(Booking, booking.id)
    assert (stored.status, stored.visit_id, stored.admitted_at) == ("admitted", visit.id, at(10, 5))
    assert session_row(site, TODAY, LATE_MORNING).admitted == 1
    assert held_unused(tablet) == [1, 2, 3, 4, 5]
    assert walk_in_counters(site) == (5, 0, 0)  # the lease's five held; nobody walked in
    again = upload(site, data, decided, at(10, 21))
    assert (again.created, again.visit.id, again.conflict) == (False, visit.id, None)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Visit)) == 1
    assert_counters_equal_rows(site)


def test_an_offline_admission_after_the_booking_was_admitted_online_is_kept_for_the_manager(
    site, paired, make_visit
):
    booking = booked(site, starts=LATE_MORNING)
    online = make_visit(now=at(10, 10), booking_code=booking.code).visit
    data, decided = admitted_offline(paired.device, booking.code, at(10, 5))
    kept = upload(site, data, decided, at(10, 20))
    assert kept.visit is None
    conflict = kept.conflict
    assert (conflict.cause, conflict.detail["booking_code"]) == (
        "booking_already_admitted",
        booking.code,
    )
    assert checkins.conflicts(site) == [conflict]
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).visit_id == online.id
    assert session_row(site, TODAY, LATE_MORNING).admitted == 1
    again = upload(site, data, decided, at(10, 25))
    assert (again.created, again.conflict.id) == (False, conflict.id)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(UploadConflict)) == 1
    assert_counters_equal_rows(site)


def test_the_manager_sees_a_second_admission_of_a_booking_with_its_code_and_why(
    client, login, manager_user, site, paired, make_visit
):
    booking = booked(site, starts=LATE_MORNING)
    make_visit(now=at(10, 10), booking_code=booking.code)
    upload(site, *admitted_offline(paired.device, booking.code, at(10, 5)), at(10, 20))
    login(manager_user)
    page = client.get("/manage/tablets?lang=en").text
    kept = page[page.index('class="conflicts"') :]
    assert f"booking {booking.code}" in kept
    assert "A second admission of a booking" in kept  # the words on purpose: they explain it


def test_an_online_admission_after_an_offline_one_was_uploaded_is_refused(site, paired, make_visit):
    booking = booked(site, starts=LATE_MORNING)
    upload(site, *admitted_offline(paired.device, booking.code, at(10, 5)), at(10, 20))
    with pytest.raises(BookingAlreadyAdmitted):
        make_visit(now=at(10, 30), booking_code=booking.code)
    db.session.rollback()
    assert session_row(site, TODAY, LATE_MORNING).admitted == 1


def test_of_two_tablets_admitting_one_booking_offline_the_first_upload_takes_it(
    site, paired, other
):
    booking = booked(site, starts=LATE_MORNING)
    second = admitted_offline(other.device, booking.code, at(10, 1))
    first = admitted_offline(paired.device, booking.code, at(10, 9))
    taken = upload(site, *first, at(10, 20))
    kept = upload(site, *second, at(10, 21))
    assert taken.visit.booking_id == booking.id
    assert (kept.visit, kept.conflict.cause) == (None, "booking_already_admitted")
    assert kept.conflict.device_id == other.device.id
    assert held_unused(other.device) == [6, 7, 8, 9, 10]  # its lease untouched
    assert_counters_equal_rows(site)


@pytest.mark.parametrize(
    ("recorded", "code", "cause"),
    [
        ((9, 20), "LATE_MORNING", "booking_not_as_booked"),  # before its window opened
        ((10, 5), "TOMORROW", "booking_not_as_booked"),  # another day's booking
        ((10, 5), "CANCELLED", "booking_not_as_booked"),
        ((10, 5), "UNKNOWN", "unknown_booking"),
    ],
)
def test_an_offline_admission_the_booking_did_not_allow_is_kept_and_leaves_it_as_it_was(
    site, paired, clock, recorded, code, cause
):
    bookings_by = {
        "LATE_MORNING": booked(site, 1, starts=LATE_MORNING),
        "TOMORROW": booked(site, 2, day=TOMORROW),
        "CANCELLED": booked(site, 3, starts=LATE_MORNING),
    }
    bookings.cancel(site, bookings_by["CANCELLED"].code, at(7))
    db.session.commit()
    typed = bookings_by[code].code if code in bookings_by else "2" * 10
    # The tablet was paired before the moment it recorded.
    paired.device.created_at = at(9)
    db.session.commit()
    kept = upload(site, *admitted_offline(paired.device, typed, at(*recorded)), at(10, 20))
    assert (kept.visit, kept.conflict.cause) == (None, cause)
    db.session.expire_all()
    assert db.session.get(Booking, bookings_by["LATE_MORNING"].id).status == "booked"
    assert_counters_equal_rows(site)


def test_a_booked_visitor_early_offline_takes_a_walk_in_slot_and_keeps_the_booking(site, paired):
    booking = booked(site, starts=AFTERNOON)
    data, decided = admitted_offline(paired.device, booking.code, at(10, 5), slot=1)
    stored = upload(site, data, decided, at(10, 20)).visit
    assert (stored.slot, stored.booking_id) == (1, booking.id)
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).status == "booked"
    assert_counters_equal_rows(site)


def test_racing_uploads_of_one_booking_from_two_tablets_admit_it_once_and_keep_the_other(
    app, postgresql_only, widened_admissions, site, pair_tablet
):
    booking = booked(site, starts=LATE_MORNING)
    tablets = [pair_tablet(name=f"Pintu {number}").device for number in range(RACERS)]
    checks = [admitted_offline(tablet, booking.code, at(10, 5)) for tablet in tablets]
    works = [
        lambda site, check=check: checkins.check_in(site, None, check[0], at(10, 20), check[1])
        for check in checks
    ]
    ended = race(app, site.id, works)
    assert ended == Counter({"booked": RACERS}), ended  # every upload answered, none refused
    db.session.expire_all()
    stored = db.session.scalars(sa.select(Visit.booking_id)).all()
    causes = db.session.scalars(sa.select(UploadConflict.cause)).all()
    assert stored == [booking.id]
    assert causes == ["booking_already_admitted"] * (RACERS - 1)
    assert session_row(site, TODAY, LATE_MORNING).admitted == 1


def test_an_online_admission_racing_an_offline_upload_of_one_booking_admits_it_once(
    app, postgresql_only, widened_admissions, site, pair_tablet
):
    booking = booked(site, starts=LATE_MORNING)
    tablets = [pair_tablet(name=f"Pintu {number}").device for number in range(RACERS)]
    online = CheckInData(**PASSING, booking_code=booking.code)
    works = []
    for number, tablet in enumerate(tablets):
        if number % 2:
            works.append(lambda site: checkins.record(site, None, online, at(10, 20)))
        else:
            check = admitted_offline(tablet, booking.code, at(10, 5))
            works.append(
                lambda site, check=check: checkins.check_in(
                    site, None, check[0], at(10, 20), check[1]
                )
            )
    ended = race(app, site.id, works)
    db.session.expire_all()
    stored = db.session.scalars(sa.select(Visit.booking_id)).all()
    kept = db.session.scalars(sa.select(UploadConflict.cause)).all()
    assert stored == [booking.id]
    # Every upload is answered, stored or kept for the manager; an online check that lost is
    # refused at the door, where its visitor stands.
    assert set(kept) <= {"booking_already_admitted"}
    assert len(kept) + ended["booking_already_admitted"] + 1 == RACERS, ended
    assert session_row(site, TODAY, LATE_MORNING).admitted == 1


# --- The list a paired tablet keeps. ---


def door_list(client, device_id: str, headers=None):
    return client.get(f"/api/v1/leases/{device_id}/bookings", headers=headers or {})


def test_a_paired_tablet_gets_today_s_visits_and_no_more_of_a_visitor_than_the_door_shows(
    client, site, paired, door_user, login
):
    today = booked(site, 1, starts=LATE_MORNING)
    booked(site, 2, day=TOMORROW)
    video = BookingData(
        **(vars(visitor(3, day=TODAY)) | {"kind": "video", "contact": "0812 3456 7890"})
    )
    bookings.book(site, video, at(7))
    db.session.commit()
    login(door_user)
    on_tablet(client, paired)
    answer = door_list(client, paired.device.public_id)
    assert answer.status_code == 200, answer.json
    assert answer.json == {
        "day": TODAY.isoformat(),
        "window_minutes": 30,
        "code_alphabet": limits.BOOKING_CODE_ALPHABET,
        "code_length": 10,
        "found_at_most": bookings.FOUND_AT_MOST,
        "items": [
            {
                "code": today.code,
                "name": "Pengunjung 1",
                "session": "10:00",
                "session_ends": "12:00",
                "status": "booked",
                "phone_last4": "0001",
            }
        ],
    }
    assert answer.headers["Cache-Control"] == "private, no-store"
    read = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "bookings_read"))
    assert read.detail == {"day": TODAY.isoformat(), "rows": 1}


def test_the_list_answers_304_while_it_is_unchanged_and_anew_once_a_booking_changes(
    client, site, paired, door_user, login, make_visit
):
    booking = booked(site, 1, starts=LATE_MORNING)
    login(door_user)
    on_tablet(client, paired)
    first = door_list(client, paired.device.public_id)
    tag = first.headers["ETag"]
    same = door_list(client, paired.device.public_id, {"If-None-Match": tag})
    assert (same.status_code, same.data) == (304, b"")
    make_visit(now=at(10, 10), booking_code=booking.code)
    changed = door_list(client, paired.device.public_id, {"If-None-Match": tag})
    assert changed.status_code == 200 and changed.headers["ETag"] != tag
    assert changed.json["items"][0]["status"] == "admitted"
    reads = db.session.scalar(
        sa.select(sa.func.count()).where(AuditEntry.action == "bookings_read")
    )
    assert reads == 2  # the list sent twice; the 304 sent nothing


def test_200_bookings_of_a_day_fit_in_50_kb(client, site, paired, door_user, login):
    db.session.add(SiteBooking(site_id=site.id, capacity=300))
    sessions = (MORNING, LATE_MORNING, AFTERNOON)
    for number in range(200):
        wanted = visitor(number, day=TODAY, starts=sessions[number % 3])
        # A long name of the region, as people give it in full.
        name = f"Siti Nurhaliza binti Abdul Rahman Wijayakusuma {number:03d}"
        bookings.book(site, BookingData(**(vars(wanted) | {"name": name})), at(7))
    db.session.commit()
    login(door_user)
    on_tablet(client, paired)
    answer = door_list(client, paired.device.public_id)
    assert len(answer.json["items"]) == 200
    assert len(answer.data) < 50_000, len(answer.data)


def test_only_a_paired_tablet_gets_the_list(
    app, client, site, paired, door_user, manager_user, auth_headers, make_site, pair_tablet
):
    device_id = paired.device.public_id
    booked(site, starts=LATE_MORNING)
    # A door login on a browser never paired, and a door account's token.
    browser = app.test_client()
    browser.post("/login", data={"username": door_user.username, "password": PASSWORD})
    assert door_list(browser, device_id).status_code == 404
    assert door_list(app.test_client(), device_id, auth_headers(door_user)).status_code == 404
    # A manager's browser, and the manager's token even with the tablet's id.
    manager = app.test_client()
    manager.post("/login", data={"username": manager_user.username, "password": PASSWORD})
    assert door_list(manager, device_id).status_code == 404
    assert door_list(app.test_client(), device_id, auth_headers(manager_user)).status_code == 404
    # The paired tablet naming a made-up device, or a tablet of another site.
    tablet = on_tablet(app.test_client(), paired)
    tablet.post("/login", data={"username": door_user.username, "password": PASSWORD})
    assert door_list(tablet, str(uuid.uuid4())).status_code == 404
    assert door_list(tablet, "not-a-uuid").status_code == 404
    elsewhere = on_tablet(app.test_client(), pair_tablet(site_=make_site("MLG")))
    elsewhere.post("/login", data={"username": door_user.username, "password": PASSWORD})
    assert door_list(elsewhere, device_id).status_code == 404
    # Not logged in at all.
    assert door_list(on_tablet(app.test_client(), paired), device_id).status_code in (401, 302)
    assert door_list(tablet, device_id).status_code == 200
    reads = db.session.scalar(
        sa.select(sa.func.count()).where(AuditEntry.action == "bookings_read")
    )
    assert reads == 1


def test_the_door_finds_a_phone_by_its_last_four_digits_as_the_tablet_does(site):
    booking = booked(site, 7, starts=LATE_MORNING)
    assert bookings.find(site, "0007", TODAY) == [booking]
    assert bookings.find(site, "0812 3000 007", TODAY) == [booking]
    assert bookings.find(site, "0812", TODAY) == []  # the start of every phone finds nobody
