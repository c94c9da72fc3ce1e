"""One role table: guards ask for a capability, and no role's name is written outside the table."""

import ast
from pathlib import Path

import pytest

from checkin.domain.roles import CAPABILITIES, Capability, Role
from checkin.models import ROLES, User

PACKAGE = Path(__file__).resolve().parent.parent / "checkin"
TABLE = PACKAGE / "domain" / "roles.py"
MIGRATIONS = PACKAGE / "migrations"


def role_strings(source: str) -> list[tuple[int, str]]:
    """Return the line and text of each string constant in ``source`` that names a role.

    A blueprint's name ("door", "admin") is an endpoint's prefix, not a role: it is left out.
    """
    tree = ast.parse(source)
    names = {
        id(call.args[0])
        for call in ast.walk(tree)
        if isinstance(call, ast.Call)
        and getattr(call.func, "id", getattr(call.func, "attr", None)) == "Blueprint"
        and call.args
    }
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and node.value in ROLES and id(node) not in names
    ]


def test_no_role_string_outside_the_table():
    found = [
        f"{path.relative_to(PACKAGE)}:{line}: {text!r}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if path != TABLE and MIGRATIONS not in path.parents
        for line, text in role_strings(path.read_text(encoding="utf-8"))
    ]
    assert found == []


def test_the_scan_sees_a_role_string():
    """A control: a guard naming a role would be found; a blueprint's name would not."""
    source = 'bp = Blueprint("door", __name__)\nguard = roles_required("door", "manager")\n'
    assert role_strings(source) == [(2, "door"), (2, "manager")]


def test_the_accounts_table_accepts_the_same_values_as_before():
    """The CHECK constraint's values are the ones migrated: the table needs no migration."""
    assert ROLES == ("door", "officer", "manager", "head_office", "admin")
    (check,) = [c for c in User.__table__.constraints if c.name == "user_role_known"]
    assert str(check.sqltext) == "role IN ('door', 'officer', 'manager', 'head_office', 'admin')"


# Who each guard let in when it named roles: the table keeps every one of them.
BEFORE = {
    Capability.STAFF_DOOR: {"door", "manager", "admin"},
    Capability.CHECK_IN: {"door", "manager"},
    Capability.LEASE: {"door", "manager"},
    Capability.CALL_VISITORS: {"officer", "manager"},
    Capability.MANAGE_SITE: {"manager", "admin"},
    Capability.TRACE_CONTACTS: {"manager", "admin"},
    Capability.READ_REPORTS: {"manager", "admin", "head_office"},
    Capability.READ_EVERY_SITE: {"head_office", "admin"},
    Capability.CHOOSE_SITE: {"head_office"},
    Capability.ADMINISTER: {"admin"},
    # Newer than the guards that named roles: a site's manager alone admits past its quota.
    Capability.ADMIT_PAST_QUOTA: {"manager"},
}


@pytest.mark.parametrize("capability", list(Capability))
def test_each_capability_is_held_by_the_roles_its_guard_named(capability):
    assert {role.value for role in Role if role.may(capability)} == BEFORE[capability]


def test_every_role_has_a_row():
    assert set(CAPABILITIES) == set(Role)


@pytest.mark.parametrize(
    ("role", "path", "status"),
    [
        ("door", "/", 200),
        ("admin", "/", 200),
        ("officer", "/", 403),
        ("officer", "/floor/", 200),
        ("door", "/floor/", 403),
        ("head_office", "/manage/log", 403),  # no site chosen yet
        ("head_office", "/manage/tracing", 403),
        ("head_office", "/headoffice", 200),
        ("manager", "/headoffice", 403),
        ("manager", "/manage/admin", 403),
        ("admin", "/manage/admin", 200),
    ],
)
def test_pages_ask_for_capabilities(client, make_user, login, role, path, status):
    login(make_user(role))
    assert client.get(path).status_code == status
