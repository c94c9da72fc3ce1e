"""Reports, exports and head office show both channels (issue 28 item 8), on both engines: the
places booked, the booked visitors who came, the bookings nobody came for, the booked places
given to walk-ins, and the visitors admitted past the full quota; and the service level."""

from __future__ import annotations

import io
from datetime import timedelta

import openpyxl
import pytest

from checkin.extensions import db
from checkin.models import Site, User
from checkin.services import bookings, checkins, overrides, reports
from checkin.services.checkins import CheckInData
from tests.conftest import PASSING
from tests.test_bookings import AFTERNOON, LATE_MORNING, MORNING, TODAY, at, visitor
from tests.test_headoffice import table_rows

TOMORROW = TODAY + timedelta(days=1)


@pytest.fixture
def both_channels(site: Site, make_visit, manager_user: User) -> Site:
    """Today at Kediri, 11:00: the morning's 3 bookings nobody came for, the late morning's 2 (one
    came), the afternoon's 1 still to come, released at 11:00; a quota of one, with a visitor
    admitted past it."""
    for number in range(3):
        bookings.book(site, visitor(number, day=TODAY, starts=MORNING), at(7))
    late = [
        bookings.book(site, visitor(number, day=TODAY, starts=LATE_MORNING), at(7)).booking
        for number in (3, 4)
    ]
    bookings.book(site, visitor(5, day=TODAY, starts=AFTERNOON), at(7))
    db.session.commit()
    site.daily_quota = 1
    db.session.commit()
    came = CheckInData(**PASSING, booking_code=late[0].code)
    checkins.check_in(site, None, came, at(10, 15))
    make_visit(now=at(10, 20))  # the walk-in slot
    refused = make_visit(now=at(10, 25), visitor_name="Ibu Sri").visit
    overrides.admit_past_quota(refused, manager_user, "elderly", None, at(10, 30))
    bookings.release_unclaimed(site, None, at(11))
    db.session.commit()
    return site


def test_the_release_counts_the_bookings_nobody_came_for(both_channels):
    (today,) = reports.daily_report(both_channels, TODAY, TODAY, TODAY)
    # Morning: 30 places, 3 booked, none came; late morning: 30, 2 booked, 1 came; afternoon:
    # 27, 1 booked. The release gives the morning's 30 and the unbooked 28 and 26.
    assert (today.booked, today.came, today.no_shows, today.released) == (6, 1, 3, 84)
    assert today.overrides == 1
    assert today.no_show_rate == pytest.approx(3 / 4)
    # The next day, every booking of today not admitted is settled as a no-show.
    (after,) = reports.daily_report(both_channels, TODAY, TODAY, TOMORROW)
    assert (after.booked, after.came, after.no_shows) == (6, 1, 5)
    assert after.no_show_rate == pytest.approx(5 / 6)


def test_a_range_and_the_national_summary_sum_both_channels(both_channels, make_site):
    make_site("MLG")
    report = reports.site_report(both_channels, TODAY - timedelta(days=6), TODAY, TODAY)
    assert (report.total.booked, report.total.came, report.total.overrides) == (6, 1, 1)
    national = {row.code: row for row in reports.national_summary(TODAY, TODAY, TODAY)}
    kediri, malang = national["KDR"], national["MLG"]
    assert (kediri.booked, kediri.came, kediri.no_shows, kediri.released) == (6, 1, 3, 84)
    assert kediri.overrides == 1
    assert (malang.booked, malang.overrides, malang.no_show_rate) == (0, 0, None)


def figures_of(html: str) -> dict[str, str]:
    """Return the booked channel's data attributes the page carries."""
    return {
        name: value
        for name in ("booked", "came", "booking-no-shows", "released", "overrides")
        for value in [_attribute(html, f"data-{name}")]
        if value is not None
    }


def _attribute(html: str, name: str) -> str | None:
    marker = f'{name}="'
    if marker not in html:
        return None
    return html.split(marker, 1)[1].split('"', 1)[0]


@pytest.mark.parametrize(
    "page",
    ["/manage/log?day=2026-11-25", "/manage/summary?day=2026-11-25", "/manage/reports"],
)
def test_the_manager_s_pages_show_both_channels(both_channels, client, login, manager_user, page):
    login(manager_user)
    response = client.get(f"{page}{'&' if '?' in page else '?'}lang=en")
    assert response.status_code == 200
    assert figures_of(response.text) == {
        "booked": "6",
        "came": "1",
        "booking-no-shows": "3",
        "released": "84",
        "overrides": "1",
    }
    assert "Booked places given to walk-ins" in response.text  # the words, once, on purpose


def test_a_day_without_bookings_shows_no_booked_figures(site, client, login, manager_user):
    login(manager_user)
    assert figures_of(client.get("/manage/reports").text) == {}


def test_head_office_and_its_export_show_both_channels(
    both_channels, client, login, make_user, make_site
):
    make_site("MLG")  # no bookings: not in the booked table
    login(make_user("head_office"))
    page = client.get("/headoffice?month=2026-11&lang=en").text
    # Beside the month of every site, the sites with bookings or admissions past the quota.
    assert table_rows(page, "month-booked") == [["KDR", "6", "1", "3 (75%)", "84", "1"]]
    assert len(table_rows(page, "month")[0]) == 7
    sheet = openpyxl.load_workbook(
        io.BytesIO(client.get("/headoffice/month.xlsx?month=2026-11&lang=en").data)
    ).active
    header, row = list(sheet.iter_rows(values_only=True))[:2]
    counts = dict(zip(header, row, strict=True))
    assert [counts[column] for column in header[-5:]] == [1, 6, 1, 3, 84]
    assert header[-5:] == (
        "Admitted past the quota",
        "Booked",
        "Booked and came",
        "Booked, did not come",
        "Booked places given to walk-ins",
    )


def test_the_api_s_daily_report_carries_both_channels(
    both_channels, client, auth_headers, manager_user
):
    answer = client.get(
        "/api/v1/reports/daily?from=2026-11-25&to=2026-11-25", headers=auth_headers(manager_user)
    )
    (day,) = answer.json["days"]
    assert {
        key: day[key]
        for key in (
            "booked",
            "booked_came",
            "booked_no_shows",
            "booked_released",
            "admitted_past_quota",
        )
    } == {
        "booked": 6,
        "booked_came": 1,
        "booked_no_shows": 3,
        "booked_released": 84,
        "admitted_past_quota": 1,
    }


def test_the_range_export_s_summary_sheet_shows_both_channels(
    both_channels, client, login, manager_user
):
    login(manager_user)
    workbook = openpyxl.load_workbook(
        io.BytesIO(client.get("/manage/export.xlsx?from=2026-11-25&to=2026-11-25&lang=en").data)
    )
    rows = {row[0]: row[1] for row in workbook["Summary"].iter_rows(values_only=True) if row}
    assert (rows["Booked"], rows["Booked and came"], rows["Booked, did not come"]) == (6, 1, 3)
    assert (rows["Booked places given to walk-ins"], rows["Admitted past the quota"]) == (84, 1)
