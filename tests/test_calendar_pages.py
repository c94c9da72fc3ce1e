"""The office calendar on the pages: the manager's settings, the door, the API, the reports."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from checkin.extensions import db
from checkin.models import AuditEntry, ClosedDay, WeekdayQuota
from checkin.services import calendar, transaction
from checkin.web.forms.calendar import WEEKDAY_FIELDS
from tests.test_office_calendar import CHRISTMAS, SUNDAY, local
from tests.test_retest_wait import SETTINGS

PASSING_FORM = {"temperature": "36.5", "hand_sanitiser": "y", "mask": "y", "distancing": "y"}


def weekdays(**quotas: str) -> dict[str, str]:
    """Return the weekday fields of the settings form: "sat": "30", "sun_closed": "y"."""
    form = {f"weekdays-{name}-quota": "" for name in WEEKDAY_FIELDS}
    for key, value in quotas.items():
        short, _underscore, closed = key.partition("_")
        [name] = [name for name in WEEKDAY_FIELDS if name.startswith(short)]
        form[f"weekdays-{name}-{'closed' if closed else 'quota'}"] = value
    return form


@pytest.fixture
def as_manager(login, manager_user):
    login(manager_user)
    return manager_user


def stored_weekdays(site) -> dict[int, int | None]:
    return calendar.weekday_quotas(site)


def changes(action: str) -> list[AuditEntry]:
    return list(db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == action)))


def test_the_settings_list_this_year_s_holidays_with_a_tick_each(client, as_manager):
    html = client.get("/manage/settings?lang=en").text
    assert re.findall(r'data-holidays-of="(\d+)"', html) == ["2026"]
    assert "2027" not in html
    assert re.search(r'<input type="checkbox" name="closed" value="2026-12-25">', html)
    assert "Christmas Day" in html
    # Already past: shown, not changeable.
    assert re.search(r'value="2026-08-17"[^>]*disabled', html)
    indonesian = client.get("/manage/settings?lang=id").text
    assert "Hari Raya Natal" in indonesian


def test_in_december_the_settings_list_next_year_s_holidays_too(client, as_manager, clock):
    clock.now = datetime(2026, 12, 1, 3, tzinfo=UTC)
    html = client.get("/manage/settings?lang=en").text
    assert re.findall(r'data-holidays-of="(\d+)"', html) == ["2026", "2027"]
    assert 'value="2027-01-01"' in html


def test_weekdays_left_out_of_a_post_take_the_usual_quota(client, as_manager, site):
    form = SETTINGS | {"weekdays-sunday-closed": "y", "weekdays-saturday-quota": "30"}
    assert client.post("/manage/settings", data=form).status_code == 302
    assert stored_weekdays(site) == {5: 30, 6: None}


def test_weekday_quotas_are_saved_and_audited(client, as_manager, site):
    form = SETTINGS | weekdays(sat="30", sun_closed="y")
    assert client.post("/manage/settings", data=form).status_code == 302
    assert stored_weekdays(site) == {5: 30, 6: None}
    [entry] = changes("settings")
    assert entry.detail == {"weekday_quotas": [{}, {"5": 30, "6": None}]}
    assert "Quota by weekday: – → Sat 30, Sun closed" in client.get("/manage/audit?lang=en").text
    html = client.get("/manage/settings").text
    assert re.search(r'name="weekdays-saturday-quota"[^>]*value="30"', html)
    assert re.search(r'<input checked[^>]*name="weekdays-sunday-closed"', html) or re.search(
        r'name="weekdays-sunday-closed"[^>]*checked', html
    )
    # Posting the same again changes nothing.
    assert client.post("/manage/settings", data=form).status_code == 302
    assert len(changes("settings")) == 1
    # Blank again: the usual quota.
    assert client.post("/manage/settings", data=SETTINGS | weekdays()).status_code == 302
    assert stored_weekdays(site) == {}


@pytest.mark.parametrize(
    ("quota", "message"), [("-1", "between 0 and 10000"), ("many", "Not a valid integer value")]
)
def test_a_bad_weekday_quota_stores_nothing(client, as_manager, site, quota, message):
    form = SETTINGS | weekdays(sat=quota) | {"daily_quota": "45"}
    response = client.post("/manage/settings?lang=en", data=form)
    assert response.status_code == 400
    assert message in response.text
    assert re.search(
        r'name="weekdays-saturday-quota"[^>]*aria-invalid="true"', response.text
    ) or re.search(r'aria-invalid="true"[^>]*name="weekdays-saturday-quota"', response.text)
    db.session.refresh(site)
    assert (site.daily_quota, stored_weekdays(site)) == (60, {})


def test_ticked_holidays_close_the_office(client, as_manager, site):
    response = client.post(
        "/manage/settings/holidays", data={"closed": ["2026-12-24", "2026-12-25"]}
    )
    assert response.status_code == 302
    closed = set(db.session.scalars(sa.select(ClosedDay.day)))
    assert closed == {date(2026, 12, 24), CHRISTMAS}
    html = client.get("/manage/settings").text
    assert re.search(r'value="2026-12-25" checked', html)
    audit = client.get("/manage/audit?lang=en").text
    assert (
        "Closed on Thu, 24 Dec 2026 (Christmas Eve" in audit
        or "Closed on Thu, 24 Dec 2026" in audit
    )
    assert "Fri, 25 Dec 2026 (Christmas Day)" in audit


@pytest.mark.parametrize("ticked", ["2026-12-23", "christmas", "2026-02-30"])
def test_a_date_that_is_no_holiday_stores_nothing(client, as_manager, ticked):
    response = client.post("/manage/settings/holidays?lang=en", data={"closed": [ticked]})
    assert response.status_code == 400
    assert 'role="alert"' in response.text
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ClosedDay)) == 0


def test_a_local_closed_day_is_added_shown_and_removed(client, as_manager, site):
    form = {"day": "2026-12-02", "label": "Banjir di Kediri"}
    response = client.post("/manage/settings/closed?lang=en", data=form)
    assert response.status_code == 302
    html = client.get("/manage/settings?lang=en").text
    assert 'action="/manage/settings/closed/2026-12-02/remove"' in html
    assert "Banjir di Kediri" in html
    assert client.post("/manage/settings/closed/2026-12-02/remove").status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ClosedDay)) == 0
    assert [entry.detail["opened"] for entry in changes("closed_days")] == [
        [],
        [["2026-12-02", "Banjir di Kediri"]],
    ]


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        ({"day": "2026-11-24", "label": "Banjir"}, "day", 'data-error="closed_day_in_past"'),
        # WTForms' own refusals carry no code: their words tell them apart.
        ({"day": "", "label": "Banjir"}, "day", "This field is required"),
        ({"day": "tomorrow", "label": "Banjir"}, "day", "Not a valid date value"),
        ({"day": "2199-01-01", "label": "Banjir"}, "day", 'data-error="day_out_of_range"'),
        ({"day": "2026-12-02", "label": " "}, "label", "This field is required"),
        ({"day": "2026-12-02", "label": "x" * 121}, "label", "longer than 120"),
        ({"day": "2026-12-02", "label": "\x1b[2J"}, "label", 'data-error="special_characters"'),
    ],
)
def test_a_bad_closed_day_stores_nothing(client, as_manager, form, field, message):
    response = client.post("/manage/settings/closed?lang=en", data=form)
    assert response.status_code == 400
    assert message in response.text
    assert re.search(f'<input[^>]*aria-invalid="true"[^>]*name="{field}"', response.text)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ClosedDay)) == 0


@pytest.mark.parametrize("day", ["2026-12-03", "not-a-date"])
def test_removing_a_day_that_is_not_closed_changes_nothing(client, as_manager, day):
    response = client.post(f"/manage/settings/closed/{day}/remove?lang=en")
    assert response.status_code in (302, 404)
    assert changes("closed_days") == []


def test_door_staff_cannot_change_the_calendar(client, login, door_user):
    login(door_user)
    assert (
        client.post("/manage/settings/holidays", data={"closed": ["2026-12-25"]}).status_code == 403
    )
    assert (
        client.post("/manage/settings/closed", data={"day": "2026-12-02", "label": "x"}).status_code
        == 403
    )


def test_a_manager_changes_only_their_own_site_s_calendar(client, as_manager, make_site):
    other = make_site("MLG")
    client.post("/manage/settings/closed", data={"day": "2026-12-02", "label": "Banjir"})
    assert db.session.scalar(sa.select(ClosedDay.site_id)) != other.id


def test_the_door_says_the_office_is_closed_on_a_holiday(client, login, door_user, site, clock):
    with transaction.owned():
        calendar.set_holidays(site, [CHRISTMAS], None, clock.now)
    clock.now = local(CHRISTMAS, 9)
    login(door_user)
    html = client.get("/?lang=en").text
    banner = re.search(r'<section[^>]*id="closed-today".*?</section>', html, re.S).group(0)
    assert "Christmas Day" in banner  # the holiday's name
    assert "come back on a working day" in banner and "data:image/svg+xml" in banner
    assert 'id="quota-full"' not in html
    result = client.post("/?lang=en", data=PASSING_FORM)
    page = client.get(result.headers["Location"] + "?lang=en").text
    assert 'data-reason="closed"' in page and "come back on a working day" in page
    assert "data:image/svg+xml" in page  # the online service's QR


def test_the_copy_kept_for_offline_use_says_nothing_of_today_s_closure(
    client, login, door_user, site, clock
):
    with transaction.owned():
        calendar.add_closed_day(site, clock.now.date(), "Banjir", None, clock.now)
    login(door_user)
    assert 'id="closed-today"' in client.get("/").text
    assert 'id="closed-today"' not in client.get("/door/offline").text


def test_the_door_names_the_closed_weekday(client, login, door_user, site, clock):
    db.session.add(WeekdayQuota(site_id=site.id, weekday=6, quota=None))
    db.session.commit()
    clock.now = local(SUNDAY, 9)
    login(door_user)
    assert "The office does not open on Sunday." in client.get("/?lang=en").text


def test_an_open_day_shows_no_closed_banner(client, login, door_user):
    login(door_user)
    assert 'id="closed-today"' not in client.get("/").text


def test_the_api_refuses_with_reason_closed(client, door_user, auth_headers, site, clock):
    with transaction.owned():
        calendar.add_closed_day(site, clock.now.date(), "Banjir", None, clock.now)
    body = {"temperature_c": 36.5, "hand_sanitiser": True, "mask": True, "distancing": True}
    answer = client.post("/api/v1/checkins", json=body, headers=auth_headers(door_user))
    assert answer.status_code == 201
    assert (answer.json["status"], answer.json["reasons"]) == ("refused", ["closed"])
    assert answer.json["quota"]["left"] == 0
    spec = client.get("/api/v1/openapi.json", headers=auth_headers(door_user)).json
    assert "closed" in str(spec)


def test_reports_list_the_closed_reason_only_where_it_happened(
    client, as_manager, site, make_visit, clock
):
    row = '<tr data-reason="closed">'
    assert row not in client.get("/manage/log?lang=en").text
    with transaction.owned():
        calendar.add_closed_day(site, clock.now.date(), "Banjir", None, clock.now)
    make_visit()
    assert row in client.get("/manage/log?lang=en").text
