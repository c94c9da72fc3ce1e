"""The door tablet: the check-in form, its errors, each result screen and the re-test."""

from __future__ import annotations

import gzip
import re
import struct
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from checkin.domain import admission
from checkin.extensions import db
from checkin.models import Visit
from checkin.services import checkins, retests, sites, transaction
from checkin.words.labels import (
    PURPOSE_LABELS,
    REASON_ADVICE,
    REASON_LABELS,
    REASON_TEXT,
    STATUS_LABELS,
    format_temperature,
)

STATIC = Path(__file__).resolve().parent.parent / "static"
PASSING_FORM = {"temperature": "36.5", "hand_sanitiser": "y", "mask": "y", "distancing": "y"}


@pytest.fixture
def door(client, door_user, login):
    """Return a client logged in as door staff, showing English text."""
    login(door_user)
    client.post("/lang/en")
    return client


def check(client, **fields):
    """Post the check-in form (passing unless told) and return the result page."""
    form = {key: value for key, value in (PASSING_FORM | fields).items() if value is not None}
    response = client.post("/", data=form)
    assert response.status_code == 303, response.text
    return client.get(response.location)


def stored_visits() -> list[Visit]:
    """Return every stored visit in the order recorded."""
    return list(db.session.scalars(sa.select(Visit).order_by(Visit.id)))


def counter_numbers(html: str) -> tuple[int, int]:
    """Return the left and limit numbers of the page's counter."""
    match = re.search(r"<b data-left>(\d+)</b> / <b data-limit>(\d+)</b>", html)
    assert match, "no counter on the page"
    return int(match.group(1)), int(match.group(2))


def test_the_form_starts_empty_with_every_toggle_off(door):
    page = door.get("/").text
    assert counter_numbers(page) == (60, 60)
    for toggle in ("hand_sanitiser", "mask", "distancing"):
        tag = re.search(rf'<input[^>]*id="{toggle}"[^>]*>', page).group(0)
        assert "checked" not in tag
        assert 'role="switch"' in tag
        assert f'<label class="toggle" for="{toggle}">' in page
    temperature = re.search(r'<input[^>]*id="temperature"[^>]*>', page).group(0)
    assert 'inputmode="decimal"' in temperature
    assert 'value=""' in temperature


@pytest.mark.parametrize(("language", "mark"), [("id", ","), ("en", ".")])
def test_the_keypad_waits_for_javascript_and_offers_the_local_decimal_mark(
    client, door_user, login, language, mark
):
    login(door_user)
    client.post(f"/lang/{language}")
    page = client.get("/").text
    assert '<div class="keypad" data-for="temperature" hidden>' in page
    keys = re.findall(r'<button type="button" data-key="([^"]+)"', page)
    assert keys == [*"1234567890", mark, "back"]


@pytest.mark.parametrize(
    ("temperature_dc", "language", "shown"),
    [
        (366, "id", "36,6 °C"),
        (366, "en", "36.6 °C"),
        (400, "id", "40,0 °C"),
        (340, "en", "34.0 °C"),
        (365.6, "id", "36,6 °C"),  # a day's average, rounded to a tenth
        (373.4, "en", "37.3 °C"),
    ],
)
def test_temperatures_show_one_decimal_with_the_local_mark(app, temperature_dc, language, shown):
    with app.test_request_context(), force_locale(language):
        assert format_temperature(temperature_dc) == shown


def test_an_admitted_visitor_gets_the_next_slot_and_the_counter_drops(door, make_visit):
    make_visit()
    page = check(door, visitor_name="Siti Aminah")
    assert 'class="verdict admitted"' in page.text
    assert '<p class="slot" id="slot">2</p>' in page.text
    assert counter_numbers(page.text) == (58, 60)
    assert "Siti Aminah" in page.text


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"mask": None}, {"no_mask": "Please wear a mask over nose and mouth"}),
        ({"hand_sanitiser": None}, {"no_hand_sanitiser": "Please clean your hands"}),
        ({"distancing": None}, {"no_distancing": "Please keep at least 1 metre from others"}),
        (
            {"temperature": "38.0", "mask": None, "distancing": None},
            {
                "fever": "Please go home and rest.",
                "no_mask": "Not wearing a mask.",
                "no_distancing": "Not keeping a safe distance.",
            },
        ),
    ],
)
def test_a_refusal_lists_each_reason_with_what_to_tell_the_visitor(door, fields, words):
    page = check(door, **fields).text
    assert 'class="verdict refused"' in page
    assert re.findall(r'data-reason="(\w+)"', page) == list(words)
    for text in words.values():
        assert text in page
    assert page.count("Tell the visitor:") == len(words)
    assert 'id="slot"' not in page
    assert counter_numbers(page) == (60, 60)


def set_quota(site, manager, limit, clock) -> None:
    """Give the site a daily quota of ``limit`` from now on."""
    settings = sites.SiteSettings(limit, site.fever_cutoff_dc, site.online_service_url)
    sites.update_site_settings(site, settings, manager, clock.now)


def test_a_full_quota_shows_the_online_service_link_and_its_qr_code(
    door, site, manager_user, make_visit, clock
):
    set_quota(site, manager_user, 1, clock)
    make_visit()
    page = check(door).text
    assert re.findall(r'data-reason="(\w+)"', page) == ["quota_full"]
    assert 'href="https://example.org/online"' in page
    assert re.search(
        r'<img src="data:image/svg\+xml[^"]+" alt="QR code of the online service"', page
    )
    assert "come back tomorrow" in page
    assert re.search(r'class="counter full"', page)


def test_a_fever_refusal_shows_the_online_service_link_and_its_qr_code(door, clock):
    check(door, temperature="37.8")
    clock.now += timedelta(minutes=5)
    response = door.post("/visits/1/retest", data={"temperature": "38.0"})
    page = door.get(response.location).text
    assert re.findall(r'data-reason="(\w+)"', page) == ["fever"]
    assert 'href="https://example.org/online"' in page
    assert re.search(
        r'<img src="data:image/svg\+xml[^"]+" alt="QR code of the online service"', page
    )


def test_the_door_answer_offers_the_online_service_after_the_reasons_that_turn_away(door):
    page = door.get("/").text
    (listed,) = re.findall(r'data-online-service="([^"]*)"', page)
    assert listed.split() == ["fever", "quota_full", "no_offline_slot", "closed"]


def test_a_high_first_reading_asks_for_a_re_test_in_five_minutes(door):
    page = check(door, temperature="37.5").text
    assert 'class="verdict recheck"' in page
    assert "37.5 °C is at or above 37.3 °C." in page
    assert 'data-ready-at="2026-11-25T03:05:00+00:00"' in page
    assert 'action="/visits/1/retest"' in page


@pytest.mark.parametrize(
    ("second_reading", "status", "slot"),
    [("36.8", "admitted", 1), ("37.4", "refused", None)],
)
def test_the_re_test_is_linked_to_the_first_reading(door, clock, second_reading, status, slot):
    check(door, temperature="37.6", visitor_name="Budi")
    clock.now += timedelta(minutes=5)
    response = door.post("/visits/1/retest", data={"temperature": second_reading})
    assert response.status_code == 303
    page = door.get(response.location).text
    assert f'class="verdict {status}"' in page
    assert 'data-first-reading="1"' in page
    first, second = stored_visits()
    assert (second.retest_of_id, second.status, second.slot) == (first.id, status, slot)
    assert second.visitor_name == "Budi"
    if status == "refused":
        assert second.reasons == ["fever"]


def test_a_re_test_too_early_says_when_it_becomes_possible(door, clock):
    check(door, temperature="37.6")
    clock.now += timedelta(minutes=3)
    response = door.post("/visits/1/retest", data={"temperature": "36.8"})
    assert response.status_code == 422
    assert 'data-error="retest_too_early"' in response.text
    assert 'value="36.8"' in response.text
    assert len(stored_visits()) == 1


def test_yesterday_s_high_reading_offers_no_re_test(client, manager_user, login, clock):
    # Door staff no longer open yesterday's checks at all (404, tests/test_security.py); a
    # manager at the door still does, and must not be offered a re-test either.
    login(manager_user)
    door = client
    door.post("/lang/en")
    check(door, temperature="37.6")
    assert 'action="/visits/1/retest"' in door.get("/visits/1").text
    clock.now += timedelta(days=1)
    page = door.get("/visits/1").text
    assert 'class="verdict recheck"' in page
    assert 'action="/visits/1/retest"' not in page
    refused = door.post("/visits/1/retest", data={"temperature": "36.6"})
    assert refused.status_code == 422
    assert 'data-error="retest_closed"' in refused.text
    assert len(stored_visits()) == 1


def test_a_re_tested_reading_links_its_second_reading_instead_of_offering_another(door, clock):
    check(door, temperature="37.6")
    clock.now += timedelta(minutes=6)
    assert door.post("/visits/1/retest", data={"temperature": "36.8"}).status_code == 303
    page = door.get("/visits/1").text
    assert 'action="/visits/1/retest"' not in page
    assert re.search(r'<a href="/visits/2">Re-tested at 10:06: Admitted</a>', page)
    assert 'id="retest-at"' not in page


@pytest.mark.parametrize(
    ("fields", "shown", "not_shown"),
    [
        ({"mask": None}, 'data-reason="no_mask"', 'data-advice="no_mask"'),
        # One thing to say: no re-test is offered when it could admit nobody (issue 15).
        ({"temperature": "37.6"}, 'class="verdict recheck"', 'id="retest-at"'),
    ],
)
def test_when_the_slots_are_gone_a_visitor_not_admitted_hears_so(
    door, site, manager_user, make_visit, clock, fields, shown, not_shown
):
    set_quota(site, manager_user, 1, clock)
    make_visit()
    page = check(door, **fields).text
    assert shown in page
    assert not_shown is None or not_shown not in page
    assert 'data-no-slot="quota_full"' in page
    assert 'alt="QR code of the online service"' in page


def test_with_slots_left_a_refusal_says_nothing_of_the_quota(door):
    page = check(door, mask=None).text
    assert "data-no-slot" not in page and "QR code" not in page


def test_a_reading_is_re_tested_only_once(door, clock):
    check(door, temperature="37.6")
    clock.now += timedelta(minutes=5)
    assert door.post("/visits/1/retest", data={"temperature": "36.8"}).status_code == 303
    again = door.post("/visits/1/retest", data={"temperature": "36.7"})
    assert again.status_code == 422
    assert 'data-error="already_retested"' in again.text
    assert len(stored_visits()) == 2


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"temperature": "45.0"}, "temperature", "45.0 °C cannot be right: measure again"),
        ({"temperature": "33,9"}, "temperature", "33.9 °C cannot be right"),
        ({"temperature": "hot"}, "temperature", "Type the reading as a number"),
        ({"temperature": ""}, "temperature", "Measure the temperature and type it here."),
        ({"id_number": "35060112"}, "id_number", "A NIK has exactly 16 digits."),
        ({"phone": "call me"}, "phone", "Not a phone number."),
        ({"visitor_name": "Siti\x00"}, "visitor_name", "Remove the special characters."),
        ({"purpose": "shopping"}, "purpose", "Choose a purpose from the list."),
    ],
)
def test_a_form_error_is_shown_next_to_its_field_keeping_what_was_typed(
    door, fields, field, message
):
    response = door.post("/", data=PASSING_FORM | fields)
    assert response.status_code == 422
    error = re.search(rf'<p class="error" id="{field}-error"[^>]*>([^<]*)</p>', response.text)
    assert error and message in error.group(1)
    typed = fields[field]
    if field != "purpose" and typed:
        assert re.search(rf'id="{field}"[^>]*value="{re.escape(typed)}"', response.text)
    assert 'aria-invalid="true"' in response.text
    # The ticks the staff already made stay made.
    assert re.search(r'<input checked[^>]*id="mask"', response.text)
    assert stored_visits() == []


@pytest.mark.parametrize(
    ("fields", "focused"),
    [
        ({"temperature": "hot"}, ["temperature"]),
        ({"id_number": "35060112"}, ["id_number"]),
        ({"phone": "call me", "id_number": "35060112"}, ["phone"]),
        ({"temperature": "", "purpose": "shopping"}, ["temperature"]),
        ({}, []),
    ],
)
def test_the_first_field_to_correct_takes_the_focus(door, fields, focused):
    page = door.post("/", data=PASSING_FORM | fields).text if fields else door.get("/").text
    tags = re.findall(r"<(?:input|select)\b[^>]*>", page)
    autofocused = [re.search(r' id="(\w+)"', tag).group(1) for tag in tags if " autofocus" in tag]
    assert autofocused == focused


def test_a_decimal_comma_is_read_as_a_decimal_point(door):
    check(door, temperature="36,6")
    assert stored_visits()[0].temperature_dc == 366


def test_visitor_details_are_stored_with_only_the_last_four_nik_digits(door):
    details = {
        "visitor_name": "  Dewi Lestari ",
        "phone": "0812 3456 7890",
        "id_number": "3506012345678901",
        "purpose": "jht_claim",
    }
    check(door, **details)
    visit = stored_visits()[0]
    assert (visit.visitor_name, visit.phone, visit.nik_last4, visit.purpose) == (
        "Dewi Lestari",
        "0812 3456 7890",
        "8901",
        "jht_claim",
    )


def test_reloading_the_result_page_records_nobody_twice(door):
    response = door.post("/", data=PASSING_FORM)
    assert response.status_code == 303
    for _reload in range(3):
        assert door.get(response.location).status_code == 200
    assert len(stored_visits()) == 1


def test_a_result_of_another_site_is_not_found(door, make_site, make_visit):
    elsewhere = make_visit(site_=make_site("MLG")).visit
    assert door.get(f"/visits/{elsewhere.id}").status_code == 404
    assert (
        door.post(f"/visits/{elsewhere.id}/retest", data={"temperature": "36.5"}).status_code == 404
    )


def test_the_result_screen_leads_back_to_an_empty_form(door):
    page = check(door, visitor_name="Agus").text
    assert re.search(r'<a class="button next primary" href="/" id="next">', page)
    form = door.get("/").text
    assert 'value="Agus"' not in form


def test_today_s_list_shows_the_latest_checks_first(door, make_visit, clock):
    make_visit(visitor_name="First")
    make_visit(now=clock.now + timedelta(minutes=1), mask=False, visitor_name="Second")
    make_visit(now=clock.now + timedelta(minutes=2), temperature_dc=380, visitor_name="Third")
    make_visit(now=clock.now - timedelta(days=1), visitor_name="Yesterday")
    page = door.get("/").text
    recent = page[page.index('<section class="recent"') :]
    names = re.findall(r'<span class="name">(\w+)</span>', recent)
    assert names == ["Third", "Second", "First"]
    assert re.findall(r'data-what="([^"]*)"', recent) == ["retest", "no_mask", "slot"]
    assert "No. 1" in recent


def test_today_s_list_marks_a_re_tested_reading(door, clock):
    check(door, temperature="37.9")
    assert 'data-what="retest"' in today_s_checks(door.get("/").text)
    clock.now += timedelta(minutes=6)
    door.post("/visits/1/retest", data={"temperature": "36.9"})
    listed = today_s_checks(door.get("/").text)
    assert re.findall(r'data-what="([^"]*)"', listed) == ["slot", "retested"]


def today_s_checks(page: str) -> str:
    """Return the door page's list of today's checks."""
    return page[page.index('<section class="recent"') :]


def test_the_counter_points_at_the_quota_endpoint(door):
    page = door.get("/").text
    assert 'data-url="/api/v1/quota/today"' in page
    assert door.get("/api/v1/quota/today").json == {
        "day": "2026-11-25",
        "limit": 60,
        "used": 0,
        "left": 60,
        "held": 0,
        "return_held": False,
        "inside_now": 0,
    }


def test_the_door_page_weighs_under_60_kb(door, make_visit):
    """What a tablet receives on its first load, its scripts and styles compressed."""
    for _visitor in range(10):
        make_visit(visitor_name="Bambang Setiawan Kurniawan")
    html = door.get("/").data
    names = re.findall(r'(?:href|src)="(/static/[\w./]+\?v=[0-9a-f]+)"', html.decode())
    assert sorted(name.split("?")[0].removeprefix("/static/") for name in names) == [
        "app.css",
        "door.js",
        "door_booking.js",
        "icon.svg",
        "offline/rules.js",
        "offline/store.js",
        "offline/sync.js",
        "offline/view.js",
    ]
    sent = [door.get(name, headers={"Accept-Encoding": "gzip, deflate, br"}) for name in names]
    assert all(response.headers["Content-Encoding"] == "gzip" for response in sent)
    assert len(html) + sum(len(response.data) for response in sent) < 60 * 1024


@pytest.mark.parametrize("accepted", ["gzip", "gzip, br", "br;q=1, gzip;q=0.5"])
def test_static_text_is_sent_compressed_to_a_browser_that_accepts_it(client, accepted):
    script = STATIC / "offline" / "sync.js"
    plain = client.get("/static/offline/sync.js")
    assert (plain.data, "Content-Encoding" in plain.headers) == (script.read_bytes(), False)
    packed = client.get("/static/offline/sync.js", headers={"Accept-Encoding": accepted})
    assert packed.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed.headers["Vary"]
    assert gzip.decompress(packed.data) == script.read_bytes()
    assert len(packed.data) < len(plain.data) / 2
    assert packed.headers["ETag"] != plain.headers["ETag"]
    # A page is never compressed: beside its CSRF token, its size could give the token away.
    assert (
        "Content-Encoding" not in client.get("/login", headers={"Accept-Encoding": "gzip"}).headers
    )
    voice = client.get("/static/voice/chime.ogg", headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in voice.headers  # already compressed


def test_the_page_keeps_to_the_content_security_policy(door, site, manager_user, clock):
    set_quota(site, manager_user, 0, clock)
    for page in (door.get("/").text, check(door).text):
        assert "<script>" not in page
        assert " style=" not in page
        assert not re.search(r" on\w+=", page)


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("id", ["DITERIMA", "Nomor antrean", "Pengunjung berikutnya", "Sisa kuota hari ini:"]),
        ("en", ["ADMITTED", "Queue number", "Next visitor", "Slots left today:"]),
    ],
)
def test_the_result_screen_speaks_indonesian_by_default_and_english_on_request(
    client, door_user, login, language, words
):
    login(door_user)
    if language == "en":
        client.post("/lang/en")
    page = check(client).text
    for word in words:
        assert word in page, f"{word!r} missing: run `make translations`"


@pytest.mark.parametrize(("language", "reading"), [("id", "37,5 °C"), ("en", "37.5 °C")])
def test_temperatures_are_written_the_local_way(client, door_user, login, language, reading):
    login(door_user)
    client.post(f"/lang/{language}")
    page = check(client, temperature="37.5").text
    assert f'<p class="facts">\n    10:00 · {reading}' in page


@pytest.mark.parametrize(
    "words", [REASON_LABELS, REASON_TEXT, REASON_ADVICE, PURPOSE_LABELS, STATUS_LABELS]
)
def test_every_code_shown_at_the_door_has_indonesian_words(app, words):
    with app.test_request_context():
        for code, text in words.items():
            with force_locale("en"):
                english = str(text)
            with force_locale("id"):
                assert str(text) != english, f"{code}: {english!r} is not translated"


def test_every_reason_and_purpose_has_words():
    assert set(REASON_LABELS) == set(REASON_TEXT) == set(REASON_ADVICE) == set(admission.REASONS)
    assert set(PURPOSE_LABELS) == set(admission.PURPOSES)


def test_the_service_worker_keeps_the_door_without_visitors_and_its_files(door, make_visit):
    make_visit(visitor_name="Bambang Setiawan Kurniawan")
    assert "Bambang" in door.get("/").text
    kept = door.get("/door/offline")
    assert kept.status_code == 200 and "Bambang" not in kept.text
    assert 'name="client_ref"' in kept.text and 'id="answer"' in kept.text
    worker = door.get("/sw.js")
    assert worker.mimetype == "text/javascript"
    files = re.findall(r'"(/static/[\w./]+\?v=[0-9a-f]+)"', worker.text)
    assert sorted(name.split("?")[0] for name in files) == [
        "/static/app.css",
        "/static/door.js",
        "/static/door_booking.js",
        "/static/icon.svg",
        "/static/offline/rules.js",
        "/static/offline/store.js",
        "/static/offline/sync.js",
        "/static/offline/view.js",
    ]
    page = door.get("/").text
    assert all(name in page for name in files), "the page and the worker name the same files"
    assert '"/door/offline"' in worker.text


def test_the_manifest_describes_the_door_app(client):
    manifest = client.get("/manifest.webmanifest")
    assert manifest.mimetype == "application/manifest+json"
    assert manifest.json["start_url"] == "/" and manifest.json["display"] == "standalone"
    for icon in manifest.json["icons"]:
        image = client.get(icon["src"])
        assert image.status_code == 200 and image.mimetype == icon["type"]
        if icon["type"] == "image/png":  # a launcher wants its size exactly
            width, height = struct.unpack(">II", image.data[16:24])
            assert icon["sizes"] == f"{width}x{height}"


def test_every_page_names_its_icon_so_no_browser_asks_for_favicon_ico(client):
    page = client.get("/login").text
    assert 'rel="icon" href="/static/icon.svg' in page and 'rel="apple-touch-icon"' in page


def test_the_door_lists_every_visitor_still_waiting_for_a_re_test(door, site, make_visit, clock):
    make_visit(temperature_dc=380, now=clock.now - timedelta(days=1))  # yesterday's
    waiting = make_visit(temperature_dc=376, visitor_name="Dewi").visit
    retested = make_visit(temperature_dc=380).visit
    make_visit(temperature_dc=381).visit.voided_at = clock.now
    db.session.commit()
    later = clock.now + timedelta(minutes=6)
    with transaction.owned():
        checkins.check_in(site, None, checkins.second_reading(retested, 366), later)
    assert retests.waiting(site, later) == [waiting]
    page = door.get("/").text
    assert page.count('data-ready-at="') == 1 and "Dewi" in page


@pytest.mark.parametrize("typed", [" ", "\t", "   "])
def test_a_reading_of_spaces_only_is_asked_for_again_not_a_server_error(door, typed):
    response = door.post("/", data={"temperature": typed, "mask": "y"})
    assert response.status_code == 422
    assert "Ukur suhu tubuh" in response.text or "Measure the temperature" in response.text
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Visit)) == 0


def left_without_retest(door, visit):
    """Record ``visit``'s visitor as gone; return the door page that shows what happened."""
    response = door.post(f"/visits/{visit.id}/left")
    assert response.status_code == 303
    return door.get("/")


def test_a_visitor_gone_half_an_hour_is_recorded_as_left_and_leaves_the_panel(
    door, make_visit, clock
):
    first = make_visit(temperature_dc=380, visitor_name="Dewi").visit
    start = clock.now
    clock.now = start + timedelta(minutes=29)
    early = left_without_retest(door, first)
    assert 'data-error="too_soon_to_call_gone"' in early.text
    assert db.session.get(Visit, first.id).left_at is None
    clock.now = start + timedelta(minutes=30)
    page = left_without_retest(door, first).text
    assert "The visitor measured at 10:00 left without a re-test." in page
    assert db.session.get(Visit, first.id).left_at == clock.now
    assert 'data-ready-at="' not in page and 'data-what="left"' in page
    again = left_without_retest(door, first)
    assert 'data-error="retest_closed"' in again.text
    retest = door.post(f"/visits/{first.id}/retest", data={"temperature": "36.6"})
    assert retest.status_code == 422
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Visit)) == 1


def test_the_left_button_shows_only_once_the_visitor_has_been_gone_a_while(door, make_visit, clock):
    make_visit(temperature_dc=380)
    assert re.search(r'class="gone" data-gone hidden', door.get("/").text)
    clock.now += timedelta(minutes=30)
    assert re.search(r'class="gone" data-gone>', door.get("/").text)


@pytest.mark.parametrize("which", ["admitted", "retested", "voided", "yesterday", "another site"])
def test_only_a_visitor_still_waiting_can_be_recorded_as_left(
    door, site, make_site, make_visit, clock, which
):
    if which == "admitted":
        visit = make_visit().visit
    elif which == "yesterday":
        visit = make_visit(temperature_dc=380, now=clock.now - timedelta(days=1)).visit
    elif which == "another site":
        visit = make_visit(temperature_dc=380, site_=make_site("MLG")).visit
    else:
        visit = make_visit(temperature_dc=380).visit
    if which == "voided":
        visit.voided_at = clock.now
        db.session.commit()
    clock.now += timedelta(minutes=31)
    if which == "retested":
        with transaction.owned():
            checkins.check_in(site, None, checkins.second_reading(visit, 366), clock.now)
    response = door.post(f"/visits/{visit.id}/left")
    assert response.status_code == (404 if which in ("yesterday", "another site") else 303)
    assert db.session.get(Visit, visit.id).left_at is None
