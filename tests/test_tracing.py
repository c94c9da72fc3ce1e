"""Contact tracing: searching a site's checks, who was inside at the same time, exports, audit."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from urllib.parse import parse_qsl

import openpyxl
import pytest
import sqlalchemy as sa

from checkin.extensions import db
from checkin.models import AuditEntry, Visit
from checkin.services import checkins, privacy, transaction
from tests.conftest import DEFAULT_NOW, PASSWORD, csrf_token_in

REFUSED = {"mask": False}


@pytest.fixture
def as_manager(login, manager_user):
    """Log the test client in as the default site's manager."""
    login(manager_user)
    return manager_user


def at(minutes: int):
    """Return the instant ``minutes`` after 10:00 in Kediri on the test day."""
    return DEFAULT_NOW + timedelta(minutes=minutes)


def listed_names(html: str) -> list[str]:
    """Return the names in a tracing table, in the order listed."""
    table = html.split('<table class="tracing">', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr class=\"status-[^\"]*\">(.*?)</tr>", table, re.S)
    return [re.findall(r"<td>([^<]*)</td>", row)[0] for row in rows]


def audit_entries(action: str) -> list[AuditEntry]:
    """Return the audit entries of one action, oldest first."""
    return list(
        db.session.scalars(
            sa.select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        )
    )


# Searching


def search(client, fields: str):
    """Post the search form with ``fields``, written as a query string, and read it in English."""
    return client.post(
        "/manage/tracing?lang=en", data=dict(parse_qsl(fields, keep_blank_values=True))
    )


@pytest.fixture
def visitors(make_visit, make_site, make_user):
    """Three visitors of the site on two days, and a namesake at another site."""
    make_visit(visitor_name="Siti Aminah", phone="081234567890", nik_last4="1234", now=at(0))
    make_visit(visitor_name="Budi Santoso", phone="085700001111", nik_last4="9876", now=at(5))
    make_visit(visitor_name="SITI Rahayu", phone="081299990000", nik_last4="5555", now=at(-24 * 60))
    elsewhere = make_site("MLG")
    make_visit(
        site_=elsewhere,
        recorder=make_user("door", site_=elsewhere),
        visitor_name="Siti Elsewhere",
        phone="081234567890",
        nik_last4="1234",
    )


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("name=siti", ["Siti Aminah", "SITI Rahayu"]),
        ("name=AMIN", ["Siti Aminah"]),
        ("phone=0812", ["Siti Aminah", "SITI Rahayu"]),
        ("phone=5700001", ["Budi Santoso"]),
        ("nik_last4=9876", ["Budi Santoso"]),
        ("nik_last4=1234", ["Siti Aminah"]),
        ("name=siti&nik_last4=5555", ["SITI Rahayu"]),
        ("name=siti&from=2026-11-25&to=2026-11-25", ["Siti Aminah"]),
        ("name=%25", []),  # a LIKE wildcard typed is a character, not "anything"
        ("name=nobody", []),
    ],
)
def test_search_finds_the_sites_checks_by_name_phone_or_nik(
    client, as_manager, visitors, query, found
):
    response = search(client, query)
    assert response.status_code == 200
    assert (listed_names(response.text) if found else []) == found
    assert "Siti Elsewhere" not in response.text


def test_a_search_lists_time_name_status_and_slot_newest_first(client, as_manager, make_visit):
    make_visit(visitor_name="Ani", now=at(0))
    make_visit(visitor_name="Ani", now=at(30), **REFUSED)
    html = search(client, "name=ani").text
    table = html.split('<table class="tracing">', 1)[1]
    rows = re.findall(r'<tr class="status-(\w+)">(.*?)</tr>', table, re.S)
    assert [status for status, _row in rows] == ["refused", "admitted"]
    assert "10:30" in rows[0][1] and "10:00" in rows[1][1]
    assert re.search(r'<td class="num">1</td>', rows[1][1])  # the admitted visitor's slot
    assert 'data-matches="2"' in html


def test_the_first_page_only_shows_the_form_and_records_nothing(client, as_manager, visitors):
    html = client.get("/manage/tracing?lang=en").text
    assert 'class="tracing"' not in html
    assert 'value="2026-10-27"' in html and 'value="2026-11-25"' in html
    assert audit_entries("traced") == []


def test_a_search_is_posted_and_the_address_searches_nothing(client, as_manager, visitors):
    html = client.get("/manage/tracing?name=siti&phone=0812&nik_last4=1234&lang=en").text
    assert '<form method="post" action="/manage/tracing"' in html
    assert 'class="tracing"' not in html and "Siti" not in html
    assert audit_entries("traced") == []


@pytest.fixture
def csrf_checked(app_config):
    app_config["WTF_CSRF_ENABLED"] = True


def test_a_search_needs_the_page_s_csrf_token(csrf_checked, client, manager_user, visitors):
    login = {"username": manager_user.username, "password": PASSWORD}
    client.post("/login", data=login | {"csrf_token": csrf_token_in(client.get("/login").text)})
    assert search(client, "name=siti").status_code == 400
    assert audit_entries("traced") == []
    token = csrf_token_in(client.get("/manage/tracing").text)
    response = search(client, f"name=siti&csrf_token={token}")
    assert listed_names(response.text) == ["Siti Aminah", "SITI Rahayu"]


def test_every_search_is_audited_with_its_terms_and_count(client, as_manager, visitors, site):
    search(client, "name=Siti&nik_last4=1234&from=2026-11-01&to=2026-11-25")
    (entry,) = audit_entries("traced")
    assert entry.user_id == as_manager.id and entry.site_id == site.id
    assert entry.detail == {
        "start": "2026-11-01",
        "end": "2026-11-25",
        "name": "Siti",
        "nik_last4": "1234",
        "rows": 1,
        "more": False,
    }
    html = client.get("/manage/audit?kind=access&lang=en").text
    assert 'data-action="traced"' in html
    assert "2026-11-01 to 2026-11-25, name Siti, NIK ending 1234: 1 check found" in html


def test_the_purge_removes_what_old_searches_looked_for_from_the_audit_log(
    client, as_manager, visitors, clock
):
    search(client, "name=Siti&phone=0812&nik_last4=1234&from=2026-11-01")
    clock.now += timedelta(days=10)
    search(client, "name=Budi&from=2026-11-01")
    with transaction.owned():
        privacy.purge_personal(30, clock.now + timedelta(days=25))
    old, recent = audit_entries("traced")
    assert old.detail == {
        "start": "2026-11-01",
        "end": "2026-11-25",
        "rows": 1,
        "more": False,
        "terms_removed": True,
    }
    assert recent.detail["name"] == "Budi"  # within the retention period: kept
    html = client.get("/manage/audit?kind=access&lang=en").text
    assert "Siti" not in html and "0812" not in html and "1234" not in html
    assert "(search terms removed after the retention period): 1 check found" in html


def test_a_search_without_terms_finds_purged_checks_by_time_without_names(
    client, as_manager, make_visit, clock
):
    make_visit(visitor_name="Siti Aminah", phone="081234567890", now=at(-40 * 24 * 60))
    with transaction.owned():
        privacy.purge_personal(30, clock.now)
    by_name = search(client, "name=siti&from=2026-10-01&to=2026-11-25")
    assert 'data-matches="0"' in by_name.text
    by_time = search(client, "from=2026-10-01&to=2026-11-25").text
    assert 'data-matches="1"' in by_time
    assert "data-removed" in by_time
    assert "Siti" not in by_time and "0812" not in by_time


def test_a_search_lists_at_most_200_and_says_so(client, as_manager, make_visit, monkeypatch):
    monkeypatch.setattr("checkin.services.tracing.MAX_RESULTS", 2)
    for minute in range(3):
        make_visit(visitor_name="Ani", now=at(minute), **REFUSED)
    html = search(client, "name=ani").text
    assert len(listed_names(html)) == 2
    assert 'data-matches="2" data-more' in html
    assert audit_entries("traced")[0].detail["more"] is True


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("from=2025-01-01&to=2026-11-25", "This range is too long: at most 366 days."),
        ("from=2026-11-25&to=2026-11-01", "The end date is before the start date."),
        ("nik_last4=12345", "Type the last 4 digits of the NIK."),
        ("nik_last4=12a4", "Type the last 4 digits of the NIK."),
        ("phone=0812abc", "Type only the digits of the phone number."),
        ("name=a%00b", "Remove the special characters."),
        ("from=1999-12-31", "Choose a day in the years 2000 to 2099."),
        ("from=not-a-day", "Not a valid date value."),
    ],
)
def test_a_bad_search_is_explained_and_records_nothing(client, as_manager, query, message):
    response = search(client, query)
    assert response.status_code == 400
    assert message in response.text
    assert audit_entries("traced") == []


@pytest.mark.parametrize("role", ["door", "head_office"])
def test_only_managers_and_admins_trace(client, login, make_user, make_visit, role):
    visit = make_visit().visit
    login(make_user(role))
    assert search(client, "name=a").status_code == 403
    for url in (
        "/manage/tracing",
        f"/manage/tracing/visits/{visit.id}",
        f"/manage/tracing/visits/{visit.id}/contacts.csv",
    ):
        assert client.get(url).status_code == 403, url


def test_an_admin_of_the_site_traces(client, login, make_user, visitors):
    login(make_user("admin"))
    assert listed_names(search(client, "nik_last4=9876").text) == ["Budi Santoso"]


# Who was here at the same time


@pytest.fixture
def morning(make_visit, make_site, make_user, manager_user):
    """A check at 10:00 and visits around it; returns the check and the visits by name."""
    check = make_visit(visitor_name="Index", now=at(0)).visit
    made = {
        name: make_visit(visitor_name=name, now=at(minutes), **fields).visit
        for name, minutes, fields in [
            ("Served until 10:15", -90, {}),
            ("Came 08:30, time unknown", -90, {}),
            ("Came 07:50", -130, {}),
            ("Served until 08:40", -120, {}),
            ("Came 10:59", 59, {}),
            ("Came 11:01", 61, {}),
            ("Refused 10:10", 10, REFUSED),
            ("Voided 10:10", 10, {}),
            ("Came 09:50", -10, {}),
        ]
    }
    finished = {"Served until 10:15": at(15), "Served until 08:40": at(-80)}
    for name, finished_at in finished.items():
        made[name].floor_state, made[name].finished_at = "done", finished_at
    voided = made["Voided 10:10"]
    checkins.void_visit(voided, manager_user, "typed twice", at(11))
    elsewhere = make_site("MLG")
    make_visit(
        site_=elsewhere, recorder=make_user("door", site_=elsewhere), visitor_name="Other site"
    )
    db.session.commit()
    return check, made


@pytest.mark.parametrize(
    ("window", "inside"),
    [
        (
            "",
            ["Came 08:30, time unknown", "Served until 10:15", "Came 09:50", "Came 10:59"],
        ),
        ("60", ["Came 08:30, time unknown", "Served until 10:15", "Came 09:50", "Came 10:59"]),
        ("15", ["Served until 10:15", "Came 09:50"]),
        (
            "240",
            [
                "Came 07:50",
                "Served until 08:40",
                "Came 08:30, time unknown",
                "Served until 10:15",
                "Came 09:50",
                "Came 10:59",
                "Came 11:01",
            ],
        ),
    ],
)
def test_same_time_lists_admitted_visitors_whose_stay_overlaps_the_window(
    client, as_manager, morning, window, inside
):
    check, _made = morning
    response = client.get(f"/manage/tracing/visits/{check.id}?window={window}&lang=en")
    assert response.status_code == 200
    assert sorted(listed_names(response.text)) == sorted(inside)
    assert "Refused" not in "".join(listed_names(response.text))
    assert "Other site" not in response.text


def test_same_time_counts_the_checks_own_time_at_a_booth(client, as_manager, make_visit):
    check = make_visit(visitor_name="Index", now=at(0)).visit
    check.floor_state, check.finished_at = "done", at(120)
    later = make_visit(visitor_name="Came 11:45", now=at(105)).visit
    db.session.commit()
    html = client.get(f"/manage/tracing/visits/{check.id}?window=15&lang=en").text
    assert listed_names(html) == [later.visitor_name]


def test_same_time_is_audited_on_the_check(client, as_manager, morning):
    check, _made = morning
    client.get(f"/manage/tracing/visits/{check.id}?window=15")
    (entry,) = audit_entries("contacts")
    assert (entry.visit_id, entry.detail) == (check.id, {"window": 15, "rows": 2})
    html = client.get("/manage/audit?lang=en").text
    assert "2026-11-25 10:00, 15 minutes before and after: 2 visitors" in html


@pytest.mark.parametrize("window", ["14", "241", "0", "-60", "sixty", "1e3"])
def test_a_window_out_of_range_is_refused(client, as_manager, morning, window):
    check, _made = morning
    response = client.get(f"/manage/tracing/visits/{check.id}?window={window}&lang=en")
    assert response.status_code == 400
    assert audit_entries("contacts") == []


def test_another_sites_check_has_no_same_time_list(client, login, make_site, make_user, make_visit):
    elsewhere = make_site("MLG")
    theirs = make_visit(site_=elsewhere, recorder=make_user("door", site_=elsewhere)).visit
    login(make_user("manager"))
    for url in (
        f"/manage/tracing/visits/{theirs.id}",
        f"/manage/tracing/visits/{theirs.id}/contacts.xlsx",
        "/manage/tracing/visits/99999999999",
    ):
        assert client.get(url).status_code == 404, url
    assert audit_entries("contacts") == audit_entries("contacts_exported") == []


def test_the_checks_page_links_to_who_was_here(client, as_manager, make_visit):
    visit = make_visit().visit
    html = client.get(f"/manage/visits/{visit.id}?lang=en").text
    assert f'href="/manage/tracing/visits/{visit.id}"' in html


def test_purged_visitors_are_listed_by_time_without_names(client, as_manager, make_visit, clock):
    check = make_visit(visitor_name="Index", now=at(-40 * 24 * 60)).visit
    make_visit(visitor_name="Siti Aminah", phone="0812", now=at(-40 * 24 * 60 + 5))
    with transaction.owned():
        privacy.purge_personal(30, clock.now)
    html = client.get(f"/manage/tracing/visits/{check.id}?lang=en").text
    assert 'data-visitors="1"' in html and "data-removed" in html
    assert "Siti" not in html and "Index" not in html


# Exports of the list


def test_the_list_exports_as_csv_and_is_audited(client, as_manager, morning):
    check, _made = morning
    response = client.get(
        f"/manage/tracing/visits/{check.id}/contacts.csv?window=15&lang=en", buffered=True
    )
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="contacts-KDR-2026-11-25-{check.id}.csv"'
    )
    rows = list(csv.reader(io.StringIO(response.text.lstrip("\ufeff"))))
    assert rows[0][:3] == ["Date", "Time", "Queue no."]
    assert sorted(row[9] for row in rows[1:]) == ["Came 09:50", "Served until 10:15"]
    (entry,) = audit_entries("contacts_exported")
    assert entry.detail == {"window": 15, "rows": 2, "format": "csv"}
    assert entry.visit_id == check.id
    assert "CSV file, Check of 2026-11-25 10:00, 15 minutes before and after: 2 visitors" in (
        client.get("/manage/audit?kind=access&lang=en").text
    )


def test_the_list_exports_as_xlsx(client, as_manager, morning):
    check, _made = morning
    response = client.get(f"/manage/tracing/visits/{check.id}/contacts.xlsx?lang=en")
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    names = sorted(row[9] for row in sheet.iter_rows(min_row=2, values_only=True))
    assert names == sorted(
        ["Came 08:30, time unknown", "Served until 10:15", "Came 09:50", "Came 10:59"]
    )
    assert audit_entries("contacts_exported")[0].detail["format"] == "xlsx"


def test_an_export_with_a_bad_window_sends_nothing(client, as_manager, morning):
    check, _made = morning
    response = client.get(f"/manage/tracing/visits/{check.id}/contacts.csv?window=5", buffered=True)
    assert response.status_code == 400
    assert audit_entries("contacts_exported") == []


def test_a_visit_is_not_its_own_contact(client, as_manager, make_visit):
    check = make_visit(visitor_name="Index").visit
    assert 'data-visitors="0"' in client.get(f"/manage/tracing/visits/{check.id}?lang=en").text
    assert db.session.get(Visit, check.id) is not None
