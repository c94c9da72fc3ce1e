"""Admins correct a site (name, time zone, usual quota) and an account (role, site); the CLI too."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from checkin.domain.errors import (
    CannotLeaveAdmin,
    InvalidSiteName,
    NegativeQuota,
    SiteRequired,
    UnknownRole,
    UnknownTimezone,
)
from checkin.extensions import db
from checkin.models import AuditEntry, DayQuota, Site, User
from checkin.services import accounts, display, sites, transaction
from tests.conftest import PASSWORD

# 23:00 in Kediri (WIB) is 01:00 of the next day in Jayapura (WIT).
LATE_EVENING = datetime(2026, 11, 25, 16, 0, tzinfo=UTC)


def audit_details(action: str) -> list[dict]:
    query = sa.select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
    return [entry.detail for entry in db.session.scalars(query)]


def stored(site: Site) -> tuple[str, str, int]:
    db.session.expire_all()
    site = db.session.get(Site, site.id)
    return site.name, site.timezone, site.daily_quota


def test_an_edit_changes_the_site_and_is_audited(site, as_admin, clock):
    changes = sites.edit_site(
        site, as_admin, clock.now, name="Kantor Kediri", timezone="Asia/Makassar", daily_quota=45
    )
    assert changes == {
        "name": ["Kantor Cabang KDR", "Kantor Kediri"],
        "timezone": ["Asia/Jakarta", "Asia/Makassar"],
        "daily_quota": [60, 45],
    }
    assert stored(site) == ("Kantor Kediri", "Asia/Makassar", 45)
    assert audit_details("settings") == [changes]


def test_the_new_quota_applies_to_today_at_once(site, as_admin, make_visit, clock):
    make_visit()
    sites.edit_site(site, as_admin, clock.now, daily_quota=45)
    assert db.session.get(DayQuota, (site.id, clock.now.date())).limit == 45


def test_a_new_time_zone_moves_the_site_s_day(site, as_admin, make_visit, clock):
    clock.now = LATE_EVENING
    assert make_visit().visit.day.day == 25
    sites.edit_site(site, as_admin, clock.now, timezone="Asia/Jayapura")
    assert make_visit().visit.day.day == 26


def test_an_unchanged_edit_records_nothing(site, as_admin, clock):
    assert sites.edit_site(site, as_admin, clock.now, name="Kantor Cabang KDR") == {}
    assert audit_details("settings") == []


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"timezone": "Mars/Olympus"}, UnknownTimezone),
        ({"timezone": "../../etc/passwd"}, UnknownTimezone),
        ({"timezone": ""}, UnknownTimezone),
        ({"daily_quota": -1}, NegativeQuota),
        ({"name": "  "}, InvalidSiteName),
        ({"name": "x" * 121}, InvalidSiteName),
        ({"name": "Kediri\x1b[2J"}, InvalidSiteName),
        ({"name": "Kediri baru", "timezone": "Mars/Olympus"}, UnknownTimezone),
    ],
)
def test_a_bad_edit_stores_nothing(site, as_admin, clock, change, error):
    with pytest.raises(error):
        sites.edit_site(site, as_admin, clock.now, **change)
    assert stored(site) == ("Kantor Cabang KDR", "Asia/Jakarta", 60)
    assert audit_details("settings") == []


def test_a_role_or_site_change_ends_the_account_s_sessions(
    app, site, make_site, make_user, as_admin, clock
):
    malang = make_site("MLG")
    door = make_user("door")
    version = door.session_version
    assert accounts.change_account(door, "manager", malang, as_admin, clock.now)
    db.session.expire_all()
    door = db.session.get(User, door.id)
    assert (door.role, door.site.code, door.session_version) == ("manager", "MLG", version + 1)
    moved = [
        (entry.site_id, entry.detail)
        for entry in db.session.scalars(
            sa.select(AuditEntry).where(AuditEntry.detail["change"].as_string() == "moved")
        )
    ]
    detail = {
        "account": door.username,
        "change": "moved",
        "roles": ["door", "manager"],
        "sites": ["KDR", "MLG"],
    }
    assert sorted(moved, key=lambda pair: pair[0]) == [(site.id, detail), (malang.id, detail)]


def test_an_unchanged_account_keeps_its_sessions(make_user, site, as_admin, clock):
    door = make_user("door")
    assert not accounts.change_account(door, "door", site, as_admin, clock.now)
    db.session.refresh(door)
    assert door.session_version == 0


@pytest.mark.parametrize(
    ("role", "error"), [("janitor", UnknownRole), ("door", SiteRequired), ("manager", SiteRequired)]
)
def test_a_bad_account_change_stores_nothing(make_user, as_admin, clock, role, error):
    door = make_user("door")
    with pytest.raises(error):
        accounts.change_account(door, role, None, as_admin, clock.now)
    db.session.expire_all()
    assert db.session.get(User, door.id).role == "door"


def test_an_admin_cannot_move_themselves_out_of_admin(as_admin, site, clock):
    with pytest.raises(CannotLeaveAdmin):
        accounts.change_account(as_admin, "manager", site, as_admin, clock.now)
    db.session.expire_all()
    assert db.session.get(User, as_admin.id).role == "admin"


# Pages


def test_the_admin_page_links_to_each_site_and_account(client, as_admin, site):
    page = client.get("/manage/admin?lang=en").text
    assert f'href="/manage/admin/sites/{site.id}"' in page
    assert f'href="/manage/admin/accounts/{as_admin.id}"' in page


def test_an_admin_edits_a_site_on_its_page(client, as_admin, site):
    page = client.get(f"/manage/admin/sites/{site.id}?lang=en").text
    assert 'value="Kantor Cabang KDR"' in page
    form = {"name": "Kantor Kediri", "timezone": "Asia/Makassar", "daily_quota": "45"}
    assert client.post(f"/manage/admin/sites/{site.id}", data=form).status_code == 302
    assert stored(site) == ("Kantor Kediri", "Asia/Makassar", 45)
    [detail] = audit_details("settings")
    assert detail["name"] == ["Kantor Cabang KDR", "Kantor Kediri"]
    assert detail["timezone"] == ["Asia/Jakarta", "Asia/Makassar"]


def test_a_zone_set_from_the_command_line_stays_choosable(client, as_admin, site, clock):
    with transaction.owned():
        sites.edit_site(site, None, clock.now, timezone="Asia/Singapore")
    form = {"name": "Kantor Kediri", "timezone": "Asia/Singapore", "daily_quota": "60"}
    assert client.post(f"/manage/admin/sites/{site.id}", data=form).status_code == 302
    assert stored(site) == ("Kantor Kediri", "Asia/Singapore", 60)


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"timezone": "Mars/Olympus"}, "Not a valid choice"),
        ({"daily_quota": "-1"}, "between 0 and 10000"),
        ({"daily_quota": ""}, "This field is required"),
        ({"name": ""}, "This field is required"),
        ({"name": "x" * 121}, "longer than 120"),
    ],
)
def test_a_bad_site_edit_on_the_page_stores_nothing(client, as_admin, site, form, message):
    good = {"name": "Kantor Kediri", "timezone": "Asia/Jakarta", "daily_quota": "45"}
    response = client.post(f"/manage/admin/sites/{site.id}?lang=en", data=good | form)
    assert response.status_code == 400
    assert message in response.text
    assert stored(site) == ("Kantor Cabang KDR", "Asia/Jakarta", 60)


def test_a_quota_below_today_s_admissions_is_refused_on_the_page(
    client, as_admin, site, make_visit
):
    make_visit()
    make_visit()
    form = {"name": "Kantor Cabang KDR", "timezone": "Asia/Jakarta", "daily_quota": "1"}
    response = client.post(f"/manage/admin/sites/{site.id}?lang=en", data=form)
    assert response.status_code == 400
    assert 'data-error="quota_below_admitted"' in response.text
    assert stored(site)[2] == 60


def test_an_admin_moves_an_account_and_it_must_log_in_again(
    app, client, as_admin, make_site, make_user
):
    malang = make_site("MLG")
    door = make_user("door")
    guard = app.test_client()
    guard.post("/login", data={"username": door.username, "password": PASSWORD})
    assert guard.get("/").status_code == 200
    form = {"role": "manager", "site_id": str(malang.id)}
    assert client.post(f"/manage/admin/accounts/{door.id}", data=form).status_code == 302
    assert guard.get("/").status_code == 302  # sent to the login page
    db.session.expire_all()
    assert db.session.get(User, door.id).site_id == malang.id
    assert {
        "account": door.username,
        "change": "moved",
        "roles": ["door", "manager"],
        "sites": ["KDR", "MLG"],
    } in audit_details("account")


def test_a_moved_managers_displays_and_tokens_stop(
    app, client, as_admin, make_site, make_user, site, clock, auth_headers
):
    malang = make_site("MLG")
    manager = make_user("manager")
    secret = display.issue_display_token(site, "TV", manager, clock.now)
    api = auth_headers(manager)
    tv = app.test_client()
    assert tv.get(f"/display?token={secret}").status_code == 302
    assert tv.get("/display/board.json").status_code == 200
    form = {"role": "manager", "site_id": str(malang.id)}
    assert client.post(f"/manage/admin/accounts/{manager.id}", data=form).status_code == 302
    # The TV does not go on showing the calls of the site its maker moved to.
    assert tv.get("/display/board.json").status_code == 403
    assert app.test_client().get("/api/v1/quota/today", headers=api).status_code == 401


@pytest.mark.parametrize("site_field", ["0", "1"])
def test_an_account_made_head_office_belongs_to_no_site(
    client, as_admin, make_user, site, site_field
):
    manager = make_user("manager")
    form = {"role": "head_office", "site_id": site_field}
    assert client.post(f"/manage/admin/accounts/{manager.id}", data=form).status_code == 302
    db.session.expire_all()
    changed = db.session.get(User, manager.id)
    assert (changed.role, changed.site_id) == ("head_office", None)


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"role": "janitor", "site_id": "1"}, "Not a valid choice"),
        ({"role": "door", "site_id": "0"}, "Door, officer and manager accounts need a site"),
        ({"role": "officer", "site_id": "0"}, "Door, officer and manager accounts need a site"),
        ({"role": "door", "site_id": "999"}, "Not a valid choice"),
    ],
)
def test_a_bad_account_change_on_the_page_stores_nothing(
    client, as_admin, make_user, form, message
):
    door = make_user("door")
    response = client.post(f"/manage/admin/accounts/{door.id}?lang=en", data=form)
    assert response.status_code == 400
    assert message in response.text
    db.session.expire_all()
    assert db.session.get(User, door.id).session_version == 0


def test_an_admin_cannot_leave_admin_on_the_page(client, as_admin, site):
    form = {"role": "manager", "site_id": str(site.id)}
    response = client.post(f"/manage/admin/accounts/{as_admin.id}?lang=en", data=form)
    assert response.status_code == 400
    assert 'data-error="cannot_leave_admin"' in response.text
    assert client.get("/manage/admin").status_code == 200  # still an admin, still logged in


@pytest.mark.parametrize("url", ["/manage/admin/sites/{site}", "/manage/admin/accounts/{user}"])
def test_managers_cannot_edit_sites_or_accounts(client, login, manager_user, site, url):
    login(manager_user)
    address = url.format(site=site.id, user=manager_user.id)
    assert client.get(address).status_code == 403
    assert client.post(address, data={"role": "admin", "name": "x"}).status_code == 403


@pytest.mark.parametrize("url", ["/manage/admin/sites/999", "/manage/admin/accounts/99999999999"])
def test_editing_a_missing_site_or_account_is_404(client, as_admin, url):
    assert client.get(url).status_code == 404


# The command line


def test_site_edit_on_the_command_line(runner, site):
    result = runner.invoke(
        args=["site", "edit", "kdr", "--name", "Kantor Kediri", "--timezone", "Asia/Makassar"]
        + ["--quota", "45"]
    )
    assert result.exit_code == 0, result.output
    assert "KDR timezone: Asia/Jakarta -> Asia/Makassar" in result.output
    assert stored(site) == ("Kantor Kediri", "Asia/Makassar", 45)
    [detail] = audit_details("settings")
    assert detail["daily_quota"] == [60, 45]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["KDR", "--timezone", "Mars/Olympus"], "Mars/Olympus is not a time zone"),
        (["KDR", "--quota", "-1"], "The quota cannot be negative."),
        (["KDR", "--name", " "], "Give the site a name of at most 120 characters."),
        (["XYZ", "--quota", "40"], "There is no site with code XYZ."),
        (["KDR"], "Say what to change"),
        (["KDR", "--quota", "lots"], "'lots' is not a valid integer"),
    ],
)
def test_a_bad_site_edit_on_the_command_line_stores_nothing(runner, site, args, message):
    result = runner.invoke(args=["site", "edit", *args])
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())
    assert stored(site) == ("Kantor Cabang KDR", "Asia/Jakarta", 60)
