"""The officers' console: landing, presses as plain forms, refusals in words, the poll's ETag."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from hypothesis import given

from checkin.domain.calling import CALLED, DONE, SERVING
from checkin.domain.errors import SiteRequired
from checkin.extensions import db
from checkin.models import Booth, Visit
from checkin.services import accounts, floor, transaction
from tests.conftest import PASSWORD, csrf_token_in
from tests.test_fuzz import FORM_EXAMPLES, any_fields


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
    assert "<b data-waiting>2</b>" in response.text
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
    assert 'data-error="booth_not_yours"' in response.text
    client.post("/floor/booths/2/open")
    client.post("/floor/booths/2/call")
    response = client.post("/floor/booths/2/call")
    assert response.status_code == 409
    assert 'data-error="booth_busy"' in response.text
    response = client.post("/floor/booths/2/done", data={"visit": str(visit.id)})
    assert (response.status_code, visit_state(visit.id)) == (409, CALLED)
    assert 'data-error="wrong_floor_state"' in response.text
    response = client.post("/floor/booths/42/open")
    assert response.status_code == 404
    assert 'data-error="unknown_booth"' in response.text


def no_show_button(page: str) -> str:
    start = page.index('class="no_show"')
    return page[start : page.index(">", start)]


def test_no_show_is_offered_only_after_a_recall(client, as_officer, make_visit):
    visit = make_visit().visit
    client.post("/floor/booths/1/open")
    client.post("/floor/booths/1/call")
    assert "disabled" in no_show_button(client.get("/floor/").text)
    response = client.post("/floor/booths/1/no_show", data={"visit": str(visit.id)})
    assert (response.status_code, visit_state(visit.id)) == (409, CALLED)
    assert 'data-error="recall_first"' in response.text
    client.post("/floor/booths/1/recall", data={"visit": str(visit.id)})
    assert "disabled" not in no_show_button(client.get("/floor/").text)
    response = client.post("/floor/booths/1/no_show", data={"visit": str(visit.id)})
    assert (response.status_code, visit_state(visit.id)) == (303, "no_show")


@pytest.mark.parametrize("visit", ["", "x", "0", "99999999999999999999"])
def test_a_step_without_a_valid_visit_is_a_400(client, as_officer, make_visit, visit):
    make_visit()
    client.post("/floor/booths/1/open")
    client.post("/floor/booths/1/call")
    response = client.post("/floor/booths/1/start", data={"visit": visit})
    assert response.status_code == 400
    assert 'data-error="stale_page"' in response.text
    assert visit_state(1) == CALLED


def test_nobody_waiting_is_said(client, as_officer):
    client.post("/floor/booths/1/open")
    response = client.post("/floor/booths/1/call")
    assert (response.status_code, 'data-error="nobody_waiting"' in response.text) == (409, True)


def test_door_staff_cannot_use_the_console(client, login, door_user):
    login(door_user)
    assert client.get("/floor/").status_code == 403
    assert client.post("/floor/booths/1/open").status_code == 403


def test_an_officer_sees_and_opens_only_their_sites_booths(
    client, as_officer, make_site, make_user, clock
):
    other = make_site("MLG")
    mlg_officer = make_user("officer", other, username="mlg.officer")
    with transaction.owned():
        floor.open_booth(other, mlg_officer, 1, clock.now)
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


def test_the_door_counter_shows_who_is_inside_now(
    client, login, door_user, officer, make_visit, clock
):
    make_visit()
    make_visit()
    make_visit(mask=False)
    client.post("/lang/en")
    login(door_user)
    assert "<b data-inside>2</b>" in client.get("/").text
    site = door_user.site
    with transaction.owned():
        floor.open_booth(site, officer, 1, clock.now)
        called = floor.call_next(site, officer, 1, clock.now)
        floor.start(site, officer, 1, called.id, clock.now)
    assert "<b data-inside>2</b>" in client.get("/").text
    with transaction.owned():
        floor.finish(site, officer, 1, called.id, clock.now)
    assert "<b data-inside>1</b>" in client.get("/").text
    assert client.get("/api/v1/quota/today").json["inside_now"] == 1
    assert "<b data-inside>1</b>" in client.get(f"/visits/{called.id}").text


def test_the_offline_copy_of_the_door_says_nothing_of_who_is_inside(client, login, door_user):
    login(door_user)
    assert "<b data-inside>–</b>" in client.get("/door/offline").text


def test_the_day_summary_and_log_show_inside_now_for_today_only(
    client, login, manager_user, make_visit, clock
):
    make_visit()
    client.post("/lang/en")
    login(manager_user)
    for page in ("/manage/summary", "/manage/log"):
        assert "<dd data-inside>1</dd>" in client.get(page).text
        assert "data-inside" not in client.get(f"{page}?day=2026-11-24").text


def floor_form(**values):
    return {f"floor-{name}": value for name, value in values.items()}


def test_the_manager_sets_the_floor_on_the_settings_page(client, login, manager_user, site):
    client.post("/lang/en")
    login(manager_user)
    page = client.get("/manage/settings").text
    assert 'name="floor-booths"' in page and 'value="10"' in page
    response = client.post(
        "/manage/settings/floor",
        data=floor_form(booths="3", labels="Loket A\nLoket B\n", booths_per_officer="2"),
    )
    assert (response.status_code, response.headers["Location"]) == (303, "/manage/settings#floor")
    numbers = db.session.scalars(
        sa.select(Booth.label)
        .where(Booth.site_id == site.id, Booth.in_use.is_(True))
        .order_by(Booth.number)
    ).all()
    assert numbers == ["Loket A", "Loket B", ""]
    assert db.session.get(type(site), site.id).booths_per_officer == 2
    assert "Loket A\nLoket B" in client.get("/manage/settings").text


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"booths": "0", "booths_per_officer": "5"}, "Number must be between 1 and 99"),
        ({"booths": "", "booths_per_officer": "5"}, "This field is required"),
        ({"booths": "10", "booths_per_officer": "11"}, "Number must be between 1 and 10"),
        ({"booths": "10", "booths_per_officer": "5", "labels": "A\x1bB"}, "special characters"),
    ],
)
def test_bad_floor_settings_are_refused_in_words(client, login, manager_user, values, message):
    client.post("/lang/en")
    login(manager_user)
    response = client.post("/manage/settings/floor", data=floor_form(**values))
    assert response.status_code == 400
    assert message in response.text
    assert db.session.scalar(sa.select(sa.func.count()).where(Booth.in_use.is_(True))) == 10


def test_booths_still_open_are_not_taken_out_of_use(client, login, manager_user, officer, clock):
    with transaction.owned():
        floor.open_booth(officer.site, officer, 8, clock.now)
    client.post("/lang/en")
    login(manager_user)
    response = client.post(
        "/manage/settings/floor", data=floor_form(booths="5", booths_per_officer="5")
    )
    assert response.status_code == 409
    assert 'data-error="booths_still_open"' in response.text
    assert db.session.scalar(sa.select(sa.func.count()).where(Booth.in_use.is_(True))) == 10


@pytest.mark.parametrize(
    ("role", "path", "fields"),
    [
        (
            "manager",
            "/manage/settings/floor",
            ("floor-booths", "floor-labels", "floor-booths_per_officer"),
        ),
        ("officer", "/floor/booths/1/start", ("visit",)),
        ("officer", "/floor/booths/1/call", ("visit",)),
    ],
)
def test_any_value_of_the_floor_forms_gets_a_page_not_a_server_error(
    client, login, make_user, make_visit, role, path, fields
):
    officer = make_user(role)
    login(officer)
    make_visit()
    client.post("/floor/booths/1/open")

    @FORM_EXAMPLES
    @given(data=any_fields(fields))
    def post_anything(data: dict[str, str]) -> None:
        response = client.post(path, data=data)
        assert response.status_code < 500, (data, response.status_code)

    post_anything()
