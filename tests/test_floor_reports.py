"""The service floor's figures in the manager's reports, summary, exports and the daily API."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import openpyxl
import pytest

from checkin import create_app
from checkin.domain.errors import WaitKpiOutOfRange
from checkin.extensions import db
from checkin.services import audit, checkins, reports, sites, transaction
from tests.conftest import PASSWORD, Clock, IsolatedClient, csrf_token_in
from tests.floor_helpers import call, make_waiting, no_show, serve


@pytest.fixture
def floor_day(site, make_visit, make_user, clock: Clock):
    """A day at Kediri: 4 visitors called by two officers, one recalled, one no-show, one waiting.

    Checked in at 10:00 (WIB); waits 12, 40 (recalled at 35 then 40) and 31 minutes, then 5;
    services 15 and 6 minutes.
    """
    rina, budi = make_user("officer", username="rina"), make_user("officer", username="budi")
    first, second, third, fourth, _waiting = make_waiting(make_visit, 5)
    at = clock.now
    call(first, booth=3, at=at + timedelta(minutes=12), officer=rina)
    serve(first, at + timedelta(minutes=13), at + timedelta(minutes=28))
    call(second, booth=1, at=at + timedelta(minutes=35), officer=budi)
    call(second, booth=1, at=at + timedelta(minutes=40), officer=budi)
    serve(second, at + timedelta(minutes=41), at + timedelta(minutes=47))
    call(third, booth=1, at=at + timedelta(minutes=31), officer=budi)
    no_show(third, at + timedelta(minutes=36))
    call(fourth, booth=3, at=at + timedelta(minutes=5), officer=rina)
    return [first, second, third, fourth]


def test_the_days_figures_count_recalls_no_shows_and_the_kpi(site, floor_day, clock) -> None:
    figures = reports.floor_report(site, site.local_day(clock.now))
    assert figures.waiting.count == 4
    assert figures.waiting.average == pytest.approx((12 + 40 + 31 + 5) / 4)
    assert figures.waiting.longest == pytest.approx(40)
    assert figures.service.count == 2
    assert figures.service.median == pytest.approx(10.5)
    assert (figures.kpi_minutes, figures.over_kpi, figures.no_shows) == (30, 2, 1)
    assert figures.per_booth == {1: 1, 3: 1}
    assert figures.per_officer == {"budi": 1, "rina": 1}
    assert list(figures.waiting_by_hour) == [10]


def test_the_kpi_is_the_sites_setting(site, floor_day, clock) -> None:
    site.wait_kpi_minutes = 10
    db.session.commit()
    figures = reports.floor_report(site, site.local_day(clock.now))
    assert (figures.kpi_minutes, figures.over_kpi) == (10, 3)


def test_voided_visits_and_other_sites_are_left_out(
    site, floor_day, make_site, make_visit, clock
) -> None:
    floor_day[0].voided_at = clock.now
    other = make_site()
    call(make_waiting(make_visit, 1, site_=other)[0], booth=2, at=clock.now + timedelta(hours=2))
    figures = reports.floor_report(site, site.local_day(clock.now))
    assert figures.waiting.count == 3
    assert figures.waiting.longest == pytest.approx(40)


def test_figures_per_day_include_quiet_days(site, floor_day, clock) -> None:
    today = site.local_day(clock.now)
    by_day = reports.floor_by_day(site, today - timedelta(days=2), today)
    assert list(by_day) == [today - timedelta(days=2), today - timedelta(days=1), today]
    assert by_day[today - timedelta(days=1)].waiting.count == 0
    assert by_day[today].no_shows == 1


def test_the_reports_page_shows_waiting_and_service(client, login, manager_user, floor_day):
    login(manager_user)
    page = client.get("/manage/reports?from=2026-11-25&to=2026-11-25&lang=en").text
    assert 'id="floor-figures-title"' in page
    assert 'data-kpi-minutes="30"' in page
    assert "22.0 min" in page  # the average wait
    assert "40.0 min" in page  # the longest
    assert "50%" in page  # two waits of four over the KPI
    assert 'data-booth="3"' in page and "rina" in page


def test_the_reports_page_says_when_nobody_was_called(client, login, manager_user):
    login(manager_user)
    page = client.get("/manage/reports?from=2026-11-25&to=2026-11-25&lang=en").text
    assert "data-nobody-called" in page


def test_the_printable_summary_shows_the_days_waiting_and_service(
    client, login, manager_user, floor_day
):
    login(manager_user)
    page = client.get("/manage/summary?day=2026-11-25&lang=en").text
    assert 'id="floor-figures-title"' in page
    assert "22.0 min" in page
    assert "data-no-shows>1<" in page


def test_the_log_shows_each_visits_wait_and_service(client, login, manager_user, floor_day):
    login(manager_user)
    page = client.get("/manage/log?day=2026-11-25&lang=en").text
    first, second, third, fourth = (row_of(page, visit.id) for visit in floor_day)
    assert 'data-waited="12.0" data-served="15.0"' in first and "data-floor-state" not in first
    # Recalled: the wait runs to the last call.
    assert 'data-waited="40.0" data-served="6.0"' in second
    assert 'data-floor-state="no_show"' in third
    assert 'data-waited="31.0">' in third and "data-served" not in third
    assert 'data-floor-state="called"' in fourth and 'data-waited="5.0">' in fourth
    waiting = page.split('class="log"')[1].split("<tbody>")[1].split("</tr>")[4]
    assert 'data-floor-state="waiting"' in waiting and "data-waited" not in waiting


def test_the_visit_page_shows_its_steps_on_the_floor(client, login, manager_user, floor_day):
    login(manager_user)
    page = client.get(f"/manage/visits/{floor_day[1].id}?lang=en").text
    assert 'id="service-floor"' in page
    assert '<dd data-booth="1">10:40 · ' in page and " · budi</dd>" in page  # the last call
    assert "<dd data-calls>2</dd>" in page
    assert "40.0 min" in page and "6.0 min" in page


def test_a_past_days_log_says_who_was_never_called(client, login, manager_user, floor_day, clock):
    clock.now += timedelta(days=1)
    login(manager_user)
    page = client.get("/manage/log?day=2026-11-25&lang=en").text
    never = page.split('class="log"')[1].split("<tbody>")[1].split("</tr>")[4]
    assert 'data-floor-state="not_called"' in never


def test_a_check_voided_at_a_booth_keeps_its_call_on_its_page(
    client, login, manager_user, floor_day, clock
):
    called = floor_day[3]
    with transaction.owned():
        checkins.void_visit(called, manager_user, "typed twice", clock.now)
    login(manager_user)
    page = client.get(f"/manage/visits/{called.id}?lang=en").text
    assert 'id="service-floor"' in page
    assert '<dd data-booth="3">10:05 · ' in page and " · rina</dd>" in page
    assert "data-floor-state" not in page


def row_of(page: str, visit_id: int) -> str:
    """Return the log's table row of one visit."""
    return page.split(f'id="visit-{visit_id}"')[1].split("</tr>")[0]


def test_the_csv_export_ends_with_the_floor_columns(client, login, manager_user, floor_day):
    login(manager_user)
    response = client.get("/manage/export.csv?from=2026-11-25&to=2026-11-25&lang=en", buffered=True)
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8")[1:])))
    assert rows[0][17:] == [
        "Floor state",
        "Called at",
        "Monitor",
        "Called by",
        "Calls",
        "Service started",
        "Finished",
        "Waiting (min)",
        "Service (min)",
    ]
    by_slot = {row[2]: row[17:] for row in rows[1:]}
    assert by_slot["2"] == [
        "Done",
        "10:40:00",
        "1",
        "budi",
        "2",
        "10:41:00",
        "10:47:00",
        "40.0",
        "6.0",
    ]
    assert by_slot["3"] == ["No-show", "10:31:00", "1", "budi", "1", "", "10:36:00", "31.0", ""]
    assert by_slot["5"] == ["Waiting", "", "", "", "", "", "", "", ""]


def test_the_xlsx_export_has_the_same_floor_columns(client, login, manager_user, floor_day):
    login(manager_user)
    response = client.get("/manage/export.xlsx?from=2026-11-25&to=2026-11-25&lang=en")
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).worksheets[-1]  # after a summary
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows[0][17] == "Floor state" and rows[0][-1] == "Service (min)"
    done = next(row for row in rows[1:] if row[2] == 1)
    assert done[17] == "Done"
    assert (done[-2], done[-1]) == (12.0, 15.0)


def test_the_daily_api_adds_floor_fields_and_keeps_the_old_ones(
    client, auth_headers, manager_user, floor_day
):
    response = client.get(
        "/api/v1/reports/daily?from=2026-11-24&to=2026-11-25", headers=auth_headers(manager_user)
    )
    assert response.status_code == 200
    quiet, day = response.json["days"]
    old = {"day", "limit", "checks", "admitted", "refused", "rechecks", "reasons", "held"}
    new = {"waiting", "service", "wait_kpi_minutes", "waits_over_kpi", "no_shows"}
    booked = {"booked", "booked_came", "booked_no_shows", "booked_released", "admitted_past_quota"}
    assert set(day) == old | new | booked
    assert day["admitted"] == 5
    assert day["waiting"] == {"count": 4, "average": 22.0, "median": 21.5, "p90": 37.3, "max": 40.0}
    assert day["service"]["count"] == 2 and day["service"]["max"] == 15.0
    assert (day["wait_kpi_minutes"], day["waits_over_kpi"], day["no_shows"]) == (30, 2, 1)
    assert quiet["waiting"] == {
        "count": 0,
        "average": None,
        "median": None,
        "p90": None,
        "max": None,
    }


def test_the_openapi_document_describes_the_floor_fields(client):
    schemas = client.get("/api/v1/openapi.json").json["components"]["schemas"]
    day = schemas["DaySummary"]["properties"]
    assert {"waiting", "service", "wait_kpi_minutes", "waits_over_kpi", "no_shows"} <= set(day)
    assert set(schemas["Durations"]["properties"]) == {"count", "average", "median", "p90", "max"}


# The waiting-time target in the settings


def post_kpi(client, value: str):
    page = client.get("/manage/settings?lang=en")
    token = csrf_token_in(page.text)
    return client.post(
        "/manage/settings/wait-kpi?lang=en",
        data={"kpi-csrf_token": token, "kpi-wait_kpi_minutes": value},
    )


def test_a_manager_sets_the_waiting_time_target(client, login, manager_user, site) -> None:
    login(manager_user)
    assert 'name="kpi-wait_kpi_minutes"' in client.get("/manage/settings").text
    response = post_kpi(client, "20")
    assert response.status_code == 302
    db.session.refresh(site)
    assert site.wait_kpi_minutes == 20
    changes = audit.entries(site, audit.AuditFilter(kind="changes")).entries
    (entry,) = [e for e in changes if e.action == "settings"]
    assert entry.detail == {"wait_kpi_minutes": [30, 20]}
    assert 'value="20"' in client.get("/manage/settings").text


@pytest.mark.parametrize("value", ["0", "481", "-5", "abc", "", "99999999999999999999"])
def test_an_unusable_target_is_refused_and_nothing_changes(
    client, login, manager_user, site, value: str
) -> None:
    login(manager_user)
    response = post_kpi(client, value)
    assert response.status_code == 400
    assert 'aria-invalid="true"' in response.text
    db.session.refresh(site)
    assert site.wait_kpi_minutes == 30


def test_the_service_refuses_a_target_out_of_range(site, manager_user, clock) -> None:
    with pytest.raises(WaitKpiOutOfRange) as refused:
        sites.set_wait_kpi(site, 0, manager_user, clock.now)
    assert (refused.value.lowest, refused.value.highest) == (1, 480)


def test_door_staff_cannot_set_the_target(client, login, door_user) -> None:
    login(door_user)
    response = client.post("/manage/settings/wait-kpi", data={"kpi-wait_kpi_minutes": "5"})
    assert response.status_code == 403


def test_the_waits_chart_draws_each_hour_of_arrival(client, login, manager_user, floor_day):
    login(manager_user)
    page = client.get("/manage/reports?from=2026-11-25&to=2026-11-25&lang=en").text
    assert "/manage/reports/chart/waits.svg?" in page
    response = client.get("/manage/reports/chart/waits.svg?from=2026-11-25&to=2026-11-25&lang=en")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    svg = response.text
    assert "Waiting time by hour of arrival" in svg and "10:00" in svg


def test_the_target_form_passes_the_csrf_check(app_config, manager_user, site) -> None:
    app = create_app(app_config | {"WTF_CSRF_ENABLED": True})
    app.test_client_class = IsolatedClient
    client = app.test_client()
    login_form = {"username": manager_user.username, "password": PASSWORD}
    login_form["csrf_token"] = csrf_token_in(client.get("/login").text)
    assert client.post("/login", data=login_form).status_code == 302
    assert post_kpi(client, "25").status_code == 302
    db.session.refresh(site)
    assert site.wait_kpi_minutes == 25
