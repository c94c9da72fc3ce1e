"""The office's own public booking page on both engines: off until a manager switches it on, a
booking with its code and QR code, only sessions with room, one booking per person a day said
without naming anyone, cancel by code and phone, the throttle, CSRF, bad input and both
languages."""

from __future__ import annotations

import re
from datetime import time, timedelta

import pytest
import sqlalchemy as sa
from flask_wtf.csrf import CSRFError
from hypothesis import given

from checkin import create_app
from checkin.domain import limits
from checkin.extensions import db
from checkin.models import AuditEntry, Booking, BookingSession
from checkin.services import bookings
from checkin.web import booking_page as bookings_page
from tests.conftest import IsolatedClient, csrf_token_in
from tests.test_bookings import AFTERNOON, LATE_MORNING, MORNING, TODAY, TOMORROW, visitor
from tests.test_fuzz import ANY_VALUE, FORM_EXAMPLES, any_fields
from tests.test_security import logged_in

PAGE = "/book/KDR"
CODE_SHAPE = re.compile(f"[{limits.BOOKING_CODE_ALPHABET}]{{{limits.BOOKING_CODE_LENGTH}}}")
SITI = {
    "day": TOMORROW.isoformat(),
    "session": "08:00",
    "name": "Siti Aminah",
    "phone": "0812 3456 7890",
    "nik_last4": "4321",
    "purpose": "jht_claim",
}
# What the page says of a second booking of the same person: nothing about them.
NEUTRAL = {
    "en": "This booking cannot be made. One booking per person a day.",
    "id": "Pemesanan ini tidak dapat dibuat. Satu pemesanan per orang per hari.",
}


@pytest.fixture
def page_on(site, clock):
    """Switch the default site's public booking page on."""
    bookings.set_public_page(site, True, None, clock.now)
    db.session.commit()
    return site


def stored() -> list[Booking]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Booking).order_by(Booking.id)))


def code_on(html: str) -> str:
    return re.search(r'data-code="([^"]+)"', html).group(1)


def only_sessions(site, *sessions: tuple[time, time, int]) -> None:
    """Give ``site`` these sessions (start, end, places) instead of the ones it has."""
    db.session.execute(sa.delete(BookingSession).where(BookingSession.site_id == site.id))
    db.session.add_all(
        BookingSession(site_id=site.id, starts=starts, ends=ends, capacity=places)
        for starts, ends, places in sessions
    )
    db.session.commit()


def book(client, data: dict[str, str] = SITI) -> str:
    """Book on the page as a visitor and return the code its answer shows."""
    made = client.post(PAGE, data=data)
    assert made.status_code == 303 and made.location == f"{PAGE}/booked"
    return code_on(client.get(made.location).text)


@pytest.mark.parametrize(
    ("switched_on", "path", "language", "words"),
    [
        (False, PAGE, "en", "Not found"),
        (False, PAGE, "id", "Tidak ditemukan"),
        (True, "/book/NOSUCH", "en", "Not found"),
        (True, "/book/NOSUCH", "id", "Tidak ditemukan"),
        (False, "/book/kdr", "en", "Not found"),
    ],
)
def test_a_page_switched_off_or_of_no_site_is_not_found_in_the_visitors_language(
    client, site, clock, switched_on, path, language, words
):
    bookings.set_public_page(site, switched_on, None, clock.now)
    db.session.commit()
    response = client.get(f"{path}?lang={language}")
    assert response.status_code == 404
    assert words in response.text
    assert client.post(f"{path}?lang={language}", data=SITI).status_code == 404
    assert client.post(f"{path}/cancel", data={}).status_code == 404
    assert stored() == []


def test_the_page_offers_days_and_sessions_with_room_and_the_notice_before_booking(client, page_on):
    page = client.get(f"{PAGE}?lang=en")
    assert page.status_code == 200
    days = re.findall(r'data-day="([0-9-]+)"', page.text)
    assert days[0] == TODAY.isoformat() and len(days) == limits.PUBLIC_BOOKING_DAYS
    assert re.findall(r'name="session" value="([0-9:]+)"', page.text) == [
        "08:00",
        "10:00",
        "13:00",
    ]
    notice = page.text.index("data-privacy-notice")
    assert notice < page.text.index('type="submit" class="primary"')
    for said in ("never your whole NIK", "deleted 30 days after", "Law No. 27 of 2022"):
        assert said in page.text


def test_a_booking_shows_its_code_big_its_qr_code_and_what_to_bring(client, page_on):
    made = client.post(f"{PAGE}?lang=en", data=SITI)
    assert made.status_code == 303
    response = client.get(f"{made.location}?lang=en")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    (booking,) = stored()
    code = code_on(response.text)
    assert code == booking.code and CODE_SHAPE.fullmatch(code)
    assert f"{code[:5]}-{code[5:]}" in response.text
    assert 'class="qr" src="data:image/svg+xml' in response.text
    assert "What to bring" in response.text and "07:30" in response.text
    assert (booking.day, booking.session.starts, booking.kind) == (TOMORROW, MORNING, "visit")
    assert (booking.phone, booking.nik_last4, booking.purpose) == (
        "081234567890",
        "4321",
        "jht_claim",
    )


def test_a_full_session_is_not_offered_and_is_refused(client, page_on, clock):
    only_sessions(page_on, (MORNING, time(10), 1), (LATE_MORNING, time(12), 5))
    bookings.book(page_on, visitor(1, day=TOMORROW, starts=MORNING), clock.now)
    db.session.commit()
    page = client.get(f"{PAGE}?lang=en&day={TOMORROW.isoformat()}")
    assert re.findall(r'name="session" value="([0-9:]+)"', page.text) == ["10:00"]
    refused = client.post(f"{PAGE}?lang=en", data=SITI)
    assert refused.status_code == 409
    assert "is full: choose another" in refused.text
    assert len(stored()) == 1


def test_a_day_whose_sessions_are_all_full_is_not_offered(client, page_on, clock):
    only_sessions(page_on, (MORNING, time(10), 1))
    bookings.book(page_on, visitor(1, day=TOMORROW, starts=MORNING), clock.now)
    db.session.commit()
    days = re.findall(r'data-day="([0-9-]+)"', client.get(PAGE).text)
    assert TODAY.isoformat() in days and TOMORROW.isoformat() not in days


@pytest.mark.parametrize("language", ["en", "id"])
def test_a_second_booking_of_the_same_person_that_day_is_refused_without_naming_them(
    client, page_on, language
):
    code = book(client)
    again = SITI | {"session": "13:00", "name": "Someone Else"}
    refused = client.post(f"{PAGE}?lang={language}", data=again)
    assert refused.status_code == 409
    assert NEUTRAL[language] in refused.text
    # The form keeps what this visitor typed; nothing of the booking made before shows.
    for telling in ("Siti", code, code[:5], "already", "sudah"):
        assert telling not in refused.text
    assert len(stored()) == 1
    other_day = client.post(PAGE, data=SITI | {"day": (TOMORROW + timedelta(days=1)).isoformat()})
    assert other_day.status_code == 303


def test_the_page_is_throttled_per_client_address(client, page_on):
    first_address = {"REMOTE_ADDR": "203.0.113.7"}
    for number in range(bookings.PAGE_ATTEMPTS):
        person = SITI | {"phone": f"08123{number:06d}"}
        answer = client.post(PAGE, data=person, environ_base=first_address)
        assert answer.status_code == 303
    refused = client.post(
        f"{PAGE}?lang=en", data=SITI | {"phone": "0899999999"}, environ_base=first_address
    )
    assert refused.status_code == 429
    assert "data-problem" in refused.text
    cancel = {"cancel-code": "ABCDE23456", "cancel-phone": "0899999999"}
    assert client.post(f"{PAGE}/cancel", data=cancel, environ_base=first_address).status_code == 429
    assert len(stored()) == bookings.PAGE_ATTEMPTS
    other_address = {"REMOTE_ADDR": "198.51.100.9"}
    answer = client.post(PAGE, data=SITI | {"phone": "0899999999"}, environ_base=other_address)
    assert answer.status_code == 303


def test_refused_tries_count_against_the_client_address_too(client, page_on):
    # Guessing codes and phones, or probing who has booked, costs attempts like booking does.
    guesser = {"REMOTE_ADDR": "203.0.113.8"}
    guess = {"cancel-code": "ABCDE23456", "cancel-phone": "0899999999"}
    for _try in range(bookings.PAGE_ATTEMPTS):
        answer = client.post(f"{PAGE}/cancel", data=guess, environ_base=guesser)
        assert answer.status_code == 404
    refused = client.post(PAGE, data=SITI, environ_base=guesser)
    assert refused.status_code == 429
    assert stored() == []


@pytest.mark.parametrize(
    ("what", "code", "phone"),
    [
        ("wrong code", "ZZZZZ-ZZZZZ", "0812 3456 7890"),
        ("wrong phone", None, "0812 0000 0000"),
        ("not a code at all", "hello", "0812 3456 7890"),
    ],
)
def test_a_wrong_code_or_a_wrong_phone_get_one_answer_and_cancel_nothing(
    client, page_on, what, code, phone
):
    booked = book(client)
    form = {"cancel-code": code or booked, "cancel-phone": phone}
    answer = client.post(f"{PAGE}/cancel?lang=en", data=form)
    assert answer.status_code == 404, what
    assert 'data-error="unknown_booking"' in answer.text
    assert "Siti" not in answer.text
    assert [booking.status for booking in stored()] == ["booked"]


def test_a_booking_is_cancelled_by_its_code_and_phone_and_its_place_comes_back(client, page_on):
    booked = book(client)
    typed = {"cancel-code": booked.lower(), "cancel-phone": "+62 812-3456-7890"}
    answer = client.post(f"{PAGE}/cancel?lang=en", data=typed)
    assert answer.status_code == 200
    assert "data-notice" in answer.text and f"{booked[:5]}-{booked[5:]}" in answer.text
    assert [booking.status for booking in stored()] == ["cancelled"]
    places = bookings.places(page_on, TOMORROW)
    assert [p.booked for p in places] == [0, 0, 0]
    again = client.post(f"{PAGE}/cancel?lang=en", data=typed)
    assert again.status_code == 409


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ({"day": "2026-02-30"}, "Not a valid date value."),
        ({"day": ""}, "Choose a day from the list."),
        ({"session": "25:00"}, "Choose a session from the list."),
        ({"session": "09:00"}, "There is no session starting at 09:00."),
        ({"session": ""}, "Choose a session from the list."),
        ({"name": "S" * (limits.MAX_NAME + 1)}, "At most 100 characters."),
        ({"name": "Siti\x00"}, "Remove the special characters."),
        ({"name": "   "}, "This field is required."),
        ({"nik_last4": "12a4"}, "Type the last 4 digits of your NIK."),
        ({"nik_last4": "123"}, "Type the last 4 digits of your NIK."),
        ({"nik_last4": "12345"}, "Type the last 4 digits of your NIK."),
        ({"phone": "call me"}, "Not a phone number."),
        ({"purpose": "bribe"}, "Choose a purpose from the list."),
        ({"day": (TODAY - timedelta(days=1)).isoformat()}, "is past: choose today"),
        (
            {"day": (TODAY + timedelta(days=limits.PUBLIC_BOOKING_DAYS)).isoformat()},
            "Online bookings go up to",
        ),
        ({"day": "9999-12-31"}, "Online bookings go up to"),
        ({"day": TODAY.isoformat(), "session": "08:00"}, None),
    ],
)
def test_bad_input_gets_a_clear_message_and_stores_nothing(client, page_on, clock, change, said):
    if said is None:  # today's morning session, once its check-in window has closed
        clock.now += timedelta(hours=1)
        said = "is over: choose a later one"
    answer = client.post(f"{PAGE}?lang=en", data=SITI | change)
    assert 400 <= answer.status_code < 500
    assert said in answer.text
    assert stored() == []


@pytest.mark.parametrize("day", ["tomorrow", "2026-13-01", "x" * 500])
def test_a_bad_day_in_the_address_says_so_and_shows_the_first_day(client, page_on, day):
    answer = client.get(f"{PAGE}?lang=en&day={day}")
    assert answer.status_code == 400
    assert "data-problem" in answer.text
    assert 'name="session" value="08:00"' in answer.text


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("en", ["Book a visit", "Cancel a booking", "deleted 30 days after", "places left"]),
        (
            "id",
            ["Pesan kunjungan", "Batalkan pemesanan", "dihapus 30 hari setelah", "tempat tersisa"],
        ),
    ],
)
def test_the_page_and_the_booking_speak_both_languages(client, page_on, language, words):
    client.post(f"/lang/{language}", data={"next": PAGE})
    page = client.get(PAGE)
    for said in words:
        assert said in page.text
    assert f'<html lang="{language}">' in page.text
    assert 'formaction="/lang/en"' in page.text and 'formaction="/lang/id"' in page.text
    booked = client.get(client.post(PAGE, data=SITI).location)
    assert f'<html lang="{language}">' in booked.text
    bring = {"en": "What to bring", "id": "Yang perlu dibawa"}[language]
    assert bring in booked.text


def test_the_language_switch_keeps_the_visitor_on_the_page(client, page_on):
    switched = client.post("/lang/en", data={"next": PAGE})
    assert switched.location == PAGE
    assert "Book a visit" in client.get(PAGE).text


@pytest.fixture
def csrf_client(app_config):
    """Return a client of an app with CSRF protection on, as in production."""
    app = create_app(app_config | {"WTF_CSRF_ENABLED": True})
    app.test_client_class = IsolatedClient
    app.register_error_handler(CSRFError, lambda error: ("refused: CSRF", 400))
    return app.test_client()


def test_booking_and_cancelling_need_the_pages_csrf_token(csrf_client, page_on):
    assert csrf_client.post(PAGE, data=SITI).text == "refused: CSRF"
    cancel = {"cancel-code": "ABCDE23456", "cancel-phone": "0812 3456 7890"}
    assert csrf_client.post(f"{PAGE}/cancel", data=cancel).text == "refused: CSRF"
    assert stored() == []
    token = csrf_token_in(csrf_client.get(PAGE).text)
    booked = csrf_client.post(PAGE, data=SITI | {"csrf_token": token})
    assert booked.status_code == 303
    code = code_on(csrf_client.get(booked.location).text)
    token = csrf_token_in(csrf_client.get(PAGE).text)
    cancel = {"csrf_token": token, "cancel-code": code, "cancel-phone": SITI["phone"]}
    assert csrf_client.post(f"{PAGE}/cancel", data=cancel).status_code == 200
    assert [booking.status for booking in stored()] == ["cancelled"]


def test_a_manager_switches_the_page_on_and_off_audited_with_its_address(
    app, client, site, manager_user
):
    manager = logged_in(app, manager_user)
    settings = manager.get("/manage/settings?lang=en")
    assert "http://localhost/book/KDR" in settings.text
    assert client.get(PAGE).status_code == 404
    switched = manager.post("/manage/settings/booking-page", data={"booking-public_page": "y"})
    assert switched.status_code == 303
    assert client.get(PAGE).status_code == 200
    manager.post("/manage/settings/booking-page", data={})
    assert client.get(PAGE).status_code == 404
    changes = db.session.scalars(
        sa.select(AuditEntry.detail).where(AuditEntry.action == "settings").order_by(AuditEntry.id)
    ).all()
    assert changes == [{"public_page": [False, True]}, {"public_page": [True, False]}]
    audit = manager.get("/manage/audit?lang=en").text
    assert "Public booking page: off → on" in audit


def test_a_session_whose_window_closed_today_is_not_offered(client, page_on, clock):
    clock.now += timedelta(hours=1)  # 11:00: the 08:00-10:00 session's check-in closed at 10:30
    page = client.get(f"{PAGE}?day={TODAY.isoformat()}")
    assert re.findall(r'name="session" value="([0-9:]+)"', page.text) == ["10:00", "13:00"]
    assert AFTERNOON.strftime("%H:%M") == "13:00"


@pytest.mark.parametrize(
    ("path", "fields"),
    [
        (PAGE, ("day", "session", "name", "phone", "nik_last4", "purpose")),
        (f"{PAGE}/cancel", ("cancel-code", "cancel-phone")),
    ],
)
def test_any_value_of_any_field_gets_a_page_not_a_server_error(client, page_on, path, fields):
    @FORM_EXAMPLES
    @given(data=any_fields(fields), day=ANY_VALUE)
    def post_anything(data: dict[str, str], day: str) -> None:
        before = len(stored())
        response = client.post(path, data=data)
        assert response.status_code < 500, (data, response.status_code)
        assert len(stored()) == before + (response.status_code == 303)
        assert client.get(PAGE, query_string={"day": day}).status_code in (200, 400)

    post_anything()


def test_the_booking_made_shows_in_this_browser_for_half_an_hour_in_either_language(
    app, client, page_on, clock
):
    code = book(client)
    switched = client.post("/lang/en", data={"next": f"{PAGE}/booked"})
    shown = client.get(switched.location)
    assert code_on(shown.text) == code and "What to bring" in shown.text
    assert client.get(f"{PAGE}/booked").status_code == 200  # a reload books nothing more
    assert len(stored()) == 1
    stranger = app.test_client()
    assert stranger.get(f"{PAGE}/booked").location == PAGE
    clock.now += bookings_page.SHOWN_FOR + timedelta(seconds=1)
    assert client.get(f"{PAGE}/booked").location == PAGE


def test_a_booking_cancelled_is_no_longer_shown_as_made(client, page_on):
    code = book(client)
    client.post(f"{PAGE}/cancel", data={"cancel-code": code, "cancel-phone": SITI["phone"]})
    assert client.get(f"{PAGE}/booked").location == PAGE
