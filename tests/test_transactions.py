"""Entry points own the transaction: service functions never commit or roll back their caller's.

``checkin/services/transaction.py`` is the one place a transaction ends; a few service functions
that are entry points of their own are listed below with the reason.
"""

from __future__ import annotations

import ast
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from checkin.extensions import db
from checkin.models import AuditEntry, Site, Visit
from checkin.services import sites, transaction
from tests.conftest import on_tablet

SERVICES = Path(__file__).resolve().parent.parent / "checkin" / "services"
ENDS = {"commit", "rollback"}
# (module, function): why it may end a transaction.
ALLOWED = {
    ("transaction", "owned"): "the entry points' unit of work: commits once, rolls back on error",
    # A backup or a restore is a command's whole work on the database's files, beside the
    # session: it ends the read it made before copying or replacing them, and writes nothing.
    ("backups", "_stamp"): "ends its read of the sites' zones before the copy starts",
    ("backups", "_restore_postgresql"): "ends its read of the other sessions before replacing",
}


def ends_of_transactions(source: str) -> list[tuple[str, int]]:
    """Return (function, line) of each ``commit()`` or ``rollback()`` of a session in ``source``.

    A savepoint's own ``commit()`` and ``rollback()`` (``db.session.begin_nested()``) end no
    transaction of the caller's and are not counted.
    """
    found = []
    for function in ast.walk(ast.parse(source)):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for node in ast.walk(function):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ENDS
                and _names_a_session(node.func.value)
            ):
                found.append((function.name, node.lineno))
    return found


def _names_a_session(node: ast.expr) -> bool:
    """Tell whether ``node`` is ``session``, ``db.session`` or any ``....session``."""
    return (isinstance(node, ast.Name) and node.id == "session") or (
        isinstance(node, ast.Attribute) and node.attr == "session"
    )


def test_no_service_commits_or_rolls_back_but_the_allowed():
    found = [
        f"{path.stem}.{function} (line {line})"
        for path in sorted(SERVICES.glob("*.py"))
        for function, line in ends_of_transactions(path.read_text())
        if (path.stem, function) not in ALLOWED
    ]
    assert found == []


def test_every_allowed_exception_still_ends_a_transaction():
    """An entry on the list that no longer commits or rolls back is taken off it."""
    present = {
        (path.stem, function)
        for path in sorted(SERVICES.glob("*.py"))
        for function, _line in ends_of_transactions(path.read_text())
    }
    assert set(ALLOWED) <= present


def test_the_scan_sees_a_helper_that_commits():
    """A control: a commit nested in a helper, or a rollback via a session, is found."""
    source = (
        "def helper():\n"
        "    if True:\n"
        "        db.session.commit()\n"
        "def other(session):\n"
        "    session.rollback()\n"
        "def retried():\n"
        "    savepoint = db.session.begin_nested()\n"
        "    savepoint.rollback()\n"
    )
    assert ends_of_transactions(source) == [("helper", 3), ("other", 5)]


BODY = {"temperature_c": 36.6, "hand_sanitiser": True, "mask": True, "distancing": True}


@pytest.fixture
def commits(app) -> Iterator[list[str]]:
    """Return the list of COMMITs the database sees from now on, one entry each."""
    seen: list[str] = []

    def count(connection) -> None:
        seen.append("COMMIT")

    sa.event.listen(db.engine, "commit", count)
    yield seen
    sa.event.remove(db.engine, "commit", count)


@pytest.mark.parametrize("from_a_tablet", [False, True])
def test_a_check_in_commits_once(
    client, door_user, auth_headers, pair_tablet, commits, from_a_tablet
):
    headers = auth_headers(door_user)
    if from_a_tablet:
        on_tablet(client, pair_tablet())
    commits.clear()
    body = BODY | {"client_ref": str(uuid.uuid4())}
    response = client.post("/api/v1/checkins", json=body, headers=headers)
    assert response.status_code == 201
    assert commits == ["COMMIT"]
    assert db.session.get(Visit, response.json["id"]).client_ref == body["client_ref"]


def test_a_check_posted_twice_at_once_is_answered_as_stored(client, door_user, auth_headers):
    """The second post loses to the unique key: rolled back, it answers with the first."""
    headers = auth_headers(door_user)
    body = BODY | {"client_ref": str(uuid.uuid4())}
    first = client.post("/api/v1/checkins", json=body, headers=headers)
    again = client.post("/api/v1/checkins", json=body, headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json["id"] == first.json["id"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Visit)) == 1


def test_a_refused_request_stores_nothing_it_wrote_before_the_refusal(
    client, as_admin, site, make_visit, commits
):
    """The name is changed before the quota is refused: the whole request is rolled back."""
    make_visit()
    make_visit()
    entries = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry))
    commits.clear()
    form = {"name": "Kantor Baru", "timezone": "Asia/Jakarta", "daily_quota": "1"}
    response = client.post(f"/manage/admin/sites/{site.id}", data=form)
    assert response.status_code == 400
    assert commits == []
    db.session.expire_all()
    assert (db.session.get(Site, site.id).name, db.session.get(Site, site.id).daily_quota) == (
        "Kantor Cabang KDR",
        60,
    )
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == entries


def test_an_owned_block_rolls_back_what_it_added_when_it_raises(app, site):
    with pytest.raises(LookupError), transaction.owned():
        sites.add_site("MLG", "Kantor Cabang Malang")
        raise LookupError("anything that goes wrong after the write")
    assert db.session.scalar(sa.select(Site).where(Site.code == "MLG")) is None


def test_owned_blocks_do_not_nest(app, site):
    """An inner block would commit the outer one's work half done: it refuses, and the outer
    block rolls back."""
    with pytest.raises(RuntimeError), transaction.owned():
        sites.add_site("MLG", "Kantor Cabang Malang")
        with transaction.owned():
            pass
    assert db.session.scalar(sa.select(Site).where(Site.code == "MLG")) is None
