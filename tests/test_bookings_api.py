"""Bookings through the API (scope ``bookings``) and the command line (``flask bookings``)."""

from __future__ import annotations

from datetime import time

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from checkin.extensions import db
from checkin.models import AuditEntry, Booking, BookingSession, SiteBooking
from checkin.services import bookings, day_counter, sites
from checkin.words.audit import ACTION_LABELS, describe_audit
from tests.test_bookings import HEADER, TODAY, at, row, visitor

BODY = {
    "day": "2026-11-26",
    "session": "08:00",
    "name": "Siti Aminah",
    "phone": "+62 812 3456 7890",
    "nik_last4": "1234",
    "purpose": "jht_claim",
    "external_ref": "AO-1",
}


@pytest.fixture
def manager_headers(manager_user, auth_headers):
    return auth_headers(manager_user, ("bookings",))


@pytest.mark.parametrize(
    ("method", "path"),
    [("post", "/api/v1/bookings"), ("get", "/api/v1/bookings"), ("delete", "/api/v1/bookings/X")],
)
def test_a_token_without_the_bookings_scope_is_refused(
    client, manager_user, auth_headers, method, path
):
    headers = auth_headers(manager_user, ("checkin", "read"))
    response = getattr(client, method)(path, json=BODY, headers=headers)
    assert response.status_code == 403
    assert "bookings" in response.json["message"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Booking)) == 0


def test_door_staff_may_not_book_or_cancel_but_may_look_up(client, door_user, auth_headers):
    headers = auth_headers(door_user, ("bookings",))
    assert client.post("/api/v1/bookings", json=BODY, headers=headers).status_code == 403
    assert client.delete("/api/v1/bookings/X", headers=headers).status_code == 403
    assert client.get("/api/v1/bookings?q=siti", headers=headers).status_code == 200


def test_a_booking_posted_is_made_once_for_its_external_reference(client, manager_headers):
    made = client.post("/api/v1/bookings", json=BODY, headers=manager_headers)
    assert made.status_code == 201, made.json
    booking = made.json
    assert (booking["session"], booking["session_ends"], booking["status"]) == (
        "08:00",
        "10:00",
        "booked",
    )
    assert (booking["phone"], booking["kind"], booking["contact"]) == (
        "081234567890",
        "visit",
        None,
    )
    assert made.headers["Location"].endswith(f"q={booking['code']}")
    again = client.post("/api/v1/bookings", json=BODY, headers=manager_headers)
    assert (again.status_code, again.json["code"]) == (200, booking["code"])


def test_a_video_session_keeps_its_contact_and_a_visit_has_none(client, manager_headers):
    video = BODY | {"kind": "video", "contact": "https://meet.example.org/kdr-7"}
    made = client.post("/api/v1/bookings", json=video, headers=manager_headers)
    assert (made.status_code, made.json["contact"]) == (201, video["contact"])
    visit = BODY | {"external_ref": "AO-2", "nik_last4": "9999", "contact": "0812"}
    refused = client.post("/api/v1/bookings", json=visit, headers=manager_headers)
    assert refused.status_code == 422 and "contact" in refused.json["errors"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"session": "8 pagi"}, "session"),
        ({"session": "24:00"}, "session"),
        ({"nik_last4": "3506123412341234"}, "nik_last4"),
        ({"phone": ""}, "phone"),
        ({"name": "Siti\x00"}, "name"),
        ({"day": "1999-12-31"}, "day"),
        ({"kind": "phone"}, "kind"),
        ({"nik": "1234"}, "nik"),
    ],
)
def test_bad_input_is_refused_with_422_naming_the_field(client, manager_headers, change, field):
    response = client.post("/api/v1/bookings", json=BODY | change, headers=manager_headers)
    assert response.status_code == 422
    assert field in response.json["errors"]


def test_rules_the_stored_bookings_refuse_answer_409_and_the_rest_422(
    client, manager_headers, site
):
    db.session.add(BookingSession(site_id=site.id, starts=time(8), ends=time(10), capacity=1))
    db.session.commit()
    assert client.post("/api/v1/bookings", json=BODY, headers=manager_headers).status_code == 201
    same_person = BODY | {"external_ref": "AO-2", "session": "08:00"}
    response = client.post("/api/v1/bookings", json=same_person, headers=manager_headers)
    assert response.status_code == 409 and "phone" in response.json["errors"]
    full = BODY | {"external_ref": "AO-3", "nik_last4": "5678"}
    response = client.post("/api/v1/bookings", json=full, headers=manager_headers)
    assert response.status_code == 409 and "session" in response.json["errors"]
    unknown = BODY | {"external_ref": "AO-4", "session": "09:00"}
    response = client.post("/api/v1/bookings", json=unknown, headers=manager_headers)
    assert response.status_code == 422 and "session" in response.json["errors"]


def test_a_booking_is_cancelled_by_code_and_a_wrong_phone_is_an_unknown_code(
    client, manager_headers
):
    code = client.post("/api/v1/bookings", json=BODY, headers=manager_headers).json["code"]
    wrong = client.delete(f"/api/v1/bookings/{code}?phone=089912345678", headers=manager_headers)
    assert wrong.status_code == 404
    assert client.delete("/api/v1/bookings/ZZZZZZZZZZ", headers=manager_headers).status_code == 404
    cancelled = client.delete(
        f"/api/v1/bookings/{code.lower()}?phone=081234567890", headers=manager_headers
    )
    assert (cancelled.status_code, cancelled.json["status"]) == (200, "cancelled")
    assert client.delete(f"/api/v1/bookings/{code}", headers=manager_headers).status_code == 409


def test_a_day_s_bookings_are_listed_with_their_places_and_the_read_is_audited(
    client, manager_headers
):
    client.post("/api/v1/bookings", json=BODY, headers=manager_headers)
    listed = client.get("/api/v1/bookings?day=2026-11-26", headers=manager_headers)
    assert listed.status_code == 200
    assert [item["name"] for item in listed.json["items"]] == ["Siti Aminah"]
    assert [
        (p["session"], p["capacity"], p["booked"], p["left"]) for p in listed.json["places"]
    ] == [
        ("08:00", 30, 1, 29),
        ("10:00", 30, 0, 30),
        ("13:00", 27, 0, 27),
    ]
    today = client.get("/api/v1/bookings?q=siti", headers=manager_headers)
    assert (today.json["day"], today.json["items"]) == ("2026-11-25", [])
    details = db.session.scalars(
        sa.select(AuditEntry.detail).where(AuditEntry.action == "bookings_read")
    ).all()
    assert details == [{"day": "2026-11-26", "rows": 1}, {"day": "2026-11-25", "rows": 0}]


def test_the_openapi_document_describes_the_bookings(client):
    document = client.get("/api/v1/openapi.json").json
    assert set(document["paths"]["/bookings"]) == {"post", "get"}
    assert set(document["paths"]["/bookings/{code}"]) == {"delete"}
    assert "409" in document["paths"]["/bookings"]["post"]["responses"]


# The command line.
def write(tmp_path, *rows: str, header: str = HEADER):
    path = tmp_path / "antrian.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return str(path)


def test_the_import_command_books_a_file_and_says_so_in_the_shell_s_language(
    runner, site, tmp_path, monkeypatch
):
    monkeypatch.setenv("LANGUAGE", "en")
    file = write(tmp_path, row(1), row(2))
    result = runner.invoke(args=["bookings", "import", file, "--site", "kdr"])
    assert (result.exit_code, result.output) == (0, "2 bookings imported.\n")
    result = runner.invoke(args=["bookings", "import", file, "--site", "KDR"])
    assert result.output.splitlines()[-1] == "2 bookings were imported before: left as they are."
    monkeypatch.setenv("LANGUAGE", "id_ID:id")
    result = runner.invoke(args=["bookings", "import", file, "--site", "KDR"])
    assert result.exit_code == 0 and "imported before" not in result.output


def test_the_import_command_reports_each_refused_line_and_imports_nothing(
    runner, site, tmp_path, monkeypatch
):
    monkeypatch.setenv("LANGUAGE", "en")
    file = write(tmp_path, row(1), row(2, day="26/11/2026"), row(3, name="=1+1"))
    result = runner.invoke(args=["bookings", "import", file, "--site", "KDR"])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0].startswith("2 lines refused: nothing was imported.")
    assert lines[1].startswith("Line 3: 26/11/2026 is not a date")
    assert lines[2].startswith("Line 4: name starts like a spreadsheet formula")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Booking)) == 0


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"tanggal,sesi\n", "The first line must name the columns"),
        (b"\xff\xfe" + "date".encode("utf-16-le"), "not a CSV file in UTF-8"),
    ],
)
def test_the_import_command_refuses_a_file_it_cannot_read(
    runner, site, tmp_path, monkeypatch, content, words
):
    monkeypatch.setenv("LANGUAGE", "en")
    path = tmp_path / "antrian.csv"
    path.write_bytes(content)
    result = runner.invoke(args=["bookings", "import", str(path), "--site", "KDR"])
    assert result.exit_code == 2
    assert words in " ".join(result.output.split())


def test_the_import_command_refuses_an_unknown_site(runner, site, tmp_path):
    result = runner.invoke(args=["bookings", "import", write(tmp_path, row(1)), "--site", "XX"])
    assert result.exit_code == 2 and "XX" in result.output


def test_the_release_command_gives_walk_ins_the_places_once(runner, site, clock, monkeypatch):
    monkeypatch.setenv("LANGUAGE", "en")
    clock.now = at(10)
    assert "from 11:00" in runner.invoke(args=["bookings", "release", "--site", "KDR"]).output
    clock.now = at(11)
    result = runner.invoke(args=["bookings", "release", "--site", "KDR"])
    # No bookings: the morning's 30 (its window closed at 10:30) and the 57 later ones nobody
    # booked.
    assert result.output == "87 booked places given to walk-ins for the rest of today.\n"
    again = runner.invoke(args=["bookings", "release", "--site", "KDR"])
    assert again.output.startswith("No booked places to give")


def test_the_timer_s_release_gives_each_site_that_takes_bookings_its_places_once_when_due(
    runner, site, make_site, clock, monkeypatch
):
    monkeypatch.setenv("LANGUAGE", "en")
    later = make_site("MLG")  # takes bookings, but releases at 13:00
    make_site("BLT")  # takes no bookings: its walk-ins keep their quota
    for taking in (site, later):
        bookings.book(taking, visitor(1, day=TODAY, starts=time(13)), at(7))
    db.session.add(SiteBooking(site_id=later.id, capacity=87, release_at=time(13)))
    db.session.commit()
    clock.now = at(11)
    first = runner.invoke(args=["bookings", "release", "--due"])
    assert first.exit_code == 0
    assert first.output == "KDR: 86 booked places given to walk-ins for the rest of today.\n"
    again = runner.invoke(args=["bookings", "release", "--due"])
    assert again.output.startswith("KDR: No booked places to give")
    limits = {
        code: day_counter.quota_today(sites.site_coded(code), at(11)).limit
        for code in ("KDR", "MLG", "BLT")
    }
    assert limits == {"KDR": 60 + 86, "MLG": 60, "BLT": 60}


@pytest.mark.parametrize("choice", [[], ["--site", "KDR", "--due"]])
def test_the_release_command_needs_a_site_or_due(runner, site, monkeypatch, choice):
    monkeypatch.setenv("LANGUAGE", "en")
    result = runner.invoke(args=["bookings", "release", *choice])
    assert result.exit_code == 2 and "--site CODE or --due" in result.output


@pytest.mark.parametrize(
    ("action", "detail", "english", "indonesian"),
    [
        (
            "bookings_released",
            {"day": "2026-11-25", "places": 84},
            "84 places given to walk-ins on 2026-11-25",
            "84 tempat diberikan kepada pengunjung langsung pada 2026-11-25",
        ),
        (
            "bookings_imported",
            {"imported": 1, "already": 2},
            "1 booking imported (2 imported before)",
            "1 pemesanan diimpor (2 sudah diimpor sebelumnya)",
        ),
        (
            "bookings_read",
            {"day": "2026-11-26", "rows": 3},
            "3 bookings of 2026-11-26 read",
            "3 pemesanan tanggal 2026-11-26 dibaca",
        ),
    ],
)
def test_the_audit_log_says_what_each_booking_entry_records(
    app, site, action, detail, english, indonesian
):
    entry = AuditEntry(site_id=site.id, at=at(11), action=action, detail=detail)
    with app.test_request_context():
        with force_locale("en"):
            assert describe_audit(entry, site) == english
            assert str(ACTION_LABELS[action]) != action
        with force_locale("id"):
            assert describe_audit(entry, site) == indonesian
