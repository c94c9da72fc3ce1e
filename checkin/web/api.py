"""JSON API v1: check-ins from tablets and scanners, the quota, the log and reports."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, replace
from datetime import date, datetime, time
from functools import wraps
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request, session, url_for
from flask_babel import force_locale
from marshmallow import Schema, ValidationError
from werkzeug.exceptions import (
    BadRequest,
    Forbidden,
    HTTPException,
    NotFound,
    RequestEntityTooLarge,
)

from checkin.domain import limits
from checkin.domain.errors import ServiceError
from checkin.domain.roles import Capability, Role
from checkin.extensions import csrf
from checkin.models import Device, Visit
from checkin.services import (
    audit,
    bookings,
    day_counter,
    entry_log,
    floor,
    leases,
    overrides,
    pairing,
    reports,
    transaction,
)
from checkin.web import booking_schemas
from checkin.web import openapi as openapi_document
from checkin.web.common import (
    TABLET_COOKIE,
    acting_user,
    current_site,
    door_tablet,
    now,
    own_visit,
    record_check,
    requires,
)
from checkin.web.errors import KEPT, json_error
from checkin.web.schemas import (
    CheckInResultSchema,
    CheckInSchema,
    DailyReportSchema,
    DoorBookingSchema,
    LeaseRequestSchema,
    LeaseSchema,
    OverrideSchema,
    QuotaSchema,
    ReportQuerySchema,
    SlotReturnSchema,
    TabletSchema,
    VisitPageSchema,
    VisitQuerySchema,
)
from checkin.words.errors import conflict_text, error_text

bp = Blueprint("api", __name__, url_prefix="/api/v1")
# Token clients carry no cookie to forge; browser sessions are CSRF-checked in require_csrf.
csrf.exempt(bp)

# Built once: schemas are stateless, and building one per request costs more than using it.
CHECK_IN_RESULT = CheckInResultSchema()
CHECK_IN = CheckInSchema()
DAILY_REPORT = DailyReportSchema()
DOOR_BOOKING = DoorBookingSchema()
LEASE = LeaseSchema()
LEASE_REQUEST = LeaseRequestSchema()
OVERRIDE = OverrideSchema()
QUOTA = QuotaSchema()
REPORT_QUERY = ReportQuerySchema()
SLOT_RETURN = SlotReturnSchema()
TABLET = TabletSchema()
VISIT_PAGE = VisitPageSchema()
VISIT_QUERY = VisitQuerySchema()
BOOKING = booking_schemas.BookingSchema()
BOOKING_LIST = booking_schemas.BookingListSchema()
BOOKING_QUERY = booking_schemas.BookingQuerySchema()
CANCEL_QUERY = booking_schemas.CancelQuerySchema()
DOOR_LIST = booking_schemas.DoorListSchema()
NEW_BOOKING = booking_schemas.NewBookingSchema()


class InvalidInputError(HTTPException):
    """422 with the per-field messages in ``errors``."""

    code = 422
    api_code = "validation"
    description = "The input is invalid; nothing was stored."

    def __init__(self, errors: dict[str, Any]) -> None:
        super().__init__()
        self.errors = errors


@bp.before_request
def require_csrf() -> None:
    """Check the CSRF token of every write made with a logged-in browser session.

    A session cookie needs the token even beside an Authorization header: when the session
    logs the request in, the header proves nothing about where the request came from.
    """
    if (
        request.method not in ("GET", "HEAD", "OPTIONS")
        and "_user_id" in session  # where Flask-Login keeps a logged-in session's account
        and current_app.config.get("WTF_CSRF_ENABLED", True)
    ):
        csrf.protect()


def load(schema: Schema, data: Any) -> Any:
    """Validate ``data`` with ``schema`` or answer 422 with the field errors."""
    try:
        return schema.load(data)
    except ValidationError as exc:
        errors = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        raise InvalidInputError(errors) from exc


class RepeatedFieldError(BadRequest):
    """400 naming a key an object of the body gives twice."""

    def __init__(self, key: str) -> None:
        super().__init__(f"The body gives '{key}' more than once: send each field once.")
        self.errors = {key: ["Given more than once."]}


class _RepeatedKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """Build a JSON object, refusing a repeated key.

    The json module keeps the last value of a repeated key, where another parser (a proxy,
    a log, the tablet's own) may keep the first: 39.9 then 36.5 would be read two ways.
    """
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise _RepeatedKey(key)
        found[key] = value
    return found


def body_bytes() -> bytes:
    """Return the raw body, or answer 413 when it does not fit the limit.

    Werkzeug stops reading a body without a length (chunked) at the limit without complaint,
    so a cut-off body would read as broken JSON. Reading on from the limit raises 413; a
    chunked body of exactly the limit gets it too, as nothing tells it from a longer one.
    """
    raw = request.get_data(cache=True)
    limit = request.max_content_length
    unsized = request.content_length is None
    if unsized and limit is not None and len(raw) >= limit and request.stream.read(1):
        raise RequestEntityTooLarge()  # a stream that did not stop at the limit itself
    return raw


def json_body() -> Any:
    """Return the parsed JSON body or answer 400 (413 when too large)."""
    if not request.is_json:
        raise BadRequest("Send a JSON body with 'Content-Type: application/json'.")
    raw = body_bytes()
    try:
        body = json.loads(raw, object_pairs_hook=unique_keys)
    except _RepeatedKey as repeated:
        raise RepeatedFieldError(repeated.key) from None
    except RecursionError:
        # The json module recurses per nesting level; 64 KB of "[" is deeper than Python goes.
        raise BadRequest("The body nests too deeply.") from None
    except ValueError:  # not JSON, not UTF-8, or an integer with thousands of digits
        raise BadRequest("The body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise BadRequest("The body must be a JSON object.")
    return body


def allowed(capability: Capability, scope: str) -> Callable:
    """Let a view run for accounts that may do ``capability``; a bearer token must also have
    been given ``scope``."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        @requires(capability)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            token_scopes = g.get("token_scopes")  # None: a browser session, which has no scopes
            if token_scopes is not None and scope not in token_scopes:
                raise Forbidden(f"This token may not do this: it needs the scope '{scope}'.")
            return view(*args, **kwargs)

        return guarded

    return decorate


@bp.post("/checkins")
@allowed(Capability.CHECK_IN, scope="checkin")
def create_checkin() -> tuple[Response, int, dict[str, str]]:
    """Screen one visitor and store the check; 201 with the decision and the quota.

    The same ``client_ref`` again: 200 with the check as stored. A check recorded offline
    that cannot be stored as the tablet decided: 409, kept for the manager.
    """
    data, decided = load(CHECK_IN, json_body())
    tablet = door_tablet()
    if tablet is not None:
        data = replace(data, tablet_id=tablet.id)
    result = record_check(current_site(), acting_user(), data, decided)
    if result.conflict is not None:
        with force_locale("en"):
            words = conflict_text(result.conflict.cause)
        kept = json_error(409, "Kept for the manager to look at.", {"offline": [words]}, KEPT)
        return kept, 409, {}
    body = CHECK_IN_RESULT.dump(result.visit) | {"quota": QUOTA.dump(result.quota)}
    if result.visit.booking_id is not None:
        body["booking"] = DOOR_BOOKING.dump(door_booking(result.visit))
    status = 201 if result.created else 200
    return jsonify(body), status, {"Location": url_for("api.list_checkins", day=body["day"])}


@bp.post("/visits/<id:visit_id>/override")
@allowed(Capability.ADMIT_PAST_QUOTA, scope="checkin")
def admit_past_quota(visit_id: int) -> Response:
    """Admit the visitor of today's check refused for the full quota alone, with a reason;
    counted apart from the quota and audited. 200 with the check, now admitted, and the quota."""
    wanted = load(OVERRIDE, json_body())
    refused = own_visit(visit_id)
    with transaction.owned():
        overrides.admit_past_quota(refused, acting_user(), wanted["reason"], wanted["note"], now())
    quota = day_counter.quota_today(refused.site, now())
    return jsonify(CHECK_IN_RESULT.dump(refused) | {"quota": QUOTA.dump(quota)})


def door_booking(visit: Visit) -> dict[str, Any]:
    """Return the booking a visit showed and the rules it met at the door, as the API says it."""
    door = bookings.door_answer(visit)
    return asdict(door) | {"code": visit.booking.code, "took_place": bookings.took_place(visit)}


def this_tablet(device_id: str | None) -> Device:
    """Return the paired tablet making this request (the one ``device_id`` names, if given).

    Only a tablet a manager paired, of the account's own site, holds slots: any other browser
    or id is not found here, so no account can make up tablets to take slots.
    """
    tablet = door_tablet()
    if tablet is None or device_id not in (None, tablet.public_id):
        raise NotFound("This browser is not a paired door tablet of this site: it checks online.")
    return tablet


@bp.post("/leases")
@allowed(Capability.LEASE, scope="checkin")
def take_lease() -> Response:
    """Top this paired tablet's lease of today up; return its slots and the rules to decide by."""
    wanted = load(LEASE_REQUEST, json_body())
    tablet = this_tablet(wanted["device_id"])
    with transaction.owned():
        lease = leases.top_up(tablet, now())
    return jsonify(LEASE.dump(lease))


@bp.get("/leases/<device:device_id>")
@allowed(Capability.STAFF_DOOR, scope="checkin")
def lease_of(device_id: str) -> Response:
    """Return the slots of today a tablet still holds, without taking more.

    Door staff read their own tablet's; a manager any tablet's of the site.
    """
    own = acting_user().role == Role.DOOR
    device = this_tablet(device_id) if own else leases.device_of(current_site(), device_id)
    return jsonify(LEASE.dump(leases.lease_of(device, now())))


@bp.get("/leases/<device:device_id>/bookings")
@allowed(Capability.LEASE, scope="checkin")
def door_bookings(device_id: str) -> Response:
    """Return today's bookings of visits for this paired tablet to find and admit offline.

    Only a paired tablet, as for its lease. The answer has an ETag: sent again with
    If-None-Match, an unchanged list is 304 and nothing. A list sent is audited as a read.
    """
    tablet = this_tablet(device_id)
    site, moment = tablet.site, now()
    listed = bookings.door_list(site, moment)
    response = jsonify(DOOR_LIST.dump(listed))
    response.add_etag()
    response.headers["Cache-Control"] = "private, no-store"
    if request.if_none_match.contains(response.get_etag()[0]):
        return response.make_conditional(request)
    detail = {"day": listed.day.isoformat(), "rows": len(listed.bookings)}
    with transaction.owned():
        audit.record(site, acting_user(), moment, audit.BOOKINGS_READ, detail)
    return response


@bp.delete("/leases/<device:device_id>")
@allowed(Capability.MANAGE_SITE, scope="checkin")
def revoke_lease(device_id: str) -> Response:
    """Stop a tablet leasing for the rest of its day (audited); its unused slots stay held
    until it gives them back or a manager releases them."""
    device = leases.device_of(current_site(), device_id)
    with transaction.owned():
        revoked = leases.revoke(device, acting_user(), now())
    return jsonify({"device_id": device_id, "revoked": revoked})


def credential_holder() -> Device:
    """Return the tablet whose credential this browser holds, paired still or not; else 404."""
    credential = request.cookies.get(TABLET_COOKIE)
    tablet = pairing.holder_of(credential) if credential else None
    if tablet is None:
        raise NotFound("This browser is not a door tablet.")
    return tablet


@bp.post("/leases/return")
def give_back() -> Response:
    """Take back slots this tablet holds unused; it has dropped them and will not give them out.

    Only the tablet itself can say so: it proves who it is with its credential, which still
    does this one thing once the tablet is unpaired. A slot not held unused by it is left as
    it is, so the same message sent again changes nothing.
    """
    given = load(SLOT_RETURN, json_body())
    tablet = credential_holder()
    with transaction.owned():
        returned = leases.give_back(tablet, given["day"], given["slots"], now())
    quota = day_counter.quota_today(tablet.site, now())
    return jsonify({"returned": returned, "quota": QUOTA.dump(quota)})


@bp.get("/tablet")
def tablet_status() -> Response:
    """Tell this browser whether it is still a paired door tablet, and of which site."""
    return jsonify(TABLET.dump(credential_holder()))


@bp.get("/quota/today")
@allowed(Capability.STAFF_DOOR, scope="checkin")
def quota_today() -> Response:
    """Return today's walk-in quota of the account's site and the visitors inside now."""
    site, moment = current_site(), now()
    quota = day_counter.quota_today(site, moment)
    return jsonify(QUOTA.dump(quota) | {"inside_now": floor.inside_now(site, moment)})


@bp.get("/checkins")
@allowed(Capability.MANAGE_SITE, scope="read")
def list_checkins() -> Response:
    """Return one page of a day's checks in time order."""
    query = load(VISIT_QUERY, request.args)
    site = current_site()
    day = query["day"] or site.local_day(now())
    page = entry_log.entry_log(
        site,
        day,
        status=query["status"],
        reason=query["reason"],
        after=query["after"],
        limit=query["limit"],
    )
    with transaction.owned():  # the read recorded before the checks are sent
        audit.record_api_read(site, acting_user(), now(), day, len(page.visits))
    return jsonify(
        VISIT_PAGE.dump({"day": day, "items": page.visits, "next_after": page.next_after})
    )


@bp.get("/reports/daily")
@allowed(Capability.MANAGE_SITE, scope="read")
def daily_report() -> Response:
    """Return per-day counts and refusal reasons over a date range (last 30 days by default)."""
    query = load(REPORT_QUERY, request.args)
    site = current_site()
    start, end = limits.report_range(query["start"], query["end"], site.local_day(now()))
    floor = reports.floor_by_day(site, start, end)
    days = [
        asdict(totals) | {"floor": floor[totals.start]}
        for totals in reports.daily_report(site, start, end, site.local_day(now()))
    ]
    return jsonify(DAILY_REPORT.dump({"start": start, "end": end, "days": days}))


@bp.post("/bookings")
@allowed(Capability.MANAGE_SITE, scope="bookings")
def create_booking() -> tuple[Response, int, dict[str, str]]:
    """Book a place of a session; 201 with the booking and its code.

    The same ``external_ref`` again: 200 with the booking made for it; nothing new is stored.
    """
    wanted = load(NEW_BOOKING, json_body())
    with transaction.owned():
        booked = bookings.book(current_site(), wanted, now())
    body = BOOKING.dump(booked.booking)
    location = url_for("api.list_bookings", q=body["code"])
    return jsonify(body), 201 if booked.created else 200, {"Location": location}


@bp.get("/bookings")
@allowed(Capability.STAFF_DOOR, scope="bookings")
def list_bookings() -> Response:
    """Return a day's bookings (today's unless told), or those of it a search finds (a code:
    of any day), with each session's places; the read is audited before the answer is sent."""
    query = load(BOOKING_QUERY, request.args)
    site, moment = current_site(), now()
    day = query["day"] or site.local_day(moment)
    if query["q"] is not None:
        items = bookings.find(site, query["q"], day)
    else:
        items = bookings.day_bookings(site, day)
    body = BOOKING_LIST.dump({"day": day, "places": bookings.places(site, day), "items": items})
    detail = {"day": day.isoformat(), "rows": len(items)}
    with transaction.owned():
        audit.record(site, acting_user(), moment, audit.BOOKINGS_READ, detail)
    return jsonify(body)


@bp.delete("/bookings/<code>")
@allowed(Capability.MANAGE_SITE, scope="bookings")
def cancel_booking(code: str) -> Response:
    """Cancel a booking not yet used, by its code (and the visitor's phone, if given)."""
    query = load(CANCEL_QUERY, request.args)
    with transaction.owned():
        booking = bookings.cancel(current_site(), code, now(), phone=query["phone"])
    return jsonify(BOOKING.dump(booking))


@bp.get("/openapi.json")
def openapi() -> Response:
    """Return the OpenAPI 3 document of this API."""
    return jsonify(openapi_document.build().to_dict())


@bp.errorhandler(InvalidInputError)
def invalid_input(error: InvalidInputError) -> Response:
    """Answer 422 with the documented error shape."""
    return json_error(422, error.description, error.errors, error.api_code)


@bp.errorhandler(ServiceError)
def refused_by_a_rule(error: ServiceError) -> Response:
    """Answer with the rule's status, code, words (in English, also under the field at fault)
    and facts."""
    with force_locale("en"):
        words = error_text(error)
    errors = {error.field: [words]} if error.field else {}
    return json_error(error.status, words, errors, error.code, json_facts(error))


def json_facts(error: ServiceError) -> dict[str, Any]:
    """Return an error's facts as JSON values: instants, days and hours in ISO 8601."""
    return {
        name: value.isoformat() if isinstance(value, date | datetime | time) else value
        for name, value in error.facts().items()
    }
