"""Access to personal data is accountable: who opened a check or exported checks, and when."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from checkin.extensions import db
from checkin.models import AuditEntry
from checkin.services import audit, checkins, transaction

NAME = "Siti Zulaikha Auditest"
PHONE = "081277660000"


@pytest.fixture
def as_manager(login, manager_user):
    """Log the test client in as the default site's manager."""
    login(manager_user)
    return manager_user


def access_entries() -> list[AuditEntry]:
    """Return every access entry, oldest first."""
    return list(
        db.session.scalars(
            sa.select(AuditEntry)
            .where(AuditEntry.action.in_(audit.ACCESS_ACTIONS))
            .order_by(AuditEntry.id)
        )
    )


def test_opening_a_check_records_who_saw_it_and_when(client, as_manager, make_visit, clock, site):
    visit = make_visit(visitor_name=NAME, phone=PHONE).visit
    clock.now += timedelta(minutes=7)
    assert NAME in client.get(f"/manage/visits/{visit.id}").text
    [entry] = access_entries()
    assert (entry.action, entry.user_id, entry.site_id, entry.visit_id, entry.at) == (
        "viewed",
        as_manager.id,
        site.id,
        visit.id,
        clock.now,
    )


@pytest.mark.parametrize(
    ("extension", "query", "detail"),
    [
        # Without a range: the 30 days up to today.
        ("csv", "", {"start": "2026-10-27", "end": "2026-11-25", "format": "csv", "rows": 3}),
        (
            "csv",
            "?from=2026-11-25&to=2026-11-25",
            {"start": "2026-11-25", "end": "2026-11-25", "format": "csv", "rows": 2},
        ),
        (
            "xlsx",
            "?from=2026-11-20&to=2026-11-25",
            {"start": "2026-11-20", "end": "2026-11-25", "format": "xlsx", "rows": 3},
        ),
        (
            "csv",
            "?from=2026-11-01&to=2026-11-19",
            {"start": "2026-11-01", "end": "2026-11-19", "format": "csv", "rows": 0},
        ),
    ],
)
def test_an_export_records_who_took_which_days_in_which_format_and_how_many_rows(
    client, as_manager, make_visit, clock, extension, query, detail
):
    make_visit(now=clock.now - timedelta(days=3), visitor_name=NAME)
    make_visit(visitor_name=NAME)
    make_visit(mask=False)
    response = client.get(f"/manage/export.{extension}{query}", buffered=True)
    assert response.status_code == 200
    [entry] = access_entries()
    assert (entry.action, entry.user_id, entry.at, entry.detail) == (
        "exported",
        as_manager.id,
        clock.now,
        detail,
    )


@pytest.mark.parametrize(
    "url", ["/manage/export.csv?from=2026-11-26&to=2026-11-20", "/manage/visits/999"]
)
def test_a_refused_request_records_no_access(client, as_manager, make_visit, url):
    make_visit(visitor_name=NAME)
    assert client.get(url).status_code in (400, 404)
    assert access_entries() == []


def test_another_site_s_check_is_not_found_and_not_recorded(
    client, login, make_site, make_user, make_visit
):
    other = make_site("BLT")
    visit = make_visit(site_=other, recorder=make_user("door", other), visitor_name=NAME).visit
    login(make_user("manager"))
    assert client.get(f"/manage/visits/{visit.id}").status_code == 404
    assert access_entries() == []


def test_the_door_s_own_result_page_is_not_an_access_to_record(client, login, door_user):
    login(door_user)
    form = {"temperature": "36.5", "hand_sanitiser": "y", "mask": "y", "distancing": "y"}
    response = client.post("/", data=form | {"visitor_name": NAME})
    assert NAME in client.get(response.location).text
    assert access_entries() == []


FAILING_AUDIT = {
    "sqlite": [
        "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_entry "
        "BEGIN SELECT RAISE(ABORT, 'disk is full'); END"
    ],
    "postgresql": [
        "CREATE FUNCTION refuse_audit() RETURNS trigger AS $$ BEGIN "
        "RAISE EXCEPTION 'disk is full'; END $$ LANGUAGE plpgsql",
        "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_entry "
        "FOR EACH ROW EXECUTE FUNCTION refuse_audit()",
    ],
}
DROP_FAILING_AUDIT = {
    "sqlite": ["DROP TRIGGER refuse_audit"],
    "postgresql": ["DROP TRIGGER refuse_audit ON audit_entry", "DROP FUNCTION refuse_audit()"],
}


@pytest.fixture
def failing_audit(app):
    """Make the database refuse every new audit entry, as a full disk would, until the test ends."""
    dialect = db.engine.dialect.name
    for statement in FAILING_AUDIT[dialect]:
        db.session.execute(sa.text(statement))
    db.session.commit()
    yield
    for statement in DROP_FAILING_AUDIT[dialect]:
        db.session.execute(sa.text(statement))
    db.session.commit()


@pytest.mark.parametrize(
    "url", ["/manage/visits/{id}", "/manage/export.csv", "/manage/export.xlsx"]
)
def test_personal_data_that_cannot_be_recorded_as_seen_is_not_shown(
    client, as_manager, make_visit, failing_audit, url
):
    visit = make_visit(visitor_name=NAME, phone=PHONE).visit
    response = client.get(url.format(id=visit.id), buffered=True)
    assert response.status_code == 500
    assert NAME.encode() not in response.data and PHONE.encode() not in response.data


def test_an_api_read_is_recorded_as_an_export_of_that_day(app, manager_user, site, clock):
    day = site.local_day(clock.now)
    audit.record_api_read(site, manager_user, clock.now, day, 12)
    [entry] = access_entries()
    assert (entry.action, entry.user_id, entry.site_id, entry.detail) == (
        "exported",
        manager_user.id,
        site.id,
        {"start": "2026-11-25", "end": "2026-11-25", "format": "api", "rows": 12},
    )


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        (
            "en",
            [
                "Check viewed",
                "Check of 2026-11-25 10:00</a>",
                "Checks exported",
                "CSV file, 2026-10-27 to 2026-11-25: 1 row",
                "XLSX file, 2026-11-20 to 2026-11-25: 1 row",
                "JSON API, 2026-11-25: 12 rows",
            ],
        ),
        (
            "id",
            [
                "Pemeriksaan dilihat",
                "Pemeriksaan 2026-11-25 10:00</a>",
                "Pemeriksaan diekspor",
                "File CSV, 2026-10-27 s.d. 2026-11-25: 1 baris",
                "File XLSX, 2026-11-20 s.d. 2026-11-25: 1 baris",
                "API JSON, 2026-11-25: 12 baris",
            ],
        ),
    ],
)
def test_the_audit_page_says_who_saw_what_in_the_reader_s_language(
    client, as_manager, make_visit, site, clock, lang, words
):
    visit = make_visit(visitor_name=NAME).visit
    client.get(f"/manage/visits/{visit.id}")
    client.get("/manage/export.csv", buffered=True)
    client.get("/manage/export.xlsx?from=2026-11-20&to=2026-11-25", buffered=True)
    with transaction.owned():
        audit.record_api_read(site, as_manager, clock.now, site.local_day(clock.now), 12)
    page = client.get(f"/manage/audit?lang={lang}").text
    assert [word for word in words if word not in page] == []
    assert as_manager.username in page
    # A view is not a void: no void reason, nor its placeholder, follows the check.
    assert "reason removed" not in page and "alasan dihapus" not in page


@pytest.fixture
def changes_and_access(client, as_manager, make_visit, clock):
    """Void a check, then open it and export the day: one change, two accesses."""
    visit = make_visit(visitor_name=NAME).visit
    with transaction.owned():
        checkins.void_visit(visit, as_manager, "typed twice", clock.now)
    client.get(f"/manage/visits/{visit.id}")
    client.get("/manage/export.csv", buffered=True)


@pytest.mark.parametrize(
    ("query", "shown", "hidden"),
    [
        ("", ["void", "viewed", "exported"], []),
        ("?kind=changes", ["void"], ["viewed", "exported"]),
        ("?kind=access", ["viewed", "exported"], ["void"]),
    ],
)
def test_the_audit_page_filters_changes_from_access(
    client, changes_and_access, query, shown, hidden
):
    rows = client.get(f"/manage/audit{query}").text.split("<tbody>")[1]
    assert [action for action in shown if f'data-action="{action}"' not in rows] == []
    assert [action for action in hidden if f'data-action="{action}"' in rows] == []


@pytest.mark.parametrize(
    ("lang", "links"),
    [
        ("en", ["All", "Changes", "Access to personal data"]),
        ("id", ["Semua", "Perubahan", "Akses ke data pribadi"]),
    ],
)
def test_the_audit_filter_is_a_row_of_links_in_the_reader_s_language(
    client, as_manager, lang, links
):
    page = client.get(f"/manage/audit?kind=access&lang={lang}").text
    assert [link for link in links if f">{link}</a>" not in page] == []
    assert 'href="/manage/audit?kind=access" aria-current="page"' in page


@pytest.mark.parametrize(
    ("lang", "empty"),
    [
        ("en", "Nobody has opened or exported personal data yet."),
        ("id", "Belum ada yang membuka atau mengekspor data pribadi."),
    ],
)
def test_without_access_the_access_filter_says_so(client, as_manager, lang, empty):
    assert empty in client.get(f"/manage/audit?kind=access&lang={lang}").text


@pytest.mark.parametrize("kind", ["both", "ACCESS", "%00"])
def test_an_unknown_filter_is_a_bad_request(client, as_manager, kind):
    assert client.get(f"/manage/audit?kind={kind}&lang=en").status_code == 400


def test_reading_checks_through_the_api_is_recorded(client, manager_user, auth_headers, make_visit):
    make_visit(visitor_name="Siti Aminah")
    response = client.get("/api/v1/checkins?day=2026-11-25", headers=auth_headers(manager_user))
    assert response.status_code == 200
    (entry,) = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "exported"))
    assert (entry.user, entry.detail) == (
        manager_user,
        {"start": "2026-11-25", "end": "2026-11-25", "format": "api", "rows": 1},
    )


def exports_at(site, user, clock, count: int, start: int = 1) -> None:
    """Record ``count`` exports by ``user``, a minute apart, numbered by their rows."""
    for number in range(start, start + count):
        detail = {"start": "2026-11-25", "end": "2026-11-25", "format": "csv", "rows": number}
        audit.record(site, user, clock.now + timedelta(minutes=number), "exported", detail)
    db.session.commit()


def listed_rows(page: str) -> list[int]:
    """Return the row counts of the exports an audit page lists, in its order."""
    return [int(rows) for rows in re.findall(r"2026-11-25: (\d+) rows?</td>", page)]


def older_link(page: str) -> str | None:
    """Return the address of an audit page's "Older entries" link, if it has one."""
    found = re.search(r'<a href="([^"]*)" data-older>', page)
    return html.unescape(found[1]) if found else None


def test_the_audit_page_lists_50_a_page_and_every_older_one_is_reached(
    client, as_manager, site, clock
):
    exports_at(site, as_manager, clock, 201)
    page = client.get("/manage/audit?kind=access&lang=en").text
    assert listed_rows(page) == list(range(201, 151, -1))
    shown, pages = listed_rows(page), 1
    while (link := older_link(page)) is not None:
        assert "kind=access" in link
        page = client.get(f"{link}&lang=en").text
        shown += listed_rows(page)
        pages += 1
    assert (shown, pages) == (list(range(201, 0, -1)), 5)
    assert "data-newest>" in page


@pytest.fixture
def three_days(site, clock, make_user, as_manager):
    """Exports by the manager on 24 and 25 November and by an admin on the 26th, and a change."""
    admin = make_user("admin", username="admin.pusat")
    day = timedelta(days=1)
    for at, user, rows in ((-day, as_manager, 1), (timedelta(0), as_manager, 2), (day, admin, 3)):
        detail = {"start": "2026-11-25", "end": "2026-11-25", "format": "csv", "rows": rows}
        audit.record(site, user, clock.now + at, "exported", detail)
    audit.record(site, as_manager, clock.now, "display_token", {"label": "TV", "change": "created"})
    db.session.commit()
    return admin


@pytest.mark.parametrize(
    ("query", "rows", "changes"),
    [
        ("", [3, 2, 1], True),
        ("kind=access", [3, 2, 1], False),
        ("kind=changes", [], True),
        ("from=2026-11-25", [3, 2], True),
        ("to=2026-11-25", [2, 1], True),
        ("from=2026-11-25&to=2026-11-25", [2], True),
        # 00:30 in Kediri on the 26th is still the 25th in UTC: the site's days count.
        ("from=2026-11-26&to=2026-11-26", [3], False),
        ("account=admin.pusat", [3], False),
        ("account=manager1&kind=access", [2, 1], False),
        ("account=manager1&kind=changes&from=2026-11-25", [], True),
    ],
)
def test_the_audit_page_filters_by_kind_days_and_account(client, three_days, query, rows, changes):
    page = client.get(f"/manage/audit?{query}&lang=en").text
    assert listed_rows(page) == rows
    assert ('data-action="display_token"' in page.split("<tbody>")[-1]) == changes


def test_the_kind_links_keep_the_other_filters(client, three_days):
    page = client.get("/manage/audit?account=admin.pusat&from=2026-11-20&lang=en").text
    assert 'href="/manage/audit?from=2026-11-20&amp;account=admin.pusat&amp;kind=access"' in page
    assert '<option selected value="admin.pusat">' in page


@pytest.mark.parametrize(
    ("query", "lang", "message"),
    [
        ("kind=both", "en", "Not a valid choice."),
        ("account=nobody", "en", "Not a valid choice."),
        ("account=nobody", "id", "Pilihan tidak valid."),
        ("from=2026-13-01", "en", "Not a valid date value."),
        ("from=2026-11-25&to=2026-11-24", "en", "The end date is before the start date."),
        ("from=1999-12-31", "id", "Pilih hari pada tahun 2000 sampai 2099."),
        ("before=0", "en", "Number must be between 1 and 2147483647."),
        ("before=99999999999999999999", "en", "Number must be between 1 and 2147483647."),
        ("before=abc", "en", "Not a valid integer value."),
    ],
)
def test_a_bad_audit_filter_is_a_400_that_says_why_and_lists_nothing(
    client, three_days, query, lang, message
):
    response = client.get(f"/manage/audit?{query}&lang={lang}")
    assert response.status_code == 400
    assert message in response.text
    assert "<tbody>" not in response.text and "admin.pusat</td>" not in response.text
