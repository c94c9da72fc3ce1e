"""A booked visitor checked in through the API: ``booking_code`` in the check's JSON, the answer
saying which rules the booking met, and each refusal's status and code."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from checkin.extensions import db
from checkin.models import Booking, Visit
from tests.test_bookings import AFTERNOON, LATE_MORNING, at
from tests.test_door import PASSING_FORM
from tests.test_door_bookings import booked

CHECK = {"temperature_c": 36.5, "hand_sanitiser": True, "mask": True, "distancing": True}


@pytest.fixture
def door_headers(door_user, auth_headers):
    return auth_headers(door_user, ("checkin",))


def post(client, headers, **fields):
    body = CHECK | {"client_ref": str(uuid.uuid4())} | fields
    return client.post("/api/v1/checkins", json=body, headers=headers)


def stored_visits() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Visit))


def test_a_booked_visitor_on_time_is_admitted_to_their_place(client, door_headers, site, clock):
    booking = booked(site, starts=LATE_MORNING)
    walk_in = post(client, door_headers)
    came = post(client, door_headers, booking_code=booking.code[:5] + " " + booking.code[5:])
    assert came.status_code == 201, came.json
    answer = came.json
    assert (answer["status"], answer["slot"]) == ("admitted", 2)
    assert answer["quota"]["used"] == walk_in.json["quota"]["used"] == 1
    assert answer["booking"] == {
        "code": booking.code,
        "day": "2026-11-25",
        "channel": "booked",
        "opens": "2026-11-25T09:30:00+07:00",
        "closes": "2026-11-25T12:30:00+07:00",
        "took_place": True,
    }
    assert "booking" not in walk_in.json


def test_an_early_visitor_is_answered_by_the_walk_in_rules_and_told_why(client, door_headers, site):
    booking = booked(site, starts=AFTERNOON)
    came = post(client, door_headers, booking_code=booking.code)
    assert came.status_code == 201
    assert (came.json["slot"], came.json["quota"]["used"]) == (1, 1)
    assert (came.json["booking"]["channel"], came.json["booking"]["took_place"]) == (
        "early",
        False,
    )


@pytest.mark.parametrize(
    ("code", "status", "api_code"),
    [
        ("ABCD-EFGH-23", 404, "unknown_booking"),
        ("not a code", 404, "unknown_booking"),
        ("<script>", 422, "validation"),
        ("A" * 21, 422, "validation"),
    ],
)
def test_a_booking_code_that_names_no_booking_stores_nothing(
    client, door_headers, site, code, status, api_code
):
    answer = post(client, door_headers, booking_code=code)
    assert (answer.status_code, answer.json["code"]) == (status, api_code), answer.json
    assert stored_visits() == 0


def test_a_second_admission_of_a_booking_is_refused_with_its_own_code(client, door_headers, site):
    booking = booked(site, starts=LATE_MORNING)
    assert post(client, door_headers, booking_code=booking.code).status_code == 201
    again = post(client, door_headers, booking_code=booking.code)
    assert again.status_code == 409
    assert again.json["code"] == "booking_already_admitted"
    assert again.json["facts"] == {"admitted_at": at(10).isoformat()}
    assert "booking_code" in again.json["errors"]
    assert stored_visits() == 1


def test_a_refused_booked_visitor_keeps_the_booking(client, door_headers, site):
    booking = booked(site, starts=LATE_MORNING)
    refused = post(client, door_headers, booking_code=booking.code, mask=False)
    assert refused.status_code == 201
    assert (refused.json["status"], refused.json["booking"]["took_place"]) == ("refused", False)
    assert refused.json["booking"]["channel"] == "booked"
    assert db.session.get(Booking, booking.id).status == "booked"


def test_a_booking_admitted_offline_by_no_paired_tablet_is_kept_and_stays_open(
    client, door_headers, site
):
    booking = booked(site, starts=LATE_MORNING)
    offline = {
        "recorded_at": "2026-11-25T03:00:00Z",
        "status": "admitted",
        "reasons": [],
        "slot": None,
    }
    answer = post(
        client,
        door_headers,
        booking_code=booking.code,
        device_id=str(uuid.uuid4()),
        offline=offline,
    )
    assert (answer.status_code, answer.json["code"]) == (409, "kept_for_manager")
    assert stored_visits() == 0
    assert db.session.get(Booking, booking.id).status == "booked"


def test_the_openapi_document_names_the_booking_code_and_its_refusals(client):
    document = client.get("/api/v1/openapi.json").json
    check_in = document["components"]["schemas"]["CheckIn"]["properties"]["booking_code"]
    assert check_in["maxLength"] == 20 and "pattern" in check_in
    responses = document["paths"]["/checkins"]["post"]["responses"]
    assert "`unknown_booking`" in responses["404"]["description"]
    assert "`booking_already_admitted`" in responses["409"]["description"]
    assert "`booking_not_open`" in responses["409"]["description"]
    result = document["components"]["schemas"]["CheckInResult"]["properties"]
    assert "booking" in result
    assert "took_place" in document["components"]["schemas"]["DoorBooking"]["properties"]


def test_the_door_form_admits_a_booking_and_refuses_it_again_in_words(
    client, login, door_user, site
):
    booking = booked(site, starts=LATE_MORNING)
    login(door_user)
    form = PASSING_FORM | {"temperature": "36,5", "booking_code": booking.code}
    admitted = client.post("/", data=form)
    assert admitted.status_code == 303
    page = client.get(admitted.location)
    assert "data-booking-said" in page.text and "09:30-12:30" in page.text
    again = client.post("/", data=form)
    assert again.status_code == 409
    assert 'data-error="booking_already_admitted"' in again.text
    assert stored_visits() == 1
