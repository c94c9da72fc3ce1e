"""The OpenAPI 3 document of the JSON API, built from the marshmallow schemas.

Every limit the server checks is stated in standard JSON Schema where one can state it, so that
a client generated from the document never sends what the server refuses
(tests/test_api_schema.py runs schemathesis against it).
"""

from __future__ import annotations

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from checkin.domain import limits
from checkin.domain.booking_errors import (
    BookingAlreadyAdmitted,
    BookingNotOpen,
    UnknownBooking,
    VideoSessionNotAtDoor,
)
from checkin.domain.errors import (
    AlreadyRetested,
    NotOverridable,
    OverrideNoteMissing,
    RangeReversed,
    RangeTooLong,
    RetestClosed,
    RetestNotWaiting,
    RetestTooEarly,
    ServiceError,
)
from checkin.web.booking_openapi import add_bookings
from checkin.web.errors import KEPT, http_code
from checkin.web.schemas import (
    CHECK_IN_RULES,
    CheckInResultSchema,
    CheckInSchema,
    DailyReportSchema,
    DoorBookingSchema,
    ErrorSchema,
    OverrideSchema,
    QuotaSchema,
    QuotaTodaySchema,
    ReportQuerySchema,
    VisitPageSchema,
    VisitQuerySchema,
)

# The rules that may refuse each request, each answered with its class's status and code.
CHECK_IN_REFUSALS = (
    RetestNotWaiting,
    RetestClosed,
    AlreadyRetested,
    RetestTooEarly,
    UnknownBooking,
    BookingAlreadyAdmitted,
    BookingNotOpen,
    VideoSessionNotAtDoor,
)
REPORT_REFUSALS = (RangeReversed, RangeTooLong)
OVERRIDE_REFUSALS = (OverrideNoteMissing, NotOverridable)
# Who is asking, and the database: any endpoint may answer these.
EVERYWHERE = {
    401: "Not logged in and no valid bearer token",
    403: "The account's role, or the token's scopes, may not do this",
    503: "The database cannot answer now; nothing stored; try again shortly",
}


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
                        " `checkin` posts checks, reads the quota and admits past it (a"
                        " manager's token), `read` lists checks and"
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
        ("DoorBooking", DoorBookingSchema, None),
        ("CheckInResult", CheckInResultSchema, None),
        ("Override", OverrideSchema, None),
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

    def failures(
        described: dict[int, str],
        refusals: tuple[type[ServiceError], ...] = (),
        named: dict[int, list[str]] | None = None,
    ) -> dict[str, dict]:
        """Return the error answers, each listing the codes it may carry in its schema's enum.

        An HTTP error's code is its status's (``named`` gives others); a rule's refusal is
        listed under its class's status.
        """
        described = EVERYWHERE | described
        codes = {
            status: list((named or {}).get(status) or [http_code(status)]) for status in described
        }
        for refusal in refusals:
            if refusal.status not in described:
                described[refusal.status] = "Refused by a rule; nothing stored"
                codes[refusal.status] = []
            codes[refusal.status].append(refusal.code)
        return {
            str(status): {
                "description": "{}. `code`: {}".format(
                    described[status], ", ".join(f"`{code}`" for code in codes[status])
                ),
                "content": {
                    "application/json": {
                        "schema": {
                            "allOf": [
                                {"$ref": "#/components/schemas/Error"},
                                {"properties": {"code": {"type": "string", "enum": codes[status]}}},
                            ]
                        }
                    }
                },
            }
            for status in sorted(described)
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
                    **failures(
                        {
                            400: "Body is not a JSON object",
                            409: (
                                "A check recorded offline that cannot be stored as the tablet"
                                " decided: kept for the manager (`errors.offline` says why);"
                                " or a re-test its first reading"
                                " does not allow now, or a booking admitted already or no"
                                " longer open; nothing stored"
                            ),
                            413: "Body larger than 64 KB",
                            422: "Invalid input; nothing stored",
                        },
                        CHECK_IN_REFUSALS,
                        {409: [KEPT]},
                    ),
                },
            },
            "get": {
                "summary": "One page of a day's checks in time order (managers)",
                "parameters": [{"in": "query", "schema": VisitQuerySchema}],
                "responses": {
                    "200": answer("A page of checks", "VisitPage"),
                    **failures({422: "Invalid query"}),
                },
            },
        },
    )
    spec.path(
        "/visits/{visit_id}/override",
        operations={
            "post": {
                "summary": "Admit a visitor past the full quota, with a reason (managers)",
                "description": (
                    "Today's check refused for the quota alone, not voided, becomes an"
                    " admission with the day's next queue number, counted apart from the"
                    " quota and audited. Once: a second press is refused."
                ),
                "parameters": [
                    {
                        "in": "path",
                        "name": "visit_id",
                        "required": True,
                        "schema": {"type": "integer", "minimum": 1, "maximum": limits.MAX_ID},
                    }
                ],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": "Override"}},
                },
                "responses": {
                    "200": answer("The check, now admitted, and today's quota", "CheckInResult"),
                    **failures(
                        {
                            400: "Body is not a JSON object",
                            404: "No check of the account's site has this id",
                            413: "Body larger than 64 KB",
                            422: "Invalid input (a reason off the list); nothing stored",
                        },
                        OVERRIDE_REFUSALS,
                    ),
                },
            }
        },
    )
    spec.path(
        "/quota/today",
        operations={
            "get": {
                "summary": "Today's walk-in quota of the account's site, and who is inside",
                "responses": {"200": answer("The quota", "QuotaToday"), **failures({})},
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
                    **failures({422: "Invalid range"}, REPORT_REFUSALS),
                },
            }
        },
    )
    add_bookings(spec, answer, failures)
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
