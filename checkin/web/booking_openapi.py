"""The bookings part of the OpenAPI document (see checkin.web.openapi)."""

from __future__ import annotations

from collections.abc import Callable

from apispec import APISpec

from checkin.domain import booking_errors, limits
from checkin.web.booking_schemas import (
    NEW_BOOKING_RULES,
    BookingListSchema,
    BookingQuerySchema,
    BookingSchema,
    CancelQuerySchema,
    NewBookingSchema,
    PlacesSchema,
)

BOOKING_REFUSALS = (
    booking_errors.UnknownSession,
    booking_errors.SessionFull,
    booking_errors.SessionOver,
    booking_errors.AlreadyBooked,
    booking_errors.BookingDayClosed,
    booking_errors.BookingDayPast,
    booking_errors.ContactOnVisit,
    booking_errors.ContactInvalid,
)
CANCEL_REFUSALS = (
    booking_errors.UnknownBooking,
    booking_errors.BookingNotOpen,
    booking_errors.BookingDayPast,
)


def add_bookings(spec: APISpec, answer: Callable[..., dict], failures: Callable[..., dict]) -> None:
    """Add the bookings' schemas and paths; ``answer`` makes a response, ``failures`` the error
    answers with the codes each may carry."""
    for name, schema, rules_ in (
        ("NewBooking", NewBookingSchema, NEW_BOOKING_RULES),
        ("Booking", BookingSchema, None),
        ("Places", PlacesSchema, None),
        ("BookingList", BookingListSchema, None),
    ):
        spec.components.schema(name, component=rules_, schema=schema)
    scope = "Token scope `bookings`."
    spec.path(
        "/bookings",
        operations={
            "post": {
                "summary": "Book a place of a session (managers; integrations)",
                "description": (
                    f"{scope} One booking per NIK-last-4 and phone a day; a session takes no"
                    " more bookings than its places. Unknown fields are refused with 422."
                ),
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": "NewBooking"}},
                },
                "responses": {
                    "201": answer("The booking made, with its code", "Booking"),
                    "200": answer(
                        "The same external_ref again: the booking made for it; nothing new",
                        "Booking",
                    ),
                    **failures(
                        {
                            400: "Body is not a JSON object",
                            413: "Body larger than 64 KB",
                            422: "Invalid input, an unknown session, a closed or past day, a"
                            " session over; nothing stored",
                        },
                        BOOKING_REFUSALS,
                        {422: ["validation"]},
                    ),
                },
            },
            "get": {
                "summary": "A day's bookings, or those a search finds, and each session's places",
                "description": (
                    f"{scope} Door staff find a booking by code, name or phone; each read is"
                    " in the audit log."
                ),
                "parameters": [{"in": "query", "schema": BookingQuerySchema}],
                "responses": {
                    "200": answer("The bookings and places", "BookingList"),
                    **failures({422: "Invalid query"}, named={422: ["validation"]}),
                },
            },
        },
    )
    spec.path(
        "/bookings/{code}",
        operations={
            "delete": {
                "summary": "Cancel a booking not yet used; its place can be booked again",
                "description": scope,
                "parameters": [
                    {
                        "in": "path",
                        "name": "code",
                        "required": True,
                        "schema": {
                            "type": "string",
                            "maxLength": 2 * limits.BOOKING_CODE_LENGTH,
                        },
                        "description": "The booking's code; spaces and dashes are ignored.",
                    },
                    {"in": "query", "schema": CancelQuerySchema},
                ],
                "responses": {
                    "200": answer("The booking, cancelled", "Booking"),
                    **failures(
                        {
                            422: "A past day's booking, or an invalid phone",
                        },
                        CANCEL_REFUSALS,
                        {422: ["validation"]},
                    ),
                },
            }
        },
    )
