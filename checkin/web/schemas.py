"""Marshmallow schemas at the API edge: strict loading of input, stable dumping of output."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

from marshmallow import (
    EXCLUDE,
    RAISE,
    Schema,
    ValidationError,
    fields,
    post_load,
    validate,
    validates_schema,
)

from checkin.domain import admission, booking_rules, limits, override_rules
from checkin.services import retests
from checkin.services.checkins import CheckInData, OfflineDecision

NIK = validate.Regexp(limits.NIK_PATTERN, error="A NIK has exactly 16 digits.")
PHONE = validate.Regexp(limits.PHONE_PATTERN, error="Not a phone number.")
OFFICE_DAYS = validate.Range(min=limits.FIRST_OFFICE_DAY, max=limits.LAST_OFFICE_DAY)
# JSON Schema bounds no date by value: the pattern keeps the year in 2000-2099, which is
# limits.FIRST_OFFICE_DAY to LAST_OFFICE_DAY, so a generated client sends no day refused for it.
OFFICE_DAY = {
    "pattern": r"^20[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$",
    "description": "A day from 2000-01-01 to 2099-12-31.",
}
ID_RANGE = validate.Range(min=1, max=limits.MAX_ID)
BOOKING_CODE_TYPED = r"^[0-9A-Za-z -]*$"
UUID = validate.Regexp(limits.UUID_PATTERN, error="Not an id made by crypto.randomUUID().")
# Instants of the office's years, in UTC: the whole of 2000-2099, as the pattern below states.
OFFICE_INSTANTS = validate.Range(
    min=datetime.combine(limits.FIRST_OFFICE_DAY, time.min, UTC),
    max=datetime.combine(limits.LAST_OFFICE_DAY, time.max, UTC),
)
# The tablet sends toISOString(): UTC, "Z". An offset could move an instant out of the range.
OFFICE_INSTANT = {
    "pattern": r"^20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?Z$",
    "description": "An instant from 2000-01-01T00:00:00Z to 2099-12-31T23:59:59.999999Z, in UTC.",
}


class StrictBoolean(fields.Boolean):
    """A JSON true or false; strings, numbers and null are refused, not guessed at."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


class StrictFloat(fields.Float):
    """A JSON number; strings and booleans are refused."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class StrictInteger(fields.Integer):
    """A JSON integer; strings, floats and booleans are refused."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(strict=True, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, bool):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


STORABLE_TEXT_RULE = (
    "Any Unicode text, kept exactly as sent (no normalisation or trimming; empty means none)."
    " Control characters (U+0000-U+001F, U+007F-U+009F) and unpaired surrogates are refused"
    " with 422: PostgreSQL cannot store NUL, an XLSX file cannot hold control characters and"
    " UTF-8 cannot encode a lone surrogate."
)

FREE_TEXT = {"description": STORABLE_TEXT_RULE, "pattern": r"^[^\x00-\x1f\x7f-\x9f]*$"}


def storable_text(value: str) -> None:
    """Refuse control characters and unpaired surrogates, which no database column can hold."""
    if not limits.storable(value):
        raise ValidationError("Contains characters that cannot be stored.")


def plausible_temperature(value: float) -> None:
    """Refuse readings outside 34.0-42.0 °C as a thermometer error."""
    try:
        admission.check_plausible(admission.to_decicelsius(value))
    except admission.ImplausibleTemperature as exc:
        raise ValidationError(str(exc)) from exc


def uuid_field(description: str, data_key: str | None = None) -> fields.String:
    """Return an optional id made by the tablet with crypto.randomUUID()."""
    return fields.String(
        data_key=data_key,
        load_default=None,
        allow_none=True,
        validate=UUID,
        metadata={"description": description},
    )


def optional_text(max_length: int, *checks: validate.Validator) -> fields.String:
    """Return an optional, nullable string field limited to ``max_length`` storable characters."""
    return fields.String(
        load_default=None,
        allow_none=True,
        validate=[validate.Length(max=max_length), storable_text, *checks],
        metadata={} if checks else FREE_TEXT,
    )


# The rules of CheckInSchema.offline_needs_its_tablet, as JSON Schema for the OpenAPI document.
CHECK_IN_RULES = {
    "allOf": [
        # The first reading is named once: by id or by client_ref, not both.
        {
            "not": {
                "required": ["recheck_of", "recheck_of_ref"],
                "properties": {
                    "recheck_of": {"type": "integer"},
                    "recheck_of_ref": {"type": "string"},
                },
            }
        },
        # The NIK, or its last 4 digits: not both.
        {
            "not": {
                "required": ["id_number", "nik_last4"],
                "properties": {
                    "id_number": {"type": "string", "minLength": 1},
                    "nik_last4": {"type": "string", "minLength": 1},
                },
            }
        },
    ],
    # A check recorded offline says which check and which tablet it is.
    "anyOf": [
        {"properties": {"offline": {"type": "object", "nullable": True, "enum": [None]}}},
        {
            "required": ["client_ref", "device_id"],
            "properties": {"client_ref": {"type": "string"}, "device_id": {"type": "string"}},
        },
    ],
}


class CheckInSchema(Schema):
    """A door reading posted by a tablet or a scanner; unknown fields are refused."""

    class Meta:
        unknown = RAISE

    temperature_c = StrictFloat(
        required=True,
        allow_nan=False,
        validate=plausible_temperature,
        metadata={
            "description": "Reading in °C; 34.0-42.0, rounded half-up to one decimal.",
            "minimum": admission.PLAUSIBLE_MIN_DC / 10,
            "maximum": admission.PLAUSIBLE_MAX_DC / 10,
        },
    )
    hand_sanitiser = StrictBoolean(required=True)
    mask = StrictBoolean(required=True)
    distancing = StrictBoolean(required=True)
    visitor_name = optional_text(limits.MAX_NAME)
    phone = optional_text(limits.MAX_PHONE, PHONE)
    id_number = optional_text(16, NIK)
    nik_last4 = optional_text(
        4,
        validate.Regexp(limits.NIK_LAST4_PATTERN, error="Give the NIK's last 4 digits."),
    )
    purpose = fields.String(
        load_default=None, allow_none=True, validate=validate.OneOf(admission.PURPOSES)
    )
    # The re-test's wire names keep "recheck", the word the API had first, for its clients.
    retest_of = StrictInteger(
        data_key="recheck_of",
        load_default=None,
        allow_none=True,
        validate=ID_RANGE,
        metadata={"description": "Id of the first reading when this is its re-test."},
    )
    client_ref = uuid_field(
        "Made by the tablet for this check (crypto.randomUUID()): sent again, the stored check"
        " is answered with 200 and nothing new is stored."
    )
    device_id = uuid_field(
        "The id of the paired tablet that recorded a check offline (its lease's device_id):"
        " a slot it gave counts only when that tablet uploads it. Online, the tablet is the"
        " paired browser making the request, and a passing visitor takes a slot of its lease"
        " first."
    )
    retest_of_ref = uuid_field(
        "The client_ref of the first reading, for a re-test made offline before it had an id.",
        data_key="recheck_of_ref",
    )
    booking_code = fields.String(
        load_default=None,
        allow_none=True,
        validate=[
            validate.Length(max=2 * limits.BOOKING_CODE_LENGTH),
            validate.Regexp(BOOKING_CODE_TYPED, error="Not a booking code."),
        ],
        metadata={
            "pattern": BOOKING_CODE_TYPED,
            "description": "The code of the booking the visitor shows, as typed or scanned"
            " (spaces and dashes are ignored; empty means none). On time, a passing visitor"
            " takes the booked place and a queue number, not a walk-in slot; early, late, on"
            " another day, or with the booking cancelled or released, the walk-in rules"
            " decide (`booking.channel` says why). Unknown: 404 `unknown_booking`; admitted"
            " already: 409 `booking_already_admitted`; cancelled or released meanwhile: 409"
            " `booking_not_open`. With `offline`: an admission without a slot is one to the"
            " booked place, and the server gives its queue number; the booking's first"
            " admission takes the place, and another of it is kept for the manager (409"
            " `kept_for_manager`).",
        },
    )
    offline = fields.Nested(
        lambda: OfflineDecisionSchema(),
        load_default=None,
        allow_none=True,
        metadata={"description": "How the tablet decided a check it recorded offline."},
    )

    @validates_schema
    def offline_needs_its_tablet(self, data: dict[str, Any], **kwargs: Any) -> None:
        """Refuse an offline upload that does not say which check and which tablet it is."""
        if data["offline"] is not None:
            missing = [name for name in ("client_ref", "device_id") if data[name] is None]
            if missing:
                raise ValidationError(
                    {name: ["Required for a check recorded offline."] for name in missing}
                )
        if data["retest_of"] is not None and data["retest_of_ref"] is not None:
            # The error names the field as clients send it.
            raise ValidationError("Name the first reading once.", "recheck_of_ref")
        if data["id_number"] and data["nik_last4"]:
            raise ValidationError("Give the NIK or its last 4 digits, not both.", "nik_last4")

    @post_load
    def to_check_in(
        self, data: dict[str, Any], **kwargs: Any
    ) -> tuple[CheckInData, OfflineDecision | None]:
        """Convert to deci-Celsius, keep only the NIK's last four digits, split off ``offline``."""
        check = CheckInData(
            temperature_dc=admission.to_decicelsius(data["temperature_c"]),
            hand_sanitiser=data["hand_sanitiser"],
            mask=data["mask"],
            distancing=data["distancing"],
            visitor_name=data["visitor_name"] or None,
            phone=(data["phone"] or "").strip() or None,
            nik_last4=limits.nik_last4(data["id_number"]) or data["nik_last4"] or None,
            purpose=data["purpose"],
            retest_of=data["retest_of"],
            client_ref=data["client_ref"],
            retest_of_ref=data["retest_of_ref"],
            booking_code=data["booking_code"] or None,
        )
        decided = data["offline"]
        if decided is not None:
            decided = OfflineDecision(**decided, device_id=data["device_id"])
        return check, decided


class OfflineDecisionSchema(Schema):
    """What a tablet showed a visitor while offline, and when."""

    class Meta:
        unknown = RAISE

    recorded_at = fields.AwareDateTime(
        required=True, validate=OFFICE_INSTANTS, metadata=OFFICE_INSTANT
    )
    status = fields.String(required=True, validate=validate.OneOf(admission.STATUSES))
    reasons = fields.List(fields.String(validate=validate.OneOf(admission.REASONS)), required=True)
    slot = StrictInteger(
        load_default=None,
        allow_none=True,
        validate=ID_RANGE,
        metadata={"description": "The slot of the tablet's lease it gave a passing visitor."},
    )

    @post_load
    def to_decision(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        """Return the decision's parts as the services take them (the tablet is beside it)."""
        return data | {"reasons": tuple(data["reasons"])}


class LeaseRequestSchema(Schema):
    """A paired tablet asking for slots of today."""

    class Meta:
        unknown = RAISE

    device_id = uuid_field("This tablet's id, as its lease gave it; the tablet making the request.")


class CheckRuleSchema(Schema):
    """One rule of the protocol: the reason it refuses for and the reading field it looks at."""

    reason = fields.String(metadata={"enum": list(admission.REASONS)})
    field = fields.String(
        metadata={"enum": ["temperature_dc", "hand_sanitiser", "mask", "distancing"]}
    )
    at_least_dc = fields.Integer(
        allow_none=True,
        metadata={"description": "A reading at or above fails; null: the tick unticked fails."},
    )


class TabletRulesSchema(Schema):
    """The site's rules a tablet decides by offline, as the server decides."""

    checks = fields.List(
        fields.Nested(CheckRuleSchema),
        metadata={"description": "In the order a refusal lists its reasons."},
    )
    retest_when_only = fields.List(
        fields.String(),
        metadata={"description": "A first reading failing only these asks for a re-test."},
    )
    plausible_min_dc = fields.Integer()
    plausible_max_dc = fields.Integer()
    retest_minutes = fields.Integer(
        data_key="recheck_minutes",  # the wire name tablets store their lease's rules by
        metadata={"description": "Re-test from the next whole minute this long after."},
    )
    timezone = fields.String(metadata={"description": "The site's time zone: its days start here."})


class LeaseSchema(Schema):
    """The slots of today a tablet may give out offline, with the rules to decide by."""

    device_id = fields.String(attribute="device.public_id")
    day = fields.Date()
    slots = fields.List(fields.Integer())
    quota = fields.Nested(lambda: QuotaSchema())
    rules = fields.Nested(TabletRulesSchema)
    stopped = fields.Boolean(
        metadata={
            "description": "A manager stopped this tablet for the day: it gives back what it holds."
        }
    )


class SlotReturnSchema(Schema):
    """Slots a tablet gives back: it has dropped them and will not give them out."""

    class Meta:
        unknown = RAISE

    day = fields.Date(required=True, validate=OFFICE_DAYS, metadata=OFFICE_DAY)
    slots = fields.List(
        StrictInteger(validate=ID_RANGE),
        required=True,
        validate=validate.Length(max=limits.MAX_QUOTA),
    )


class TabletSchema(Schema):
    """This browser's door tablet: paired still or not, and its site."""

    device_id = fields.String(attribute="public_id")
    paired = fields.Boolean()
    site = fields.String(attribute="site.code")


class QuotaSchema(Schema):
    """A site's walk-in quota of one day."""

    day = fields.Date()
    limit = fields.Integer()
    used = fields.Integer(metadata={"description": "Admitted, and held by tablets unused."})
    left = fields.Integer(metadata={"description": "limit - used: what any door can still give."})
    held = fields.Integer(metadata={"description": "Held by paired tablets, not used (yet)."})
    return_held = fields.Boolean(
        metadata={
            "description": "None left unheld while tablets hold some: online tablets give"
            " back what they hold unused (POST /leases/return)."
        }
    )


class QuotaTodaySchema(QuotaSchema):
    """Today's quota, and how many admitted visitors are still inside (the door's counter)."""

    inside_now = fields.Integer(
        metadata={"description": "Admitted today, not voided, and not yet done or gone."}
    )


class VisitSchema(Schema):
    """A stored check, as the API shows it (NIK masked)."""

    id = fields.Integer()
    day = fields.Date()
    checked_at = fields.AwareDateTime()
    status = fields.String(metadata={"enum": list(admission.STATUSES)})
    reasons = fields.List(fields.String(metadata={"enum": list(admission.REASONS)}))
    slot = fields.Integer(allow_none=True)
    temperature_c = fields.Float()
    hand_sanitiser = fields.Boolean()
    mask = fields.Boolean()
    distancing = fields.Boolean()
    visitor_name = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    id_number = fields.String(attribute="nik_masked", allow_none=True)
    purpose = fields.String(allow_none=True)
    retest_of = fields.Integer(attribute="retest_of_id", data_key="recheck_of", allow_none=True)
    recorded_by = fields.Function(
        lambda visit: visit.recorded_by.username if visit.recorded_by else None
    )
    voided = fields.Boolean()
    void_reason = fields.String(allow_none=True)
    override_reason = fields.String(
        allow_none=True,
        metadata={
            "enum": [*override_rules.REASONS, None],
            "description": "Admitted past the full quota, and why; null for any other check.",
        },
    )
    override_note = fields.String(allow_none=True)


class DoorBookingSchema(Schema):
    """A booking shown at the door, and which rules its visitor met there."""

    code = fields.String()
    day = fields.Date()
    channel = fields.String(
        metadata={
            "enum": [
                booking_rules.AS_BOOKED,
                booking_rules.EARLY,
                booking_rules.LATE,
                booking_rules.WRONG_DAY,
                booking_rules.WAS_CANCELLED,
                booking_rules.WAS_RELEASED,
            ],
            "description": "`booked`: on time, the booked place is theirs (an admitted visitor"
            " took it, a refused one keeps the booking); any other: the walk-in rules decided,"
            " and this says why.",
        }
    )
    opens = fields.AwareDateTime(metadata={"description": "The booking's check-in opens."})
    closes = fields.AwareDateTime(metadata={"description": "The booking's check-in closes."})
    took_place = fields.Boolean(
        metadata={"description": "Admitted to the booked place: no walk-in slot was used."}
    )


class CheckInResultSchema(VisitSchema):
    """The stored check plus the day's quota right after it."""

    quota = fields.Nested(QuotaSchema)
    booking = fields.Nested(
        DoorBookingSchema,
        attribute="door_booking",
        metadata={"description": "A check with a booking_code only: the booking, its rules."},
    )
    retest_ready_at = fields.Function(
        lambda visit: (
            retests.ready_at(visit, visit.site).isoformat()
            if visit.status == admission.RETEST
            else None
        ),
        metadata={
            "type": "string",
            "format": "date-time",
            "nullable": True,
            "description": "A visitor asked to rest may be measured again from this time.",
        },
    )


class OverrideSchema(Schema):
    """Why the visitor of a check refused for the full quota alone comes in past it."""

    class Meta:
        unknown = RAISE

    reason = fields.String(required=True, validate=validate.OneOf(override_rules.REASONS))
    note = fields.String(
        load_default=None,
        allow_none=True,
        validate=[validate.Length(max=override_rules.MAX_NOTE), storable_text],
        metadata=FREE_TEXT
        | {"description": 'Words saying why: needed for "other" (`override_note_missing`).'},
    )


class VisitPageSchema(Schema):
    """One keyset page of a day's checks."""

    day = fields.Date()
    items = fields.List(fields.Nested(VisitSchema))
    next_after = fields.Integer(
        allow_none=True, metadata={"description": "Pass as `after` to get the next page."}
    )


class VisitQuerySchema(Schema):
    """Query of the entry log: a day, optional filters and a keyset cursor."""

    class Meta:
        unknown = EXCLUDE

    day = fields.Date(load_default=None, validate=OFFICE_DAYS, metadata=OFFICE_DAY)
    status = fields.String(load_default=None, validate=validate.OneOf(admission.STATUSES))
    reason = fields.String(load_default=None, validate=validate.OneOf(admission.REASONS))
    after = fields.Integer(load_default=None, validate=ID_RANGE)
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


class ReportQuerySchema(Schema):
    """Date range of a report, both ends included."""

    class Meta:
        unknown = EXCLUDE

    start = fields.Date(
        data_key="from",
        load_default=None,
        validate=OFFICE_DAYS,
        metadata=OFFICE_DAY | {"description": "First day; 30 days before `to` unless given."},
    )
    end = fields.Date(
        data_key="to",
        load_default=None,
        validate=OFFICE_DAYS,
        metadata=OFFICE_DAY
        | {
            "description": (
                "Last day, today unless given; not before `from`, and at most"
                f" {limits.MAX_REPORT_DAYS:,} days from it (422 otherwise)."
            )
        },
    )


class Minutes(fields.Float):
    """Minutes to one decimal: 37.3, not the float arithmetic's 37.300000000000004."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return None if value is None else round(value, 1)


class DurationsSchema(Schema):
    """Durations in minutes; every figure is null on a day nobody was called or served."""

    count = fields.Integer(metadata={"description": "How many visits the figures cover."})
    average = Minutes(allow_none=True)
    median = Minutes(allow_none=True)
    p90 = Minutes(allow_none=True, metadata={"description": "90th percentile (inclusive)."})
    max = Minutes(attribute="longest", allow_none=True)


class DaySummarySchema(Schema):
    """Counts of one site-day."""

    day = fields.Date(attribute="start")
    limit = fields.Integer(attribute="quota")
    checks = fields.Integer()
    admitted = fields.Integer()
    refused = fields.Integer()
    retests = fields.Integer(data_key="rechecks")  # the wire name report clients read
    reasons = fields.Dict(keys=fields.String(), values=fields.Integer())
    held = fields.Integer(
        metadata={"description": "Slots tablets leased and did not use: never reissued."}
    )
    # The service floor (issue 17); added after the fields above, which keep their meaning.
    waiting = fields.Nested(
        DurationsSchema,
        attribute="floor.waiting",
        metadata={"description": "Waiting time: door check to the last call, no-shows included."},
    )
    service = fields.Nested(
        DurationsSchema,
        attribute="floor.service",
        metadata={"description": "Service time: start of service to done."},
    )
    wait_kpi_minutes = fields.Integer(attribute="floor.kpi_minutes")
    waits_over_kpi = fields.Integer(
        attribute="floor.over_kpi",
        metadata={"description": "Waits longer than wait_kpi_minutes."},
    )
    no_shows = fields.Integer(attribute="floor.no_shows")
    # The booked channel and the admissions past the quota (issue 28), after the fields above.
    booked = fields.Integer(metadata={"description": "Places booked (cancellations given back)."})
    booked_came = fields.Integer(
        attribute="came", metadata={"description": "Booked visitors admitted to their place."}
    )
    booked_no_shows = fields.Integer(
        attribute="no_shows",
        metadata={
            "description": "Bookings nobody came for: dropped by the release, and on a day gone"
            " by every one not admitted."
        },
    )
    booked_released = fields.Integer(
        attribute="released", metadata={"description": "Booked places given to walk-ins."}
    )
    admitted_past_quota = fields.Integer(
        attribute="overrides",
        metadata={"description": "Admitted by a manager past the full walk-in quota."},
    )


class DailyReportSchema(Schema):
    """Per-day counts over a date range."""

    start = fields.Date(data_key="from")
    end = fields.Date(data_key="to")
    days = fields.List(fields.Nested(DaySummarySchema))


class ErrorSchema(Schema):
    """The JSON error document of every API failure."""

    code = fields.String(
        required=True,
        metadata={"description": "What went wrong, for machines: `retest_too_early`, `not_found`"},
    )
    status = fields.Integer(required=True, metadata={"description": "The HTTP status"})
    message = fields.String(required=True, metadata={"description": "In English, for people"})
    errors = fields.Dict(
        required=True, metadata={"description": "The words again, under the input at fault"}
    )
    facts = fields.Dict(
        required=True,
        metadata={"description": "What the words say, as values: `ready_at` of a re-test"},
    )
