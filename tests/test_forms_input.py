"""Bad input in the HTML forms and query strings: a clear 4xx in the reader's language, never a 500,
and nothing stored."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from werkzeug.routing.converters import NumberConverter

from checkin.extensions import db
from checkin.models import AuditEntry, Site, User, Visit
from tests.conftest import PASSWORD

# What the adversarial review typed (issue 13): an escape sequence, a vertical tab and a formula.
TERMINAL_TRICK = "typo\x1b[31m \x0b =1+1"
CONTROL_CHARACTERS = [TERMINAL_TRICK, "NUL\x00inside", "line\nbreak", "delete\x7f", "csi\x9b2J"]
SETTINGS_FORM = {
    "daily_quota": "60",
    "fever_cutoff": "37.3",
    "recheck_minutes": "5",
    "online_service_url": "https://example.org/online",
}
PASSING_CHECK = {"temperature": "36.5", "hand_sanitiser": "y", "mask": "y", "distancing": "y"}


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


@pytest.fixture
def as_manager(login, manager_user):
    """Log the test client in as the default site's manager."""
    login(manager_user)
    return manager_user


@pytest.mark.parametrize("reason", CONTROL_CHARACTERS)
@pytest.mark.parametrize(("lang", "words"), [("id", "Hapus karakter khusus."), ("en", "Remove")])
def test_a_void_reason_with_control_characters_is_refused_in_words(
    client, as_manager, make_visit, reason, lang, words
):
    visit = make_visit().visit
    response = client.post(f"/manage/visits/{visit.id}/void?lang={lang}", data={"reason": reason})
    assert response.status_code == 400
    assert words in response.text
    stored = db.session.get(Visit, visit.id)
    assert (stored.voided_at, stored.void_reason) == (None, None)


@pytest.mark.parametrize("text", CONTROL_CHARACTERS)
def test_a_visitor_name_with_control_characters_is_refused(client, door_user, login, text):
    login(door_user)
    response = client.post("/?lang=id", data=PASSING_CHECK | {"visitor_name": text})
    assert response.status_code == 422
    assert 'data-error="special_characters"' in response.text
    assert count(Visit) == 0


@pytest.mark.parametrize("text", CONTROL_CHARACTERS)
def test_an_online_service_address_with_control_characters_is_refused(
    client, as_manager, site, text
):
    form = SETTINGS_FORM | {"online_service_url": f"https://example.org/{text}"}
    response = client.post("/manage/settings?lang=id", data=form)
    assert response.status_code == 400
    assert 'data-error="special_characters"' in response.text
    db.session.refresh(site)
    assert site.online_service_url == "https://example.org/online"


@pytest.mark.parametrize("text", CONTROL_CHARACTERS)
def test_a_site_name_with_control_characters_is_refused(client, as_admin, text):
    sites = count(Site)
    form = {"code": "XYZ", "name": f"Kantor {text}", "timezone": "Asia/Jakarta", "daily_quota": "6"}
    response = client.post("/manage/admin/sites?lang=id", data=form)
    assert response.status_code == 400
    assert 'data-error="special_characters"' in response.text
    assert count(Site) == sites


@pytest.mark.parametrize("username", ["door\x00one", "\x00", "ad\x1bmin"])
def test_a_login_name_with_control_characters_is_refused_and_counts_nothing(
    client, door_user, username
):
    response = client.post("/login?lang=id", data={"username": username, "password": PASSWORD})
    assert response.status_code == 400
    assert 'data-error="special_characters"' in response.text


@pytest.mark.parametrize("temperature", ["1e999999999", "-1e999999999", "1e-999999999", "9" * 400])
def test_a_reading_too_large_for_a_number_is_a_form_error(client, door_user, login, temperature):
    login(door_user)
    response = client.post("/?lang=en", data=PASSING_CHECK | {"temperature": temperature})
    assert response.status_code == 422
    assert count(Visit) == 0


@pytest.mark.parametrize("cutoff", ["sNaN", "NaN", "-sNaN", "Infinity", "-inf"])
def test_a_cut_off_that_is_no_number_is_a_form_error(client, as_manager, site, cutoff):
    audited = count(AuditEntry)
    response = client.post(
        "/manage/settings?lang=id", data=SETTINGS_FORM | {"fever_cutoff": cutoff}
    )
    assert response.status_code == 400
    assert "Tulis angka, misalnya 37,3." in response.text
    db.session.refresh(site)
    assert site.fever_cutoff_dc == 373
    assert count(AuditEntry) == audited


RANGE_PAGES = [
    "/manage/reports",
    "/manage/export.csv",
    "/manage/export.xlsx",
    "/manage/reports/chart/decisions.svg",
]


@pytest.mark.parametrize("page", RANGE_PAGES)
@pytest.mark.parametrize(
    "query",
    ["to=0001-01-05", "from=0001-01-01", "from=9999-12-31", "from=9999-12-30&to=9999-12-31"],
)
def test_a_date_beyond_the_office_s_years_is_400(client, as_manager, page, query):
    audited = count(AuditEntry)
    response = client.get(f"{page}?{query}&lang=en")
    assert response.status_code == 400
    if page == "/manage/reports":  # the page with the form says why under the field
        assert 'data-error="day_out_of_range"' in response.text
    assert count(AuditEntry) == audited


@pytest.mark.parametrize(
    ("role", "path"),
    [
        ("manager", "/manage/visits/99999999999999999999"),
        ("manager", "/manage/visits/2147483648"),
        ("door", "/visits/99999999999999999999"),
        ("door", "/visits/0"),
    ],
)
def test_a_check_number_no_row_can_have_is_404(client, login, make_user, role, path):
    login(make_user(role))
    assert client.get(path).status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/manage/visits/99999999999999999999/void",
        "/visits/99999999999999999999/retest",
    ],
)
def test_acting_on_a_check_number_no_row_can_have_is_404(client, as_manager, path):
    audited, visits = count(AuditEntry), count(Visit)
    assert client.post(path, data={"reason": "typo", "temperature": "36.6"}).status_code == 404
    assert (count(AuditEntry), count(Visit)) == (audited, visits)


def test_an_account_number_no_row_can_have_is_404(client, as_admin):
    path = "/manage/admin/accounts/99999999999999999999"
    assert client.post(f"{path}/active", data={"active": "0"}).status_code == 404
    assert client.post(f"{path}/password", data={"password": "long enough"}).status_code == 404


@pytest.mark.parametrize(
    "next_target", ["/manage/log%0d%0aSet-Cookie:%20x=1", "%0d%0a/manage", "/\r\n/evil.example"]
)
def test_logging_in_with_a_broken_next_goes_home(client, door_user, next_target):
    response = client.post(
        f"/login?next={next_target}", data={"username": door_user.username, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert "\r" not in response.location and "\n" not in response.location
    assert response.location.startswith("/")


def test_nothing_of_a_refused_login_name_reaches_the_accounts(client, door_user):
    client.post("/login", data={"username": "door\x00one", "password": "wrong"})
    assert db.session.get(User, door_user.id).username == door_user.username


# Every route whose address names a row (a check, an account, a site, a display link, a booth)
# or a tablet, with values no row can have: past PostgreSQL's integers (2^31) or SQLite's
# (2^63), zero, a NUL, an id of another form than crypto.randomUUID()'s.
ODD_NUMBERS = ("0", "2147483648", "9223372036854775808", "99999999999999999999")
ODD_DEVICE_IDS = (
    "%00",
    "x",
    "not-a-uuid",
    "3F2504E0-4F89-41D3-9A0C-0305E82C3301",
    "3f2504e0-4f89-41d3-9a0c-0305e82c3301%00",
    "a" * 300,
)
UNKNOWN = {"number": "2147483647", "device_id": "3f2504e0-4f89-41d3-9a0c-0305e82c3301"}
PARAMETER = re.compile(r"<(?:([^<>:]*):)?(\w+)>")


def row_routes(app) -> list[tuple[str, str, str]]:
    """Return (method, rule, kind) for each route with a parameter naming a row or a tablet."""
    routes = []
    for rule in app.url_map.iter_rules():
        kinds = {
            "number" if isinstance(converter, NumberConverter) else "device_id"
            for name, converter in rule._converters.items()
            if isinstance(converter, NumberConverter) or name == "device_id"
        }
        for kind in kinds:
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                routes.append((method, rule.rule, kind))
    return routes


def address(rule: str, kind: str, value: str) -> str:
    """Return ``rule`` with ``value`` for its parameter of ``kind`` and a choice for the others."""

    def fill(match: re.Match) -> str:
        converter, name = match.groups()
        if converter and converter.startswith("any("):
            return converter[4:].split(",")[0].strip()
        is_number = converter is not None and converter not in ("string", "path")
        return value if ("number" if is_number else "device_id") == kind else "x"

    return PARAMETER.sub(fill, rule)


@pytest.mark.parametrize("role", [None, "door", "officer", "manager", "head_office", "admin"])
def test_an_odd_row_number_or_tablet_id_in_any_address_is_404(app, client, login, make_user, role):
    if role is not None:
        login(make_user(role))
    routes = row_routes(app)
    assert {kind for _method, _rule, kind in routes} == {"number", "device_id"}
    answers = {}
    for method, rule, kind in routes:
        for value in ODD_NUMBERS if kind == "number" else ODD_DEVICE_IDS:
            url = address(rule, kind, value)
            answers[method, url] = client.open(url, method=method).status_code
        url = address(rule, kind, UNKNOWN[kind])
        answers[method, url] = client.open(url, method=method).status_code
    odd = {key: status for key, status in answers.items() if status != 404}
    known_form = {address(rule, kind, UNKNOWN[kind]) for _method, rule, kind in row_routes(app)}
    assert {key: status for key, status in odd.items() if key[1] not in known_form} == {}
    assert {key: status for key, status in odd.items() if status >= 500} == {}
