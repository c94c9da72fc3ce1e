"""Generated input: whatever a client posts to the API or types into a page, never a 5xx."""

from __future__ import annotations

import contextvars
import math
from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
import sqlalchemy as sa
from flask import current_app, has_app_context
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error

from checkin import create_app
from checkin.extensions import db
from checkin.models import Visit

# Function-scoped fixtures are fine here: every example checks its own effect on the row count.
BOUNDED = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
# Any JSON document: what a broken scanner or a hostile client could send.
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=12), children, max_size=3)
    ),
    max_leaves=8,
)
# Mostly-valid values, so examples get past the first error to the deeper rules.
PLAUSIBLE = {
    "temperature_c": st.floats(33.0, 43.0) | st.integers(33, 43),
    "hand_sanitiser": st.booleans(),
    "mask": st.booleans(),
    "distancing": st.booleans(),
    "visitor_name": st.text(max_size=110),
    "phone": st.from_regex(r"\+?[0-9][0-9 -]{4,20}", fullmatch=True),
    "id_number": st.from_regex(r"[0-9]{14,17}", fullmatch=True),
    "purpose": st.sampled_from(["jht_claim", "enquiry", "other", "shopping", ""]),
    "recheck_of": st.integers(-1, 3),
}
REQUIRED = ("temperature_c", "hand_sanitiser", "mask", "distancing")
PLAUSIBLE_BODY = st.fixed_dictionaries(
    {field: PLAUSIBLE[field] for field in REQUIRED},
    optional={field: values for field, values in PLAUSIBLE.items() if field not in REQUIRED},
)
CHECK_IN = (
    PLAUSIBLE_BODY
    # A plausible body with a field or two replaced, or an unknown one added.
    | st.builds(
        dict.__or__,
        PLAUSIBLE_BODY,
        st.dictionaries(st.sampled_from([*PLAUSIBLE, "extra"]), JSON, max_size=2),
    )
    | st.dictionaries(st.sampled_from([*PLAUSIBLE, "extra"]), JSON, max_size=10)
)
# Control characters (Cc) and lone surrogates (Cs) are what rules.storable refuses.
STORABLE_TEXT = st.text(st.characters(exclude_categories=["Cc", "Cs"]), max_size=100)


def stored_visits() -> int:
    """Return how many visits the database holds."""
    return db.session.scalar(sa.select(sa.func.count(Visit.id)))


@pytest.fixture
def door(auth_headers, door_user) -> dict[str, str]:
    """Return bearer headers of a door account."""
    return auth_headers(door_user)


@BOUNDED
@given(body=CHECK_IN | JSON)
def test_any_json_gets_an_answer_and_stores_only_on_201(client, door, body):
    before = stored_visits()
    response = client.post("/api/v1/checkins", json=body, headers=door)
    # A refusal by a rule answers with its class's status (409 for a re-test too early, say).
    assert response.status_code in (201, 400, 404, 409, 422), response.json
    assert stored_visits() == before + (response.status_code == 201)
    if response.status_code == 201:
        for field in ("visitor_name", "purpose"):
            assert response.json[field] == (body.get(field) or None)
        assert math.isclose(response.json["temperature_c"], body["temperature_c"], abs_tol=0.051)


@BOUNDED
@given(name=STORABLE_TEXT)
def test_any_storable_name_is_kept_exactly(client, door, name):
    body = {"temperature_c": 36.6, "hand_sanitiser": True, "mask": True, "distancing": True}
    response = client.post("/api/v1/checkins", json=body | {"visitor_name": name}, headers=door)
    assert response.status_code == 201, response.json
    assert response.json["visitor_name"] == (name or None)
    assert db.session.get(Visit, response.json["id"]).visitor_name == (name or None)


# Only serves the OpenAPI document while tests are collected; it never touches its database.
SPEC_APP = create_app({"TESTING": True, "SECRET_KEY": "spec", "DATABASE_URL": "sqlite://"})


def serve_test_app(environ: dict, start_response: Callable) -> Any:
    """Serve with the running test's app, each call in a context of its own like IsolatedClient."""
    app = current_app._get_current_object() if has_app_context() else SPEC_APP
    return contextvars.Context().run(app, environ, start_response)


# schemathesis' pytest fixture loader does not run under pytest 9, so route to the test's app.
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", serve_test_app)


@schema.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
def test_openapi_operations_never_fail_on_the_server(case, app, auth_headers, manager_user):
    before = stored_visits()
    response = case.call_and_validate(
        headers=auth_headers(manager_user), checks=[not_a_server_error]
    )
    db.session.rollback()
    # Only a check-in stores a visit (a booking made is a booking).
    check_in = case.method == "POST" and case.path.endswith("/checkins")
    assert stored_visits() == before + (check_in and response.status_code == 201)


# The HTML side: any value of any field of every form, any value in the query of every page
# that reads one. Typed by a person, a broken tablet or an attacker: a 4xx at worst, never a 5xx.
ODD_VALUES = st.sampled_from(
    [
        "",
        " ",
        "-0",
        "36,6",
        "1e999999999",
        "-1e999999999",
        "sNaN",
        "NaN",
        "-Infinity",
        "99999999999999999999",
        "2147483648",
        "0001-01-05",
        "9999-12-31",
        "2026-11-25",
        "\x00",
        "typo\x1b[31m \x0b =1+1",
        "csi\x9b2J",
        "\r\n",
        "/\t/evil.example",
        "%0d%0a",
        "y",
        "door",
        "admin",
    ]
)
# Lone surrogates cannot even be sent: the client would fail to encode them, not the app.
# The odd values get two thirds of the draws, so that 50 examples meet most of them.
ANY_VALUE = st.one_of(
    ODD_VALUES, ODD_VALUES, st.text(st.characters(exclude_categories=["Cs"]), max_size=40)
)
FORM_EXAMPLES = settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

# Who posts which form where; {first}, {retest}, {account} and {site} are filled in by the test.
FORMS = {
    "check-in": (
        "door",
        "/",
        (
            "temperature",
            "hand_sanitiser",
            "mask",
            "distancing",
            "visitor_name",
            "phone",
            "id_number",
            "purpose",
            "client_ref",
        ),
    ),
    "re-test": ("door", "/visits/{retest}/retest", ("temperature", "client_ref")),
    "settings": (
        "manager",
        "/manage/settings",
        (
            "daily_quota",
            "fever_cutoff",
            "recheck_minutes",
            "online_service_url",
            "confirm_cutoff",
            "weekdays-saturday-quota",
            "weekdays-sunday-closed",
        ),
    ),
    "holidays": ("manager", "/manage/settings/holidays", ("closed",)),
    "closed day": ("manager", "/manage/settings/closed", ("day", "label")),
    "privacy contact": (
        "manager",
        "/manage/settings/privacy-contact",
        ("privacy-privacy_contact",),
    ),
    "site edit": ("admin", "/manage/admin/sites/{site}", ("name", "timezone", "daily_quota")),
    "account edit": ("admin", "/manage/admin/accounts/{account}", ("role", "site_id")),
    "void": ("manager", "/manage/visits/{first}/void", ("reason",)),
    "login": (None, "/login", ("username", "password")),
    "language": (None, "/lang/en", ("next",)),
    "site": ("admin", "/manage/admin/sites", ("code", "name", "timezone", "daily_quota")),
    "account": ("admin", "/manage/admin/accounts", ("username", "role", "site_id", "password")),
    "password": ("admin", "/manage/admin/accounts/{account}/password", ("password",)),
    "active": ("admin", "/manage/admin/accounts/{account}/active", ("active",)),
}
QUERIES = {
    "/manage/log": ("day", "status", "reason", "after", "lang"),
    "/manage/summary": ("day", "lang"),
    "/manage/reports": ("from", "to", "lang"),
    "/manage/export.csv": ("from", "to", "lang"),
    "/manage/export.xlsx": ("from", "to", "lang"),
    "/manage/reports/chart/decisions.svg": ("from", "to"),
    "/manage/reports/chart/hours.svg": ("from", "to"),
    "/manage/audit": ("kind", "lang"),
    "/login": ("next", "lang"),
}


def any_fields(names: tuple[str, ...]) -> st.SearchStrategy[dict[str, str]]:
    """Return forms or queries holding each of ``names`` with any value (empty ones too)."""
    return st.fixed_dictionaries(dict.fromkeys(names, ANY_VALUE))


@pytest.mark.parametrize("form", FORMS)
def test_any_value_of_any_form_field_gets_a_page_not_a_server_error(
    app, client, login, make_user, make_visit, form
):
    role, path, fields = FORMS[form]
    if role is not None:
        login(make_user(role))
    path = path.format(
        first=make_visit().visit.id,
        retest=make_visit(temperature_dc=380).visit.id,
        account=make_user("door").id,
        site=make_user("door").site_id,
    )

    @FORM_EXAMPLES
    @given(data=any_fields(fields), next_target=ANY_VALUE)
    def post_anything(data: dict[str, str], next_target: str) -> None:
        before = stored_visits()
        response = client.post(path, data=data, query_string={"next": next_target})
        assert response.status_code < 500, (data, response.status_code)
        # Only a check-in or a re-test the app took (303 to its result) stores a check.
        assert stored_visits() == before + (response.status_code == 303)

    post_anything()


@pytest.mark.parametrize("page", QUERIES)
def test_any_query_of_any_page_gets_an_answer_not_a_server_error(
    client, login, manager_user, make_visit, page
):
    login(manager_user)
    make_visit(visitor_name="Siti Aminah")

    @FORM_EXAMPLES
    @given(query=any_fields(QUERIES[page]))
    def get_anything(query: dict[str, str]) -> None:
        response = client.get(page, query_string=query, buffered=True)
        assert response.status_code < 500, (query, response.status_code)

    get_anything()
