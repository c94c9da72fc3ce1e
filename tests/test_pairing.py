"""Paired door tablets: pairing codes, the tablet's credential, staff PINs and switching staff."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from checkin.domain.errors import InvalidPin, NotDoorStaff, UnknownAccount
from checkin.extensions import db
from checkin.models import AuditEntry, Device, PairingCode, Visit, hash_token
from checkin.services import accounts, pairing, transaction
from checkin.web.common import TABLET_COOKIE
from tests.conftest import PASSWORD

PIN = "482916"
CHECK = {"temperature": "36.6", "hand_sanitiser": "y", "mask": "y", "distancing": "y"}


def in_english(browser: FlaskClient) -> FlaskClient:
    """Choose English on a browser: the Indonesian words come with the catalogue at merge."""
    browser.post("/lang/en")
    return browser


@pytest.fixture
def tablet(app) -> FlaskClient:
    """Return a second browser, in English: the door tablet, beside the manager's."""
    return in_english(app.test_client())


@pytest.fixture
def client(app) -> FlaskClient:
    """Return the manager's browser, in English."""
    return in_english(app.test_client())


@pytest.fixture
def code(site, manager_user, clock) -> str:
    """Return a fresh pairing code of the default site."""
    with transaction.owned():
        return pairing.new_code(site, manager_user, clock.now).code


@pytest.fixture
def staff_with_pin(site, make_user, manager_user, clock):
    """Return a door account of the default site whose PIN is ``PIN``."""

    def make(site_=None, pin=PIN):
        user = make_user("door", site_=site_)
        with transaction.owned():
            pairing.set_pin(site_ or site, user.id, pin, manager_user, clock.now)
        return user

    return make


def pair(tablet: FlaskClient, code: str, **data: str):
    """Post a pairing code from the tablet."""
    return tablet.post("/pair", data={"code": code, **data})


def paired(tablet: FlaskClient, code: str) -> Device:
    """Pair the tablet and return its device."""
    response = pair(tablet, code)
    assert response.status_code == 302, response.text
    assert response.location.endswith("/door/staff")
    return db.session.scalar(sa.select(Device).where(Device.credential_hash.is_not(None)))


def pin_login(tablet: FlaskClient, user, pin: str = PIN):
    """Tap a name and type a PIN on the tablet."""
    return tablet.post(f"/door/staff/{user.id}", data={"pin": pin})


def test_a_code_shown_to_a_manager_pairs_a_tablet_and_staff_log_in_by_name_and_pin(
    client, tablet, login, manager_user, staff_with_pin
):
    door = staff_with_pin()
    login(manager_user)
    page = client.post("/manage/tablets/pair")
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    shown = re.search(r"<code>([A-Z0-9]{4}-[A-Z0-9]{4})</code>", page.text).group(1)
    assert "data-pairing-qr" in page.text

    response = pair(tablet, shown.lower().replace("-", " "), name="Front door")
    assert response.status_code == 302
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith(f"{TABLET_COOKIE}=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    credential = tablet.get_cookie(TABLET_COOKIE).value
    device = db.session.scalar(sa.select(Device))
    assert (device.name, device.site_id, device.credential_hash) == (
        "Front door",
        manager_user.site_id,
        hash_token(credential),
    )
    stored = db.session.scalar(sa.select(PairingCode))
    assert stored.code_hash == hash_token(shown.replace("-", "")) and stored.device_id == device.id

    names = tablet.get("/door/staff")
    assert f'href="/door/staff/{door.id}"' in names.text
    assert f'href="/door/staff/{manager_user.id}"' not in names.text
    assert pin_login(tablet, door).location == "/"
    page = tablet.get("/")
    assert page.status_code == 200
    assert f'data-device="{device.public_id}"' in page.text
    assert f'Switch staff<span class="who">&nbsp;({door.username})' in page.text


def test_the_tablet_s_cookie_is_secure_over_https(tablet, code):
    response = tablet.post("/pair", data={"code": code}, base_url="https://localhost")
    assert response.status_code == 302
    assert "Secure" in response.headers["Set-Cookie"]


def test_a_code_pairs_for_ten_minutes_and_then_is_refused(tablet, app, code, clock):
    clock.now += pairing.CODE_VALID
    response = pair(tablet, code)
    assert response.status_code == 422
    assert 'data-error="pairing_code_expired"' in response.text
    assert tablet.get_cookie(TABLET_COOKIE) is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Device)) == 0


def test_a_code_still_pairs_just_before_its_ten_minutes_end(tablet, code, clock):
    clock.now += pairing.CODE_VALID - timedelta(seconds=1)
    assert paired(tablet, code) is not None


def test_a_code_pairs_one_tablet_only(tablet, app, code):
    paired(tablet, code)
    second = app.test_client()
    response = pair(second, code)
    assert response.status_code == 422
    assert 'data-error="pairing_code_used"' in response.text
    assert second.get_cookie(TABLET_COOKIE) is None


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Type the pairing code shown on the manager"),
        ("   ", "Type the pairing code shown on the manager"),
        ("ABCD-2345", "This is not a pairing code"),
        ("A" * 40, "Field cannot be longer than 16 characters."),
        ("AB\x00CD", "Remove the special characters."),
    ],
)
def test_a_wrong_or_empty_code_says_so_and_pairs_nothing(tablet, code, typed, message):
    response = pair(tablet, typed)
    assert response.status_code == 422
    assert message in response.text.replace("&#39;", "'")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Device)) == 0


def test_guessing_codes_is_throttled_so_even_the_right_code_waits(tablet, code, clock):
    for _guess in range(pairing.CODE_GUESSES):
        assert pair(tablet, "ZZZZZZZZ").status_code == 422
    response = pair(tablet, code)
    assert response.status_code == 429
    assert 'data-error="pairing_locked"' in response.text
    assert tablet.get_cookie(TABLET_COOKIE) is None
    clock.now += timedelta(minutes=15)
    # The code itself has expired meanwhile; the window has opened again.
    assert pair(tablet, code).status_code == 422


def test_unpairing_ends_the_tablet_s_access_at_its_next_request(
    client, tablet, login, manager_user, staff_with_pin, code
):
    door = staff_with_pin()
    device = paired(tablet, code)
    pin_login(tablet, door)
    assert tablet.get("/").status_code == 200
    login(manager_user)
    response = client.post(f"/manage/tablets/{device.public_id}/unpair")
    assert response.status_code == 302
    assert tablet.get("/").location == "/pair"
    assert tablet.get("/door/staff").location == "/pair"
    assert tablet.get("/").location.startswith("/login")  # the staff session is gone too
    audit = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "tablet_unpaired"))
    assert audit.detail == {"device": device.label} and audit.user_id == manager_user.id


def test_unpairing_ends_the_tablet_s_api_calls_too(
    client, tablet, login, manager_user, staff_with_pin, code
):
    door = staff_with_pin()
    device = paired(tablet, code)
    pin_login(tablet, door)
    assert tablet.get("/api/v1/quota/today").status_code == 200
    with transaction.owned():
        pairing.unpair(device, manager_user, device.paired_at)
    assert tablet.get("/api/v1/quota/today").status_code == 401


def test_a_pin_session_copied_to_another_browser_is_worth_nothing(
    app, tablet, staff_with_pin, code
):
    door = staff_with_pin()
    paired(tablet, code)
    pin_login(tablet, door)
    thief = app.test_client()
    thief.set_cookie("session", tablet.get_cookie("session").value)
    assert thief.get("/").location == "/pair"


def test_wrong_pins_are_throttled_per_tablet_so_even_the_right_one_waits(
    app, tablet, staff_with_pin, code, site, manager_user, clock
):
    door = staff_with_pin()
    paired(tablet, code)
    for _guess in range(pairing.PIN_GUESSES - 1):
        response = pin_login(tablet, door, "000000")
        assert response.status_code == 401
        assert 'data-error="wrong_pin"' in response.text
    assert pin_login(tablet, door, "000000").status_code == 429
    response = pin_login(tablet, door)
    assert response.status_code == 429
    assert 'data-error="pin_locked"' in response.text
    assert tablet.get("/").status_code == 302

    other = app.test_client()  # another paired tablet is not locked by this one's guesses
    with transaction.owned():
        other_code = pairing.new_code(site, manager_user, clock.now).code
    paired_other = pair(other, other_code)
    assert paired_other.status_code == 302
    assert pin_login(other, door).status_code == 302

    clock.now += timedelta(minutes=15)
    assert pin_login(tablet, door).location == "/"


def test_checks_after_a_pin_login_name_the_staff_member_and_the_tablet(
    tablet, staff_with_pin, code
):
    door = staff_with_pin()
    device = paired(tablet, code)
    pin_login(tablet, door)
    assert tablet.post("/", data=CHECK).status_code == 303
    visit = db.session.scalar(sa.select(Visit))
    assert (visit.recorded_by_id, visit.device_id, visit.status) == (door.id, device.id, "admitted")


def test_checks_after_a_password_login_name_no_tablet(client, login, door_user):
    login(door_user)
    assert client.post("/", data=CHECK).status_code == 303
    visit = db.session.scalar(sa.select(Visit))
    assert (visit.recorded_by_id, visit.device_id) == (door_user.id, None)


def test_switch_staff_is_one_tap_back_to_the_names_and_the_tablet_stays_paired(
    tablet, staff_with_pin, code
):
    first, second = staff_with_pin(), staff_with_pin(pin="1234")
    device = paired(tablet, code)
    pin_login(tablet, first)
    page = tablet.get("/", headers={"Accept-Language": "en"}).text
    assert "data-confirm" not in page.split('class="logout"')[1].split(">")[0]
    response = tablet.post("/logout")
    assert response.location == "/door/staff"
    assert tablet.get("/").location == "/door/staff"
    assert tablet.get("/door/staff").status_code == 200
    assert pin_login(tablet, second, "1234").location == "/"
    tablet.post("/", data=CHECK)
    visit = db.session.scalar(sa.select(Visit))
    assert (visit.recorded_by_id, visit.device_id) == (second.id, device.id)


def test_a_tablet_of_one_site_cannot_log_in_staff_of_another(
    tablet, staff_with_pin, make_site, code
):
    other_site = make_site("BLT")
    stranger = staff_with_pin(site_=other_site)
    paired(tablet, code)
    assert f"/door/staff/{stranger.id}" not in tablet.get("/door/staff").text
    assert tablet.get(f"/door/staff/{stranger.id}").status_code == 404
    assert pin_login(tablet, stranger).status_code == 404
    assert tablet.get("/").status_code == 302


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("12ab", "A PIN is 4 to 6 digits."),
        ("123", "A PIN is 4 to 6 digits."),
        ("", "Type the PIN."),
    ],
)
def test_a_pin_that_is_not_4_to_6_digits_says_so(tablet, staff_with_pin, code, typed, message):
    door = staff_with_pin()
    paired(tablet, code)
    response = pin_login(tablet, door, typed)
    assert response.status_code == 422
    assert message in response.text
    assert tablet.get("/").status_code == 302


def test_a_manager_sets_a_door_pin_that_ends_the_account_s_sessions(
    client, app, login, manager_user, door_user, clock
):
    elsewhere = app.test_client()
    elsewhere.post(
        "/login", data={"username": door_user.username, "password": "correct horse battery"}
    )
    login(manager_user)
    response = client.post(f"/manage/tablets/pins/{door_user.id}", data={"pin": "9876"})
    assert response.status_code == 302
    db.session.refresh(door_user)
    assert door_user.check_pin("9876") and not door_user.check_pin("9875")
    assert "9876" not in door_user.pin_hash
    assert elsewhere.get("/").status_code == 302
    changes = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "account"))
    assert {"account": door_user.username, "change": "pin_set"} in [e.detail for e in changes]
    audit_page = client.get("/manage/audit").text
    assert f"{door_user.username}: door PIN set" in audit_page


@pytest.mark.parametrize("typed", ["12ab", "1234567", ""])
def test_a_manager_s_bad_pin_is_refused_with_its_reason_and_nothing_stored(
    client, login, manager_user, door_user, typed
):
    login(manager_user)
    response = client.post(f"/manage/tablets/pins/{door_user.id}", data={"pin": typed})
    assert response.status_code == 422
    assert f'id="pin-{door_user.id}-error"' in response.text
    db.session.refresh(door_user)
    assert door_user.pin_hash is None


def test_a_pin_is_never_given_to_a_manager_nor_to_staff_of_another_site(
    client, login, manager_user, make_user, make_site, site, clock
):
    other_manager = make_user("manager")
    stranger = make_user("door", site_=make_site("BLT"))
    login(manager_user)
    response = client.post(f"/manage/tablets/pins/{other_manager.id}", data={"pin": "1234"})
    assert response.status_code == 422
    assert 'data-error="not_door_staff"' in response.text
    assert (
        client.post(f"/manage/tablets/pins/{stranger.id}", data={"pin": "1234"}).status_code == 404
    )
    with pytest.raises(NotDoorStaff):
        pairing.set_pin(site, other_manager.id, "1234", manager_user, clock.now)
    with pytest.raises(UnknownAccount):
        pairing.set_pin(site, stranger.id, "1234", manager_user, clock.now)


def test_a_manager_account_cannot_log_in_with_a_pin(
    tablet, manager_user, door_user, code, clock, site
):
    device = paired(tablet, code)
    manager_user.set_pin(PIN)  # as if set before the account became a manager
    db.session.commit()
    assert pin_login(tablet, manager_user).status_code == 404
    with pytest.raises(NotDoorStaff):
        pairing.pin_log_in(device, manager_user.id, PIN, clock.now)
    with pytest.raises(InvalidPin):
        pairing.set_pin(site, door_user.id, "x", manager_user, clock.now)


def test_a_pin_session_never_opens_a_manager_page(tablet, staff_with_pin, code):
    door = staff_with_pin()
    paired(tablet, code)
    pin_login(tablet, door)
    assert tablet.get("/manage/log").status_code == 403
    assert tablet.get("/manage/tablets").status_code == 403


def test_the_tablets_page_shows_when_each_paired_tablet_was_last_seen(
    client, tablet, login, manager_user, code, clock
):
    device = paired(tablet, code)
    clock.now += timedelta(minutes=90)
    tablet.get("/door/staff")
    db.session.refresh(device)
    assert device.last_seen_at == clock.now
    login(manager_user)
    page = client.get("/manage/tablets", headers={"Accept-Language": "en"}).text
    assert device.label in page and "11:30" in page
    assert f"/manage/tablets/{device.public_id}/unpair" in page


def test_an_unpaired_browser_is_sent_to_log_in_and_a_paired_one_to_its_staff(client, tablet, code):
    assert client.get("/").location.startswith("/login")
    assert client.get("/door/staff").location == "/pair"
    paired(tablet, code)
    assert tablet.get("/").location == "/door/staff"
    assert tablet.get("/manage/log").location.startswith("/login")


def test_password_login_still_works_on_a_paired_tablet(tablet, code, manager_user):
    paired(tablet, code)
    response = tablet.post(
        "/login", data={"username": manager_user.username, "password": "correct horse battery"}
    )
    assert response.location == "/manage/log"
    assert tablet.get("/manage/log").status_code == 200


def test_a_paired_tablet_leases_slots_as_the_device_it_was_paired_as(tablet, staff_with_pin, code):
    door = staff_with_pin()
    device = paired(tablet, code)
    pin_login(tablet, door)
    page = tablet.get("/").text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    lease = tablet.post(
        "/api/v1/leases", json={"device_id": device.public_id}, headers={"X-CSRFToken": token}
    )
    assert lease.status_code in (200, 201), lease.text
    assert lease.json["slots"] == [1, 2, 3, 4, 5]
    tablet.post("/", data=CHECK | {"device_id": device.public_id})
    visit = db.session.scalar(sa.select(Visit))
    assert (visit.slot, visit.device_id, visit.recorded_by_id) == (1, device.id, door.id)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Device)) == 1


def test_pairing_and_unpairing_are_in_the_audit_log(client, tablet, login, manager_user, code):
    device = paired(tablet, code)
    login(manager_user)
    client.post(f"/manage/tablets/{device.public_id}/unpair")
    page = client.get("/manage/audit").text
    assert 'data-action="tablet_paired"' in page and 'data-action="tablet_unpaired"' in page
    entries = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action.like("tablet_%")))
    assert [(e.action, e.user_id) for e in entries] == [
        ("tablet_paired", manager_user.id),
        ("tablet_unpaired", manager_user.id),
    ]


def test_the_login_page_offers_pairing_and_a_paired_tablet_its_staff(client, tablet, code):
    assert 'href="/pair"' in client.get("/login").text
    paired(tablet, code)
    page = tablet.get("/login").text
    assert 'href="/door/staff"' in page and 'href="/pair"' not in page


def test_the_door_s_staff_buttons_show_display_names_and_usernames_without_one(
    tablet, code, site, manager_user, staff_with_pin, clock
):
    with transaction.owned():
        named = accounts.add_user(
            "satpam1", "door", PASSWORD, site, by=None, now=clock.now, display_name=" Budi Santoso "
        )
        pairing.set_pin(site, named.id, PIN, manager_user, clock.now)
    unnamed = staff_with_pin()
    paired(tablet, code)
    names = tablet.get("/door/staff").text
    assert re.search(rf'href="/door/staff/{named.id}">\s*Budi Santoso\s*</a>', names)
    assert re.search(rf'href="/door/staff/{unnamed.id}">\s*{unnamed.username}\s*</a>', names)
    assert "satpam1" not in names
    assert "<h1>Budi Santoso</h1>" in tablet.get(f"/door/staff/{named.id}").text
    pin_login(tablet, named)
    assert '<span class="who">&nbsp;(Budi Santoso)</span>' in in_english(tablet).get("/").text


def test_wrong_pins_on_every_tablet_together_are_throttled_per_account(
    site, door_user, manager_user, pair_tablet, clock
):
    """A guesser who moves from tablet to tablet gets no fresh window at the same PIN on each:
    after twice one tablet's guesses in all, the right PIN waits on a tablet never guessed on."""
    with transaction.owned():
        pairing.set_pin(site, door_user.id, "135790", manager_user, clock.now)
    tablets = [pair_tablet().device for _ in range(3)]
    guesses = []
    for number in range(pairing.PIN_GUESSES_ON_EVERY_TABLET):
        tablet = tablets[number % 2]  # under each tablet's own limit
        with transaction.owned():
            guesses.append(pairing.check_pin(tablet, door_user, "000000", clock.now))
    assert all(guess.user is None for guess in guesses)
    with transaction.owned():
        right = pairing.check_pin(tablets[2], door_user, "135790", clock.now)
    assert (right.user, right.locked_until is not None) == (None, True)
    clock.now += timedelta(minutes=15)
    with transaction.owned():
        assert pairing.check_pin(tablets[2], door_user, "135790", clock.now).user == door_user
