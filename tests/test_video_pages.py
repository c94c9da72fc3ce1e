"""Video sessions on the pages, on both engines: booked on the public page with a contact, the
console's card with its tel:, wa.me or meeting link (and nothing else as a link), its steps as
plain forms, the TV board that names nobody, the API and the CSV import's kind and contact."""

from __future__ import annotations

import re
import uuid

import pytest
import sqlalchemy as sa

from checkin.domain import booking_rules
from checkin.domain.calling import CALLED, DONE, SERVING, WAITING
from checkin.extensions import db
from checkin.models import Booking, Visit
from checkin.services import bookings
from tests.test_booking_page import PAGE, SITI, code_on, page_on, stored
from tests.test_bookings import HEADER, MORNING, TODAY, csv_of, row
from tests.test_bookings_api import manager_headers
from tests.test_display import board_of, display_link, manager, tv
from tests.test_door import PASSING_FORM
from tests.test_floor_pages import as_officer, officer
from tests.test_video_sessions import MEET, book_video, fresh

# The fixtures the tests ask for.
__all__ = ["as_officer", "display_link", "manager", "manager_headers", "officer", "page_on", "tv"]


def card_of(page: str, booking: Booking) -> str:
    return re.search(rf'<article[^>]*id="video-{booking.id}".*?</article>', page, re.DOTALL).group(
        0
    )


def links_in(html: str) -> dict[str, str]:
    return dict(re.findall(r'data-reach="([a-z]+)" href="([^"]+)"', html))


def called_to_officer(client, site, contact: str | None, clock) -> Booking:
    """Book a video session due at 08:00 and call it at booth 1, at 10:00."""
    booking = book_video(site, 1, starts=MORNING, contact=contact)
    client.post("/floor/booths/1/open")
    response = client.post("/floor/booths/1/call")
    assert (response.status_code, response.location) == (303, f"/floor/#video-{booking.id}")
    return booking


@pytest.mark.parametrize(
    ("contact", "links"),
    [
        ("0812-3456-789", {"tel": "tel:+628123456789", "whatsapp": "https://wa.me/628123456789"}),
        (None, {"tel": "tel:+628123000001", "whatsapp": "https://wa.me/628123000001"}),
        (MEET, {"meeting": MEET}),
    ],
)
def test_the_console_shows_a_called_session_s_contact_as_its_links(
    client, as_officer, site, clock, contact, links
):
    booking = called_to_officer(client, site, contact, clock)
    card = card_of(client.get("/floor/").text, booking)
    assert links_in(card) == links
    assert booking.name in card and 'data-state="called"' in card


def test_a_stored_contact_that_is_not_https_is_shown_but_never_linked(
    client, as_officer, site, clock
):
    booking = called_to_officer(client, site, MEET, clock)
    db.session.execute(  # as an older import might have stored it
        sa.update(Booking).where(Booking.id == booking.id).values(contact="javascript:alert(1)")
    )
    db.session.commit()
    card = card_of(client.get("/floor/").text, booking)
    assert links_in(card) == {} and "javascript:alert(1)" in card and 'href="javascript' not in card


def test_an_officer_serves_a_video_session_through_the_console(client, as_officer, site, clock):
    booking = called_to_officer(client, site, MEET, clock)
    for step, state in (("start", SERVING), ("done", DONE)):
        response = client.post(f"/floor/video/{booking.id}/{step}")
        assert (response.status_code, response.location) == (303, f"/floor/#video-{booking.id}")
        assert fresh(booking).floor_state == state
    assert f'id="video-{booking.id}"' not in client.get("/floor/").text


def test_no_answer_on_the_console_puts_the_session_back_then_closes_it(
    client, as_officer, site, clock
):
    booking = called_to_officer(client, site, None, clock)
    client.post(f"/floor/video/{booking.id}/no_answer")
    assert fresh(booking).floor_state == WAITING
    client.post("/floor/booths/1/call")
    client.post(f"/floor/video/{booking.id}/no_answer")
    assert (fresh(booking).floor_state, fresh(booking).calls) == ("no_show", 2)


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/floor/video/{id}/done", 409, "wrong_floor_state"),
        ("/floor/video/999999/start", 404, "unknown_video_session"),
    ],
)
def test_a_refused_video_step_says_why_and_changes_nothing(
    client, as_officer, site, clock, path, status, code
):
    booking = called_to_officer(client, site, None, clock)
    response = client.post(path.format(id=booking.id))
    assert response.status_code == status and f'data-error="{code}"' in response.text
    assert fresh(booking).floor_state == CALLED


def test_the_poll_changes_when_a_video_session_is_called(client, as_officer, site, clock):
    book_video(site, 1, starts=MORNING)
    client.post("/floor/booths/1/open")
    before = client.get("/floor/state").json
    assert before["waiting"] == 1
    client.post("/floor/booths/1/call")
    after = client.get("/floor/state").json
    assert after["waiting"] == 0 and after["booths"] != before["booths"]


def test_the_tv_board_never_shows_a_video_session_s_personal_data(
    client, as_officer, site, clock, tv
):
    booking = called_to_officer(client, site, MEET, clock)
    board = str(board_of(tv))
    for personal in (booking.name, booking.phone, MEET, booking.code):
        assert personal not in board


# The public page.
def test_a_visitor_books_a_video_session_and_is_told_how_the_office_reaches_them(client, page_on):
    made = client.post(PAGE, data=SITI | {"kind": "video", "contact": MEET})
    assert made.status_code == 303
    page = client.get(made.location).text
    assert 'data-reached-by="link"' in page and MEET in page and 'class="qr"' not in page
    [booking] = stored()
    assert (booking.kind, booking.contact, booking.floor_state, booking.code) == (
        "video",
        MEET,
        WAITING,
        code_on(page),
    )


def test_a_video_session_without_a_contact_is_reached_at_its_phone(client, page_on):
    page = client.get(client.post(PAGE, data=SITI | {"kind": "video"}).location).text
    assert 'data-reached-by="phone"' in page and "081234567890" in page  # as stored
    assert stored()[0].contact is None


def test_a_contact_typed_before_choosing_a_visit_is_left_out(client, page_on):
    client.post(PAGE, data=SITI | {"kind": "visit", "contact": MEET})
    assert [(booking.kind, booking.contact) for booking in stored()] == [("visit", None)]


@pytest.mark.parametrize(
    "changes",
    [
        {"kind": "video", "contact": "http://meet.example.org/abc"},
        {"kind": "video", "contact": "javascript:alert(1)"},
        {"kind": "video", "contact": "x" * 301},
        {"kind": "bus"},
    ],
)
def test_a_bad_kind_or_contact_on_the_page_books_nothing(client, page_on, changes):
    assert client.post(PAGE, data=SITI | changes).status_code == 400
    assert stored() == []


# The API and the import.
API_BODY = {
    "day": TODAY.isoformat(),
    "session": "10:00",
    "name": "Siti",
    "phone": "0812345678",
    "nik_last4": "1234",
    "kind": "video",
}


@pytest.mark.parametrize("contact", ["http://meet.example.org/a", "ftp://x.org", "Siti"])
def test_the_api_refuses_a_contact_that_is_no_phone_or_https_link(client, manager_headers, contact):
    body = API_BODY | {"contact": contact}
    refused = client.post("/api/v1/bookings", json=body, headers=manager_headers)
    assert refused.status_code == 422 and "contact" in refused.json["errors"]
    assert stored() == []


def video_row(number: int, kind: str = "video", contact: str = MEET) -> str:
    return row(number) + f",{kind},{contact}"


def test_an_import_with_kind_and_contact_columns_books_video_sessions(site, clock):
    text = csv_of(
        video_row(1),
        video_row(2, contact="+62 812 3456 789"),
        video_row(3, "visit", ""),
        header=HEADER + ",kind,contact",
    )
    assert bookings.import_csv(site, text, None, clock.now).imported == 3
    db.session.commit()
    assert [(booking.kind, booking.contact, booking.floor_state) for booking in stored()] == [
        ("video", MEET, WAITING),
        ("video", "+62 812 3456 789", WAITING),
        ("visit", None, None),
    ]


def test_an_import_with_a_kind_column_only_and_an_old_file_still_import(site, clock):
    with_kind = csv_of(row(1) + ",video", row(2) + ",", header=HEADER + ",kind")
    assert bookings.import_csv(site, with_kind, None, clock.now).imported == 2
    assert bookings.import_csv(site, csv_of(row(3)), None, clock.now).imported == 1
    assert [booking.kind for booking in stored()] == ["video", "visit", "visit"]


@pytest.mark.parametrize(
    ("bad", "code"),
    [
        (video_row(2, kind="bus"), booking_rules.KIND_UNKNOWN),
        (video_row(2, contact="http://meet.example.org/a"), booking_rules.CONTACT_INVALID),
        (video_row(2, kind="visit"), booking_rules.CONTACT_ON_VISIT),
        (video_row(2, contact="=HYPERLINK(1)"), booking_rules.FORMULA_CELL),
        (row(2) + ",video", booking_rules.COLUMNS_WRONG),
    ],
)
def test_a_bad_kind_or_contact_in_an_import_refuses_the_file(site, clock, bad, code):
    text = csv_of(video_row(1), bad, header=HEADER + ",kind,contact")
    report = bookings.import_csv(site, text, None, clock.now)
    assert [problem.code for problem in report.refused[3]] == [code]
    assert report.imported == 0 and stored() == []


def test_the_door_form_refuses_a_video_session_in_words_and_stores_nothing(
    client, login, door_user, site
):
    booking = book_video(site, 1, starts=MORNING)
    login(door_user)
    form = PASSING_FORM | {"temperature": "36,5", "booking_code": booking.code}
    refused = client.post("/?lang=en", data=form)
    assert refused.status_code == 409
    assert 'data-error="video_session_not_at_door"' in refused.text
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Visit)) == 0
    assert fresh(booking).status == booking_rules.BOOKED


def test_the_api_refuses_a_video_session_at_the_door_with_its_code(
    client, door_user, auth_headers, site
):
    booking = book_video(site, 1, starts=MORNING)
    body = {"temperature_c": 36.5, "hand_sanitiser": True, "mask": True, "distancing": True}
    answer = client.post(
        "/api/v1/checkins",
        json=body | {"client_ref": str(uuid.uuid4()), "booking_code": booking.code},
        headers=auth_headers(door_user, ("checkin",)),
    )
    assert (answer.status_code, answer.json["code"]) == (409, "video_session_not_at_door")
    document = client.get("/api/v1/openapi.json").json
    refusals = document["paths"]["/checkins"]["post"]["responses"]["409"]["description"]
    assert "`video_session_not_at_door`" in refusals
