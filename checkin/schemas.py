"""Marshmallow schemas at the API edge: strict loading of input, stable dumping of output."""

from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, RAISE, Schema, ValidationError, fields, post_load, validate

from checkin import admission, rules
from checkin.services.checkins import CheckInData

NIK = validate.Regexp(rules.NIK_PATTERN, error="A NIK has exactly 16 digits.")
PHONE = validate.Regexp(rules.PHONE_PATTERN, error="Not a phone number.")
OFFICE_DAYS = validate.Range(min=rules.FIRST_OFFICE_DAY, max=rules.LAST_OFFICE_DAY)
ID_RANGE = validate.Range(min=1, max=rules.MAX_ID)


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
    " Control characters (NUL included) and unpaired surrogates are refused with 422:"
    " PostgreSQL cannot store NUL and UTF-8 cannot encode a lone surrogate."
)

FREE_TEXT = {"description": STORABLE_TEXT_RULE, "pattern": r"^[^\x00-\x1f]*$"}


def storable_text(value: str) -> None:
    """Refuse control characters and unpaired surrogates, which no database column can hold."""
    if not rules.storable(value):
        raise ValidationError("Contains characters that cannot be stored.")


def plausible_temperature(value: float) -> None:
    """Refuse readings outside 34.0-42.0 °C as a thermometer error."""
    try:
        admission.check_plausible(admission.to_decicelsius(value))
    except admission.ImplausibleTemperature as exc:
        raise ValidationError(str(exc)) from exc


def optional_text(max_length: int, *checks: validate.Validator) -> fields.String:
    """Return an optional, nullable string field limited to ``max_length`` storable characters."""
    return fields.String(
        load_default=None,
        allow_none=True,
        validate=[validate.Length(max=max_length), storable_text, *checks],
        metadata={} if checks else FREE_TEXT,
    )


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
    visitor_name = optional_text(rules.MAX_NAME)
    phone = optional_text(rules.MAX_PHONE, PHONE)
    id_number = optional_text(16, NIK)
    purpose = fields.String(
        load_default=None, allow_none=True, validate=validate.OneOf(admission.PURPOSES)
    )
    recheck_of = StrictInteger(
        load_default=None,
        allow_none=True,
        validate=ID_RANGE,
        metadata={"description": "Id of the first reading when this is its re-test."},
    )

    @post_load
    def to_check_in(self, data: dict[str, Any], **kwargs: Any) -> CheckInData:
        """Convert to deci-Celsius and keep only the last four digits of the NIK."""
        return CheckInData(
            temperature_dc=admission.to_decicelsius(data["temperature_c"]),
            hand_sanitiser=data["hand_sanitiser"],
            mask=data["mask"],
            distancing=data["distancing"],
            visitor_name=data["visitor_name"] or None,
            phone=(data["phone"] or "").strip() or None,
            nik_last4=rules.nik_last4(data["id_number"]),
            purpose=data["purpose"],
            recheck_of=data["recheck_of"],
        )


class QuotaSchema(Schema):
    """A site's walk-in quota of one day."""

    day = fields.Date()
    limit = fields.Integer()
    used = fields.Integer()
    left = fields.Integer()


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
    recheck_of = fields.Integer(attribute="recheck_of_id", allow_none=True)
    recorded_by = fields.Function(
        lambda visit: visit.recorded_by.username if visit.recorded_by else None
    )
    voided = fields.Boolean()
    void_reason = fields.String(allow_none=True)


class CheckInResultSchema(VisitSchema):
    """The stored check plus the day's quota right after it."""

    quota = fields.Nested(QuotaSchema)


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

    day = fields.Date(load_default=None, validate=OFFICE_DAYS)
    status = fields.String(load_default=None, validate=validate.OneOf(admission.STATUSES))
    reason = fields.String(load_default=None, validate=validate.OneOf(admission.REASONS))
    after = fields.Integer(load_default=None, validate=ID_RANGE)
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


class ReportQuerySchema(Schema):
    """Date range of a report, both ends included."""

    class Meta:
        unknown = EXCLUDE

    start = fields.Date(data_key="from", load_default=None, validate=OFFICE_DAYS)
    end = fields.Date(data_key="to", load_default=None, validate=OFFICE_DAYS)


class DaySummarySchema(Schema):
    """Counts of one site-day."""

    day = fields.Date(attribute="start")
    limit = fields.Integer(attribute="quota")
    checks = fields.Integer()
    admitted = fields.Integer()
    refused = fields.Integer()
    rechecks = fields.Integer()
    reasons = fields.Dict(keys=fields.String(), values=fields.Integer())


class DailyReportSchema(Schema):
    """Per-day counts over a date range."""

    start = fields.Date(data_key="from")
    end = fields.Date(data_key="to")
    days = fields.List(fields.Nested(DaySummarySchema))


class ErrorSchema(Schema):
    """The JSON error document of every API failure."""

    code = fields.Integer()
    status = fields.String()
    message = fields.String()
    errors = fields.Dict()
