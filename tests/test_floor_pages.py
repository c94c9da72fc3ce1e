"""The officers' console: landing, presses as plain forms, refusals in words, the poll's ETag."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from checkin.extensions import db
from checkin.models import Booth, Visit
from checkin.models.floor import CALLED, DONE, SERVING
from checkin.services import accounts, floor
from checkin.services.errors import SiteRequired
from tests.conftest import PASSWORD, csrf_token_in


@pytest.fixture
def officer(make_user):
    return make_user("officer")


@pytest.fixture
def as_officer(client, login, officer):
    client.post("/lang/en")
    login(officer)
    return officer


def visit_state(visit_id: int) -> str | None:
    return db.session.get(Visit, visit_id, populate_existing=True).floor_state


def test_an_officer_lands_on_the_console(client, officer):
    response = client.post("/login", data={"username": officer.username, "password": PASSWORD})
    assert response.headers["Location"] == "/floor/"


def test_an_officer_opens_a_booth_calls_serves_and_finishes(client, as_officer, make_visit):
    first, second = make_visit().visit, make_visit().visit
    response = client.get("/floor/")
    assert response.status_code == 200
    assert "Waiting:" in response.text and "<b data-waiting>2</b>" in response.text
    response = client.post("/floor/booths/3/open")
    assert (response.status_code, response.headers["Location"]) == (303, "/floor/#booth-3")
    response = client.post("/floor/booths/3/call")
    assert response.status_code == 303
    assert visit_state(first.id) == CALLED
    page = client.get("/floor/").text
    assert '<span class="number">1</span>' in page and "<b data-waiting>1</b>" in page
    for step, state in (("recall", CALLED), ("start", SERVING), ("done", DONE)):
        response = client.post(f"/floor/booths/3/{step}", data={"visit": str(first.id)})
        assert response.status_code == 303, response.text
        assert visit_state(first.id) == state
    assert db.session.get(Visit, first.id).calls == 2
    assert visit_state(second.id) == "waiting"


def test_a_refused_press_says_why_and_changes_nothing(client, as_officer, make_visit):
    visit = make_visit().visit
    response = client.post("/floor/booths/2/call")
    assert response.status_code == 409
    assert "Booth 2 is not open by you" in response.text
    client.post("/floor/booths/2/open")
    client.post("/floor/booths/2/call")
    response = client.post("/floor/booths/2/call")
    assert response.status_code == 409
    assert "Number 1 is still at booth 2" in response.text
    response = client.post("/floor/booths/2/done", data={"visit": str(visit.id)})
    assert (response.status_code, visit_state(visit.id)) == (409, CALLED)
    assert "changed meanwhile" in response.text
    response = client.post("/floor/booths/42/open")
    assert response.status_code == 404
    assert "There is no booth 42 here" in response.text


@pytest.mark.parametrize("visit", ["", "x", "0", "99999999999999999999"])
def test_a_step_without_a_valid_visit_is_a_400(client, as_officer, make_visit, visit):
    make_visit()
    client.post("/floor/booths/1/open")
    client.post("/floor/booths/1/call")
    response = client.post("/floor/booths/1/start", data={"visit": visit})
    assert response.status_code == 400
    assert "Nothing was done" in response.text
    assert visit_state(1) == CALLED


def test_nobody_waiting_is_said(client, as_officer):
    client.post("/floor/booths/1/open")
    response = client.post("/floor/booths/1/call")
    assert (response.status_code, "Nobody is waiting" in response.text) == (409, True)


def test_door_staff_cannot_use_the_console(client, login, door_user):
    login(door_user)
    assert client.get("/floor/").status_code == 403
    assert client.post("/floor/booths/1/open").status_code == 403


def test_an_officer_sees_and_opens_only_their_sites_booths(
    client, as_officer, make_site, make_user, clock
):
    other = make_site("MLG")
    floor.open_booth(other, make_user("officer", other, username="mlg.officer"), 1, clock.now)
    page = client.get("/floor/").text
    assert "mlg.officer" not in page
    assert client.post("/floor/booths/1/open").status_code == 303
    held = db.session.scalars(sa.select(Booth.site_id).where(Booth.officer_id.is_not(None)))
    assert sorted(held) == sorted([other.id, as_officer.site_id])


def test_the_poll_answers_304_until_the_floor_changes(client, as_officer, make_visit):
    first = client.get("/floor/state")
    assert first.status_code == 200
    assert first.json["waiting"] == 0
    tag = first.headers["ETag"]
    again = client.get("/floor/state", headers={"If-None-Match": tag})
    assert (again.status_code, again.data) == (304, b"")
    make_visit()
    changed = client.get("/floor/state", headers={"If-None-Match": tag})
    assert (changed.status_code, changed.json["waiting"]) == (200, 1)
    assert changed.headers["ETag"] != tag
    client.post("/floor/booths/1/open")
    opened = client.get("/floor/state").json
    assert opened["booths"] != changed.json["booths"]


def test_the_poll_wants_a_login(client):
    response = client.get("/floor/state")
    assert response.status_code == 302


@pytest.fixture
def csrf_checked(app_config):
    app_config["WTF_CSRF_ENABLED"] = True


def test_a_press_needs_the_pages_csrf_token(csrf_checked, client, officer, make_visit):
    make_visit()
    page = client.get("/login").text
    client.post(
        "/login",
        data={
            "username": officer.username,
            "password": PASSWORD,
            "csrf_token": csrf_token_in(page),
        },
    )
    assert client.post("/floor/booths/1/open").status_code == 400
    token = csrf_token_in(client.get("/floor/").text)
    assert client.post("/floor/booths/1/open", data={"csrf_token": token}).status_code == 303


def test_an_officer_account_needs_a_site(app, clock):
    with pytest.raises(SiteRequired):
        accounts.add_user("officer.x", "officer", PASSWORD, None, by=None, now=clock.now)


def test_the_admin_creates_an_officer_who_lands_on_the_console(client, as_admin, site):
    response = client.post(
        "/manage/admin/accounts",
        data={
            "username": "petugas.kdr",
            "role": "officer",
            "site_id": str(site.id),
            "password": "petugas-kediri",
        },
    )
    assert response.status_code == 302
    client.post("/logout")
    response = client.post("/login", data={"username": "petugas.kdr", "password": "petugas-kediri"})
    assert response.headers["Location"] == "/floor/"
