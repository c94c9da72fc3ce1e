"""The JSON API contract: check-ins, validation, errors, auth, the OpenAPI document."""

from __future__ import annotations

import http.client
import io
import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from checkin import create_app
from checkin.extensions import db
from checkin.models import ApiToken, Visit
from tests.conftest import PASSWORD, IsolatedClient, csrf_token_in
from tests.serving import gunicorn

BODY = {"temperature_c": 36.6, "hand_sanitiser": True, "mask": True, "distancing": True}
ERROR_KEYS = {"code", "status", "message", "errors", "facts"}


@pytest.fixture
def door(auth_headers, door_user):
    """Return bearer headers of a door account."""
    return auth_headers(door_user)


def post(client, headers, body, **kwargs):
    """Post a check-in."""
    return client.post("/api/v1/checkins", json=body, headers=headers, **kwargs)


def stored_visits() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Visit))


@pytest.mark.parametrize(
    ("changes", "status", "reasons", "slot"),
    [
        ({}, "admitted", [], 1),
        ({"temperature_c": 37.2}, "admitted", [], 1),
        ({"temperature_c": 37.25}, "recheck", ["fever"], None),
        ({"temperature_c": 37.3}, "recheck", ["fever"], None),
        ({"mask": False}, "refused", ["no_mask"], None),
        ({"hand_sanitiser": False}, "refused", ["no_hand_sanitiser"], None),
        ({"distancing": False}, "refused", ["no_distancing"], None),
        (
            {"hand_sanitiser": False, "mask": False, "distancing": False},
            "refused",
            ["no_hand_sanitiser", "no_mask", "no_distancing"],
            None,
        ),
    ],
)
def test_check_in_decisions(client, door, changes, status, reasons, slot):
    response = post(client, door, BODY | changes)
    assert response.status_code == 201, response.json
    assert (response.json["status"], response.json["reasons"], response.json["slot"]) == (
        status,
        reasons,
        slot,
    )
    used = 1 if status == "admitted" else 0
    assert response.json["quota"] == {
        "day": "2026-11-25",
        "limit": 60,
        "used": used,
        "left": 60 - used,
        "held": 0,
        "return_held": False,
    }


def test_check_in_returns_the_stored_visit_with_nik_masked(client, door, door_user):
    body = BODY | {
        "visitor_name": "Siti Aminah",
        "phone": "081234567890",
        "id_number": "3506123456789012",
        "purpose": "jht_claim",
    }
    response = post(client, door, body)
    assert response.status_code == 201
    visit = response.json
    assert visit["id_number"] == "************9012"
    assert (visit["visitor_name"], visit["phone"], visit["purpose"]) == (
        "Siti Aminah",
        "081234567890",
        "jht_claim",
    )
    assert visit["recorded_by"] == door_user.username
    assert visit["checked_at"] == "2026-11-25T03:00:00+00:00"
    stored = db.session.get(Visit, visit["id"])
    assert stored.nik_last4 == "9012"
    assert "3506123456789012" not in repr(db.session.execute(sa.text("SELECT * FROM visit")).all())


def test_second_high_reading_is_refused_for_fever(client, door, clock):
    first = post(client, door, BODY | {"temperature_c": 37.3}).json
    clock.now += timedelta(minutes=5)
    second = post(client, door, BODY | {"temperature_c": 37.3, "recheck_of": first["id"]})
    assert second.status_code == 201
    assert (second.json["status"], second.json["reasons"]) == ("refused", ["fever"])
    assert second.json["recheck_of"] == first["id"]


def test_recovered_retest_is_admitted(client, door, clock):
    first = post(client, door, BODY | {"temperature_c": 37.5}).json
    clock.now += timedelta(minutes=6)
    second = post(client, door, BODY | {"temperature_c": 36.9, "recheck_of": first["id"]})
    assert (second.json["status"], second.json["slot"]) == ("admitted", 1)


@pytest.mark.parametrize(
    ("wait", "first_temperature", "status", "code", "message"),
    [
        (timedelta(minutes=4), 37.3, 409, "retest_too_early", "rest"),
        (timedelta(minutes=5), 36.6, 422, "retest_not_waiting", "waiting for a re-test"),
        (timedelta(days=1), 37.3, 409, "retest_closed", "today"),
    ],
)
def test_retest_rules(client, door, clock, wait, first_temperature, status, code, message):
    first = post(client, door, BODY | {"temperature_c": first_temperature}).json
    clock.now += wait
    response = post(client, door, BODY | {"recheck_of": first["id"]})
    assert (response.status_code, response.json["code"]) == (status, code)
    assert message in response.json["errors"]["recheck_of"][0]
    assert stored_visits() == 1


def test_one_retest_only(client, door, clock):
    first = post(client, door, BODY | {"temperature_c": 37.3}).json
    clock.now += timedelta(minutes=5)
    assert post(client, door, BODY | {"recheck_of": first["id"]}).status_code == 201
    again = post(client, door, BODY | {"recheck_of": first["id"]})
    assert (again.status_code, again.json["code"]) == (409, "already_retested")
    assert "already" in again.json["errors"]["recheck_of"][0]


@pytest.mark.parametrize("temperature", [33.9, 42.1, 0, 100.0, -37.0])
def test_implausible_temperature_is_422_and_stores_nothing(client, door, temperature):
    response = post(client, door, BODY | {"temperature_c": temperature})
    assert response.status_code == 422
    assert set(response.json) == ERROR_KEYS
    assert "temperature_c" in response.json["errors"]
    assert stored_visits() == 0


REQUIRED = ["temperature_c", "hand_sanitiser", "mask", "distancing"]
BAD_VALUES = {
    "temperature_c": ["36.6", None, True, [], {}],
    "hand_sanitiser": ["true", None, 1, 0, "yes"],
    "mask": ["true", None, 1, "no"],
    "distancing": ["false", None, 0, []],
    "visitor_name": [12, True, "x" * 101, "nul\x00byte", "\ud800"],
    "phone": [812345, "call me", "0" * 30, "0812345678\n", "x0812345678"],
    "id_number": [
        "3506",
        "35061234567890123",
        "350612345678901X",
        3506123456789012,
        "٣٥٠٦١٢٣٤٥٦٧٨٩٠١٢",  # Arabic-Indic digits
        "3506123456789012\n",
    ],
    "purpose": ["shopping", 1, ""],
    "recheck_of": ["1", 1.5, True, 0, 2**40],
}


@pytest.mark.parametrize("field", REQUIRED)
def test_missing_required_field_is_422(client, door, field):
    body = {key: value for key, value in BODY.items() if key != field}
    response = post(client, door, body)
    assert response.status_code == 422
    assert field in response.json["errors"]
    assert stored_visits() == 0


@pytest.mark.parametrize(
    ("field", "value"), [(field, value) for field, values in BAD_VALUES.items() for value in values]
)
def test_wrong_type_or_format_is_422(client, door, field, value):
    response = post(client, door, BODY | {field: value})
    assert response.status_code == 422, response.json
    assert field in response.json["errors"]
    assert stored_visits() == 0


NAMES = [
    "Siti Aminah",
    "محمد عبد الله",  # Arabic, right to left
    "\u200fعلي\u200e bin Abu",  # explicit RTL and LTR marks
    "Nguye\u0302\u0303n Thi\u0323",  # combining marks, not normalised to NFC
    "Nguyễn Thị",  # the same name precomposed
    "👩🏽‍⚕️ Dr Ayu",  # emoji with skin tone and zero-width joiner
    "王秀英",
    'O\'Brien <b>&amp;</b> "Ng"',
    "\u00a0trailing and leading spaces ",
    "x" * 100,
]


@pytest.mark.parametrize("name", NAMES)
def test_names_in_any_script_are_kept_exactly(client, door, auth_headers, manager_user, name):
    response = post(client, door, BODY | {"visitor_name": name})
    assert response.status_code == 201, response.json
    assert response.json["visitor_name"] == name
    assert db.session.get(Visit, response.json["id"]).visitor_name == name
    listed = client.get("/api/v1/checkins", headers=auth_headers(manager_user)).json
    assert [visit["visitor_name"] for visit in listed["items"]] == [name]


def test_escaped_surrogate_pair_is_one_character(client, door):
    raw = '{"temperature_c": 36.6, "hand_sanitiser": true, "mask": true, "distancing": true, '
    response = client.post(
        "/api/v1/checkins",
        data=raw + '"visitor_name": "Ayu \\ud83d\\ude00"}',
        content_type="application/json",
        headers=door,
    )
    assert response.status_code == 201, response.json
    assert response.json["visitor_name"] == "Ayu \U0001f600"


@pytest.mark.parametrize("field", ["visitor_name", "phone", "id_number"])
@pytest.mark.parametrize(
    "bad",
    [
        "\x00",
        "Siti\x00",
        "\ud83d",
        "\ude00 x",
        "line\nbreak",
        "typo\x1b[31m \x0b =1+1",
        "\x7f",
        "\x9b2J",
    ],
)
def test_unstorable_characters_are_422(client, door, field, bad):
    response = post(client, door, BODY | {field: bad})
    assert response.status_code == 422
    assert field in response.json["errors"]
    assert stored_visits() == 0


def test_unknown_field_is_refused(client, door):
    response = post(client, door, BODY | {"shoe_size": 42})
    assert response.status_code == 422
    assert "shoe_size" in response.json["errors"]


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        ("{not json", "application/json"),
        ('["a", "list"]', "application/json"),
        ("temperature_c=36.6", "application/x-www-form-urlencoded"),
        ("", "application/json"),
        ("[" * 60_000, "application/json"),
        ('{"temperature_c": ' + "9" * 5_000 + "}", "application/json"),
        (b"\xff\xfe{}", "application/json"),
    ],
)
def test_malformed_body_is_400(client, door, data, content_type):
    response = client.post("/api/v1/checkins", data=data, content_type=content_type, headers=door)
    assert response.status_code == 400
    assert set(response.json) == ERROR_KEYS


def test_oversized_body_is_413(client, door):
    response = post(client, door, BODY | {"visitor_name": "x" * 70_000})
    assert response.status_code == 413
    assert (response.json["code"], response.json["status"]) == ("too_large", 413)


def post_chunked(client, headers, data: bytes):
    """Post a body without a length, as gunicorn hands on a chunked one (input terminated)."""
    return client.post(
        "/api/v1/checkins",
        input_stream=io.BytesIO(data),
        content_type="application/json",
        headers=headers | {"Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )


def test_oversized_chunked_body_is_413_like_a_sized_one(client, door):
    body = json.dumps(BODY | {"visitor_name": "x" * 70_000}).encode()
    response = post_chunked(client, door, body)
    assert response.status_code == 413
    assert set(response.json) == ERROR_KEYS
    assert stored_visits() == 0


def test_a_small_chunked_body_is_read_whole(client, door):
    response = post_chunked(client, door, json.dumps(BODY | {"visitor_name": "Ayu"}).encode())
    assert response.status_code == 201, response.json


def post_chunked_to(server, headers: dict[str, str], data: bytes) -> tuple[int, dict]:
    """Post ``data`` to a real server in 8 KB chunks (Transfer-Encoding: chunked)."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        chunks = (data[start : start + 8192] for start in range(0, len(data), 8192))
        all_headers = headers | {"Content-Type": "application/json"}
        connection.request("POST", "/api/v1/checkins", chunks, all_headers, encode_chunked=True)
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


@pytest.mark.slow
def test_gunicorn_answers_an_oversized_chunked_body_with_413(database_url, site, door, app):
    env = {"CHECKIN_DATABASE_URL": database_url, "CHECKIN_SECRET_KEY": "chunked"}
    large = json.dumps(BODY | {"visitor_name": "x" * 70_000}).encode()
    with gunicorn("checkin:create_app()", env, workers=1) as server:
        assert post_chunked_to(server, door, large)[0] == 413
        status, body = post_chunked_to(server, door, json.dumps(BODY).encode())
        assert status == 201, body
    assert stored_visits() == 1


@pytest.mark.parametrize(
    ("data", "repeated"),
    [
        (
            '{"temperature_c": 39.9, "temperature_c": 36.5, "hand_sanitiser": true, "mask": true,'
            ' "distancing": true}',
            "temperature_c",
        ),
        (
            '{"temperature_c": 36.5, "hand_sanitiser": true, "mask": true, "distancing": true,'
            ' "mask": false}',
            "mask",
        ),
        (
            '{"temperature_c": 36.5, "hand_sanitiser": true, "mask": true, "distancing": true,'
            ' "offline": {"status": "admitted", "status": "refused"}}',
            "status",
        ),
    ],
)
def test_a_field_given_twice_is_400_naming_it(client, door, data, repeated):
    response = client.post(
        "/api/v1/checkins", data=data, content_type="application/json", headers=door
    )
    assert response.status_code == 400
    assert set(response.json) == ERROR_KEYS
    assert list(response.json["errors"]) == [repeated]
    assert repeated in response.json["message"]
    assert stored_visits() == 0


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/api/v1/checkins"),
        ("get", "/api/v1/checkins"),
        ("get", "/api/v1/quota/today"),
        ("get", "/api/v1/reports/daily"),
    ],
)
@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic x"}]
)
def test_without_valid_auth_is_401(client, method, path, headers):
    response = getattr(client, method)(path, json=BODY, headers=headers)
    assert response.status_code == 401
    assert (response.json["code"], response.json["status"]) == ("unauthorized", 401)


@pytest.mark.parametrize(
    ("role", "method", "path", "status"),
    [
        ("door", "get", "/api/v1/checkins", 403),
        ("door", "get", "/api/v1/reports/daily", 403),
        ("admin", "post", "/api/v1/checkins", 403),
        ("door", "get", "/api/v1/quota/today", 200),
        ("manager", "get", "/api/v1/checkins", 200),
        ("manager", "post", "/api/v1/checkins", 201),
    ],
)
def test_roles(client, make_user, auth_headers, role, method, path, status):
    response = getattr(client, method)(path, json=BODY, headers=auth_headers(make_user(role)))
    assert response.status_code == status


def test_revoked_token_is_refused(client, door_user, auth_headers, clock):
    headers = auth_headers(door_user)
    assert client.get("/api/v1/quota/today", headers=headers).status_code == 200
    db.session.execute(sa.update(ApiToken).values(revoked_at=clock.now))
    db.session.commit()
    assert client.get("/api/v1/quota/today", headers=headers).status_code == 401


@pytest.mark.parametrize(("method", "status"), [("put", 405), ("delete", 405)])
def test_wrong_method_is_json(client, door, method, status):
    response = getattr(client, method)("/api/v1/checkins", headers=door)
    assert response.status_code == status
    assert set(response.json) == ERROR_KEYS


def test_unknown_api_path_is_json_404(client):
    response = client.get("/api/v1/nothing")
    assert response.status_code == 404
    assert (response.json["code"], response.json["status"]) == ("not_found", 404)


def test_quota_today(client, door, make_visit):
    make_visit()
    assert client.get("/api/v1/quota/today", headers=door).json == {
        "day": "2026-11-25",
        "limit": 60,
        "used": 1,
        "left": 59,
        "held": 0,
        "return_held": False,
        "inside_now": 1,
    }


def test_list_checkins_pages_in_time_order(client, auth_headers, manager_user, make_visit, clock):
    for minute in range(5):
        make_visit(now=clock.now + timedelta(minutes=minute), mask=minute != 2)
    headers = auth_headers(manager_user)
    first = client.get("/api/v1/checkins?limit=3", headers=headers).json
    assert [visit["slot"] for visit in first["items"]] == [1, 2, None]
    second = client.get(
        f"/api/v1/checkins?limit=3&after={first['next_after']}", headers=headers
    ).json
    assert [visit["slot"] for visit in second["items"]] == [3, 4]
    assert second["next_after"] is None
    refused = client.get("/api/v1/checkins?status=refused", headers=headers).json
    assert [visit["reasons"] for visit in refused["items"]] == [["no_mask"]]


def test_list_checkins_rejects_bad_query(client, auth_headers, manager_user):
    response = client.get("/api/v1/checkins?day=yesterday", headers=auth_headers(manager_user))
    assert response.status_code == 422
    assert "day" in response.json["errors"]


def test_daily_report(client, auth_headers, manager_user, make_visit, clock):
    make_visit()
    make_visit(mask=False)
    make_visit(now=clock.now - timedelta(days=2))
    report = client.get(
        "/api/v1/reports/daily?from=2026-11-22&to=2026-11-25", headers=auth_headers(manager_user)
    ).json
    assert [day["day"] for day in report["days"]] == [
        "2026-11-22",
        "2026-11-23",
        "2026-11-24",
        "2026-11-25",
    ]
    assert [day["admitted"] for day in report["days"]] == [0, 1, 0, 1]
    assert report["days"][3]["refused"] == 1
    assert report["days"][3]["reasons"]["no_mask"] == 1


@pytest.mark.parametrize(
    "query",
    [
        "reports/daily?from=2026-11-25&to=2026-11-01",
        "reports/daily?to=0001-01-05",
        "reports/daily?from=9999-12-31",
        "checkins?day=0001-01-01",
        "checkins?day=1999-12-31",
    ],
)
def test_report_range_is_validated(client, auth_headers, manager_user, query):
    response = client.get(f"/api/v1/{query}", headers=auth_headers(manager_user))
    assert response.status_code == 422
    assert set(response.json) == ERROR_KEYS


def test_openapi_document_lists_the_contract(client):
    spec = client.get("/api/v1/openapi.json").json
    assert spec["openapi"].startswith("3.")
    assert set(spec["paths"]) == {
        "/checkins",
        "/quota/today",
        "/reports/daily",
        "/bookings",
        "/bookings/{code}",
        "/visits/{visit_id}/override",
    }
    check_in = spec["components"]["schemas"]["CheckIn"]
    assert set(check_in["required"]) == set(REQUIRED)
    assert check_in["additionalProperties"] is False
    assert "Unknown fields are refused" in spec["paths"]["/checkins"]["post"]["description"]


def test_session_post_needs_csrf_token(app_config, door_user):
    app = create_app(app_config | {"WTF_CSRF_ENABLED": True})
    app.test_client_class = IsolatedClient
    client = app.test_client()
    login_form = {"username": door_user.username, "password": PASSWORD}
    assert client.post("/login", data=login_form).status_code == 400
    login_form["csrf_token"] = csrf_token_in(client.get("/login").text)
    assert client.post("/login", data=login_form).status_code == 302
    token = csrf_token_in(client.get("/").text)
    assert post(client, {}, BODY).status_code == 400
    assert post(client, {"X-CSRFToken": "forged"}, BODY).status_code == 400
    assert post(client, {"Authorization": "Bearer not-a-token"}, BODY).status_code == 400
    assert post(client, {"X-CSRFToken": token}, BODY).status_code == 201
