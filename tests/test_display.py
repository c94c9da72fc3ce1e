"""The waiting-room display: its token, its board, its 304s, and that it names nobody."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from checkin.extensions import db
from checkin.models import AuditEntry, Site, User
from checkin.services import display, transaction
from checkin.web.display import COOKIE
from tests.conftest import Clock, csrf_token_in
from tests.floor_helpers import booth_of, call, make_waiting

NAME, PHONE, NIK_LAST4 = "Siti Aminah", "081234567890", "9012"


@pytest.fixture
def manager(make_user) -> User:
    return make_user("manager")


@pytest.fixture
def display_link(site: Site, manager: User, clock: Clock) -> str:
    """Return the path of a new display link of the default site."""
    with transaction.owned():
        secret = display.issue_display_token(site, "TV", manager, clock.now)
    return f"/display?token={secret}"


@pytest.fixture
def tv(app, display_link: str) -> FlaskClient:
    """Return a client that opened the display link once, as the TV does."""
    client = app.test_client()
    assert client.get(display_link).status_code == 302
    return client


def board_of(tv: FlaskClient, **query: str) -> dict:
    response = tv.get("/display/board.json", query_string=query)
    assert response.status_code == 200, response.text
    return response.get_json()


# The manager's page


def test_a_manager_makes_a_display_link_shown_only_once(client, login, manager) -> None:
    login(manager)
    page = client.get("/manage/displays")
    response = client.post(
        "/manage/displays", data={"csrf_token": csrf_token_in(page.text), "label": "TV lobby"}
    )
    assert response.status_code == 200
    link = re.search(r'class="display-link" href="([^"]+)"', response.text).group(1)
    secret = link.split("token=")[1]
    assert "TV lobby" in response.text

    again = client.get("/manage/displays?lang=en")
    assert "TV lobby" in again.text and secret not in again.text
    # Switching off is undone only by a new link: the button is behind a said consequence.
    switch_off = again.text.split('<details class="deactivate">')[1].split("</details>")[0]
    assert "showing them again needs a new link" in switch_off
    assert "Switch off TV lobby" in switch_off


@pytest.mark.parametrize("label", ["", "   ", "x" * 81])
def test_a_display_needs_a_usable_name(client, login, manager, label: str) -> None:
    login(manager)
    page = client.get("/manage/displays")
    response = client.post(
        "/manage/displays", data={"csrf_token": csrf_token_in(page.text), "label": label}
    )
    assert response.status_code == 400
    assert display.display_tokens(manager.site) == []


@pytest.mark.parametrize("role", ["door"])
def test_only_managers_make_display_links(client, login, make_user, role: str) -> None:
    login(make_user(role))
    assert client.get("/manage/displays").status_code == 403


def test_opening_the_link_stores_the_token_and_drops_it_from_the_address(
    app, display_link: str
) -> None:
    client = app.test_client()
    response = client.get(display_link + "&lang=en")
    assert response.status_code == 302
    assert response.headers["Location"] == "/display?lang=en"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "Path=/display" in cookie and "SameSite=Lax" in cookie
    page = client.get("/display?lang=en")
    assert page.status_code == 200
    assert "data-current-number>" in page.text


def switch_off(client: FlaskClient, token_id: object):
    """Press "Switch off" for a display on the displays page, as the logged-in manager."""
    page = client.get("/manage/displays")
    return client.post(
        f"/manage/displays/{token_id}/revoke", data={"csrf_token": csrf_token_in(page.text)}
    )


def test_a_revoked_display_stops_at_its_next_poll(client, login, manager, tv: FlaskClient) -> None:
    (token,) = display.display_tokens(manager.site)
    login(manager)
    assert switch_off(client, token.id).status_code == 302
    assert tv.get("/display/board.json").status_code == 403
    assert tv.get("/display").status_code == 403
    changes = db.session.scalars(
        sa.select(AuditEntry.detail)
        .where(AuditEntry.action == "display_token")
        .order_by(AuditEntry.id)
    ).all()
    assert [change["change"] for change in changes] == ["created", "revoked"]


@pytest.mark.parametrize("token_id", ["999", "2147483648"])
def test_revoking_an_unknown_display_is_404(client, login, manager, tv, token_id) -> None:
    login(manager)
    assert switch_off(client, token_id).status_code == 404
    assert tv.get("/display/board.json").status_code == 200


def test_a_manager_cannot_revoke_another_sites_display(
    client, login, make_site, make_user, tv, manager
) -> None:
    (token,) = display.display_tokens(manager.site)
    login(make_user("manager", site_=make_site()))
    assert "<td>TV</td>" not in client.get("/manage/displays").text
    assert switch_off(client, token.id).status_code == 404
    assert tv.get("/display/board.json").status_code == 200


# What a display token may open


PAGES_AND_API = [
    ("get", "/"),
    ("get", "/manage/log"),
    ("get", "/manage/displays"),
    ("get", "/manage/admin"),
    ("get", "/api/v1/quota/today"),
    ("get", "/api/v1/checkins"),
    ("get", "/api/v1/reports/daily"),
    ("post", "/api/v1/checkins"),
    ("post", "/api/v1/leases"),
]


@pytest.mark.parametrize(("method", "path"), PAGES_AND_API)
def test_a_display_token_opens_no_page_and_no_api(
    app, display_link: str, method: str, path: str
) -> None:
    secret = display_link.split("token=")[1]
    client = app.test_client()
    client.get(display_link)  # the cookie is set, as on the TV
    response = getattr(client, method)(path, headers={"Authorization": f"Bearer {secret}"}, json={})
    if path.startswith("/api/"):
        assert response.status_code == 401
    else:
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login")


@pytest.mark.parametrize("scopes", [("checkin",), ("read",), ("checkin", "read")])
def test_other_tokens_do_not_open_the_display(
    app, auth_headers, manager, scopes: tuple[str, ...]
) -> None:
    secret = auth_headers(manager, scopes)["Authorization"].split()[1]
    client = app.test_client()
    assert client.get(f"/display?token={secret}").status_code == 403
    client.set_cookie(COOKIE, secret, path="/display")
    assert client.get("/display").status_code == 403
    assert client.get("/display/board.json").status_code == 403


@pytest.mark.parametrize("role", ["manager", "door"])
def test_a_login_does_not_open_the_display(client, login, make_user, role: str) -> None:
    login(make_user(role))
    assert client.get("/display").status_code == 403
    assert client.get("/display/board.json").status_code == 403


def test_a_deactivated_makers_display_stops(tv, manager: User) -> None:
    manager.active = False
    db.session.commit()
    assert tv.get("/display/board.json").status_code == 403


# The board


def test_the_board_shows_the_current_call_the_six_before_and_the_number_waiting(
    site, make_visit, clock: Clock, tv
) -> None:
    visits = make_waiting(make_visit, 11)
    for minutes, visit in enumerate(visits[:8]):
        call(visit, booth=minutes % 3 + 1, at=clock.now + timedelta(minutes=minutes))
    board = board_of(tv)
    assert [entry["number"] for entry in board["calls"]] == [8, 7, 6, 5, 4, 3, 2]
    assert board["calls"][0]["monitor"] == 2
    assert board["calls"][0]["time"] == "10:07"
    assert board["waiting"] == 3
    assert board["waiting_text"] == "3 pengunjung menunggu"
    page = tv.get("/display?lang=en").text
    assert "data-current-number>8<" in page
    assert re.search(r"data-current-monitor>\D*\b2</p>", page)


def test_each_call_carries_its_announcement_in_the_displays_language(
    make_visit, clock: Clock, tv
) -> None:
    visits = make_waiting(make_visit, 12)
    call(visits[11], booth=3, at=clock.now)
    (called,) = board_of(tv)["calls"]
    assert called["text"] == "Nomor antrean dua belas, silakan ke monitor tiga"
    assert called["clips"] == ["nomor-antrean", "dua", "belas", "silakan-ke-monitor", "tiga"]
    (called,) = board_of(tv, lang="en")["calls"]
    assert called["text"] == "Queue number twelve, please go to monitor three"
    assert called["clips"] == []


@pytest.mark.parametrize(
    ("label", "shown"), [("Monitor 4", ""), ("4", ""), ("  ", ""), ("Pojok kiri", "Pojok kiri")]
)
def test_a_booths_label_is_shown_when_it_says_more_than_its_number(
    site, make_visit, clock: Clock, tv, label: str, shown: str
) -> None:
    (visit,) = make_waiting(make_visit, 1)
    booth_of(site, 4).label = label
    call(visit, booth=4, at=clock.now)
    assert board_of(tv)["calls"][0]["label"] == shown


def test_a_recall_is_a_new_call_to_announce(make_visit, clock: Clock, tv) -> None:
    (visit,) = make_waiting(make_visit, 1)
    call(visit, booth=1, at=clock.now)
    (first,) = board_of(tv)["calls"]
    call(visit, booth=1, at=clock.now + timedelta(minutes=2))
    (again,) = board_of(tv)["calls"]
    assert again["number"] == first["number"] and again["key"] != first["key"]


def test_voided_visits_and_visits_of_other_days_are_not_on_the_board(
    make_visit, clock: Clock, tv
) -> None:
    yesterday = make_waiting(make_visit, 1, now=clock.now - timedelta(days=1))
    call(yesterday[0], booth=1, at=clock.now - timedelta(days=1))
    kept, voided = make_waiting(make_visit, 2)
    call(kept, booth=1, at=clock.now)
    call(voided, booth=2, at=clock.now + timedelta(minutes=1))
    voided.voided_at = clock.now
    db.session.commit()
    board = board_of(tv)
    assert [entry["number"] for entry in board["calls"]] == [kept.slot]


def test_another_sites_display_shows_only_its_own_calls(
    app, make_site, make_user, make_visit, clock: Clock, tv
) -> None:
    other = make_site()
    other_manager = make_user("manager", site_=other)
    ours = make_waiting(make_visit, 2)
    theirs = make_waiting(make_visit, 5, site_=other)
    call(ours[0], booth=1, at=clock.now)
    call(theirs[4], booth=4, at=clock.now + timedelta(minutes=1))
    other_tv = app.test_client()
    with transaction.owned():
        secret = display.issue_display_token(other, "TV", other_manager, clock.now)
    other_tv.get(f"/display?token={secret}")

    assert [(c["number"], c["monitor"]) for c in board_of(tv)["calls"]] == [(1, 1)]
    assert board_of(tv)["waiting"] == 1
    assert [(c["number"], c["monitor"]) for c in board_of(other_tv)["calls"]] == [(5, 4)]
    assert board_of(other_tv)["waiting"] == 4


def test_the_display_shows_no_personal_data(make_visit, clock: Clock, tv) -> None:
    visits = make_waiting(
        make_visit, 3, visitor_name=NAME, phone=PHONE, nik_last4=NIK_LAST4, temperature_dc=367
    )
    for minutes, visit in enumerate(visits[:2]):
        call(visit, booth=1, at=clock.now + timedelta(minutes=minutes))
    for answer in (tv.get("/display"), tv.get("/display/board.json"), tv.get("/display?lang=en")):
        for secret in ("Siti", "Aminah", PHONE, NIK_LAST4, "36,7", "36.7"):
            assert secret not in answer.text


# Polling: ETag and 304


def test_an_unchanged_board_is_a_304_without_a_body(make_visit, clock: Clock, tv) -> None:
    call(make_waiting(make_visit, 2)[0], booth=1, at=clock.now)
    first = tv.get("/display/board.json")
    etag = first.headers["ETag"]
    again = tv.get("/display/board.json", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""
    assert again.headers["ETag"] == etag


@pytest.mark.parametrize("change", ["call", "recall", "admission", "void"])
def test_a_changed_board_gets_a_new_etag(make_visit, clock: Clock, tv, change: str) -> None:
    first, second = make_waiting(make_visit, 2)
    call(first, booth=1, at=clock.now)
    etag = tv.get("/display/board.json").headers["ETag"]
    clock.now += timedelta(minutes=1)
    if change == "call":
        call(second, booth=2, at=clock.now)
    elif change == "recall":
        call(first, booth=1, at=clock.now)
    elif change == "admission":
        make_waiting(make_visit, 1)
    else:
        first.voided_at = clock.now
        db.session.commit()
    response = tv.get("/display/board.json", headers={"If-None-Match": etag})
    assert response.status_code == 200
    assert response.headers["ETag"] != etag


def test_the_etag_follows_the_language(tv) -> None:
    etag = tv.get("/display/board.json").headers["ETag"]
    english = tv.get("/display/board.json?lang=en", headers={"If-None-Match": etag})
    assert english.status_code == 200


def test_the_board_starts_afresh_at_midnight(site, make_visit, clock: Clock, tv) -> None:
    call(make_waiting(make_visit, 1)[0], booth=1, at=clock.now)
    etag = tv.get("/display/board.json").headers["ETag"]
    clock.now += timedelta(days=1)
    response = tv.get("/display/board.json", headers={"If-None-Match": etag})
    assert response.status_code == 200
    assert response.get_json()["calls"] == []


def test_visits_sent_back_to_waiting_leave_the_board(make_visit, clock: Clock, tv) -> None:
    (visit,) = make_waiting(make_visit, 1)
    call(visit, booth=1, at=clock.now)
    visit.floor_state = "waiting"
    db.session.commit()
    board = board_of(tv)
    assert board["calls"] == [] and board["waiting"] == 1
