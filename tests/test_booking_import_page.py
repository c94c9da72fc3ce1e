"""The manager's bookings page, on both engines: today's sessions and their places, and a CSV
import from the national queue through the same service as ``flask bookings import``: all rows
or none, each refused line listed with its reasons, nothing stored for a file that is wrong."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa

from checkin.domain import booking_rules, limits
from checkin.extensions import db
from checkin.models import AuditEntry, Booking
from checkin.services.bookings import IMPORTED
from tests.conftest import PASSWORD, csrf_token_in
from tests.test_bookings import HEADER, csv_of, row

PAGE = "/manage/bookings"
IMPORT = "/manage/bookings/import"


def posted(client, content: bytes | None):
    """Post ``content`` as the import form's file (none: the form without one)."""
    data = {} if content is None else {"file": (io.BytesIO(content), "antrian.csv")}
    return client.post(IMPORT, data=data, content_type="multipart/form-data")


def stored_bookings() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Booking))


@pytest.fixture
def manager(login, manager_user):
    login(manager_user)
    return manager_user


def test_the_page_shows_today_s_sessions_and_the_documented_header(client, manager):
    page = client.get(PAGE)
    assert page.status_code == 200
    html = page.text
    for starts in ("08:00", "10:00", "13:00"):
        assert f'data-session="{starts}"' in html
    assert f"<code data-header>{HEADER}</code>" in html
    assert 'enctype="multipart/form-data"' in html


def test_a_file_is_imported_whole_audited_and_said(client, manager):
    file = csv_of(row(1), row(2, session="10:00"), row(3)).encode()
    answer = posted(client, file)
    assert answer.status_code == 303
    assert answer.headers["Location"].endswith(PAGE)
    assert stored_bookings() == 3
    entry = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == IMPORTED)).one()
    assert entry.user_id == manager.id
    shown = client.get(PAGE).text
    assert 'class="flash success"' in shown
    # The same file again adds nothing, and says so.
    assert posted(client, file).status_code == 303
    assert stored_bookings() == 3


def test_a_refused_line_refuses_the_file_and_the_page_lists_it_with_why(client, manager):
    text = csv_of(row(1), row(2, phone="12"), row(3, name="=1+1"), row(4))
    answer = posted(client, text.encode())
    assert answer.status_code == 422
    html = answer.text
    assert 'data-refused="2"' in html
    assert f'data-refused-line="3" data-problems="{booking_rules.PHONE_INVALID}"' in html
    assert f'data-refused-line="4" data-problems="{booking_rules.FORMULA_CELL}"' in html
    assert 'data-refused-line="2"' not in html
    assert stored_bookings() == 0


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (
            csv_of(row(1), header="tanggal,sesi,nama,hp,nik,keperluan,ref").encode(),
            "import_header_wrong",
        ),
        (b"", "import_header_wrong"),
        (csv_of(row(1)).encode("utf-16"), "import_not_csv"),
        (csv_of('2026-11-26,08:00,"Siti,08123').encode(), "import_not_csv"),
        (
            csv_of(*(row(number) for number in range(1, limits.MAX_IMPORT_ROWS + 2))).encode(),
            "import_too_large",
        ),
    ],
    ids=["wrong-header", "empty", "not-utf8", "open-quote", "too-many-rows"],
)
def test_a_file_that_cannot_be_read_is_refused_on_the_form_with_nothing_stored(
    client, manager, content, code
):
    answer = posted(client, content)
    assert answer.status_code == 422
    assert 'aria-invalid="true"' in answer.text
    assert f'data-error="{code}"' in answer.text
    assert stored_bookings() == 0


def test_the_form_without_a_file_asks_for_one(client, manager):
    answer = posted(client, None)
    assert answer.status_code == 400
    assert 'aria-invalid="true"' in answer.text


def test_a_request_larger_than_any_import_is_refused_before_it_is_read(client, manager):
    answer = posted(client, b"x" * (limits.MAX_IMPORT_BYTES + 64 * 1024))
    assert answer.status_code == 413
    assert stored_bookings() == 0


@pytest.mark.usefixtures("csrf_app_config")
def test_with_csrf_on_a_file_past_the_app_s_form_limit_reaches_the_import(app, manager_user):
    client = app.test_client()
    client.post(
        "/login",
        data={
            "username": manager_user.username,
            "password": PASSWORD,
            "csrf_token": csrf_token_in(client.get("/login").text),
        },
    )
    token = csrf_token_in(client.get(PAGE).text)
    # More than a session's places: read whole (the CSRF check reads the form first), refused.
    content = csv_of(*(row(number) for number in range(1, 1001))).encode()
    assert len(content) > app.config["MAX_CONTENT_LENGTH"]
    data = {"csrf_token": token, "file": (io.BytesIO(content), "antrian.csv")}
    answer = client.post(IMPORT, data=data, content_type="multipart/form-data")
    assert answer.status_code == 422, answer.status_code
    assert f'data-problems="{booking_rules.OVER_CAPACITY}"' in answer.text
    assert stored_bookings() == 0


def test_the_rest_of_the_app_keeps_its_small_request_limit(client, manager):
    big = {"file": (io.BytesIO(b"x" * 200_000), "antrian.csv")}
    answer = client.post("/manage/settings", data=big, content_type="multipart/form-data")
    assert answer.status_code == 413


@pytest.mark.parametrize("role", ["door", "head_office"])
def test_only_a_site_s_managers_import(client, login, make_user, role):
    login(make_user(role))
    assert client.get(PAGE).status_code == 403
    assert posted(client, csv_of(row(1)).encode()).status_code == 403
    assert stored_bookings() == 0
