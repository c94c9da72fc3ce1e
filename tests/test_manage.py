"""Manager pages: roles, the entry log and its filters, voiding, settings, summary, audit, admin."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from checkin.extensions import db
from checkin.models import AuditEntry, DayQuota, Visit
from checkin.services import accounts, day_counter, sites, transaction
from checkin.web.manage import log as log_pages
from tests.conftest import PASSWORD, csrf_token_in

MANAGER_PAGES = [
    "/manage/log",
    "/manage/reports",
    "/manage/reports/chart/decisions.svg",
    "/manage/summary",
    "/manage/settings",
    "/manage/audit",
    "/manage/export.csv",
    "/manage/export.xlsx",
]
ADMIN_PAGES = ["/manage/admin"]


@pytest.fixture
def as_manager(login, manager_user):
    """Log the test client in as the default site's manager."""
    login(manager_user)
    return manager_user


@pytest.mark.parametrize("url", MANAGER_PAGES + ADMIN_PAGES)
def test_door_staff_get_403(client, login, door_user, url):
    login(door_user)
    assert client.get(url).status_code == 403


@pytest.mark.parametrize("url", MANAGER_PAGES + ADMIN_PAGES)
def test_anonymous_visitors_are_sent_to_login(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


@pytest.mark.parametrize("url", MANAGER_PAGES)
def test_every_manager_page_answers_a_manager(client, as_manager, make_visit, url):
    make_visit(visitor_name="Siti Aminah")
    assert client.get(url, buffered=True).status_code == 200


@pytest.mark.parametrize(
    "url",
    ["/manage/log", "/manage/displays", "/manage/tablets", "/manage/tracing", "/manage/settings"],
)
def test_manager_pages_lead_to_the_log_from_their_nav_only(client, as_manager, url):
    page = client.get(url).text
    assert page.count('href="/manage/log"') == 1, "a second way to the log in the header"
    assert "aria-label" in page.split('href="/manage/log"')[0].rsplit("<nav", 1)[1]


def test_the_door_leads_a_manager_to_the_log(client, as_manager):
    assert 'class="button" href="/manage/log"' in client.get("/").text


def test_log_shows_each_check_in_local_time(client, as_manager, make_visit, door_user):
    make_visit(
        visitor_name="Siti Aminah", nik_last4="3456", purpose="jht_claim", temperature_dc=366
    )
    html = client.get("/manage/log?lang=en").text
    # 03:00 UTC is 10:00 in Kediri (WIB).
    assert "10:00" in html
    assert "Siti Aminah" in html
    assert "…3456" in html and "************" not in html
    assert '<abbr title="Old-age savings claim (JHT)">JHT</abbr>' in html
    assert "36.6 °C" in html
    assert door_user.username in html
    assert 'class="status-admitted"' in html


def test_log_shows_the_days_summary(client, as_manager, make_visit, clock):
    for hour, fields in [
        (0, {}),
        (1, {"mask": False}),
        (1, {"temperature_dc": 380}),
        (1, {"mask": False, "distancing": False}),
    ]:
        make_visit(now=clock.now + timedelta(hours=hour), **fields)
    html = client.get("/manage/log?lang=en").text
    summary = html[html.index('class="figures"') : html.index('class="actions"')]
    assert "1 <small>/ 60</small>" in summary
    # Peak hour 11:00-12:00 WIB with three arrivals; mean of 36.5, 36.5, 38.0, 36.5 °C.
    assert "11:00–12:00" in summary
    assert "(3)" in summary
    assert "36.9" in summary
    reasons = dict(
        (reason, int(count))
        for reason, count in re.findall(
            r'<tr data-reason="(\w+)"><th scope="row">[^<]+</th><td class="num">(\d+)</td>', summary
        )
    )
    assert reasons == {
        "fever": 0,
        "no_hand_sanitiser": 0,
        "no_mask": 2,
        "no_distancing": 1,
        "quota_full": 0,
    }


@pytest.mark.parametrize(
    ("query", "shown", "hidden"),
    [
        ("", ["Ani", "Budi", "Citra"], []),
        ("status=refused", ["Budi"], ["Ani", "Citra"]),
        ("status=recheck", ["Citra"], ["Ani", "Budi"]),
        ("reason=no_mask", ["Budi"], ["Ani", "Citra"]),
        ("reason=fever", ["Citra"], ["Ani", "Budi"]),
        ("status=admitted&reason=no_mask", [], ["Ani", "Budi", "Citra"]),
    ],
)
def test_log_filters(client, as_manager, make_visit, query, shown, hidden):
    make_visit(visitor_name="Ani")
    make_visit(visitor_name="Budi", mask=False)
    make_visit(visitor_name="Citra", temperature_dc=375)
    html = client.get(f"/manage/log?{query}").text
    for name in shown:
        assert name in html
    for name in hidden:
        assert name not in html


def test_log_day_picker_defaults_to_the_site_local_day(client, as_manager, make_visit, clock):
    # 23:30 WIB on the 24th is 16:30 UTC, still the 24th in Kediri; then 00:30 WIB on the 25th.
    make_visit(now=clock.now.replace(day=24, hour=16, minute=30), visitor_name="Late Larasati")
    make_visit(now=clock.now.replace(day=24, hour=17, minute=30), visitor_name="Early Eko")
    today = client.get("/manage/log").text
    assert "Early Eko" in today and "Late Larasati" not in today
    assert 'value="2026-11-25"' in today
    yesterday = client.get("/manage/log?day=2026-11-24").text
    assert "Late Larasati" in yesterday and "Early Eko" not in yesterday


def test_log_pages_with_a_keyset_cursor(client, as_manager, make_visit, clock, monkeypatch):
    monkeypatch.setattr(log_pages, "LOG_PAGE_SIZE", 2)
    for minute, name in [(1, "Ani"), (2, "Budi"), (3, "Citra")]:
        make_visit(now=clock.now + timedelta(minutes=minute), visitor_name=name)
    first = client.get("/manage/log?lang=en").text
    assert "Ani" in first and "Budi" in first and "Citra" not in first
    next_link = re.search(r'href="([^"]*after=\d+[^"]*)"', first).group(1)
    second = client.get(next_link.replace("&amp;", "&")).text
    assert "Citra" in second and "Ani" not in second
    pager = second.split('class="pager"')[1]
    # A link back to the first page, none onwards.
    assert "/manage/log?day=2026-11-25" in pager and "after=" not in pager


@pytest.mark.parametrize(
    "query", ["day=2026-13-01", "status=bogus", "reason=cough", "after=0", "after=x"]
)
def test_log_refuses_a_bad_query(client, as_manager, query):
    assert client.get(f"/manage/log?{query}").status_code == 400


def test_a_manager_sees_only_their_own_sites_log(client, login, make_site, make_user, make_visit):
    other = make_site("BLT")
    make_visit(visitor_name="Kediri Visitor")
    make_visit(other, visitor_name="Blitar Visitor")
    login(make_user("manager", other))
    html = client.get("/manage/log").text
    assert "Blitar Visitor" in html and "Kediri Visitor" not in html


@pytest.mark.parametrize(
    ("query", "said"),
    [
        ("status=refused", "2 checks match"),
        ("status=admitted", "1 check matches"),
        ("reason=no_mask", "1 check matches"),
        ("status=recheck", "0 checks match"),
        ("", None),
    ],
)
def test_filtering_the_log_says_how_many_checks_match(client, as_manager, make_visit, query, said):
    make_visit()
    make_visit(mask=False)
    make_visit(hand_sanitiser=False)
    html = client.get(f"/manage/log?lang=en&{query}").text
    count = re.search(r'<p class="match-count" role="status">([^<]*)</p>', html)
    assert (count.group(1) if count else None) == said


def void(client, visit_id: int, reason: str = "typed twice"):
    return client.post(f"/manage/visits/{visit_id}/void?lang=en", data={"reason": reason})


def test_voiding_frees_the_slot_and_is_audited(client, as_manager, make_visit, site):
    visit = make_visit(visitor_name="Double Entry").visit
    response = void(client, visit.id)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/manage/log?day=2026-11-25#visit-{visit.id}")
    stored = db.session.get(Visit, visit.id)
    assert (stored.voided, stored.void_reason, stored.voided_by_id) == (
        True,
        "typed twice",
        as_manager.id,
    )
    assert db.session.scalar(sa.select(DayQuota.used)) == 0
    log = client.get("/manage/log?lang=en").text
    assert 'class="flash success"' in log
    row = re.search(rf'<tr id="visit-{visit.id}" class="[^"]* voided">.*?</tr>', log, re.S)
    assert row and 'class="void-note"' in row.group() and "typed twice" in row.group()
    audit = client.get("/manage/audit?lang=en").text
    (entry,) = re.findall(r'<tr data-action="void">.*?</tr>', audit, re.S)
    assert f'href="/manage/visits/{visit.id}"' in entry and "typed twice" in entry


@pytest.mark.parametrize(
    ("lang", "described"),
    [
        ("en", "Check voided</td>"),
        ("en", "Check of 2026-11-25 10:00 (Admitted, No. 1)</a>: typed twice"),
        ("id", "Pemeriksaan dibatalkan</td>"),
        ("id", "Pemeriksaan 2026-11-25 10:00 (Diterima, No. 1)</a>: typed twice"),
    ],
)
def test_a_void_appears_in_the_audit_log_in_words(client, as_manager, make_visit, lang, described):
    void(client, make_visit().visit.id)
    assert described in client.get(f"/manage/audit?lang={lang}").text


@pytest.mark.parametrize(
    ("reason", "error"),
    [("", "Say why"), ("   ", "Say why"), ("typed twice " * 17, "longer than 200")],
)
def test_voiding_needs_a_short_reason_and_the_page_says_so(
    client, as_manager, make_visit, reason, error
):
    visit = make_visit().visit
    response = void(client, visit.id, reason)
    assert response.status_code == 400
    assert db.session.get(Visit, visit.id).voided_at is None
    field = re.search(r'<label class="field[^"]*has-error">.*?</label>', response.text, re.S)
    assert field and error in field.group()
    assert f'value="{reason}"' in field.group() or not reason.strip()


def test_log_opens_each_check_from_its_time_and_holds_no_void_forms(client, as_manager, make_visit):
    visits = [make_visit().visit for _ in range(3)]
    html = client.get("/manage/log").text
    for visit in visits:
        assert f'href="/manage/visits/{visit.id}"' in html
    assert "/void" not in html


def test_check_page_shows_the_whole_check_and_the_form_to_void_it(
    client, as_manager, make_visit, clock
):
    first = make_visit(temperature_dc=375, visitor_name="Siti Aminah", phone="081234567890")
    clock.now += timedelta(minutes=6)
    retest = make_visit(retest_of=first.visit.id, visitor_name="Siti Aminah")
    html = client.get(f"/manage/visits/{retest.visit.id}?lang=en").text
    assert re.search(r"<h1>[^<]*10:06", html)
    assert 'class="check status-admitted"' in html and "No. 1" in html
    assert f'href="/manage/visits/{first.visit.id}" data-first-reading' in html
    assert f'action="/manage/visits/{retest.visit.id}/void"' in html
    first_html = client.get(f"/manage/visits/{first.visit.id}?lang=en").text
    assert "37.5 °C" in first_html and "081234567890" in first_html


def test_a_voided_check_says_who_voided_it_and_why_and_offers_no_form(
    client, as_manager, make_visit
):
    visit = make_visit().visit
    void(client, visit.id, "typed twice")
    html = client.get(f"/manage/visits/{visit.id}?lang=en").text
    note = re.search(r'<p class="void-note">([^<]*)</p>', html)
    assert note and as_manager.username in note.group(1) and "typed twice" in note.group(1)
    assert "/void" not in html


@pytest.mark.parametrize("visit_id", ["other site", 999999])
def test_another_sites_check_page_is_404(client, login, make_site, make_user, make_visit, visit_id):
    theirs = make_visit(make_site("BLT")).visit
    login(make_user("manager"))
    target = theirs.id if visit_id == "other site" else visit_id
    assert client.get(f"/manage/visits/{target}").status_code == 404


def test_a_check_page_sends_anonymous_visitors_to_login(client, make_visit):
    visit = make_visit().visit
    response = client.get(f"/manage/visits/{visit.id}")
    assert response.status_code == 302
    assert "/login?next=/manage/visits/" in response.headers["Location"]


def test_door_staff_cannot_open_a_check_page(client, login, door_user, make_visit):
    visit = make_visit().visit
    login(door_user)
    assert client.get(f"/manage/visits/{visit.id}").status_code == 403


def test_voiding_twice_is_refused_politely(client, as_manager, make_visit):
    visit = make_visit().visit
    void(client, visit.id)
    void(client, visit.id, "again")
    assert 'data-error="already_voided"' in client.get("/manage/log?lang=en").text
    assert db.session.get(Visit, visit.id).void_reason == "typed twice"
    voids = sa.select(sa.func.count()).where(AuditEntry.action == "void")
    assert db.session.scalar(voids) == 1


@pytest.mark.parametrize("visit_id", ["other site", 999999])
def test_voiding_another_sites_visit_is_404(
    client, login, make_site, make_user, make_visit, visit_id
):
    other = make_site("BLT")
    theirs = make_visit(other).visit
    login(make_user("manager"))
    target = theirs.id if visit_id == "other site" else visit_id
    assert void(client, target).status_code == 404
    assert db.session.get(Visit, theirs.id).voided_at is None


def test_door_staff_cannot_void(client, login, door_user, make_visit):
    visit = make_visit().visit
    login(door_user)
    assert void(client, visit.id).status_code == 403
    assert db.session.get(Visit, visit.id).voided_at is None


@pytest.mark.usefixtures("csrf_app_config")
def test_voiding_without_the_csrf_token_is_refused(app, make_visit, manager_user):
    client = app.test_client()
    form = client.get("/login").text
    client.post(
        "/login",
        data={
            "username": manager_user.username,
            "password": PASSWORD,
            "csrf_token": csrf_token_in(form),
        },
    )
    visit = make_visit().visit
    assert void(client, visit.id).status_code == 400
    assert db.session.get(Visit, visit.id).voided_at is None
    token = csrf_token_in(client.get(f"/manage/visits/{visit.id}").text)
    response = client.post(
        f"/manage/visits/{visit.id}/void", data={"reason": "typo", "csrf_token": token}
    )
    assert response.status_code == 302
    assert db.session.get(Visit, visit.id).voided


def settings_form(**changes: str) -> dict[str, str]:
    return {
        "daily_quota": "60",
        "fever_cutoff": "37.3",
        "recheck_minutes": "5",
        "online_service_url": "https://example.org/online",
    } | changes


@pytest.mark.parametrize(("lang", "cutoff"), [("en", "37.3"), ("id", "37,3")])
def test_settings_page_shows_the_current_values(client, as_manager, lang, cutoff):
    html = client.get(f"/manage/settings?lang={lang}").text
    assert 'value="60"' in html and f'value="{cutoff}"' in html
    assert 'value="https://example.org/online"' in html


@pytest.mark.parametrize(
    ("form", "quota", "cutoff_dc", "url"),
    [
        ({"daily_quota": "45"}, 45, 373, "https://example.org/online"),
        ({"fever_cutoff": "37,5"}, 60, 375, "https://example.org/online"),
        ({"fever_cutoff": "38.0"}, 60, 380, "https://example.org/online"),
        ({"fever_cutoff": "37.0"}, 60, 370, "https://example.org/online"),
        ({"fever_cutoff": "36,0", "confirm_cutoff": "y"}, 60, 360, "https://example.org/online"),
        ({"fever_cutoff": "39.0", "confirm_cutoff": "y"}, 60, 390, "https://example.org/online"),
        ({"online_service_url": "http://bpjs.test/antrean"}, 60, 373, "http://bpjs.test/antrean"),
        ({"online_service_url": ""}, 60, 373, ""),
    ],
)
def test_settings_are_saved(client, as_manager, site, form, quota, cutoff_dc, url):
    response = client.post("/manage/settings", data=settings_form(**form))
    assert response.status_code == 302
    db.session.refresh(site)
    assert (site.daily_quota, site.fever_cutoff_dc, site.online_service_url) == (
        quota,
        cutoff_dc,
        url,
    )


@pytest.mark.parametrize(
    ("lang", "message"),
    [
        ("en", "35.0 °C is below the usual 37.0-38.0 °C"),
        ("id", "35,0 °C di bawah batas lazim 37,0-38,0 °C"),
    ],
)
def test_an_unusual_cut_off_is_saved_only_once_ticked(client, as_manager, site, lang, message):
    confirm_box = re.compile(r'<input[^>]*name="confirm_cutoff"')
    assert not confirm_box.search(client.get("/manage/settings").text)
    response = client.post(f"/manage/settings?lang={lang}", data=settings_form(fever_cutoff="35"))
    assert response.status_code == 400
    assert message in response.text
    assert confirm_box.search(response.text)
    db.session.refresh(site)
    assert site.fever_cutoff_dc == 373
    form = settings_form(fever_cutoff="35", confirm_cutoff="y")
    assert client.post(f"/manage/settings?lang={lang}", data=form).status_code == 302
    db.session.refresh(site)
    assert site.fever_cutoff_dc == 350


def test_a_cut_off_once_confirmed_is_not_asked_again(client, as_manager, site):
    site.fever_cutoff_dc = 390
    db.session.commit()
    form = settings_form(daily_quota="45", fever_cutoff="39.0")
    assert client.post("/manage/settings", data=form).status_code == 302
    db.session.refresh(site)
    assert (site.daily_quota, site.fever_cutoff_dc) == (45, 390)


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        ({"daily_quota": "lots"}, "daily_quota", "Not a valid integer value"),
        ({"daily_quota": "-1"}, "daily_quota", "between 0 and 10000"),
        ({"daily_quota": ""}, "daily_quota", "This field is required"),
        ({"fever_cutoff": "hot"}, "fever_cutoff", "Not a valid decimal value"),
        ({"fever_cutoff": "33.9"}, "fever_cutoff", "between 34"),
        ({"fever_cutoff": "42.1"}, "fever_cutoff", "and 42"),
        ({"fever_cutoff": "36.9"}, "fever_cutoff", "36.9 °C is below the usual 37.0-38.0 °C"),
        ({"fever_cutoff": "38.1"}, "fever_cutoff", "with a fever would be let in"),
        ({"online_service_url": "ftp://bpjs.test"}, "online_service_url", "http://"),
        ({"online_service_url": "javascript:alert(1)"}, "online_service_url", "http://"),
        ({"online_service_url": "bpjs.test"}, "online_service_url", "http://"),
    ],
)
def test_settings_refuse_invalid_input(client, as_manager, site, form, field, message):
    response = client.post("/manage/settings?lang=en", data=settings_form(**form))
    assert response.status_code == 400
    assert message in response.text
    assert re.search(f'<input[^>]*aria-invalid="true"[^>]*name="{field}"', response.text)
    db.session.refresh(site)
    assert (site.daily_quota, site.fever_cutoff_dc) == (60, 373)
    changes = sa.select(sa.func.count()).where(AuditEntry.action == "settings")
    assert db.session.scalar(changes) == 0


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"daily_quota": ""}, "Kolom ini wajib diisi."),
        ({"daily_quota": "-1"}, "Angka harus antara 0 dan 10000."),
        ({"fever_cutoff": "panas"}, "Tulis angka, misalnya 37,3."),
        ({"fever_cutoff": "3,73"}, "Angka harus antara 34 dan 42."),
    ],
)
def test_settings_errors_are_in_indonesian(client, as_manager, form, message):
    response = client.post("/manage/settings?lang=id", data=settings_form(**form))
    assert response.status_code == 400
    assert message in response.text


def test_a_mistyped_log_day_is_explained_in_indonesian(client, as_manager):
    response = client.get("/manage/log?lang=id&day=2026-13-45")
    assert response.status_code == 400
    assert "Tanggal tidak valid." in response.text


@pytest.mark.parametrize(
    ("lang", "message"),
    [
        ("en", "3 visitors are already admitted today: the quota cannot be lower than 3."),
        ("id", "3 pengunjung sudah diterima hari ini: kuota tidak boleh kurang dari 3."),
    ],
)
def test_quota_below_todays_admitted_is_refused_clearly(
    client, as_manager, make_visit, site, lang, message
):
    for _ in range(3):
        make_visit()
    response = client.post(f"/manage/settings?lang={lang}", data=settings_form(daily_quota="2"))
    assert response.status_code == 400
    assert message in response.text
    db.session.refresh(site)
    assert site.daily_quota == 60
    assert client.post("/manage/settings", data=settings_form(daily_quota="3")).status_code == 302
    assert day_counter.quota_today(site, make_visit().visit.checked_at).left == 0


@pytest.mark.parametrize(
    ("lang", "action", "change"),
    [
        (
            "en",
            "Settings changed",
            "Walk-in quota per day: 60 → 50; Fever cut-off: 37.3 °C → 37.5 °C; "
            "Online service address: https://example.org/online → –",
        ),
        (
            "id",
            "Pengaturan diubah",
            "Kuota kunjungan langsung per hari: 60 → 50; Batas demam: 37,3 °C → 37,5 °C; "
            "Alamat layanan online: https://example.org/online → –",
        ),
    ],
)
def test_settings_changes_appear_in_the_audit_log_in_words(
    client, as_manager, lang, action, change
):
    form = settings_form(daily_quota="50", fever_cutoff="37.5", online_service_url="")
    client.post("/manage/settings", data=form)
    html = client.get(f"/manage/audit?lang={lang}").text
    assert action in html and change in html
    assert as_manager.username in html


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("en", ["door: created as Door staff", "door: deactivated", "door: password reset"]),
        (
            "id",
            [
                "door: dibuat sebagai Petugas pintu",
                "door: dinonaktifkan",
                "door: kata sandi diatur ulang",
            ],
        ),
    ],
)
def test_account_changes_appear_in_the_audit_log_in_words(
    client, as_admin, site, clock, lang, words
):
    with transaction.owned():
        door = accounts.add_user("door", "door", "long enough", site, by=as_admin, now=clock.now)
        accounts.set_account_active(door, False, as_admin, clock.now)
        accounts.reset_password(door, "another long one", as_admin, clock.now)
    html = client.get(f"/manage/audit?lang={lang}").text
    assert all(word in html for word in words), words


@pytest.mark.parametrize(
    ("action", "detail", "shown"),
    [
        ("settings", {"text": "daily_quota: 60 -> 50"}, "daily_quota: 60 -&gt; 50"),  # before facts
        ("export", {"rows": 150}, "{&#34;rows&#34;: 150}"),  # an action newer than the page
    ],
)
def test_an_entry_the_page_cannot_put_in_words_shows_what_it_holds(
    client, as_manager, site, clock, action, detail, shown
):
    db.session.add(AuditEntry(site_id=site.id, at=clock.now, action=action, detail=detail))
    db.session.commit()
    assert shown in client.get("/manage/audit").text


def test_audit_log_shows_only_the_own_site(client, login, make_site, make_user, clock):
    other = make_site("BLT")
    sites.update_site_settings(
        other, sites.SiteSettings(10, 373, ""), make_user("manager", other), clock.now
    )
    login(make_user("manager"))
    assert 'data-action="settings"' not in client.get("/manage/audit").text


def test_summary_is_printable_and_signable(client, as_manager, make_visit):
    make_visit()
    make_visit(mask=False)
    html = client.get("/manage/summary?day=2026-11-25&lang=en").text
    assert "End-of-day summary" in html
    assert "Rabu" not in html and "Wednesday, November 25, 2026" in html
    assert 'media="print"' in html and "print.css" in html
    assert 'class="signature"' in html and "name and signature" in html
    assert "2 readings in total" in html and "0 voided checks are not counted" in html


def test_the_summary_counts_one_voided_check_in_the_singular(client, as_manager, make_visit):
    make_visit()
    void(client, make_visit().visit.id)
    html = client.get("/manage/summary?day=2026-11-25&lang=en").text
    assert "1 reading in total;" in html and "1 voided check is not counted." in html


def test_print_css_hides_the_navigation(client):
    css = client.get("/static/print.css").text
    assert ".manage-nav" in css and "display: none" in css


@pytest.mark.parametrize("query", ["day=2026-02-30", "day=today"])
def test_summary_refuses_a_bad_day(client, as_manager, query):
    assert client.get(f"/manage/summary?{query}").status_code == 400


@pytest.mark.parametrize("query", ["", "&status=refused", "&reason=no_mask"])
def test_log_page_lists_what_the_api_lists(client, as_manager, make_visit, clock, query):
    for minute, fields in enumerate([{}, {"mask": False}, {"temperature_dc": 380}, {}]):
        make_visit(now=clock.now + timedelta(minutes=minute), **fields)
    api_ids = [
        item["id"] for item in client.get(f"/api/v1/checkins?day=2026-11-25{query}").json["items"]
    ]
    page_ids = [
        int(found)
        for found in re.findall(
            r'id="visit-(\d+)"', client.get(f"/manage/log?day=2026-11-25{query}").text
        )
    ]
    assert page_ids == api_ids and api_ids
