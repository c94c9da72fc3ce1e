"""Marshmallow schemas of the bookings API: strict loading of a booking, stable dumping."""

from __future__ import annotations

import re
from datetime import time
from typing import Any

from marshmallow import (
    RAISE,
    Schema,
    ValidationError,
    fields,
    post_load,
    validate,
    validates_schema,
)

from checkin.domain import admission, booking_rules, limits
from checkin.services.bookings import BookingData
from checkin.web.schemas import (
    FREE_TEXT,
    OFFICE_DAY,
    OFFICE_DAYS,
    PHONE,
    optional_text,
    storable_text,
)

SESSION_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"


class SessionTime(fields.String):
    """A session named by its start, "HH:MM" in the site's time zone."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> time:
        text = super()._deserialize(value, attr, data, **kwargs)
        if re.fullmatch(SESSION_PATTERN, text) is None:
            raise ValidationError("Write HH:MM, e.g. 08:00.")
        return time.fromisoformat(text)

    def _serialize(self, value: time | None, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return None if value is None else value.strftime("%H:%M")


def session_time(description: str, **kwargs: Any) -> SessionTime:
    return SessionTime(
        metadata={"description": description, "pattern": SESSION_PATTERN},
        **kwargs,
    )


# The rule of NewBookingSchema.contact_for_video_only, as JSON Schema for the OpenAPI document.
# A contact (phone or meeting link) only for a video session. The document says so in words:
# stated as an anyOf, it crashes schemathesis' negative coverage (tests/schemathesis_hooks.py
# excuses the 422 instead), and OpenAPI 3.0 has no if/then.
NEW_BOOKING_RULES = {
    "description": "A booking of a session; `contact` is given only when `kind` is `video`:"
    " a phone number or an `https://` meeting link (none: the office calls `phone`)."
}


class NewBookingSchema(Schema):
    """A booking posted by an integration (the national queue, the office's own system)."""

    class Meta:
        unknown = RAISE

    day = fields.Date(required=True, validate=OFFICE_DAYS, metadata=OFFICE_DAY)
    session = session_time("The session's start, as the site's sessions list it.", required=True)
    kind = fields.String(
        load_default="visit",
        validate=validate.OneOf(limits.BOOKING_KINDS),
        metadata={"description": "visit: comes to the door; video: served where they are."},
    )
    name = fields.String(
        required=True,
        validate=[validate.Length(min=1, max=limits.MAX_NAME), storable_text],
        metadata=FREE_TEXT,
    )
    phone = fields.String(
        required=True,
        validate=[validate.Length(min=1, max=limits.MAX_PHONE), PHONE],
        metadata={"pattern": limits.PHONE_PATTERN},
    )
    nik_last4 = fields.String(
        required=True,
        validate=validate.Regexp(r"^[0-9]{4}$", error="Give the NIK's last 4 digits."),
        metadata={"pattern": r"^[0-9]{4}$"},
    )
    purpose = fields.String(
        load_default=None, allow_none=True, validate=validate.OneOf(admission.PURPOSES)
    )
    contact = optional_text(limits.MAX_BOOKING_CONTACT)
    external_ref = optional_text(limits.MAX_EXTERNAL_REF)

    @validates_schema
    def contact_for_video_only(self, data: dict[str, Any], **kwargs: Any) -> None:
        """Refuse a contact on a visit: it is where a video session reaches the visitor."""
        if data.get("contact") and data.get("kind", "visit") != "video":
            raise ValidationError("Only a video session has a contact.", "contact")

    @post_load
    def to_booking(self, data: dict[str, Any], **kwargs: Any) -> BookingData:
        """Return the booking to make; empty optional texts are none."""
        return BookingData(
            day=data["day"],
            starts=data["session"],
            name=data["name"],
            phone=data["phone"],
            nik_last4=data["nik_last4"],
            kind=data["kind"],
            purpose=data["purpose"],
            contact=data["contact"] or None,
            external_ref=data["external_ref"] or None,
        )


class BookingSchema(Schema):
    """A stored booking, as the API shows it."""

    code = fields.String(metadata={"description": "Shown at the door, typed or as a QR code."})
    day = fields.Date()
    session = session_time("The session's start.", attribute="session.starts")
    session_ends = session_time("The session's end.", attribute="session.ends")
    kind = fields.String(metadata={"enum": list(limits.BOOKING_KINDS)})
    status = fields.String(metadata={"enum": list(booking_rules.STATUSES)})
    name = fields.String()
    phone = fields.String(metadata={"description": "Digits only, +62 written as 0."})
    nik_last4 = fields.String()
    purpose = fields.String(allow_none=True)
    contact = fields.String(allow_none=True)
    external_ref = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()
    admitted_at = fields.AwareDateTime(allow_none=True)


class PlacesSchema(Schema):
    """A session's places on a day."""

    session = session_time("The session's start.", attribute="session.starts")
    session_ends = session_time("The session's end.", attribute="session.ends")
    capacity = fields.Integer(metadata={"description": "Places offered (lowered by a release)."})
    booked = fields.Integer()
    admitted = fields.Integer()
    released = fields.Integer(metadata={"description": "Places given to walk-ins."})
    left = fields.Integer(metadata={"description": "Places that can still be booked."})


class BookingQuerySchema(Schema):
    """The bookings of a day, all or those a search finds."""

    class Meta:
        unknown = RAISE

    day = fields.Date(
        load_default=None,
        validate=OFFICE_DAYS,
        metadata=OFFICE_DAY | {"description": "The day; today at the site unless given."},
    )
    q = fields.String(
        load_default=None,
        validate=[validate.Length(min=1, max=limits.MAX_NAME), storable_text],
        metadata=FREE_TEXT
        | {"description": "A code (any day), or part of a name or phone (the day's bookings)."},
    )


class BookingListSchema(Schema):
    """A day's bookings and its sessions' places."""

    day = fields.Date()
    places = fields.List(fields.Nested(PlacesSchema))
    items = fields.List(fields.Nested(BookingSchema))


class CancelQuerySchema(Schema):
    """Who cancels: staff by code alone, or with the visitor's phone to check it."""

    class Meta:
        unknown = RAISE

    phone = fields.String(
        load_default=None,
        validate=[validate.Length(min=1, max=limits.MAX_PHONE), PHONE],
        metadata={"description": "The visitor's phone: the booking must have it."},
    )


class DoorListItemSchema(Schema):
    """A booking as a door tablet keeps it: what the door shows, and a phone's last four digits
    to find it by; nothing more of the visitor."""

    code = fields.String()
    name = fields.String()
    session = session_time("The session's start.", attribute="session.starts")
    session_ends = session_time("The session's end.", attribute="session.ends")
    status = fields.String(metadata={"enum": list(booking_rules.STATUSES)})
    phone_last4 = fields.Function(
        lambda booking: booking_rules.phone_last4(booking.phone),
        metadata={"type": "string", "description": "The last four digits of the phone."},
    )


class DoorListSchema(Schema):
    """Today's bookings of visits a paired tablet keeps, and the rules it finds and admits them
    by offline as the server does."""

    day = fields.Date(metadata={"description": "The site's today: the list is of this day only."})
    window_minutes = fields.Integer(
        metadata={
            "description": "A booking checks in as booked from this long before its session's"
            " start to this long after its end, in the site's time zone."
        }
    )
    code_alphabet = fields.String(metadata={"description": "The characters of a booking code."})
    code_length = fields.Integer(metadata={"description": "The length of a booking code."})
    found_at_most = fields.Integer(metadata={"description": "A search lists at most this many."})
    items = fields.List(fields.Nested(DoorListItemSchema), attribute="bookings")
