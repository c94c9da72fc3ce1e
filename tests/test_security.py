"""Security: hashed revocable tokens, role and site checks, CSRF, headers, nothing public."""

from __future__ import annotations

import hashlib
import os
import re
from datetime import timedelta
from html.parser import HTMLParser

import pytest
import sqlalchemy as sa
from flask import Flask, url_for
from flask.testing import FlaskClient
from flask_wtf.csrf import CSRFError

from checkin import create_app
from checkin.extensions import db
from checkin.models import ApiToken, Site, User, Visit
from tests.conftest import PASSWORD, IsolatedClient, csrf_token_in, on_tablet

# A value for every URL argument of every route; a new argument fails the tests until added.
URL_ARGUMENTS = {
    "visit_id": 1,
    "user_id": 1,
    "token_id": 1,
    "code": "en",
    "extension": "csv",
    "kind": "hours",
    "device_id": "0b0c7c6e-7f3a-4d2b-9a51-4e8f2d6c1a90",
    "site_id": 1,
    "day": "2026-12-25",
    "number": 1,
    "press": "open",
    "step": "start",
    "booking_id": 1,
}
# Open to anyone: the login page, language choice, health checks, assets and the API's document.
# The door's service worker and manifest hold no data: a worker must update after a logout too.
PUBLIC = {
    "auth.login",
    "auth.set_language",
    "tablet.pair",
    "health.healthz",
    "static",
    "api.openapi",
    "door.service_worker",
    "door.manifest",
    "door.favicon",
}
# Opened by a display token in a cookie, never by a login: refused outright without one.
DISPLAY_ONLY = {"display.board", "display.board_data"}
# Answered only for a browser holding a paired tablet's credential: to anyone else, nothing.
TABLET_ONLY = {"api.tablet_status"}
# The office's public booking page: anyone's once a manager switches it on; until then nothing.
SWITCHED_ON_ONLY = {"booking_page.page", "booking_page.booked"}
SECRET_NAME = "Siti Rahasia Aminah"


def rules(app: Flask, method: str, prefix: str = "/") -> list:
    """Return the app's routes that answer ``method`` under ``prefix``."""
    return [
        rule
        for rule in app.url_map.iter_rules()
        if method in rule.methods and rule.rule.startswith(prefix)
    ]


def url(app: Flask, rule, **values: object) -> str:
    """Build a concrete URL of ``rule``, filling its arguments from URL_ARGUMENTS."""
    arguments = {name: URL_ARGUMENTS[name] for name in rule.arguments} | values
    return app.url_map.bind("localhost").build(rule.endpoint, arguments)


def logged_in(app: Flask, user: User) -> FlaskClient:
    """Return a new client of ``app`` logged in as ``user`` through the form."""
    client = app.test_client()
    response = client.post("/login", data={"username": user.username, "password": PASSWORD})
    assert response.status_code == 302, response.text
    return client


def role_for(rule) -> str:
    """Return the role whose pages ``rule`` belongs to."""
    return "manager" if rule.rule.startswith("/manage") else "door"


@pytest.fixture
def other_site(make_site) -> Site:
    """Return a second site, whose staff must never see the first site's visitors."""
    return make_site("MLG")


def test_tokens_are_stored_as_sha256_only(app, door_user, auth_headers):
    secret = auth_headers(door_user)["Authorization"].removeprefix("Bearer ")
    rows = db.session.execute(sa.select(ApiToken.__table__)).all()
    assert [row.token_hash for row in rows] == [hashlib.sha256(secret.encode()).hexdigest()]
    assert secret not in repr(rows)


def test_revoked_token_is_refused_through_the_cli(client, runner, door_user, auth_headers):
    headers = auth_headers(door_user)
    assert client.get("/api/v1/quota/today", headers=headers).status_code == 200
    token_id = db.session.scalar(sa.select(ApiToken.id))
    assert runner.invoke(args=["token", "revoke", str(token_id)]).exit_code == 0
    assert client.get("/api/v1/quota/today", headers=headers).status_code == 401


def test_token_of_a_deactivated_account_is_refused(client, door_user, auth_headers):
    headers = auth_headers(door_user)
    door_user.active = False
    db.session.commit()
    assert client.get("/api/v1/quota/today", headers=headers).status_code == 401


def test_api_shows_a_manager_only_their_own_site(
    client, make_visit, clock, other_site, make_user, auth_headers
):
    visit = make_visit(visitor_name=SECRET_NAME).visit
    headers = auth_headers(make_user("manager", other_site))
    day = visit.day.isoformat()
    log = client.get(f"/api/v1/checkins?day={day}", headers=headers)
    assert (log.status_code, log.json["items"]) == (200, [])
    report = client.get(f"/api/v1/reports/daily?from={day}&to={day}", headers=headers)
    assert report.json["days"][0]["checks"] == 0
    assert client.get("/api/v1/quota/today", headers=headers).json["used"] == 0
    retest = client.post(
        "/api/v1/checkins",
        json={"temperature_c": 36.5, "hand_sanitiser": True, "mask": True, "distancing": True}
        | {"recheck_of": visit.id},
        headers=headers,
    )
    assert retest.status_code == 422
    assert SECRET_NAME not in log.text + report.text + retest.text


# Pages offered on a paired tablet only: each account opens them on a tablet of its own site.
ON_PAIRED_TABLETS = {"door.admit_past_quota"}


def test_pages_taking_a_visit_id_hide_other_sites_visits(
    app, make_visit, site, other_site, make_user, pair_tablet
):
    visit_id = make_visit(visitor_name=SECRET_NAME).visit.id
    checked = []

    def browser(rule, site_: Site) -> FlaskClient:
        client = logged_in(app, make_user(role_for(rule), site_))
        if rule.endpoint in ON_PAIRED_TABLETS:
            on_tablet(client, pair_tablet(site_))
        return client

    for method in ("GET", "POST"):
        for rule in rules(app, method):
            if "visit_id" not in rule.arguments or rule.rule.startswith("/api"):
                continue
            path = url(app, rule, visit_id=visit_id)
            outsider = browser(rule, other_site)
            # buffered: the contacts export streams, and must be read in the request's context.
            answer = outsider.open(path, method=method, buffered=True)
            assert answer.status_code in (403, 404), (method, path)
            assert SECRET_NAME not in answer.text
            insider = browser(rule, site)
            inside = insider.open(path, method=method, buffered=True)
            assert inside.status_code not in (403, 404), path
            checked.append(rule.endpoint)
    assert checked, "no route takes a visit id: this test checks nothing"


def test_manager_pages_never_show_another_sites_visitors(
    app, make_visit, other_site, make_user, manager_user
):
    make_visit(visitor_name=SECRET_NAME)
    outsider = logged_in(app, make_user("manager", other_site))
    insider = logged_in(app, manager_user)
    pages = [url(app, rule) for rule in rules(app, "GET", "/manage")]
    # buffered: the CSV export streams, and must be read inside the request's own context.
    assert any(SECRET_NAME in insider.get(page, buffered=True).text for page in pages)
    for page in pages:
        assert SECRET_NAME not in outsider.get(page, buffered=True).text, page


@pytest.mark.parametrize(("role", "allowed"), [("door", False), ("manager", True)])
def test_manager_pages_need_a_manager(app, make_user, role, allowed):
    client = logged_in(app, make_user(role))
    for rule in rules(app, "GET", "/manage"):
        if "/admin" in rule.rule:
            continue
        status = client.get(url(app, rule), buffered=True).status_code
        assert (status != 403) == allowed, (rule.rule, status)


def test_admin_pages_need_an_admin(app, manager_user):
    client = logged_in(app, manager_user)
    admin_rules = [rule for rule in app.url_map.iter_rules() if "/admin" in rule.rule]
    assert admin_rules
    for rule in admin_rules:
        method = "GET" if "GET" in rule.methods else "POST"
        assert client.open(url(app, rule), method=method).status_code == 403, rule.rule


def test_nothing_but_the_login_is_public(app, client):
    for rule in rules(app, "GET"):
        if rule.endpoint in PUBLIC:
            continue
        response = client.get(url(app, rule))
        if rule.endpoint in DISPLAY_ONLY:
            assert response.status_code == 403, rule.rule
        elif rule.endpoint in TABLET_ONLY | SWITCHED_ON_ONLY:
            assert response.status_code == 404, rule.rule
        elif rule.rule.startswith("/api"):
            assert response.status_code == 401, rule.rule
        else:
            # A paired tablet's own pages ask an unpaired browser to pair first.
            start = "/pair" if rule.endpoint.startswith("tablet.") else "/login"
            assert response.status_code == 302, rule.rule
            assert response.location.startswith(start), rule.rule


@pytest.fixture
def csrf_app(app_config) -> Flask:
    """Return an app with CSRF protection on, as in production."""
    app = create_app(app_config | {"WTF_CSRF_ENABLED": True})
    app.test_client_class = IsolatedClient
    # Tell a CSRF refusal apart from other 400s, such as a form that does not validate.
    app.register_error_handler(CSRFError, lambda error: ("refused: CSRF", 400))
    return app


@pytest.mark.parametrize("role", ["door", "manager", "admin"])
def test_every_form_post_needs_the_csrf_token(csrf_app, make_user, role):
    client = csrf_app.test_client()
    user = make_user(role)
    form = {"username": user.username, "password": PASSWORD}
    assert client.post("/login", data=form).status_code == 400
    form["csrf_token"] = csrf_token_in(client.get("/login").text)
    assert client.post("/login", data=form).status_code == 302
    posts = [rule for rule in rules(csrf_app, "POST") if not rule.rule.startswith("/api")]
    assert len(posts) > 3
    for rule in posts:
        response = client.post(url(csrf_app, rule), data={"reason": "x", "next": "/"})
        assert response.status_code == 400, rule.rule
        assert response.text == "refused: CSRF", rule.rule
    assert client.get("/login").status_code == 302, "the posts must not have logged us out"


HARDENING = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}


@pytest.mark.parametrize(
    ("path", "mimetype"),
    [
        ("/login", "text/html"),
        ("/manage/log", "text/html"),  # a redirect to the login page
        ("/no/such/page", "text/html"),
        ("/api/v1/openapi.json", "application/json"),
        ("/api/v1/quota/today", "application/json"),  # 401
        ("/api/v1/no/such", "application/json"),
        ("/static/app.css", "text/css"),
        ("/healthz", "application/json"),
    ],
)
def test_security_headers_on_every_kind_of_response(client, path, mimetype):
    response = client.get(path)
    assert response.mimetype == mimetype
    for header, value in HARDENING.items():
        assert response.headers[header] == value, header
    policy = dict(
        directive.strip().partition(" ")[::2]
        for directive in response.headers["Content-Security-Policy"].split(";")
    )
    assert policy["script-src"] == policy["style-src"] == policy["default-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'" and policy["object-src"] == "'none'"
    assert "unsafe" not in response.headers["Content-Security-Policy"]
    if mimetype != "text/css":
        assert response.headers["Cache-Control"] == "no-store"


def test_pages_link_fingerprinted_assets_that_browsers_keep_for_a_year(client):
    links = re.findall(r'(?:href|src)="(/static/[^"]+)"', client.get("/login").text)
    assert links
    for link in links:
        assert re.fullmatch(r"/static/[a-z0-9-]+\.(css|js|svg|png)\?v=[0-9a-f]{12}", link), link
        response = client.get(link)
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "public, max-age=31536000"


def test_a_changed_asset_gets_a_new_address(app, tmp_path):
    static = tmp_path / "static"
    static.mkdir()
    app.static_folder = str(static)
    asset = static / "door.js"
    addresses = []
    for second, content in enumerate(("first version", "second version"), start=1):
        asset.write_text(content)
        os.utime(asset, ns=(second * 10**9, second * 10**9))
        with app.test_request_context():
            addresses.append(url_for("static", filename="door.js"))
    assert addresses[0] != addresses[1]
    (tmp_path / "outside.js").write_text("not an asset")
    with app.test_request_context():
        # No fingerprint for what is not a file in the static folder: nothing there to keep.
        for name in ("missing.js", "../outside.js", "."):
            assert url_for("static", filename=name) == f"/static/{name}"


@pytest.mark.parametrize("version", ["", "?v=000000000000"])
def test_an_asset_asked_for_without_its_fingerprint_is_revalidated(client, version):
    response = client.get(f"/static/app.css{version}")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-cache"


# Which page a browser may keep (private, revalidated: the back/forward cache works) and which it
# must never store: every page showing a visitor's data. README, "Caching", says why per page.
@pytest.mark.parametrize(
    ("role", "path", "cache_control"),
    [
        (None, "/login", "no-store"),
        ("door", "/", "no-store"),
        ("door", "/visits/{visit}", "no-store"),
        ("door", "/door/offline", "private, no-cache"),
        ("manager", "/manage/log", "no-store"),
        ("manager", "/manage/visits/{visit}", "no-store"),
        ("manager", "/manage/audit", "no-store"),
        ("manager", "/manage/reports", "private, no-cache"),
        ("manager", "/manage/summary", "private, no-cache"),
        ("manager", "/manage/settings", "private, no-cache"),
        ("manager", "/manage/tablets", "private, no-cache"),
        ("admin", "/manage/admin", "no-store"),
        ("door", "/manage/reports", "no-store"),  # refused: the refusal is not kept either
    ],
)
def test_only_pages_without_personal_data_may_be_kept_by_the_browser(
    client, login, make_user, make_visit, role, path, cache_control
):
    visit = make_visit(visitor_name="Siti Aminah").visit
    if role:
        login(make_user(role=role))
    response = client.get(path.format(visit=visit.id))
    assert response.mimetype == "text/html"
    assert response.headers["Cache-Control"] == cache_control


def test_the_favicon_is_served_where_browsers_look_for_it(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response.data[:4] == b"\x00\x00\x01\x00"  # an icon file
    assert response.headers["Cache-Control"] == "public, max-age=86400"


def test_a_file_download_is_never_cached(client, login, manager_user):
    login(manager_user)
    response = client.get("/manage/export.xlsx")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert "Expires" not in response.headers


@pytest.mark.parametrize(("https", "expected"), [(True, "max-age=31536000"), (False, None)])
def test_strict_transport_security_only_when_served_over_https(app_config, https, expected):
    app = create_app(app_config | {"SESSION_COOKIE_SECURE": https})
    response = app.test_client().get("/login")
    assert response.headers.get("Strict-Transport-Security") == expected


class InlineCode(HTMLParser):
    """Collect what a strict CSP would block: inline scripts, styles and event handlers."""

    def __init__(self) -> None:
        super().__init__()
        self.blocked: list[str] = []
        self.open_tag = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name for name, _value in attrs}
        self.open_tag = tag
        if tag == "style" or "style" in names or any(name.startswith("on") for name in names):
            self.blocked.append(self.get_starttag_text() or tag)
        for name, value in attrs:
            # Links to other sites are fine; loading code or styles from them is not.
            remote = value and value.startswith(("http:", "https:", "//", "javascript:"))
            if name in ("src", "href") and remote and tag != "a":
                self.blocked.append(self.get_starttag_text() or tag)

    def handle_data(self, data: str) -> None:
        if self.open_tag == "script" and data.strip():
            self.blocked.append(f"<script>{data[:40]}")

    def handle_endtag(self, tag: str) -> None:
        self.open_tag = ""


@pytest.mark.parametrize("role", ["door", "manager", "admin"])
def test_pages_have_no_code_the_csp_would_block(app, make_user, make_visit, role):
    make_visit(visitor_name=SECRET_NAME)
    client = logged_in(app, make_user(role))
    pages = [url(app, rule) for rule in rules(app, "GET") if rule.endpoint not in PUBLIC]
    seen = 0
    for page in ["/login", *pages]:
        response = client.get(page, buffered=True)
        if response.mimetype != "text/html" or response.status_code != 200:
            continue
        parser = InlineCode()
        parser.feed(response.text)
        assert parser.blocked == [], page
        seen += 1
    assert seen >= 2


def test_a_password_reset_ends_the_accounts_sessions_and_revokes_its_tokens(
    app, manager_user, auth_headers, as_admin, client, clock
):
    manager = logged_in(app, manager_user)
    headers = auth_headers(manager_user)
    assert manager.get("/manage/log").status_code == 200
    assert (
        client.post(
            f"/manage/admin/accounts/{manager_user.id}/password",
            data={"password": "brand-new-pass"},
        ).status_code
        == 302
    )
    assert manager.get("/manage/log").location.startswith("/login")
    assert app.test_client().get("/api/v1/checkins", headers=headers).status_code == 401


def test_deactivating_an_account_ends_its_open_sessions(app, door_user, as_admin, client):
    door = logged_in(app, door_user)
    assert door.get("/").status_code == 200
    client.post(f"/manage/admin/accounts/{door_user.id}/active", data={"active": "0"})
    assert door.get("/").location.startswith("/login")


def test_a_session_cookie_saved_before_logout_no_longer_works_after_it(app, manager_user):
    manager = logged_in(app, manager_user)
    saved = manager.get_cookie("session").value
    other_tablet = logged_in(app, manager_user)
    manager.post("/logout")
    replayed = app.test_client()
    replayed.set_cookie("session", saved)
    assert replayed.get("/manage/log").location.startswith("/login")
    assert other_tablet.get("/manage/log").location.startswith("/login")
    assert logged_in(app, manager_user).get("/manage/log").status_code == 200


@pytest.mark.parametrize(
    ("role", "path"),
    [
        ("manager", "/manage/export.csv"),
        ("manager", "/manage/log"),
        ("admin", "/manage/admin"),
        ("door", "/visits/1"),
        ("door", "/"),
    ],
)
def test_a_token_opens_no_page(app, make_user, make_visit, auth_headers, role, path):
    make_visit(visitor_name=SECRET_NAME)
    response = app.test_client().get(path, headers=auth_headers(make_user(role)))
    assert response.status_code == 302 and response.location.startswith("/login")
    assert SECRET_NAME not in response.text


def test_a_token_passes_no_forms_csrf_check(csrf_app, make_user, auth_headers):
    # The attack: open the admin page with an admin's token, keep the session cookie the page
    # set, and post its form with the CSRF token it showed.
    headers = auth_headers(make_user("admin"))
    client = csrf_app.test_client()
    response = client.get("/manage/admin", headers=headers)
    page = response.text if response.status_code == 200 else client.get(response.location).text
    form = {
        "csrf_token": csrf_token_in(page),
        "username": "intruder",
        "role": "admin",
        "site_id": "0",
        "password": "long enough",
    }
    client.post("/manage/admin/accounts", data=form, headers=headers)
    assert db.session.scalar(sa.select(User).where(User.username == "intruder")) is None


@pytest.mark.parametrize(
    ("scopes", "method", "path", "status"),
    [
        (("checkin",), "POST", "/api/v1/checkins", 201),
        (("checkin",), "GET", "/api/v1/quota/today", 200),
        (("checkin",), "GET", "/api/v1/checkins", 403),
        (("checkin",), "GET", "/api/v1/reports/daily", 403),
        (("read",), "POST", "/api/v1/checkins", 403),
        (("read",), "GET", "/api/v1/quota/today", 403),
        (("read",), "GET", "/api/v1/checkins", 200),
        (("read",), "GET", "/api/v1/reports/daily", 200),
    ],
)
def test_a_token_does_only_what_its_scopes_allow(
    client, manager_user, auth_headers, scopes, method, path, status
):
    body = {"temperature_c": 36.6, "hand_sanitiser": True, "mask": True, "distancing": True}
    response = client.open(
        path,
        method=method,
        json=body if method == "POST" else None,
        headers=auth_headers(manager_user, scopes),
    )
    assert response.status_code == status, response.json
    if status == 403:
        assert set(response.json) == {"code", "status", "message", "errors", "facts"}
        assert response.json["code"] == "forbidden"
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Visit)) == 0


def test_door_staff_see_a_visit_only_on_its_day(app, door_user, manager_user, make_visit, clock):
    visit = make_visit(visitor_name=SECRET_NAME).visit
    door, manager = logged_in(app, door_user), logged_in(app, manager_user)
    assert SECRET_NAME in door.get(f"/visits/{visit.id}").text
    clock.now += timedelta(days=1)
    assert door.get(f"/visits/{visit.id}").status_code == 404
    assert door.post(f"/visits/{visit.id}/retest", data={"temperature": "36.5"}).status_code == 404
    assert SECRET_NAME in manager.get(f"/visits/{visit.id}").text


HOSTILE_NAME = '<img src=x onerror=alert(1)><script>alert("x")</script>'


def test_a_hostile_visitor_name_is_shown_as_text_on_every_page(
    client, login, door_user, manager_user, make_visit
):
    visit = make_visit(visitor_name=HOSTILE_NAME).visit
    login(door_user)
    pages = [client.get(path) for path in ("/", f"/visits/{visit.id}")]
    client.post("/logout")
    login(manager_user)
    pages += [
        client.get(path) for path in ("/manage/log?day=2026-11-25", f"/manage/visits/{visit.id}")
    ]
    assert [page.status_code for page in pages] == [200] * 4
    pages = [page.text for page in pages]
    for page in pages:
        assert "<script>alert" not in page and "<img src=x" not in page
    assert sum("&lt;script&gt;alert" in page for page in pages) == len(pages)
