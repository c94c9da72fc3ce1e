"""The flask commands."""

from __future__ import annotations

import re
from datetime import UTC, timedelta

import pytest
import sqlalchemy as sa

from checkin.extensions import db
from checkin.models import ApiToken, DayQuota, Site, User, Visit, hash_token
from checkin.services import accounts, audit, day_counter, retests, sites
from tests.conftest import counters_of, counters_of_rows


def test_init_db_is_repeatable(runner):
    assert runner.invoke(args=["init-db"]).exit_code == 0
    result = runner.invoke(args=["init-db"])
    assert result.exit_code == 0
    assert "Database ready" in result.output


@pytest.mark.parametrize("typed_code", ["KDR", "kdr"])
def test_user_add(runner, site, typed_code):
    result = runner.invoke(
        args=[
            "user",
            "add",
            "pintu1",
            "--role",
            "door",
            "--site",
            typed_code,
            "--password",
            "rahasia-123",
        ]
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(sa.select(User).where(User.username == "pintu1"))
    assert (user.role, user.site_id) == ("door", site.id)
    assert user.check_password("rahasia-123")
    assert "rahasia-123" not in user.password_hash
    (entry,) = audit.entries(site).entries
    assert (entry.user, entry.action) == (None, "account")
    assert entry.detail == {"account": "pintu1", "change": "created", "role": "door"}


def test_user_add_gives_the_account_the_display_name_staff_see(runner, site):
    args = ["user", "add", "satpam1", "--role", "door", "--site", "KDR"]
    result = runner.invoke(
        args=[*args, "--display-name", "Budi Santoso", "--password", "rahasia-123"]
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(sa.select(User).where(User.username == "satpam1"))
    assert (user.display_name, user.shown_name) == ("Budi Santoso", "Budi Santoso")
    result = runner.invoke(args=[*args[:2], "satpam2", *args[3:], "--password", "rahasia-123"])
    assert result.exit_code == 0, result.output
    user = db.session.scalar(sa.select(User).where(User.username == "satpam2"))
    assert (user.display_name, user.shown_name) == (None, "satpam2")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--role", "door", "--site", "KDR", "--display-name", "B" * 61],
            "--display-name",
        ),
        (
            ["--role", "door", "--site", "KDR", "--display-name", "Budi\x1b[31m"],
            "at most 60 characters",
        ),
        (["--role", "door", "--site", "XXX", "--password", "long-enough"], "no site with code"),
        (["--role", "door", "--password", "long-enough"], "needs --site"),
        (["--role", "boss", "--site", "KDR", "--password", "long-enough"], "boss"),
        (["--role", "door", "--site", "KDR", "--password", "short"], "at least 8"),
    ],
)
def test_user_add_explains_bad_arguments(runner, site, args, message):
    args = args if "--password" in args else [*args, "--password", "long-enough"]
    result = runner.invoke(args=["user", "add", "pintu1", *args])
    assert result.exit_code == 2
    assert message in result.output
    assert db.session.scalar(sa.select(User).where(User.username == "pintu1")) is None


def test_user_add_refuses_a_taken_name(runner, door_user):
    result = runner.invoke(
        args=["user", "add", door_user.username, "--role", "admin", "--password", "long-enough"]
    )
    assert result.exit_code == 2
    assert "already exists" in result.output


def test_token_add_prints_a_secret_stored_only_hashed(runner, door_user):
    result = runner.invoke(args=["token", "add", door_user.username, "--label", "scanner"])
    assert result.exit_code == 0
    secret = result.output.strip()
    token = db.session.scalar(sa.select(ApiToken))
    assert token.token_hash == hash_token(secret) != secret
    assert accounts.bearer(secret).user == door_user


def test_token_add_for_unknown_user(runner, app):
    result = runner.invoke(args=["token", "add", "nobody"])
    assert result.exit_code == 2
    assert "no account" in result.output


def test_demo_seeds_a_site_accounts_and_consistent_history(runner, client, clock):
    result = runner.invoke(args=["demo", "--url", "http://127.0.0.1:5000/", "--days", "20"])
    assert result.exit_code == 0, result.output
    assert "manager" in result.output and "/" in result.output
    site = db.session.scalar(sa.select(Site))
    assert site.code == "KDR"
    today = site.local_day(clock.now)
    weekdays = {today - timedelta(days=back) for back in range(21)}
    weekdays = {day for day in weekdays if day.weekday() < 5}
    assert set(db.session.scalars(sa.select(DayQuota.day))) == weekdays
    for row in db.session.scalars(sa.select(DayQuota)):
        admitted = db.session.scalar(
            sa.select(sa.func.count()).where(Visit.day == row.day, Visit.status == "admitted")
        )
        assert row.used == admitted <= row.limit
    # Today (a Wednesday, 10:00 in Kediri) already has its morning, and nothing from the future.
    assert db.session.scalar(sa.select(sa.func.count()).where(Visit.day == today)) > 0
    latest = db.session.scalar(sa.select(sa.func.max(Visit.checked_at)))
    assert latest.replace(tzinfo=UTC) <= clock.now
    again = runner.invoke(args=["demo"])
    assert "exists already" in again.output
    assert db.session.scalar(sa.select(sa.func.count(Site.id))) == 1
    # Each start prints a new display link and ends the one printed before.
    first, second = (display_link(output) for output in (result.output, again.output))
    assert first.startswith("http://127.0.0.1:5000/display?token=") and first != second
    assert client.get(second.removeprefix("http://127.0.0.1:5000")).status_code == 302
    assert client.get("/display/board.json").status_code == 200
    assert client.get(first.removeprefix("http://127.0.0.1:5000")).status_code == 403


@pytest.mark.parametrize("days", ["-1", "367", "ninety"])
def test_demo_refuses_a_history_it_cannot_make_and_makes_nothing(runner, app, days):
    result = runner.invoke(args=["demo", "--days", days])
    assert result.exit_code == 2 and "--days" in result.output
    assert db.session.scalar(sa.select(sa.func.count(Site.id))) == 0


def test_demo_on_a_site_it_did_not_make_prints_no_link_without_its_manager(runner, site):
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert "exists already" in result.output
    assert "No active manager at KDR" in result.output and "token=" not in result.output


def display_link(output: str) -> str:
    """Return the display link the demo printed."""
    return re.search(r"Waiting-room display \(a TV\): (\S+)", output).group(1)


def test_token_list_shows_ids_and_labels_never_secrets(runner, door_user, auth_headers):
    secret = auth_headers(door_user)["Authorization"].removeprefix("Bearer ")
    runner.invoke(args=["token", "add", door_user.username, "--label", "scanner 2"])
    result = runner.invoke(args=["token", "list", door_user.username])
    assert result.exit_code == 0, result.output
    tokens = db.session.scalars(sa.select(ApiToken).order_by(ApiToken.id)).all()
    lines = result.output.splitlines()
    assert [line.split()[0] for line in lines] == [str(token.id) for token in tokens]
    assert lines[1].endswith("scanner 2") and "active" in lines[1]
    assert secret not in result.output and tokens[0].token_hash not in result.output


def test_token_revoke_stops_the_token_at_once_and_keeps_the_row(runner, door_user, auth_headers):
    secret = auth_headers(door_user)["Authorization"].removeprefix("Bearer ")
    token_id = db.session.scalar(sa.select(ApiToken.id))
    result = runner.invoke(args=["token", "revoke", str(token_id)])
    assert result.exit_code == 0, result.output
    assert accounts.bearer(secret) is None
    assert db.session.get(ApiToken, token_id).revoked_at is not None
    assert "revoked" in runner.invoke(args=["token", "list", door_user.username]).output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["token", "revoke", "999"], "no active token 999"),
        (["token", "revoke", "0"], "TOKEN_ID"),
        (["token", "revoke", "abc"], "TOKEN_ID"),
        (["token", "list", "nobody"], "no account"),
    ],
)
def test_token_commands_explain_bad_arguments(runner, app, args, message):
    result = runner.invoke(args=args)
    assert result.exit_code == 2
    assert message in result.output


def test_revoking_twice_says_so(runner, door_user, auth_headers):
    auth_headers(door_user)
    token_id = str(db.session.scalar(sa.select(ApiToken.id)))
    assert runner.invoke(args=["token", "revoke", token_id]).exit_code == 0
    again = runner.invoke(args=["token", "revoke", token_id])
    assert again.exit_code == 2
    assert "no active token" in again.output


def test_a_new_office_starts_from_the_command_line(runner, client):
    # An empty database, then only commands, as the README's "New office" section says.
    assert runner.invoke(args=["init-db"]).exit_code == 0
    added = runner.invoke(
        args=["site", "add", "mlg", "--name", "Kantor Cabang Malang", "--quota", "40"]
    )
    assert added.exit_code == 0, added.output
    assert "Added site MLG (Kantor Cabang Malang), Asia/Jakarta, quota 40" in added.output
    user = ["user", "add", "pintu.mlg", "--role", "door", "--site", "MLG"]
    assert runner.invoke(args=[*user, "--password", "pintu-malang"]).exit_code == 0
    token = runner.invoke(args=["token", "add", "pintu.mlg"]).output.strip()
    listed = runner.invoke(args=["site", "list"]).output
    assert listed.split() == ["MLG", "Asia/Jakarta", "40", "Kantor", "Cabang", "Malang"]
    response = client.post(
        "/api/v1/checkins",
        json={"temperature_c": 36.6, "hand_sanitiser": True, "mask": True, "distancing": True},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 201, response.json
    assert (response.json["status"], response.json["slot"]) == ("admitted", 1)
    assert response.json["quota"] == {
        "day": response.json["day"],
        "limit": 40,
        "used": 1,
        "left": 39,
        "held": 0,
        "return_held": False,
    }


def test_site_list_says_when_there_is_none(runner, app):
    result = runner.invoke(args=["site", "list"])
    assert result.exit_code == 0
    assert "No sites yet" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["site", "add", "KDR", "--name", "Again"], "A site with code KDR exists already"),
        (["site", "add", "kdr", "--name", "Again"], "A site with code KDR exists already"),
        (["site", "add", "K D", "--name", "Bad"], "K D cannot be a site code"),
        (["site", "add", "MLG"], "Missing option '--name'"),
        (["site", "add", "MLG", "--name", "M", "--timezone", "Europe/Paris"], "Europe/Paris"),
        (["site", "add", "MLG", "--name", "M", "--quota", "-1"], "--quota"),
        (["user", "add", "a b", "--role", "admin", "--password", "long-enough"], "username"),
    ],
)
def test_site_and_user_add_explain_bad_arguments(runner, site, args, message):
    sites_before = len(sites.all_sites())
    result = runner.invoke(args=args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert len(sites.all_sites()) == sites_before


def test_demo_history_is_recorded_by_the_check_in_service(runner, clock):
    assert runner.invoke(args=["demo", "--days", "14"]).exit_code == 0
    site = db.session.scalar(sa.select(Site))
    for row in db.session.scalars(sa.select(DayQuota)):
        assert counters_of(row) == counters_of_rows(site.id, row.day), row.day
        # Queue numbers are given out in the order visitors passed the door.
        admitted = db.session.scalars(
            sa.select(Visit.slot)
            .where(Visit.day == row.day, Visit.slot.is_not(None))
            .order_by(Visit.checked_at, Visit.id)
        ).all()
        assert admitted == sorted(admitted), row.day
    seconds = db.session.scalars(sa.select(Visit).where(Visit.retest_of_id.is_not(None))).all()
    assert seconds, "the demo has no re-tests"
    for second in seconds:
        first = second.retest_of
        assert second.checked_at >= retests.ready_at(first, site)


def test_the_demo_door_opened_in_browsers_and_the_manager_s_pages_leave_used_as_it_was(
    runner, app, clock
):
    assert runner.invoke(args=["demo", "--days", "0"]).exit_code == 0
    site = db.session.scalar(sa.select(Site))
    before = day_counter.quota_today(site, clock.now)
    assert before.used == before.admitted
    for username, password in (("door", "pintu-demo-1"), ("door2", "pintu-demo-2")) * 2 + (
        ("manager", "manajer-demo"),
    ):
        browser = app.test_client()
        login = {"username": username, "password": password}
        assert browser.post("/login", data=login).status_code == 302
        for page in ("/", "/door/offline", "/manage/log", "/manage/tablets"):
            browser.get(page)
        browser.get("/api/v1/quota/today")
        browser.post("/api/v1/leases", json={})
    after = day_counter.quota_today(site, clock.now)
    assert (after.used, after.admitted, after.held) == (before.used, before.admitted, 0)
