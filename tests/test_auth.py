"""Login, logout, roles, CSRF, lockout and the language switch."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa
from werkzeug.security import generate_password_hash

from checkin import create_app
from checkin.extensions import db
from checkin.models import Visit, utcnow
from checkin.models import accounts as account_models
from checkin.services import accounts, logins, transaction
from tests.conftest import PASSWORD, IsolatedClient, csrf_token_in


def log_in(client, username, password=PASSWORD, **query):
    """Post the login form and return the response."""
    return client.post(
        "/login", query_string=query, data={"username": username, "password": password}
    )


def test_passwords_and_pins_are_stored_at_scrypts_full_cost(make_user, monkeypatch):
    monkeypatch.setattr(account_models, "generate_password_hash", generate_password_hash)
    door = make_user("door")
    door.set_pin("482913")
    assert door.password_hash.startswith("scrypt:32768:8:1$")
    assert door.pin_hash.startswith("scrypt:32768:8:1$")
    assert door.check_password(PASSWORD) and door.check_pin("482913")


@pytest.mark.parametrize(("role", "home"), [("door", "/"), ("manager", "/manage/log")])
def test_login_sends_each_role_to_its_start_page(client, make_user, role, home):
    user = make_user(role)
    response = log_in(client, user.username)
    assert response.status_code == 302
    assert response.location == home
    assert client.get(home).status_code == 200


@pytest.mark.parametrize(
    ("username", "password"),
    [("door1", "wrong password"), ("nobody", PASSWORD), ("door1", "")],
)
def test_a_failed_login_says_so_and_logs_nobody_in(client, door_user, username, password):
    response = log_in(client, username, password)
    assert response.status_code in (400, 401)
    assert client.get("/").status_code == 302


def test_a_wrong_password_is_answered_with_a_message(client, door_user):
    client.post("/lang/en")
    response = log_in(client, door_user.username, "wrong password")
    assert response.status_code == 401
    assert 'data-error="wrong_login"' in response.text


def test_five_failures_lock_the_account_for_fifteen_minutes(client, door_user, clock):
    client.post("/lang/en")
    for _attempt in range(logins.LOCKOUT_AFTER - 1):
        assert log_in(client, door_user.username, "guess").status_code == 401
    assert log_in(client, door_user.username, "guess").status_code == 429
    locked = log_in(client, door_user.username)
    assert locked.status_code == 429
    assert 'data-error="login_locked"' in locked.text
    clock.now += timedelta(minutes=logins.LOCKOUT_MINUTES - 1)
    assert log_in(client, door_user.username).status_code == 429
    clock.now += timedelta(minutes=1, seconds=1)
    assert log_in(client, door_user.username).status_code == 302


@pytest.mark.parametrize(
    ("path", "method"),
    [("/", "get"), ("/", "post"), ("/visits/1", "get"), ("/visits/1/retest", "post")]
    + [("/manage/log", "get")],
)
def test_every_page_asks_for_a_login(client, site, path, method):
    response = getattr(client, method)(path)
    assert response.status_code == 302
    assert urlsplit(response.location).path == "/login"


@pytest.mark.parametrize("path", ["/login", "/healthz"])
def test_login_and_health_are_open(client, site, path):
    assert client.get(path).status_code == 200


@pytest.mark.parametrize(
    ("requested", "expected_next"),
    [("/", "/"), ("/visits/7", "/visits/7"), ("/visits/7?x=1", "/visits/7?x=1")],
)
def test_the_login_redirect_remembers_the_page_exactly(client, site, requested, expected_next):
    location = client.get(requested).location
    assert parse_qs(urlsplit(location).query)["next"] == [expected_next]


@pytest.mark.parametrize(
    ("next_page", "landing"),
    [
        ("/manage/log", "/manage/log"),
        ("//evil.example/", "/"),
        ("https://evil.example/", "/"),
        ("/\\evil.example", "/"),
    ],
)
def test_login_follows_next_only_within_the_site(client, door_user, next_page, landing):
    assert log_in(client, door_user.username, next=next_page).location == landing


@pytest.mark.parametrize(
    ("role", "path", "status"),
    [
        ("door", "/", 200),
        ("door", "/manage/log", 403),
        ("manager", "/", 200),
        ("manager", "/manage/log", 200),
    ],
)
def test_roles_decide_which_pages_open(client, make_user, login, role, path, status):
    login(make_user(role))
    client.post("/lang/en")
    response = client.get(path)
    assert response.status_code == status
    if status == 403:
        assert '<section class="card error-page" data-status="403">' in response.text


@pytest.mark.parametrize(("role", "has_link"), [("door", False), ("manager", True)])
def test_the_header_links_managers_to_the_entry_log(client, make_user, login, role, has_link):
    login(make_user(role))
    client.post("/lang/en")
    page = client.get("/").text
    assert ('<a class="button" href="/manage/log">' in page) is has_link
    assert "Kantor Cabang KDR" in page


def test_an_account_without_a_site_gets_a_403_page_not_a_crash(client, app):
    with transaction.owned():
        admin = accounts.add_user("root", "admin", PASSWORD, None, by=None, now=utcnow())
    log_in(client, admin.username)
    response = client.get("/")
    assert response.status_code == 403
    assert 'class="card error-page"' in response.text


def test_logout_ends_the_session(client, door_user, login):
    login(door_user)
    assert client.get("/").status_code == 200
    response = client.post("/logout")
    assert response.location == "/login"
    assert client.get("/").status_code == 302


def test_logout_is_not_a_link_that_a_page_could_follow(client, door_user, login):
    login(door_user)
    assert client.get("/logout").status_code == 405
    assert client.get("/").status_code == 200


def test_the_session_cookie_is_http_only_and_same_site(client, door_user):
    cookie = log_in(client, door_user.username).headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


class TestCsrf:
    """With CSRF protection on, as in production, forms without the token change nothing."""

    @pytest.fixture
    def app_config(self, app_config):
        return app_config | {"WTF_CSRF_ENABLED": True}

    def test_login_without_the_token_is_refused(self, client, door_user):
        assert log_in(client, door_user.username).status_code == 400
        assert client.get("/").status_code == 302

    def test_a_check_in_without_the_token_stores_nothing(self, client, door_user):
        token = csrf_token_in(client.get("/login").text)
        form = {"username": door_user.username, "password": PASSWORD, "csrf_token": token}
        assert client.post("/login", data=form).status_code == 302
        reading = {"temperature": "36.5", "hand_sanitiser": "y", "mask": "y", "distancing": "y"}
        refused = client.post("/", data=reading)
        assert refused.status_code == 400
        assert db.session.scalar(sa.select(sa.func.count(Visit.id))) == 0
        token = csrf_token_in(client.get("/").text)
        assert client.post("/", data=reading | {"csrf_token": token}).status_code == 303
        assert db.session.scalar(sa.select(sa.func.count(Visit.id))) == 1

    def test_logout_without_the_token_keeps_the_session(self, client, door_user):
        token = csrf_token_in(client.get("/login").text)
        form = {"username": door_user.username, "password": PASSWORD, "csrf_token": token}
        client.post("/login", data=form)
        assert client.post("/logout").status_code == 400
        assert client.get("/").status_code == 200


@pytest.mark.parametrize(
    ("language", "login_word"),
    [(None, "Masuk"), ("id", "Masuk"), ("en", "Log in")],
)
def test_the_login_page_speaks_the_chosen_language(client, site, language, login_word):
    if language:
        response = client.post("/lang/" + language, data={"next": "/login"})
        assert response.location == "/login"
    page = client.get("/login").text
    assert f"<h1>{login_word}</h1>" in page
    assert f'<html lang="{language or "id"}">' in page


def test_an_unknown_language_is_not_found(client, site):
    assert client.post("/lang/fr").status_code == 404


def test_the_chosen_language_survives_logging_in_and_out(client, door_user):
    client.post("/lang/en")
    log_in(client, door_user.username)
    assert "Check visitor" in client.get("/").text
    client.post("/logout")
    assert "<h1>Log in</h1>" in client.get("/login").text


def test_the_language_switch_returns_to_the_same_page(client, door_user, login):
    login(door_user)
    response = client.post("/lang/en", data={"next": "/visits/3"})
    assert response.location == "/visits/3"


def test_the_language_switch_on_a_page_carries_that_page(client, site):
    page = client.get("/login?next=/visits/3").text
    assert '<input type="hidden" name="next" value="/login?next=/visits/3">' in page
    assert 'formaction="/lang/en"' in page


def test_an_admin_of_no_site_lands_on_the_admin_page(client, app):
    with transaction.owned():
        admin = accounts.add_user("root", "admin", PASSWORD, None, by=None, now=utcnow())
    response = log_in(client, admin.username)
    assert response.location == "/manage/admin"
    page = client.get("/manage/admin?lang=en")
    assert page.status_code == 200
    # No link to a site page, which would answer 403 to an account without a site.
    assert 'href="/manage/log"' not in page.text and 'href="/"' not in page.text


# What a browser would follow off the site once it normalises the target (it drops tabs and
# newlines anywhere and reads a backslash as a slash), and what is only a path here.
HOSTILE_TARGETS = [
    "/\t/evil.example",
    "/%09/evil.example",
    "/\n/evil.example",
    "/\r\n/evil.example",
    "/%0d%0a/evil.example",
    "\t//evil.example",
    "/\\evil.example",
    "\\/evil.example",
    "/%5cevil.example",
    "/%5Cevil.example",
    "//evil.example",
    "///evil.example",
    "https:evil.example",
    "https://evil.example/",
    "javascript:alert(1)",
    "http://localhost/manage/log",
    " /\t\\evil.example",
]


@pytest.mark.parametrize("target", HOSTILE_TARGETS)
def test_login_never_redirects_off_the_site(client, door_user, target):
    response = log_in(client, door_user.username, next=target)
    assert response.status_code == 302
    assert response.location == "/"


@pytest.mark.parametrize("target", HOSTILE_TARGETS)
def test_the_language_switch_never_redirects_off_the_site(client, site, target):
    response = client.post("/lang/en", data={"next": target})
    assert response.status_code == 302
    assert response.location == "/login"


@pytest.mark.parametrize(
    "target", ["/manage/log?day=2026-11-25", "/visits/3", "/manage/log?reason=no%5Fmask"]
)
def test_a_path_on_the_site_is_followed_as_given(client, door_user, target):
    assert log_in(client, door_user.username, next=target).location == target


OWNER, ATTACKER = "10.0.0.21", "203.0.113.66"


def log_in_from(client, address, username, password=PASSWORD):
    """Post the login form from a client address; return the response."""
    return client.post(
        "/login?lang=en",
        data={"username": username, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def test_an_attacker_cannot_lock_the_owner_out_of_their_own_tablet(app, door_user, clock):
    attacker, owner = app.test_client(), app.test_client()
    for _guess in range(3 * logins.LOCKOUT_AFTER):
        assert log_in_from(attacker, ATTACKER, door_user.username, "guess").status_code in (
            401,
            429,
        )
    assert log_in_from(attacker, ATTACKER, door_user.username).status_code == 429
    assert log_in_from(owner, OWNER, door_user.username).status_code == 302


def test_a_known_account_and_an_unknown_name_answer_alike_at_every_attempt(app, door_user):
    answers = {}
    for username in (door_user.username, "no-such-account"):
        client = app.test_client()
        answers[username] = [
            # The form shows the name typed back, and a new CSRF token: the rest must match.
            (response.status_code, re.sub(rf"csrf_token[^>]*>|{username}", "", response.text))
            for response in (
                log_in_from(client, ATTACKER, username, "guess")
                for _attempt in range(logins.LOCKOUT_AFTER + 2)
            )
        ]
    known, unknown = answers.values()
    assert [status for status, _page in known] == [401] * 4 + [429] * 3
    assert known == unknown


def test_one_address_gets_at_most_twenty_guesses_across_every_account(app, make_user):
    names = [make_user("door").username for _ in range(5)]
    client = app.test_client()
    statuses = [
        log_in_from(client, ATTACKER, name, "guess").status_code for name in names for _ in range(4)
    ]
    # Four guesses at each account are below its limit; the twentieth fills the address's.
    assert statuses == [401] * (logins.ADDRESS_LIMIT - 1) + [429]
    assert log_in_from(client, ATTACKER, make_user("door").username).status_code == 429
    assert log_in_from(app.test_client(), OWNER, names[0]).status_code == 302


@pytest.mark.parametrize(("proxies", "separate"), [(0, False), (1, True)])
def test_the_client_address_comes_from_a_proxy_only_when_configured(
    app_config, door_user, proxies, separate
):
    app = create_app(app_config | {"PROXY_COUNT": proxies})
    app.test_client_class = IsolatedClient
    client = app.test_client()
    for guess in range(logins.LOCKOUT_AFTER):
        # Through the proxy every client comes from 127.0.0.1; it names the real one.
        client.post(
            "/login",
            data={"username": door_user.username, "password": f"guess {guess}"},
            headers={"X-Forwarded-For": ATTACKER},
        )
    owner = client.post(
        "/login",
        data={"username": door_user.username, "password": PASSWORD},
        headers={"X-Forwarded-For": OWNER},
    )
    assert (owner.status_code == 302) is separate


def test_a_username_no_database_can_store_is_refused_as_bad_input(client, site):
    response = client.post("/login", data={"username": "door\x00", "password": "x"})
    assert response.status_code == 400
