"""schemathesis hooks for tests/test_api_schema.py (loaded through SCHEMATHESIS_HOOKS).

schemathesis' positive_data_acceptance fails any schema-valid request that is refused. A few
refusals depend on what no JSON Schema can state; they are excused here, each with its reason,
and only when the 422 names no other field.
"""

from __future__ import annotations

import ast
import threading
from typing import Any

import schemathesis
from schemathesis.specs.openapi.checks import positive_data_acceptance

# Python 3.11 counts the AST constructor's recursion depth per interpreter, not per thread
# (python/cpython#106905): two workers describing hypothesis' filter lambdas at once (ast.parse
# of their source, as with two operations with path parameters) fail with "SystemError: AST
# constructor recursion depth mismatch". One parse at a time in schemathesis' process.
_PARSING = threading.Lock()
_parse = ast.parse


def _one_parse_at_a_time(*args: Any, **kwargs: Any) -> Any:
    with _PARSING:
        return _parse(*args, **kwargs)


ast.parse = _one_parse_at_a_time

# (method, path, field named by the 422) -> why no schema can express the rule.
STATEFUL_RULES = {
    ("POST", "/checkins", "recheck_of"): (
        "a re-test names a first reading that is waiting for one (a re-test of this site, not"
        " re-tested yet): a fact of the database, not of the request"
    ),
    ("POST", "/checkins", "recheck_of_ref"): (
        "the same rule for a first reading named by its client_ref"
    ),
    ("POST", "/checkins", "device_id"): (
        "a check recorded offline names a tablet of this site that took a lease: a fact of the"
        " database"
    ),
    ("POST", "/bookings", "session"): (
        "a booking names a session the site has, whose check-in window has not closed: facts"
        " of the database and the clock"
    ),
    ("POST", "/bookings", "contact"): (
        "a contact only for a video session: a relation between two fields, said in the"
        " document's words (OpenAPI 3.0 has no if/then, and an anyOf crashes schemathesis)"
    ),
    ("POST", "/bookings", "day"): (
        "a booking's day is today or later and the office is open that day: facts of the clock"
        " and the office calendar"
    ),
    ("POST", "/visits/{visit_id}/override", "note"): (
        'words are needed for the reason "other" only: a relation between two fields, said in'
        " the document's words"
    ),
    ("GET", "/reports/daily", "to"): (
        "`to` is not before `from` and at most 3,700 days after it: a relation between two"
        " parameters, which JSON Schema cannot state"
    ),
}


@schemathesis.check
def positive_data_accepted_but_for_stateful_rules(ctx, response, case):
    """positive_data_acceptance, excusing a 422 that names only fields of STATEFUL_RULES."""
    if response.status_code == 422 and case.meta is not None:
        fields = set(response.json().get("errors") or {})
        excused = {(case.method.upper(), case.path, field) for field in fields}
        if fields and excused <= STATEFUL_RULES.keys():
            return None
    return positive_data_acceptance(ctx, response, case)
