"""The OpenAPI 3 document of the JSON API, built from the marshmallow schemas.

Every limit the server checks is stated in standard JSON Schema where one can state it, so that
a client generated from the document never sends what the server refuses
(tests/test_api_schema.py runs schemathesis against it).
"""

from __future__ import annotations

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from checkin.booking_openapi import add_bookings
from checkin.schemas import (
    CHECK_IN_RULES,
    CheckInResultSchema,
    CheckInSchema,
    DailyReportSchema,
    ErrorSchema,
    QuotaSchema,
    QuotaTodaySchema,
    ReportQuerySchema,
    VisitPageSchema,
    VisitQuerySchema,
)


def build() -> APISpec:
    """Build the OpenAPI document from the marshmallow schemas."""
    spec = APISpec(
        title="checkin API",
        version="1",
        openapi_version="3.0.3",
        plugins=[MarshmallowPlugin()],
        info={"description": "Health-protocol check-in with a daily walk-in quota."},
        servers=[{"url": "/api/v1"}],
        components={
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": (
                        "A token made by `flask --app checkin token add NAME --scope ...`: scope"
                        " `checkin` posts checks and reads the quota, `read` lists checks and"
                        " reports, `bookings` makes, lists and cancels bookings. A token acts"
                        " as its account and opens no HTML page."
                    ),
                },
                "session": {"type": "apiKey", "in": "cookie", "name": "session"},
            }
        },
        security=[{"bearer": []}, {"session": []}],
    )
    for name, schema, rules in (
        # Nested schemas first, so that their components keep these names.
        ("Quota", QuotaSchema, None),
        ("QuotaToday", QuotaTodaySchema, None),
        ("CheckIn", CheckInSchema, CHECK_IN_RULES),
        ("CheckInResult", CheckInResultSchema, None),
        ("VisitPage", VisitPageSchema, None),
        ("DailyReport", DailyReportSchema, None),
        ("Error", ErrorSchema, None),
    ):
        spec.components.schema(name, component=rules, schema=schema)
    for component in spec.components.schemas.values():
        only_null_besides_references(component)

    def answer(description: str, schema: str = "Error") -> dict:
        return {
            "description": description,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
        }

    errors = {
        "401": answer("Not logged in and no valid bearer token"),
        "403": answer("The account's role, or the token's scopes, may not do this"),
    }
    spec.path(
        "/checkins",
        operations={
            "post": {
                "summary": "Screen a visitor and store the check",
                "description": "Unknown fields are refused with 422.",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": "CheckIn"}},
                },
                "responses": {
                    "201": answer("The stored check and today's quota", "CheckInResult"),
                    "200": answer(
                        "The same client_ref again: the check as stored; nothing new stored",
                        "CheckInResult",
                    ),
                    "400": answer("Body is not a JSON object"),
                    "409": answer(
                        "A check recorded offline that cannot be stored as the tablet decided:"
                        " kept for the manager; `errors.offline` says why"
                    ),
                    "413": answer("Body larger than 64 KB"),
                    "422": answer("Invalid input; nothing stored"),
                    **errors,
                },
            },
            "get": {
                "summary": "One page of a day's checks in time order (managers)",
                "parameters": [{"in": "query", "schema": VisitQuerySchema}],
                "responses": {
                    "200": answer("A page of checks", "VisitPage"),
                    "422": answer("Invalid query"),
                    **errors,
                },
            },
        },
    )
    spec.path(
        "/quota/today",
        operations={
            "get": {
                "summary": "Today's walk-in quota of the account's site, and who is inside",
                "responses": {"200": answer("The quota", "QuotaToday"), **errors},
            }
        },
    )
    spec.path(
        "/reports/daily",
        operations={
            "get": {
                "summary": "Per-day counts and refusal reasons (managers)",
                "parameters": [{"in": "query", "schema": ReportQuerySchema}],
                "responses": {
                    "200": answer("One entry per day, quiet days included", "DailyReport"),
                    "422": answer("Invalid range"),
                    **errors,
                },
            }
        },
    )
    add_bookings(spec, answer, errors)
    return spec


def only_null_besides_references(component: dict) -> None:
    """Let a nullable nested schema be its reference or null, not any object.

    apispec writes one as anyOf [reference, {"type": "object", "nullable": true}], and the
    second branch takes every object: a generated client would send {} for it.
    """
    for field in component.get("properties", {}).values():
        for branch in field.get("anyOf", []):
            if branch == {"nullable": True, "type": "object"}:
                branch["enum"] = [None]
