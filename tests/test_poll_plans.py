"""What the service floor's screens and buttons ask of the database all day goes through indexes.

A console polls every 2.5 s, a display every 1.5 s, a door tablet every 5 s, at every branch:
a statement among them that reads a whole table (every site, every year of visits) costs more
each day. Each request below runs with its statements recorded; each statement is then
explained with its own parameters, and none may read a table but by an index.

On PostgreSQL the plans are made on a realistic database, analysed: the test's rows are copied
as the branches of a country. On a few rows a plan that reads a whole table or index is the
cheapest and right, and whether the planner knew how few they were depended on when
autovacuum last looked at the tables, so the test passed or failed by the order of the run.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from checkin.domain.calling import CALLED, SERVING
from checkin.extensions import db
from checkin.models import Visit
from checkin.services import display, transaction
from tests.conftest import PASSWORD

# Copies of the test's site with all its rows, and the id distance between two copies.
BRANCHES = 2000
ID_STEP = 100_000
POLLS = ("/floor/state", "/floor/", "/api/v1/quota/today", "/display/board.json")
POLLED_BY = {"/floor/state": "officer", "/floor/": "officer", "/api/v1/quota/today": "door"}
# An officer's presses on booth 1, in an order each of them is taken in.
PRESSES = ("open", "call", "recall", "start", "done", "call", "recall", "no_show", "close")
ON_THE_VISIT = ("recall", "start", "done", "no_show")


@contextmanager
def statements_run() -> Iterator[list[tuple[str, Any]]]:
    """Record each statement the app sends, with its parameters."""
    seen: list[tuple[str, Any]] = []

    def record(_connection, _cursor, statement, parameters, _context, _many) -> None:
        seen.append((statement, parameters))

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)


def whole_table_reads(statement: str, parameters: Any) -> list[str]:
    """Return each read of a whole table (or a whole index) in the plan of ``statement``."""
    with db.engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            plan = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
            # SEARCH finds rows by an index; SCAN reads them all, even "USING INDEX".
            return [
                detail
                for *_ids, detail in plan
                if detail.startswith("SCAN") and not detail.startswith("SCAN CONSTANT ROW")
            ]
        # PostgreSQL reads a table of a few rows whole whatever its indexes: make it say
        # whether it could do otherwise.
        connection.exec_driver_sql("SET enable_seqscan = off")
        plan = connection.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {statement}", parameters)
        (document,) = plan.one()
        leading = dict(connection.exec_driver_sql(LEADING_COLUMNS).all())
        return [
            f"{node['Node Type']} {node.get('Relation Name') or node['Index Name']}"
            for node in walk(document[0]["Plan"])
            if node["Node Type"] == "Seq Scan"
            or ("Index Name" in node and not found_by(node, leading[node["Index Name"]]))
        ]


# Each index of the database with the first of its columns.
LEADING_COLUMNS = """
SELECT index.relname, attribute.attname
FROM pg_index
JOIN pg_class AS index ON index.oid = pg_index.indexrelid
JOIN pg_attribute AS attribute
  ON attribute.attrelid = pg_index.indrelid AND attribute.attnum = pg_index.indkey[0]
"""


def found_by(node: dict[str, Any], leading_column: str) -> bool:
    """Tell whether an index scan seeks by the index's first column, rather than read it whole.

    PostgreSQL also applies a condition on a later column while it reads the whole index.
    """
    return re.search(rf"\b{leading_column}\b", node.get("Index Cond", "")) is not None


def walk(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Yield a plan node and every node under it."""
    yield node
    for child in node.get("Plans", []):
        yield from walk(child)


def logged_in(app: Flask, username: str) -> FlaskClient:
    """Return a client logged in as ``username``."""
    client = app.test_client()
    response = client.post("/login", data={"username": username, "password": PASSWORD})
    assert response.status_code == 302
    return client


@pytest.fixture
def screens(app, site, make_user, make_visit, clock) -> dict[str, FlaskClient]:
    """A morning of five admitted visitors; return the officer's, the door's and the TV's client."""
    for _visitor in range(5):
        make_visit()
    clients = {role: logged_in(app, make_user(role).username) for role in ("officer", "door")}
    manager = make_user("manager")
    with transaction.owned():
        secret = display.issue_display_token(site, "TV", manager, clock.now)
    clients["display"] = app.test_client()
    assert clients["display"].get(f"/display?token={secret}").status_code == 302
    return clients


@pytest.fixture
def branches(app) -> Iterator[None]:
    """On PostgreSQL, copy every row of every table as BRANCHES other branches, each copy with its
    own ids and unique values, and analyse the tables; empty them all afterwards."""
    if db.engine.dialect.name != "postgresql":
        yield
        return
    tables = db.metadata.sorted_tables
    with db.engine.begin() as connection:
        connection.exec_driver_sql("SET LOCAL statement_timeout = 0")
        for table in tables:
            columns = [
                column for column in table.c if not column.server_default or column.primary_key
            ]
            values = ", ".join(copied(table, column) for column in columns)
            names = ", ".join(column.name for column in columns)
            connection.exec_driver_sql(
                f"INSERT INTO {table.name} ({names}) "
                f"SELECT {values} FROM {table.name}, generate_series(1, {BRANCHES}) AS branch"
            )
        connection.exec_driver_sql("ANALYZE")
    yield
    db.session.rollback()
    # Deleting the copies row by row checks each foreign key by a whole-table read.
    with db.engine.begin() as connection:
        connection.exec_driver_sql(
            f"TRUNCATE {', '.join(table.name for table in tables)} RESTART IDENTITY"
        )


def copied(table: sa.Table, column: sa.Column) -> str:
    """Return the SQL value of ``column`` in a copy of a row: ids moved by the copy's step,
    text that is a key or unique on its own replaced by a digest of the value and the copy."""
    text = isinstance(column.type, sa.String)
    if (column.primary_key or column.foreign_keys) and not text:
        return f"{column.name} + branch * {ID_STEP}"
    unique_alone = column.unique or any(
        isinstance(constraint, sa.UniqueConstraint) and list(constraint.columns) == [column]
        for constraint in table.constraints
    )
    if text and (unique_alone or column.primary_key):
        return f"left(md5({column.name} || ':' || branch), {min(column.type.length, 32)})"
    return column.name


def at_booth() -> int | None:
    """Return the id of the visitor called to or served at a booth."""
    return db.session.scalar(sa.select(Visit.id).where(Visit.floor_state.in_((CALLED, SERVING))))


def test_no_poll_or_press_of_the_floor_reads_a_whole_table(screens, branches) -> None:
    requests = [(POLLED_BY.get(path, "display"), path, None) for path in POLLS]
    for press in PRESSES:
        requests.append(("officer", f"/floor/booths/1/{press}", press in ON_THE_VISIT))
    requests += requests[: len(POLLS)]
    asked = []
    for role, path, names_the_visit in requests:
        data = {"visit": str(at_booth())} if names_the_visit else {}
        with statements_run() as seen:
            if names_the_visit is None:
                assert screens[role].get(path).status_code == 200, path
            else:
                assert screens[role].post(path, data=data).status_code == 303, path
        asked += seen
    assert len(asked) > 20, "too few statements seen: this test checks nothing"
    whole = {
        statement: reads
        for statement, parameters in asked
        if (reads := whole_table_reads(statement, parameters))
    }
    assert whole == {}


# What each screen's poll may send at most, answered unchanged and answered in full: who asks
# (its account or token, with its site in the same statement), then what the screen shows.
# Every branch's screens poll all day, so a statement more is a few hundred more a second for
# the whole agency.
STATEMENTS_PER_POLL = {
    # The account with its site, the waiting visitors, the booths with who is at them.
    "/floor/state": (3, 3),
    # The account with its site, the day's counter row, the visitors inside.
    "/api/v1/quota/today": (3, 3),
    # The display's token with its site and the board's version; in full, the board's site,
    # its calls and the waiting count.
    "/display/board.json": (2, 5),
}


@pytest.mark.parametrize("path", STATEMENTS_PER_POLL)
def test_each_screen_s_poll_sends_a_few_statements_whether_or_not_anything_changed(
    screens, path
) -> None:
    client = screens[POLLED_BY.get(path, "display")]
    with statements_run() as first_time:
        first = client.get(path)
    assert first.status_code == 200
    tag = first.headers.get("ETag")
    with statements_run() as unchanged:
        again = client.get(path, headers={"If-None-Match": tag} if tag else {})
    assert again.status_code == (304 if tag else 200)
    at_most_unchanged, at_most_in_full = STATEMENTS_PER_POLL[path]
    assert 0 < len(unchanged) <= at_most_unchanged, [s for s, _p in unchanged]
    assert 0 < len(first_time) <= at_most_in_full, [s for s, _p in first_time]
