"""The re-test wait of each site: set in the manager's settings, read by the door."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from checkin.domain.errors import RetestWaitOutOfRange
from checkin.extensions import db
from checkin.models import AuditEntry
from checkin.services import sites

SETTINGS = {
    "daily_quota": "60",
    "fever_cutoff": "37.3",
    "recheck_minutes": "5",
    "online_service_url": "https://example.org/online",
}


@pytest.fixture
def as_manager(login, manager_user):
    login(manager_user)
    return manager_user


def settings_changes() -> list[AuditEntry]:
    return list(db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "settings")))


def test_the_settings_show_the_wait_next_to_the_fever_cut_off(client, as_manager, site):
    site.retest_minutes = 7
    db.session.commit()
    html = client.get("/manage/settings?lang=en").text
    cutoff = html.index('name="fever_cutoff"')
    wait = re.search(r'<input[^>]*name="recheck_minutes"[^>]*value="7"', html)
    assert wait and cutoff < wait.start() < html.index('name="online_service_url"')
    assert re.search(r'<span>[^<]+</span>\s*<input[^>]*name="recheck_minutes"', html)  # labelled


def test_a_new_wait_is_saved_and_audited(client, as_manager, site):
    response = client.post("/manage/settings", data=SETTINGS | {"recheck_minutes": "10"})
    assert response.status_code == 302
    db.session.refresh(site)
    assert site.retest_minutes == 10
    [entry] = settings_changes()
    assert entry.detail == {"recheck_minutes": [5, 10]}
    audit = client.get("/manage/audit?lang=en").text
    assert "Re-test wait (minutes): 5 → 10" in audit


@pytest.mark.parametrize(
    ("wait", "message"),
    [
        ("0", "between 1 and 30"),
        ("31", "between 1 and 30"),
        ("", "This field is required"),
        ("soon", "Not a valid integer value"),
        ("-5", "between 1 and 30"),
    ],
)
def test_a_wait_outside_1_to_30_minutes_is_refused(client, as_manager, site, wait, message):
    response = client.post("/manage/settings?lang=en", data=SETTINGS | {"recheck_minutes": wait})
    assert response.status_code == 400
    assert message in response.text
    assert re.search(r'<input[^>]*aria-invalid="true"[^>]*name="recheck_minutes"', response.text)
    db.session.refresh(site)
    assert site.retest_minutes == 5
    assert settings_changes() == []


@pytest.mark.parametrize("wait", [0, 31])
def test_the_service_refuses_a_wait_outside_the_range(site, manager_user, clock, wait):
    wanted = sites.SiteSettings(60, 373, "", retest_minutes=wait)
    with pytest.raises(RetestWaitOutOfRange) as refused:
        sites.update_site_settings(site, wanted, manager_user, clock.now)
    assert (refused.value.low, refused.value.high) == (1, 30)
    db.session.refresh(site)
    assert site.retest_minutes == 5


def test_the_door_asks_to_rest_for_the_site_s_wait(client, login, door_user, site, clock):
    site.retest_minutes = 12
    db.session.commit()
    login(door_user)
    data = {"temperature": "37.8", "hand_sanitiser": "y", "mask": "y", "distancing": "y"}
    result = client.get(client.post("/?lang=en", data=data).headers["Location"] + "?lang=en")
    assert "please rest for 12 minutes" in result.text
    ready = f'data-ready-at="{(clock.now + timedelta(minutes=12)).isoformat()}"'
    assert ready in result.text
    door = client.get("/?lang=en").text
    assert ready in door[door.index("data-server-retests") : door.index('class="recent"')]
    visit_id = int(re.search(r"/visits/(\d+)", result.request.path).group(1))
    clock.now += timedelta(minutes=11)
    early = client.post(f"/visits/{visit_id}/retest?lang=en", data={"temperature": "36.5"})
    assert early.status_code == 422 and 'data-error="retest_too_early"' in early.text
    assert ready in early.text
    clock.now += timedelta(minutes=1)
    second = client.post(f"/visits/{visit_id}/retest", data={"temperature": "36.5"})
    assert second.status_code == 303
