"""A supervisor's PIN on a paired tablet admits a visitor past the full quota, on both engines:
offered on paired tablets only, checked with the PIN log-in's throttle, audited with the
supervisor and the tablet; every refusal a 4xx with nothing stored. And the API's override."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from checkin.domain.errors import NotOverridable, NotSupervisor, UnknownSupervisor
from checkin.extensions import db
from checkin.models import AuditEntry, DayQuota, Device, LoginWindow, User, Visit
from checkin.services import accounts, logins, overrides, pairing, transaction
from checkin.web import openapi
from checkin.words.audit import describe_audit
from tests.conftest import PASSWORD, on_tablet

PIN = "271828"


@pytest.fixture
def full_site(site):
    """The default site with a quota of one."""
    site.daily_quota = 1
    db.session.commit()
    return site


@pytest.fixture
def supervisor(full_site, manager_user, clock):
    """The default site's manager, with a supervisor's PIN."""
    with transaction.owned():
        pairing.set_supervisor_pin(manager_user, PIN, clock.now)
    return manager_user


@pytest.fixture
def refused(full_site, make_visit):
    """Today's check refused for the quota alone, after the one slot went."""
    make_visit()
    visit = make_visit(visitor_name="Ibu Sri").visit
    assert visit.reasons == ["quota_full"]
    return visit


@pytest.fixture
def paired(pair_tablet):
    """A paired tablet of the default site."""
    return pair_tablet(name="Pintu Utama")


@pytest.fixture
def tablet(app, paired, door_user) -> FlaskClient:
    """The paired tablet's browser, door staff logged in."""
    browser = on_tablet(app.test_client(), paired)
    response = browser.post("/login", data={"username": door_user.username, "password": PASSWORD})
    assert response.status_code == 302
    return browser


def admit(browser: FlaskClient, visit_id: int, **changed: object):
    """Post the supervisor's form for a check; ``changed`` replaces or (None) drops fields."""
    form = {"supervisor": changed.pop("supervisor_id"), "pin": PIN, "reason": "elderly"} | changed
    return browser.post(
        f"/visits/{visit_id}/override", data={k: v for k, v in form.items() if v is not None}
    )


def nothing_stored(visit: Visit) -> None:
    """Assert the check is still refused for the quota and no override was counted or audited."""
    db.session.expire_all()
    stored = db.session.get(Visit, visit.id)
    assert (stored.status, stored.slot, stored.override_reason) == ("refused", None, None)
    assert db.session.get(DayQuota, (visit.site_id, visit.day)).overrides == 0
    assert not db.session.scalar(
        sa.select(sa.func.count()).where(AuditEntry.action == overrides.ADMITTED_PAST_QUOTA)
    )


def test_a_supervisor_s_pin_on_a_paired_tablet_admits_with_a_number_audited_with_the_tablet(
    app, tablet, refused, supervisor, paired, door_user
):
    page = tablet.get(f"/visits/{refused.id}")
    assert "data-supervisor-override" in page.text
    assert f'value="{supervisor.id}"' in page.text
    assert "data-override-link" not in page.text  # the manager's link is for unpaired browsers
    done = admit(tablet, refused.id, supervisor_id=supervisor.id, reason="other", note="sakit")
    assert (done.status_code, done.location) == (303, f"/visits/{refused.id}")
    answer = tablet.get(done.location)
    assert 'id="slot">2<' in answer.text and "data-supervisor-override" not in answer.text
    db.session.expire_all()
    stored = db.session.get(Visit, refused.id)
    assert (stored.status, stored.slot, stored.override_reason, stored.override_note) == (
        "admitted",
        2,
        "other",
        "sakit",
    )
    entry = db.session.scalar(
        sa.select(AuditEntry).where(AuditEntry.action == overrides.ADMITTED_PAST_QUOTA)
    )
    assert (entry.user_id, entry.visit_id, entry.detail) == (
        supervisor.id,
        refused.id,
        {"reason": "other", "slot": 2, "device": "Pintu Utama", "staff": door_user.username},
    )
    with app.test_request_context():
        said = describe_audit(entry, refused.site)
    assert "Pintu Utama" in said and door_user.username in said
    # The check stays recorded by the door staff who measured; the supervisor admitted it.
    assert stored.recorded_by_id == door_user.id


@pytest.mark.parametrize(
    ("changed", "status", "field"),
    [
        ({"pin": "000000"}, 401, "pin"),
        ({"pin": "12"}, 422, "pin"),
        ({"pin": None}, 422, "pin"),
        ({"supervisor_id": None}, 422, "supervisor"),
        ({"supervisor_id": "x"}, 422, "supervisor"),
        ({"supervisor_id": 999_999}, 422, "supervisor"),
        ({"supervisor_id": 2**40}, 422, "supervisor"),
        ({"reason": "bribe"}, 422, "reason"),
        ({"reason": None}, 422, "reason"),
        ({"reason": "other"}, 422, "note"),
        ({"reason": "other", "note": "   "}, 422, "note"),
        ({"reason": "other", "note": "a\x00b"}, 422, "note"),
    ],
)
def test_bad_input_on_the_supervisor_s_form_says_why_and_stores_nothing(
    tablet, refused, supervisor, changed, status, field
):
    response = admit(tablet, refused.id, **({"supervisor_id": supervisor.id} | changed))
    assert response.status_code == status
    assert "data-supervisor-override" in response.text
    assert f'id="{field}-error"' in response.text
    nothing_stored(refused)


@pytest.mark.parametrize("who", ["door", "no_pin", "other_site", "inactive"])
def test_only_a_supervisor_of_the_site_with_a_pin_is_known(
    tablet, refused, supervisor, make_user, make_site, clock, who
):
    if who == "door":
        account = make_user("door")
        with transaction.owned():
            pairing.set_pin(refused.site, account.id, PIN, supervisor, clock.now)
    elif who == "no_pin":
        account = make_user("manager")
    else:
        account = make_user("manager", site_=make_site("SBY") if who == "other_site" else None)
        with transaction.owned():
            pairing.set_supervisor_pin(account, PIN, clock.now)
            account.active = who != "inactive"
    response = admit(tablet, refused.id, supervisor_id=account.id)
    assert response.status_code == 422 and 'id="supervisor-error"' in response.text
    assert f'value="{account.id}"' not in response.text  # nor listed
    nothing_stored(refused)


def test_another_site_s_visit_is_not_found_from_the_tablet(
    tablet, refused, supervisor, make_site, make_visit
):
    other = make_site("SBY", daily_quota=0)
    elsewhere = make_visit(site_=other).visit
    assert elsewhere.reasons == ["quota_full"]
    assert admit(tablet, elsewhere.id, supervisor_id=supervisor.id).status_code == 404
    nothing_stored(elsewhere)


def test_a_second_press_is_refused_with_409_and_spends_no_pin_guess(
    tablet, refused, supervisor, paired
):
    assert admit(tablet, refused.id, supervisor_id=supervisor.id).status_code == 303
    guesses = attempts_counted()
    again = admit(tablet, refused.id, supervisor_id=supervisor.id, pin="000000")
    assert again.status_code == 409
    assert "data-supervisor-override" not in again.text
    db.session.expire_all()
    assert db.session.get(DayQuota, (refused.site_id, refused.day)).overrides == 1
    assert attempts_counted() == guesses


def attempts_counted() -> int:
    """Return the attempts every throttle window holds."""
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(LoginWindow.attempts), 0)))


@pytest.mark.parametrize("kind", ["admitted", "fever"])
def test_a_check_not_refused_for_the_quota_alone_is_not_overridable(
    tablet, full_site, supervisor, make_visit, kind
):
    visit = make_visit(temperature_dc=385 if kind == "fever" else 365).visit
    assert "data-supervisor-override" not in tablet.get(f"/visits/{visit.id}").text
    assert admit(tablet, visit.id, supervisor_id=supervisor.id).status_code == 409


def test_wrong_pins_are_throttled_as_the_pin_log_in_so_even_the_right_one_waits(
    tablet, refused, supervisor, clock
):
    for _guess in range(pairing.PIN_GUESSES - 1):
        wrong = admit(tablet, refused.id, supervisor_id=supervisor.id, pin="000000")
        assert wrong.status_code == 401
    assert admit(tablet, refused.id, supervisor_id=supervisor.id, pin="000000").status_code == 429
    locked = admit(tablet, refused.id, supervisor_id=supervisor.id)
    assert locked.status_code == 429 and 'id="pin-error"' in locked.text
    nothing_stored(refused)
    clock.now += timedelta(minutes=15)
    assert admit(tablet, refused.id, supervisor_id=supervisor.id).status_code == 303


def test_a_browser_no_one_paired_is_never_offered_the_form(
    app, client, login, refused, supervisor, door_user
):
    login(door_user)
    assert "data-supervisor-override" not in client.get(f"/visits/{refused.id}").text
    assert "data-supervisor-override" not in client.get("/").text
    assert admit(client, refused.id, supervisor_id=supervisor.id).status_code == 404
    nothing_stored(refused)
    manager = app.test_client()
    login_as = manager.post("/login", data={"username": supervisor.username, "password": PASSWORD})
    assert login_as.status_code == 302
    page = manager.get(f"/visits/{refused.id}")
    assert "data-override-link" in page.text and "data-supervisor-override" not in page.text


def test_the_door_s_answer_carries_the_form_hidden_and_offline_says_it_needs_the_connection(
    tablet, supervisor
):
    for page in (tablet.get("/"), tablet.get("/door/offline")):
        assert "data-supervisor-override" in page.text and "data-override-offline" in page.text
        assert f'value="{supervisor.id}"' in page.text


def test_a_tablet_with_no_supervisor_pin_says_how_to_set_one(tablet, refused):
    page = tablet.get(f"/visits/{refused.id}")
    assert "data-no-supervisor" in page.text


def test_a_race_of_two_supervisors_admits_once(
    app, database_url, refused, supervisor, make_user, paired, door_user, clock
):
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite lets one writer in at a time: the race cannot happen there")
    second = make_user("manager")
    tablet_id, staff_id = paired.device.id, door_user.id
    start = threading.Barrier(2)
    outcomes: Counter[str] = Counter()

    def press(user_id: int) -> None:
        with app.app_context():
            visit = db.session.get(Visit, refused.id)
            user = db.session.get(type(supervisor), user_id)
            start.wait()
            try:
                with transaction.owned():
                    on_tablet = overrides.OnTablet(
                        db.session.get(Device, tablet_id), db.session.get(User, staff_id)
                    )
                    overrides.admit_past_quota(visit, user, "elderly", None, clock.now, on_tablet)
            except NotOverridable:
                outcomes["refused"] += 1
            else:
                outcomes["admitted"] += 1
            db.session.remove()

    racers = [threading.Thread(target=press, args=(user.id,)) for user in (supervisor, second)]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join(timeout=30)
    assert outcomes == {"admitted": 1, "refused": 1}
    db.session.expire_all()
    row = db.session.get(DayQuota, (refused.site_id, refused.day))
    assert (row.overrides, row.issued) == (1, 2)
    assert db.session.get(Visit, refused.id).slot == 2


def test_a_supervisor_sets_their_own_pin_and_others_cannot(
    client, login, supervisor, door_user, clock
):
    with pytest.raises(NotSupervisor):
        pairing.set_supervisor_pin(door_user, PIN, clock.now)
    login(supervisor)
    page = client.get("/manage/tablets")
    assert 'data-supervisor-pin="set"' in page.text
    assert client.post("/manage/tablets/supervisor-pin", data={"pin": "12a"}).status_code == 422
    assert client.post("/manage/tablets/supervisor-pin", data={"pin": "1357"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(type(supervisor), supervisor.id).check_pin("1357")
    # The PIN opens no session: the supervisor is still logged in.
    assert client.get("/manage/tablets").status_code == 200
    assert client.get("/manage/audit").status_code == 200  # the PIN set, in words
    entry = db.session.scalar(sa.select(AuditEntry).order_by(AuditEntry.id.desc()))
    assert entry.detail == {"account": supervisor.username, "change": "supervisor_pin_set"}
    assert entry.user_id == supervisor.id
    client.post("/logout")
    login(door_user)
    assert client.post("/manage/tablets/supervisor-pin", data={"pin": "1357"}).status_code == 403


def test_unknown_supervisor_is_refused_by_the_service(paired, supervisor, door_user, clock):
    with pytest.raises(UnknownSupervisor):
        pairing.supervisor_pin(paired.device, door_user.id, PIN, clock.now)
    assert pairing.supervisor_pin(paired.device, supervisor.id, PIN, clock.now).user == supervisor


# --- The API ---


def test_the_api_admits_past_the_quota_once_for_a_manager_s_token(
    client, auth_headers, refused, manager_user
):
    headers = auth_headers(manager_user)
    done = client.post(
        f"/api/v1/visits/{refused.id}/override", json={"reason": "pregnant"}, headers=headers
    )
    assert done.status_code == 200
    assert (done.json["status"], done.json["slot"], done.json["override_reason"]) == (
        "admitted",
        2,
        "pregnant",
    )
    assert done.json["quota"]["left"] == 0
    again = client.post(
        f"/api/v1/visits/{refused.id}/override", json={"reason": "pregnant"}, headers=headers
    )
    assert (again.status_code, again.json["code"]) == (409, "not_overridable")


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"reason": "bribe"}, 422, "validation"),
        ({}, 422, "validation"),
        ({"reason": "other"}, 422, "override_note_missing"),
        ({"reason": "other", "note": " "}, 422, "override_note_missing"),
        ({"reason": "other", "note": "x" * 1000}, 422, "validation"),
        ({"reason": "elderly", "by": "someone"}, 422, "validation"),
    ],
)
def test_bad_input_to_the_api_s_override_stores_nothing(
    client, auth_headers, refused, manager_user, body, status, code
):
    response = client.post(
        f"/api/v1/visits/{refused.id}/override", json=body, headers=auth_headers(manager_user)
    )
    assert (response.status_code, response.json["code"]) == (status, code)
    nothing_stored(refused)


def test_the_api_does_not_find_another_site_s_visit(
    client, auth_headers, full_site, make_site, make_visit, manager_user
):
    elsewhere = make_visit(site_=make_site("SBY", daily_quota=0)).visit
    response = client.post(
        f"/api/v1/visits/{elsewhere.id}/override",
        json={"reason": "elderly"},
        headers=auth_headers(manager_user),
    )
    assert (response.status_code, response.json["code"]) == (404, "not_found")
    nothing_stored(elsewhere)


def test_a_token_whose_account_may_not_admit_past_the_quota_is_forbidden(
    client, auth_headers, refused, door_user
):
    response = client.post(
        f"/api/v1/visits/{refused.id}/override",
        json={"reason": "elderly"},
        headers=auth_headers(door_user),
    )
    assert (response.status_code, response.json["code"]) == (403, "forbidden")
    nothing_stored(refused)


def test_the_openapi_document_lists_the_override_s_codes():
    operation = openapi.build().to_dict()["paths"]["/visits/{visit_id}/override"]["post"]
    assert {"404", "409", "422"} <= set(operation["responses"])
    assert "not_overridable" in operation["responses"]["409"]["description"]


@pytest.mark.parametrize(
    ("role", "promoted_to"),
    [("door", "manager"), ("manager", "door"), ("manager", "officer")],
    ids=["door PIN on a promotion", "supervisor's PIN on a demotion", "to the floor"],
)
def test_a_pin_goes_with_the_old_role_so_no_one_admits_in_another_s_name(
    app, site, make_user, manager_user, paired, clock, role, promoted_to
):
    """A door PIN a manager set must not become the supervisor's PIN of a promoted account
    (the manager who set it would admit past the quota in its name), nor a supervisor's own
    PIN a door log-in nobody set."""
    account = make_user(role)
    with transaction.owned():
        if role == "door":
            pairing.set_pin(site, account.id, PIN, manager_user, clock.now)
        else:
            pairing.set_supervisor_pin(account, PIN, clock.now)
        pairing.check_pin(paired.device, account, "000000", clock.now)  # a wrong guess
    admin = make_user("admin")
    with transaction.owned():
        accounts.change_account(account, promoted_to, site, admin, clock.now)
    db.session.expire_all()
    assert account.pin_hash is None
    assert account not in pairing.supervisors_with_pin(site)
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(LoginWindow)
            .where(LoginWindow.username_digest == logins.pin_key(account.id))
        )
        == 0
    )
    said = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "account")).all()
    assert [entry.detail["change"] for entry in said][-2:] == ["moved", "pin_dropped"]
    with app.test_request_context():
        assert all(describe_audit(entry, site) for entry in said)
