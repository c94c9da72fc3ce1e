"""Errors reach API clients: each rule's refusal and each HTTP error with its status, a string
code, the words and the facts; the OpenAPI document lists the codes of each endpoint."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time

import pytest
from flask_babel import force_locale

from checkin.services import day_counter
from checkin.web import openapi
from checkin.words.errors import error_text
from tests.test_errors import EXAMPLES

# The status each rule's refusal is answered with: chosen per class (domain/errors.py says why
# where it is not plain), so a change to one is a change to the API and shows here.
STATUS = {
    404: {
        "unknown_device",
        "device_of_another_site",
        "unknown_closed_day",
        "unknown_booth",
        "unknown_site",
        "unknown_account",
        "unknown_token",
        "unknown_booking",
        "unknown_video_session",
    },
    409: {
        "retest_closed",
        "already_retested",
        "retest_too_early",
        "too_soon_to_call_gone",
        "already_voided",
        "pairing_code_used",
        "quota_below_admitted",
        "already_closed",
        "booth_taken",
        "booth_limit_reached",
        "booth_not_yours",
        "booth_busy",
        "nobody_waiting",
        "wrong_floor_state",
        "booths_still_open",
        "site_code_taken",
        "booking_not_open",
        "session_full",
        "already_booked",
        "username_taken",
        "database_in_use",
        "booking_already_admitted",
        "not_overridable",
        "no_room_for_video",
        "video_session_not_at_door",
    },
    429: {"pairing_locked", "booking_page_busy"},
    503: {
        "backup_folder_missing",
        "backup_folder_not_writable",
        "backup_tool_missing",
        "backup_tool_failed",
        "backup_copy_damaged",
    },
}


def expected_status(code: str) -> int:
    """Return the status the table gives ``code``; any cause it does not name is 422."""
    return next((status for status, codes in STATUS.items() if code in codes), 422)


def as_json(value: object) -> object:
    if isinstance(value, tuple):
        return list(value)
    return value.isoformat() if isinstance(value, date | datetime | time) else value


def test_the_table_names_only_causes_that_exist():
    named = set().union(*STATUS.values())
    assert named <= {error.code for error in EXAMPLES}


@pytest.mark.parametrize("error", EXAMPLES, ids=lambda error: error.code)
def test_every_refusal_reaches_the_client_with_its_status_code_words_and_facts(
    client, auth_headers, door_user, monkeypatch, error
):
    def refuse(*args, **kwargs):
        raise error

    monkeypatch.setattr(day_counter, "quota_today", refuse)
    response = client.get("/api/v1/quota/today", headers=auth_headers(door_user))
    with force_locale("en"):
        words = error_text(error)
    status = expected_status(error.code)
    assert response.status_code == status
    assert response.json == {
        "code": error.code,
        "status": status,
        "message": words,
        "errors": {error.field: [words]} if error.field else {},
        "facts": {name: as_json(value) for name, value in vars(error).items()},
    }


def test_a_time_among_the_facts_keeps_its_offset(client, auth_headers, door_user, monkeypatch):
    (too_early,) = [error for error in EXAMPLES if error.code == "retest_too_early"]

    def refuse(*args, **kwargs):
        raise too_early

    monkeypatch.setattr(day_counter, "quota_today", refuse)
    response = client.get("/api/v1/quota/today", headers=auth_headers(door_user))
    assert response.json["facts"] == {"ready_at": "2026-11-25T10:06:00+07:00"}


BAD = {"temperature_c": 36.6, "hand_sanitiser": True, "mask": True, "distancing": True}


@pytest.mark.parametrize(
    ("who", "method", "path", "send", "status", "code"),
    [
        ("door", "post", "/checkins", {"data": "{not json", "content_type": "application/json"},
         400, "bad_request"),
        ("door", "post", "/checkins", {"json": BAD | {"temperature_c": 50}}, 422, "validation"),
        ("door", "post", "/checkins", {"json": BAD | {"shoe_size": 42}}, 422, "validation"),
        ("door", "post", "/checkins", {"json": BAD | {"visitor_name": "x" * 70_000}},
         413, "too_large"),
        (None, "get", "/quota/today", {}, 401, "unauthorized"),
        ("door", "get", "/checkins", {}, 403, "forbidden"),
        ("door", "get", "/reports/daily", {}, 403, "forbidden"),
        ("manager", "get", "/checkins?limit=0", {}, 422, "validation"),
        ("manager", "get", "/reports/daily?from=2026-11-20&to=2026-11-10", {},
         422, "range_reversed"),
        ("door", "post", "/checkins", {"json": BAD | {"recheck_of": 999_999}},
         422, "retest_not_waiting"),
        ("door", "delete", "/checkins", {}, 405, "method_not_allowed"),
        ("door", "get", "/nothing", {}, 404, "not_found"),
        ("manager", "delete", "/leases/00000000-0000-4000-8000-000000000000", {},
         404, "unknown_device"),
        ("manager", "get", "/leases/not-an-id", {}, 404, "not_found"),
        ("manager", "get", f"/leases/{uuid.UUID(int=7)}", {}, 404, "unknown_device"),
        ("door", "post", "/visits/1/override", {"json": {"reason": "elderly"}}, 403, "forbidden"),
        ("manager", "post", "/visits/999999/override", {"json": {"reason": "elderly"}},
         404, "not_found"),
        ("manager", "post", "/visits/1/override", {"json": {"reason": "bribe"}}, 422, "validation"),
        ("manager", "post", "/visits/1/override", {"json": {"reason": "other", "why": "x"}},
         422, "validation"),
    ],
)  # fmt: skip
def test_http_errors_carry_a_string_code_and_the_status(
    client, auth_headers, make_user, who, method, path, send, status, code
):
    headers = auth_headers(make_user(who)) if who else {}
    response = getattr(client, method)(f"/api/v1{path}", headers=headers, **send)
    assert response.status_code == status
    assert (response.json["code"], response.json["status"]) == (code, status)
    assert set(response.json) == {"code", "status", "message", "errors", "facts"}
    operation = openapi.build().to_dict()["paths"].get(path.split("?")[0], {}).get(method)
    if operation is not None:  # a documented endpoint lists the code it answered with
        assert code in listed_codes(operation)[str(status)]


def listed_codes(operation: dict) -> dict[str, list[str]]:
    """Return the codes the document lists for each error status of an operation."""
    found = {}
    for status, answer in operation["responses"].items():
        schema = answer["content"]["application/json"]["schema"]
        if int(status) >= 400:
            (error, codes) = schema["allOf"]
            assert error == {"$ref": "#/components/schemas/Error"}
            found[status] = codes["properties"]["code"]["enum"]
    return found


def test_the_document_lists_each_endpoint_s_codes():
    paths = openapi.build().to_dict()["paths"]
    listed = {
        (path, method): listed_codes(operation)
        for path, operations in paths.items()
        for method, operation in operations.items()
    }
    everywhere = {"401": ["unauthorized"], "403": ["forbidden"], "503": ["unavailable"]}
    assert listed == {
        ("/checkins", "post"): everywhere
        | {
            "400": ["bad_request"],
            "404": ["unknown_booking"],
            "409": [
                "kept_for_manager",
                "retest_closed",
                "already_retested",
                "retest_too_early",
                "booking_already_admitted",
                "booking_not_open",
                "video_session_not_at_door",
            ],
            "413": ["too_large"],
            "422": ["validation", "retest_not_waiting"],
        },
        ("/checkins", "get"): everywhere | {"422": ["validation"]},
        ("/quota/today", "get"): everywhere,
        ("/visits/{visit_id}/override", "post"): everywhere
        | {
            "400": ["bad_request"],
            "404": ["not_found"],
            "409": ["not_overridable"],
            "413": ["too_large"],
            "422": ["validation", "override_note_missing"],
        },
        ("/reports/daily", "get"): everywhere
        | {"422": ["validation", "range_reversed", "range_too_long"]},
        ("/bookings", "post"): everywhere
        | {
            "400": ["bad_request"],
            "409": ["session_full", "already_booked"],
            "413": ["too_large"],
            "422": [
                "validation",
                "unknown_session",
                "session_over",
                "booking_day_closed",
                "booking_day_past",
                "contact_on_visit",
                "contact_invalid",
            ],
        },
        ("/bookings", "get"): everywhere | {"422": ["validation"]},
        ("/bookings/{code}", "delete"): everywhere
        | {
            "404": ["unknown_booking"],
            "409": ["booking_not_open"],
            "422": ["validation", "booking_day_past"],
        },
    }


def test_the_error_document_has_a_string_code_and_an_integer_status():
    error = openapi.build().to_dict()["components"]["schemas"]["Error"]
    assert {name: field["type"] for name, field in error["properties"].items()} == {
        "code": "string",
        "status": "integer",
        "message": "string",
        "errors": "object",
        "facts": "object",
    }
