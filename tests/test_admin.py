"""Admin pages: sites with their month's figures, accounts, deactivation and passwords."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from checkin.extensions import db
from checkin.models import Site, User
from checkin.services import audit, logins
from tests.conftest import PASSWORD


@pytest.mark.parametrize("typed_code", ["MLG", "mlg", " Mlg "])
def test_admin_creates_a_site_and_an_account_that_can_log_in(client, as_admin, typed_code):
    response = client.post(
        "/manage/admin/sites",
        data={
            "code": typed_code,
            "name": "Cabang Malang",
            "timezone": "Asia/Jakarta",
            "daily_quota": "40",
        },
    )
    assert response.status_code == 302
    malang = db.session.scalar(sa.select(Site).where(Site.code == "MLG"))
    assert (malang.name, malang.daily_quota) == ("Cabang Malang", 40)
    response = client.post(
        "/manage/admin/accounts",
        data={
            "username": "satpam.mlg",
            "role": "door",
            "site_id": str(malang.id),
            "password": "pintu-malang",
        },
    )
    assert response.status_code == 302
    (entry,) = audit.entries(malang).entries
    assert entry.user == as_admin
    assert entry.detail == {"account": "satpam.mlg", "change": "created", "role": "door"}
    client.post("/logout")
    response = client.post("/login", data={"username": "satpam.mlg", "password": "pintu-malang"})
    assert response.status_code == 302


@pytest.mark.parametrize(("typed", "stored"), [(" Budi Santoso ", "Budi Santoso"), ("", None)])
def test_an_admin_gives_a_new_account_the_name_staff_see(client, as_admin, site, typed, stored):
    assert 'name="display_name"' in client.get("/manage/admin").text
    account = {"username": "satpam1", "role": "door", "site_id": str(site.id)}
    response = client.post(
        "/manage/admin/accounts", data=account | {"display_name": typed, "password": PASSWORD}
    )
    assert response.status_code == 302, response.text
    user = db.session.scalar(sa.select(User).where(User.username == "satpam1"))
    assert (user.display_name, user.shown_name) == (stored, stored or "satpam1")
    (entry,) = [e for e in audit.entries(site).entries if e.detail.get("account") == "satpam1"]
    assert entry.detail == {"account": "satpam1", "change": "created", "role": "door"}


@pytest.mark.parametrize(("typed", "stored"), [("Pak Budi", "Pak Budi"), ("  ", None)])
def test_an_admin_renames_an_account_which_stays_logged_in(
    client, as_admin, site, door_user, typed, stored
):
    sessions_of = door_user.session_version
    response = client.post(
        f"/manage/admin/accounts/{door_user.id}/name", data={"display_name": typed}
    )
    assert response.status_code == 302, response.text
    db.session.refresh(door_user)
    assert (door_user.display_name, door_user.shown_name) == (stored, stored or door_user.username)
    assert door_user.session_version == sessions_of
    renamed = [e for e in audit.entries(site).entries if e.detail.get("change") == "renamed"]
    assert [entry.detail for entry in renamed] == [
        {"account": door_user.username, "change": "renamed"}
    ]


@pytest.mark.parametrize(
    "typed", ["\u200b", "Budi\u202eknil", "\ufeffBudi", "Budi\u2066x", "Bu\x00di", "B" * 61]
)
def test_a_name_that_would_not_show_as_typed_is_refused(client, as_admin, door_user, typed):
    response = client.post(
        f"/manage/admin/accounts/{door_user.id}/name", data={"display_name": typed}
    )
    assert response.status_code == 400
    db.session.refresh(door_user)
    assert door_user.display_name is None


@pytest.mark.parametrize(
    ("url", "form", "message"),
    [
        (
            "/manage/admin/sites",
            {"code": "KDR", "name": "Dup", "timezone": "Asia/Jakarta", "daily_quota": "60"},
            "exists already",
        ),
        (
            "/manage/admin/sites",
            {"code": "kdr", "name": "Dup", "timezone": "Asia/Jakarta", "daily_quota": "60"},
            "exists already",
        ),
        (
            "/manage/admin/sites",
            {"code": "kd r", "name": "Bad", "timezone": "Asia/Jakarta", "daily_quota": "60"},
            "capital letters",
        ),
        (
            "/manage/admin/sites",
            {"code": "XYZ", "name": "Bad", "timezone": "Europe/Paris", "daily_quota": "60"},
            "Not a valid choice",
        ),
        (
            "/manage/admin/accounts",
            {"username": "admin1", "role": "door", "site_id": "1", "password": "long enough"},
            "taken",
        ),
        (
            "/manage/admin/accounts",
            {"username": "newdoor", "role": "door", "site_id": "0", "password": "long enough"},
            "need a site",
        ),
        (
            "/manage/admin/accounts",
            {"username": "newdoor", "role": "door", "site_id": "1", "password": "short"},
            "between 8 and 200",
        ),
        (
            "/manage/admin/accounts",
            {
                "username": "newdoor",
                "display_name": "B" * 61,
                "role": "door",
                "site_id": "1",
                "password": "long enough",
            },
            "longer than 60 characters",
        ),
        (
            "/manage/admin/accounts",
            {
                "username": "newdoor",
                "display_name": "Budi\x1b",
                "role": "door",
                "site_id": "1",
                "password": "long enough",
            },
            "Remove the special characters",
        ),
    ],
)
def test_admin_forms_refuse_invalid_input(client, as_admin, url, form, message):
    count = db.session.scalar(sa.select(sa.func.count()).select_from(User))
    response = client.post(f"{url}?lang=en", data=form)
    assert response.status_code == 400
    assert message in response.text
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == count


def test_admin_deactivates_and_reactivates_an_account(client, as_admin, door_user, app):
    assert (
        client.post(
            f"/manage/admin/accounts/{door_user.id}/active", data={"active": "0"}
        ).status_code
        == 302
    )
    db.session.refresh(door_user)
    assert not door_user.active
    other = app.test_client()
    login_form = {"username": door_user.username, "password": PASSWORD}
    assert other.post("/login", data=login_form).status_code == 401
    client.post(f"/manage/admin/accounts/{door_user.id}/active", data={"active": "1"})
    assert other.post("/login", data=login_form).status_code == 302
    changes = [entry.detail for entry in audit.entries(door_user.site).entries]
    assert {"account": door_user.username, "change": "deactivated"} in changes
    assert {"account": door_user.username, "change": "reactivated"} in changes


def test_deactivating_an_account_takes_a_second_tap_that_names_it(client, as_admin, door_user):
    page = client.get("/manage/admin?lang=en").text
    confirm = re.search(
        rf'<details class="deactivate">\s*<summary>Deactivate</summary>\s*<form[^>]*'
        rf'action="/manage/admin/accounts/{door_user.id}/active">.*?</details>',
        page,
        re.S,
    )
    assert confirm, "the deactivate button is not behind a confirmation"
    assert f"{door_user.username} will no longer be able to log in." in confirm.group()
    assert f"Deactivate {door_user.username}</button>" in confirm.group()


def test_admin_cannot_deactivate_themselves(client, as_admin):
    client.post(f"/manage/admin/accounts/{as_admin.id}/active?lang=en", data={"active": "0"})
    db.session.refresh(as_admin)
    assert as_admin.active
    assert 'data-error="cannot_deactivate_self"' in client.get("/manage/admin").text


def test_admin_resets_a_password_and_lifts_the_lockout(client, as_admin, door_user, app, clock):
    for _ in range(logins.LOCKOUT_AFTER):
        logins.log_in(door_user.username, "wrong", "127.0.0.1", clock.now)
    client.post(
        f"/manage/admin/accounts/{door_user.id}/password", data={"password": "brand-new-pass"}
    )
    response = app.test_client().post(
        "/login", data={"username": door_user.username, "password": "brand-new-pass"}
    )
    assert response.status_code == 302


def test_a_too_short_reset_password_is_refused(client, as_admin, door_user):
    client.post(
        f"/manage/admin/accounts/{door_user.id}/password?lang=en", data={"password": "short"}
    )
    db.session.refresh(door_user)
    assert door_user.check_password(PASSWORD)
    assert 'data-error="password_too_short"' in client.get("/manage/admin").text


def test_admin_actions_on_a_missing_account_are_404(client, as_admin):
    assert (
        client.post("/manage/admin/accounts/9999/active", data={"active": "0"}).status_code == 404
    )


def test_managers_get_403_on_the_admin_page(client, login, manager_user):
    login(manager_user)
    assert client.get("/manage/admin").status_code == 403


def test_the_admin_page_shows_each_sites_figures_this_month(
    client, as_admin, make_site, make_visit, clock
):
    malang = make_site("MLG")
    for fields in ({}, {}, {"mask": False}):
        make_visit(**fields)
    make_visit(malang, mask=False)
    make_visit(now=clock.now - timedelta(days=40))  # last month: not counted
    page = client.get("/manage/admin?lang=en").text
    rows = {
        code: [int(number) for number in re.findall(r'<td class="num">(\d+)</td>', cells)][-3:]
        for code, cells in re.findall(r"<tr><td>(\w+)</td>(.*?)</tr>", page, re.S)
    }
    assert rows == {"KDR": [3, 2, 1], "MLG": [1, 0, 1]}
