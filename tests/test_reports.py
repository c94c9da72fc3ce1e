"""Reports: periods and totals from rollups, arrivals per hour, SVG charts."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import date, timedelta

import pytest

from checkin.services import checkins, reports

CHART_KINDS = ["decisions", "hours", "reasons", "quota"]
ADMITTED_FILL = "rgb(46, 125, 50)"  # charts.ADMITTED_GREEN


@pytest.fixture
def as_manager(login, manager_user):
    """Log the test client in as the default site's manager."""
    login(manager_user)
    return manager_user


@pytest.mark.parametrize(
    ("start", "end", "granularity", "periods"),
    [
        (date(2026, 11, 25), date(2026, 11, 25), "day", 1),
        (date(2026, 10, 27), date(2026, 11, 25), "day", 30),
        (date(2026, 9, 25), date(2026, 11, 25), "day", 62),
        # 2026-09-24 is a Thursday: its partial week, then 9 full weeks.
        (date(2026, 9, 24), date(2026, 11, 25), "week", 10),
        (date(2025, 11, 26), date(2026, 11, 25), "week", 53),
        (date(2024, 1, 1), date(2026, 11, 25), "month", 35),
    ],
)
def test_reports_sum_days_into_readable_periods(site, start, end, granularity, periods):
    report = reports.site_report(site, start, end, end)
    assert (report.granularity, len(report.periods)) == (granularity, periods)
    assert report.periods[0].start == start
    assert report.periods[-1].end == end


def test_periods_and_totals_add_up_to_the_days(site, make_visit, clock):
    cases = [{}, {"mask": False}, {"temperature_dc": 380}, {}]
    for day_offset in range(10):
        for case in cases[: day_offset % 4 + 1]:
            make_visit(now=clock.now - timedelta(days=day_offset), **case)
    start, end = date(2026, 11, 16), date(2026, 11, 25)
    days = reports.daily_report(site, start, end, end)
    report = reports.site_report(site, start, end, end)
    assert report.total.checks == sum(day.checks for day in days) == 23
    assert report.total.admitted == sum(period.admitted for period in report.periods) == 12
    assert report.total.reasons["no_mask"] == 7
    assert report.total.retests == 4
    # Every one of the ten days saw visitors, so the quota counts ten days of 60.
    assert (report.total.open_days, report.total.quota) == (10, 600)
    assert report.total.usage == pytest.approx(12 / 600)


def test_quiet_days_do_not_count_towards_the_quota(site, make_visit, clock):
    make_visit(now=clock.now - timedelta(days=2))
    report = reports.site_report(site, date(2026, 11, 23), date(2026, 11, 25), date(2026, 11, 25))
    assert (report.total.open_days, report.total.quota, report.total.usage) == (1, 60, 1 / 60)
    assert [period.usage for period in report.periods] == [1 / 60, None, None]


def test_arrivals_count_first_readings_per_local_hour(site, make_visit, manager_user, clock):
    first = make_visit(temperature_dc=380).visit
    make_visit(now=clock.now + timedelta(minutes=6), retest_of=first.id)
    make_visit(now=clock.now + timedelta(hours=2), temperature_dc=360)
    mistake = make_visit(now=clock.now + timedelta(hours=2)).visit
    checkins.void_visit(mistake, manager_user, "typed twice", clock.now)
    arrivals = reports.arrivals(site, date(2026, 11, 25), date(2026, 11, 25))
    # 03:00 and 05:00 UTC are 10:00 and 12:00 in Kediri.
    assert arrivals.by_hour == {10: 1, 12: 1}
    assert list(arrivals.hours) == [10, 11, 12]
    assert arrivals.peak_hour == 10
    assert arrivals.average_temperature_dc == pytest.approx(370)


def test_a_quiet_day_has_no_peak_hour_nor_average(site):
    arrivals = reports.arrivals(site, date(2026, 11, 25), date(2026, 11, 25))
    assert (arrivals.total, arrivals.peak_hour, arrivals.average_temperature_dc) == (0, None, None)
    assert list(arrivals.hours) == []


def test_reports_page_shows_the_last_30_days_in_numbers(client, as_manager, make_visit, clock):
    make_visit()
    make_visit(mask=False)
    make_visit(now=clock.now - timedelta(days=29))
    make_visit(now=clock.now - timedelta(days=30), visitor_name="too old")
    html = client.get("/manage/reports?lang=en").text
    assert 'value="2026-10-27"' in html and 'value="2026-11-25"' in html
    footer = html[html.index("<tfoot>") : html.index("</tfoot>")]
    cells = footer.split('<td class="num">')[1:]
    checks, admitted, quota = (cell.split("<")[0] for cell in cells[:3])
    assert (checks, admitted, quota) == ("3", "2", "120")
    for kind in CHART_KINDS:
        assert f"/manage/reports/chart/{kind}.svg?from=2026-10-27&amp;to=2026-11-25" in html


@pytest.mark.parametrize(
    "query",
    [
        "from=2026-11-25&to=2026-11-01",
        "from=2000-01-01&to=2026-11-25",
        "from=2000-01-01",
        "to=someday",
        "from=2026-13-01",
    ],
)
def test_reports_refuse_a_bad_range(client, as_manager, query):
    response = client.get(f"/manage/reports?{query}&lang=en")
    assert response.status_code == 400
    assert 'class="error"' in response.text
    assert client.get(f"/manage/reports/chart/hours.svg?{query}").status_code == 400


@pytest.mark.parametrize("kind", CHART_KINDS)
def test_charts_of_a_quiet_range_still_draw(client, as_manager, kind):
    response = client.get(f"/manage/reports/chart/{kind}.svg?from=2026-01-05&to=2026-01-09")
    assert response.status_code == 200
    ET.fromstring(response.data)


@pytest.mark.parametrize("kind", CHART_KINDS)
def test_charts_are_standalone_svg_allowed_only_their_styles(client, as_manager, make_visit, kind):
    make_visit()
    make_visit(mask=False)
    response = client.get(f"/manage/reports/chart/{kind}.svg?lang=en")
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    policy = response.headers["Content-Security-Policy"]
    assert "style-src 'unsafe-inline'" in policy and "default-src 'none'" in policy
    assert "script-src" not in policy
    root = ET.fromstring(response.data)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert (
        root.find("{http://www.w3.org/2000/svg}defs/{http://www.w3.org/2000/svg}style") is not None
    )
    # pygal's interactive script is left out: only its inline config stub remains.
    assert b"pygal-tooltips" not in response.data


def test_unknown_chart_is_404(client, as_manager):
    assert client.get("/manage/reports/chart/pie.svg").status_code == 404


def test_reports_page_agrees_with_the_api(client, as_manager, make_visit, clock):
    for day_offset, fields in [
        (0, {}),
        (0, {"mask": False}),
        (3, {}),
        (3, {"temperature_dc": 380}),
    ]:
        make_visit(now=clock.now - timedelta(days=day_offset), **fields)
    query = "from=2026-11-20&to=2026-11-25"
    api_days = client.get(f"/api/v1/reports/daily?{query}").json["days"]
    html = client.get(f"/manage/reports?{query}&lang=en").text.split("<tfoot>")[0]
    rows = re.findall(
        r'<tr>\s*<th scope="row">[^<]+</th>\s*((?:<td class="num">[^<]*</td>\s*)+)', html
    )
    page_days = [re.findall(r'<td class="num">([^<]*)</td>', row) for row in rows]
    # Columns: checks, admitted, quota, used, refused, the reasons, re-tests.
    assert [(day[0], day[1], day[4], day[-1]) for day in page_days] == [
        (str(day["checks"]), str(day["admitted"]), str(day["refused"]), str(day["rechecks"]))
        for day in api_days
        if day["checks"]
    ]
