"""Head office: every site today, sorting, the month table and its exports, read-only site pages."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime, timedelta

import openpyxl
import pytest
import sqlalchemy as sa

from checkin.domain.errors import SiteRequired
from checkin.extensions import db
from checkin.models import AuditEntry, User
from checkin.services import accounts, checkins, headoffice, reports, sites
from tests.conftest import DEFAULT_NOW, PASSWORD


@pytest.fixture
def head_office(make_user) -> User:
    """Return a head-office account (it belongs to no site)."""
    return make_user("head_office")


@pytest.fixture
def as_head_office(login, head_office) -> User:
    """Log the test client in as head office."""
    login(head_office)
    return head_office


@pytest.fixture
def three_sites(site, make_site, make_user, make_visit, manager_user):
    """KDR: 3 admitted (one done, one no-show), 1 refused, 1 voided; MLG: 1 admitted; SBY: none."""
    kdr = [make_visit(visitor_name=f"K{number}").visit for number in range(3)]
    make_visit(mask=False)
    checkins.void_visit(make_visit().visit, manager_user, "typed twice", DEFAULT_NOW)
    kdr[0].floor_state, kdr[0].finished_at = "done", DEFAULT_NOW
    kdr[1].floor_state = "no_show"
    db.session.commit()
    malang = make_site("MLG", daily_quota=10)
    make_visit(site_=malang, recorder=make_user("door", site_=malang))
    make_site("SBY", daily_quota=5)
    return site


def table_rows(html: str, table_class: str) -> list[list[str]]:
    """Return the cells' text of a table's body rows."""
    body = html.split(f'<table class="{table_class}">', 1)[1].split("</tbody>", 1)[0]
    return [
        [
            re.sub(r"<[^>]+>", "", cell).strip()
            for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        ]
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body.split("<tbody>", 1)[1], re.S)
    ]


def test_head_office_logs_in_to_the_all_sites_page(client, head_office):
    response = client.post("/login", data={"username": head_office.username, "password": PASSWORD})
    assert response.headers["Location"] == "/headoffice"
    assert head_office.site_id is None


def test_every_site_shows_used_left_refused_and_inside_now(client, as_head_office, three_sites):
    html = client.get("/headoffice?lang=en").text
    assert table_rows(html, "all-sites") == [
        ["KDR", "Kantor Cabang KDR", "3 / 60", "57", "1", "1"],
        ["MLG", "Kantor Cabang MLG", "1 / 10", "9", "0", "1"],
        ["SBY", "Kantor Cabang SBY", "0 / 5", "5", "0", "0"],
    ]
    assert 'data-sites="3"' in html


def test_each_site_counts_its_own_today(app, site, make_site, make_user, make_visit, clock):
    # 23:30 in Kediri (WIB) is already 01:30 of the next day in Jayapura (WIT).
    late = datetime(2026, 11, 25, 16, 30, tzinfo=DEFAULT_NOW.tzinfo)
    papua = make_site("JAP", timezone="Asia/Jayapura")
    make_visit(now=late - timedelta(hours=1))
    make_visit(site_=papua, recorder=make_user("door", site_=papua), now=late - timedelta(hours=3))
    make_visit(site_=papua, recorder=make_user("door", site_=papua), now=late)
    today = {row.code: row for row in headoffice.today_by_site(late)}
    assert (today["KDR"].day, today["KDR"].used) == (date(2026, 11, 25), 1)
    assert (today["JAP"].day, today["JAP"].used) == (date(2026, 11, 26), 1)


@pytest.mark.parametrize(
    ("sort", "codes"),
    [
        ("code", ["KDR", "MLG", "SBY"]),
        ("-code", ["SBY", "MLG", "KDR"]),
        ("-used", ["KDR", "MLG", "SBY"]),
        ("used", ["SBY", "MLG", "KDR"]),
        ("left", ["SBY", "MLG", "KDR"]),
        ("-left", ["KDR", "MLG", "SBY"]),
        ("-refused", ["KDR", "MLG", "SBY"]),
        ("inside", ["SBY", "KDR", "MLG"]),  # a tie keeps the code order
        ("-name", ["SBY", "MLG", "KDR"]),
    ],
)
def test_the_table_sorts_by_each_column_on_the_server(
    client, as_head_office, three_sites, sort, codes
):
    html = client.get(f"/headoffice?sort={sort}").text
    assert [row[0] for row in table_rows(html, "all-sites")] == codes


def test_the_sorted_column_says_so_and_links_the_other_way(client, as_head_office, three_sites):
    html = client.get("/headoffice?sort=-used&lang=en").text
    header = re.search(
        r'<th scope="col" class="num" aria-sort="descending">\s*<a href="([^"]+)">Slots used', html
    )
    assert header and header.group(1) == "/headoffice?sort=used"
    assert 'href="/headoffice?sort=-left"' in html  # numbers sort most first on the first tap


@pytest.mark.parametrize("sort", ["bogus", "-", "--used", "site_id", "limit"])
def test_an_unknown_sort_is_refused(client, as_head_office, sort):
    assert client.get(f"/headoffice?sort={sort}").status_code == 400


def test_the_page_refreshes_itself_every_30_seconds_by_its_own_script(client, as_head_office):
    html = client.get("/headoffice").text
    assert 'data-refresh-seconds="30"' in html and "/static/refresh.js" in html
    assert "<script>" not in html and 'http-equiv="refresh"' not in html


def test_the_month_table_sums_the_day_rows_of_every_site(
    client, as_head_office, three_sites, make_visit
):
    make_visit(now=DEFAULT_NOW - timedelta(days=1), mask=False)
    make_visit(now=DEFAULT_NOW - timedelta(days=24))  # 1 November, 10:00
    make_visit(now=DEFAULT_NOW - timedelta(days=30))  # October
    html = client.get("/headoffice?month=2026-11&lang=en").text
    assert table_rows(html, "month") == [
        ["KDR", "3", "6", "4", "2", "0", "180"],
        ["MLG", "1", "1", "1", "0", "0", "10"],
        ["SBY", "0", "0", "0", "0", "0", "0"],
    ]
    october = table_rows(client.get("/headoffice?month=2026-10").text, "month")
    assert october[0][1:4] == ["1", "1", "1"]
    assert table_rows(client.get("/headoffice").text, "month") == table_rows(html, "month")


def test_the_month_is_this_month_unless_chosen(client, as_head_office):
    html = client.get("/headoffice?lang=en").text
    assert 'value="2026-11"' in html and "November 2026" in html


@pytest.mark.parametrize("month", ["2026-13", "november", "1999-12", "2026-11-01"])
def test_a_bad_month_is_refused(client, as_head_office, month):
    assert client.get(f"/headoffice?month={month}").status_code == 400
    assert client.get(f"/headoffice/month.csv?month={month}").status_code == 400


def test_the_month_exports_as_csv_in_the_readers_convention(client, as_head_office, three_sites):
    response = client.get("/headoffice/month.csv?month=2026-11&lang=en")
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="checkin-all-sites-2026-11.csv"'
    )
    rows = list(csv.reader(io.StringIO(response.text.lstrip("\ufeff"))))
    assert rows[0] == [
        "Code",
        "Name",
        "Days open",
        "Checks",
        "Admitted",
        "Refused",
        "Re-tests",
        "Slots offered",
        "Admitted past the quota",
        "Booked",
        "Booked and came",
        "Booked, did not come",
        "Booked places given to walk-ins",
    ]
    assert rows[1] == ["KDR", "Kantor Cabang KDR", "1", "4", "3", "1", "0", "60"] + ["0"] * 5
    indonesian = client.get("/headoffice/month.csv?month=2026-11&lang=id").text
    assert indonesian.splitlines()[1].startswith("KDR;Kantor Cabang KDR;1;4;3;1;0;60")


def test_the_month_exports_as_xlsx(client, as_head_office, three_sites):
    response = client.get("/headoffice/month.xlsx?month=2026-11&lang=en")
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    assert sheet.title == "2026-11"
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "Code"
    assert rows[1] == ("KDR", "Kantor Cabang KDR", 1, 4, 3, 1, 0, 60) + (0,) * 5


@pytest.mark.parametrize("role", ["door", "manager"])
def test_site_staff_cannot_open_the_head_office_pages(client, login, make_user, role):
    login(make_user(role))
    for url in ("/headoffice", "/headoffice/month.csv", "/headoffice/sites/KDR"):
        assert client.get(url).status_code == 403, url


def test_an_admin_sees_every_site_but_chooses_none(client, as_admin, three_sites):
    assert client.get("/headoffice").status_code == 200
    assert client.get("/headoffice/sites/MLG").status_code == 403


# Reading a site's pages


READING_PAGES = [
    "/manage/log",
    "/manage/reports",
    "/manage/reports/chart/decisions.svg",
    "/manage/summary",
]
SITE_ONLY_PAGES = [
    "/manage/settings",
    "/manage/audit",
    "/manage/tablets",
    "/manage/export.csv",
    "/manage/export.xlsx",
    "/manage/tracing",
]


@pytest.mark.parametrize("url", READING_PAGES)
def test_head_office_reads_the_chosen_sites_log_and_reports(
    client, as_head_office, three_sites, url
):
    assert client.get(url).status_code == 403  # no site chosen yet
    assert client.get("/headoffice/sites/mlg").headers["Location"] == "/manage/reports"
    response = client.get(url)
    assert response.status_code == 200
    if url == "/manage/log":
        assert "Kantor Cabang MLG" in response.text and "K0" not in response.text


def test_head_office_reads_the_log_without_exports_or_checks_to_open(
    client, as_head_office, three_sites
):
    client.get("/headoffice/sites/KDR")
    html = client.get("/manage/log?lang=en").text
    assert "K0" in html
    assert "/manage/export" not in html and "/manage/visits/" not in html
    assert "/manage/settings" not in html and "/manage/audit" not in html


def test_head_office_reading_a_site_s_log_is_in_its_audit_log(
    client, as_head_office, three_sites, login, manager_user, site
):
    client.get("/headoffice/sites/KDR")
    client.get("/manage/log?day=2026-11-25")
    (entry,) = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "exported"))
    assert (entry.user, entry.site_id, entry.detail) == (
        as_head_office,
        site.id,
        {"start": "2026-11-25", "end": "2026-11-25", "format": "log", "rows": 5},
    )
    client.post("/logout")
    login(manager_user)
    page = client.get("/manage/audit?kind=access&lang=en").text
    (read,) = re.findall(r'<tr data-action="exported">.*?</tr>', page, re.S)
    assert f"{as_head_office.username}</td>" in read and "2026-11-25" in read


def test_a_manager_reading_the_own_site_s_log_records_nothing(
    client, login, manager_user, three_sites
):
    login(manager_user)
    client.get("/manage/log?day=2026-11-25")
    assert (
        db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "exported")).all() == []
    )


@pytest.mark.parametrize("url", SITE_ONLY_PAGES)
def test_head_office_cannot_open_a_sites_changes_or_personal_files(
    client, as_head_office, three_sites, url
):
    client.get("/headoffice/sites/KDR")
    assert client.get(url).status_code == 403


def test_head_office_cannot_open_or_void_a_check(client, as_head_office, three_sites):
    client.get("/headoffice/sites/KDR")
    visit_id = db.session.scalar(
        sa.select(sa.func.max(sa.literal_column("id"))).select_from(sa.table("visit"))
    )
    assert client.get(f"/manage/visits/{visit_id}").status_code == 403
    assert client.post(f"/manage/visits/{visit_id}/void", data={"reason": "x"}).status_code == 403


TABLET_ID = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"


def test_every_post_of_the_site_pages_refuses_head_office(app, client, as_head_office, three_sites):
    client.get("/headoffice/sites/KDR")
    posts = [
        rule
        for rule in app.url_map.iter_rules()
        if "POST" in rule.methods and rule.endpoint.split(".")[0] in ("manage", "admin", "tracing")
    ]
    assert len(posts) >= 4
    for rule in posts:
        # A tablet's id as the pages know it, which reaches the view: any other is not found.
        values = {name: TABLET_ID if name == "device_id" else "1" for name in rule.arguments}
        url = rule.build(values)[1]
        assert client.post(url, data={}).status_code == 403, url


@pytest.mark.parametrize("code", ["NOPE", "x" * 21, "K%00R"])
def test_an_unknown_site_is_404(client, as_head_office, three_sites, code):
    assert client.get(f"/headoffice/sites/{code}").status_code == 404


# Accounts


def test_admin_creates_a_head_office_account_without_a_site(client, as_admin, site):
    response = client.post(
        "/manage/admin/accounts",
        data={
            "username": "pusat",
            "role": "head_office",
            "site_id": "0",
            "password": "kantor-pusat",
        },
    )
    assert response.status_code == 302
    created = accounts.account_named("pusat")
    assert (created.role, created.site_id) == ("head_office", None)
    client.post("/logout")
    logged_in = client.post("/login", data={"username": "pusat", "password": "kantor-pusat"})
    assert logged_in.headers["Location"] == "/headoffice"


def test_a_head_office_account_never_belongs_to_a_site(site, clock):
    chosen = accounts.add_user("pusat2", "head_office", PASSWORD, site, by=None, now=clock.now)
    assert chosen.site_id is None


def test_site_staff_still_need_a_site(app, clock):
    with pytest.raises(SiteRequired):
        accounts.add_user("door-nowhere", "door", PASSWORD, None, by=None, now=clock.now)


def test_the_command_line_adds_head_office_without_a_site(runner, app):
    result = runner.invoke(
        args=["user", "add", "pusat3", "--role", "head_office", "--password", "kantor-pusat"]
    )
    assert result.exit_code == 0, result.output
    assert accounts.account_named("pusat3").site_id is None


def test_every_reader_of_a_weekday_quota_gives_the_same_limit_before_the_first_check(
    app, client, site, manager_user, door_user, auth_headers, make_user, clock
):
    """With a quota of 20 on today's weekday and no check yet, the door, the API, the reports,
    the day summary and head office all say 20 (the usual quota is 60)."""
    today = site.local_day(clock.now)
    weekdays = {today.weekday(): 20}
    changed = sites.SiteSettings(60, 373, "", weekday_quotas=weekdays)
    sites.update_site_settings(site, changed, manager_user, clock.now - timedelta(days=1))
    door = auth_headers(door_user)
    manager = auth_headers(manager_user)
    assert client.get("/api/v1/quota/today", headers=door).json["limit"] == 20
    report = client.get(f"/api/v1/reports/daily?from={today}&to={today}", headers=manager)
    assert report.json["days"][0]["limit"] == 20
    (row,) = headoffice.today_by_site(clock.now)
    assert (row.limit, row.left) == (20, 20)
    (totals,) = reports.daily_report(site, today, today, today)
    assert totals.quota == 20
    browser = app.test_client()
    user = make_user("head_office")
    browser.post("/login", data={"username": user.username, "password": PASSWORD})
    page = browser.get("/headoffice").text
    assert "0 <small>/ 20</small>" in page
