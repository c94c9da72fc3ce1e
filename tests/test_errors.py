"""Service errors carry codes: pages, the API and the CLI say each cause in words of their own."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask_babel import force_locale

from checkin.domain import booking_errors, errors
from checkin.domain.errors import ServiceError
from checkin.words.errors import ERROR_TEXT, error_text

# One made-up instance of every cause, with the facts its words need.
EXAMPLES = [
    errors.RetestNotWaiting(),
    errors.RetestClosed(),
    errors.AlreadyRetested(),
    errors.RetestTooEarly(datetime(2026, 11, 25, 10, 6, tzinfo=ZoneInfo("Asia/Jakarta"))),
    errors.TooSoonToCallGone(datetime(2026, 11, 25, 10, 30, tzinfo=ZoneInfo("Asia/Jakarta"))),
    errors.UnknownDevice(),
    errors.DeviceOfAnotherSite(),
    errors.WrongPairingCode(),
    errors.PairingCodeExpired(),
    errors.PairingCodeUsed(),
    errors.PairingLocked(15),
    errors.InvalidPin(),
    errors.NotDoorStaff("kepala"),
    errors.UnknownBooth(3),
    errors.BoothTaken(3),
    errors.BoothLimitReached(5),
    errors.BoothNotYours(3),
    errors.BoothBusy(3, 12),
    errors.NobodyWaiting(),
    errors.NoRoomForVideo(5),
    errors.UnknownVideoSession(),
    errors.WrongFloorState(),
    errors.RecallFirst(),
    errors.BoothsStillOpen((9, 10)),
    errors.BoothCountOutOfRange(1, 99),
    errors.BoothsPerOfficerOutOfRange(1, 10),
    errors.WaitKpiOutOfRange(1, 480),
    errors.VoidReasonMissing(),
    errors.AlreadyVoided(),
    errors.OverrideReasonUnknown(),
    errors.OverrideNoteMissing(),
    errors.NotOverridable(),
    errors.UnknownSupervisor(),
    errors.NotSupervisor(),
    errors.NegativeQuota(),
    errors.QuotaBelowAdmitted(3, 2),
    errors.RetestWaitOutOfRange(1, 30),
    errors.NotAHoliday(date(2026, 12, 24)),
    errors.ClosedDayInPast(date(2026, 11, 1)),
    errors.AlreadyClosed(date(2026, 12, 26)),
    errors.UnknownClosedDay(date(2026, 12, 27)),
    errors.ClosedLabelInvalid(120),
    errors.RangeReversed(),
    errors.RangeTooLong(366),
    errors.SiteCodeTaken("KDR"),
    errors.InvalidSiteCode("K D"),
    errors.UnknownSite("XXX"),
    errors.InvalidSiteName(120),
    errors.InvalidPrivacyContact(200),
    errors.UnknownTimezone("Asia/Kediri"),
    errors.UsernameTaken("pintu1"),
    errors.InvalidUsername("a b"),
    errors.InvalidDisplayName(60),
    errors.UnknownAccount("nobody"),
    errors.PasswordTooShort(8),
    errors.SiteRequired(),
    errors.CannotDeactivateSelf(),
    errors.CannotLeaveAdmin(),
    errors.UnknownRole("boss"),
    errors.UnknownScope("write"),
    errors.UnknownToken(999),
    errors.RetentionTooShort(),
    errors.BackupFolderMissing("/srv/cadangan"),
    errors.BackupFolderNotWritable("/srv/cadangan", "Permission denied"),
    errors.BackupToolMissing("pg_dump"),
    errors.BackupToolFailed("pg_restore", "connection refused"),
    errors.BackupCopyDamaged("page 12 is never used"),
    errors.NotABackup("notes.txt"),
    errors.BackupOfAnotherEngine("checkin.pgdump", "PostgreSQL", "SQLite"),
    errors.BackupDamaged("half.sqlite3", "database disk image is malformed"),
    errors.BackupFromNewerVersion("0099", "0004"),
    errors.DatabaseInUse("4321, 4322"),
    booking_errors.UnknownBooking(),
    booking_errors.VideoSessionNotAtDoor(),
    booking_errors.ContactOnVisit(),
    booking_errors.ContactInvalid(),
    booking_errors.BookingNotOpen(),
    booking_errors.BookingAlreadyAdmitted(
        datetime(2026, 11, 25, 8, 40, tzinfo=ZoneInfo("Asia/Jakarta"))
    ),
    booking_errors.UnknownSession(time(9)),
    booking_errors.SessionFull(time(8), date(2026, 11, 26)),
    booking_errors.SessionOver(time(8), date(2026, 11, 25)),
    booking_errors.AlreadyBooked(date(2026, 11, 26)),
    booking_errors.BookingDayClosed(date(2026, 12, 25)),
    booking_errors.BookingDayPast(date(2026, 11, 24)),
    booking_errors.BookingDayTooFar(date(2026, 12, 8)),
    booking_errors.BookingPageBusy(15),
    booking_errors.ReleaseTooEarly(datetime(2026, 11, 25, 11, 0, tzinfo=ZoneInfo("Asia/Jakarta"))),
    booking_errors.ImportHeaderWrong("date,session", "tanggal,sesi"),
    booking_errors.ImportTooLarge(5000),
    booking_errors.ImportNotCsv(),
]


def every_cause(cls: type = ServiceError) -> set[type]:
    """Return every subclass of ``cls``, however deep."""
    return {sub for child in cls.__subclasses__() for sub in {child} | every_cause(child)}


def test_the_examples_cover_every_cause_once():
    assert sorted(type(error).__name__ for error in EXAMPLES) == sorted(
        cls.__name__ for cls in every_cause()
    )
    codes = [error.code for error in EXAMPLES]
    assert len(set(codes)) == len(codes)
    assert set(codes) == set(ERROR_TEXT)


@pytest.mark.parametrize("error", EXAMPLES, ids=lambda error: error.code)
def test_every_cause_has_words_in_both_languages_with_its_facts(app, error):
    with app.test_request_context():
        with force_locale("en"):
            english = error_text(error)
        with force_locale("id"):
            indonesian = error_text(error)
    assert english and indonesian and english != indonesian
    # Each fact appears in the words; a zero (no slots held) is one the words leave out.
    facts = [str(value) for value in vars(error).values() if isinstance(value, int | str) and value]
    for fact in facts:
        assert fact in english and fact in indonesian
    if isinstance(error, errors.RetestTooEarly):
        assert "10:06" in english and "10:06" in indonesian
    if isinstance(error, errors.TooSoonToCallGone):
        assert "10:30" in english and "10:30" in indonesian


@pytest.fixture
def door(client, door_user, login):
    """Return a client logged in as door staff."""
    login(door_user)
    return client


RETEST_WORDS = {
    "retest_too_early": {
        "en": "Too early: let the visitor rest until 10:05, then measure again.",
        "id": "Terlalu cepat: biarkan pengunjung istirahat sampai pukul 10:05, lalu ukur ulang.",
    },
    "retest_closed": {
        "en": "This reading cannot be re-tested any more today: start a new check.",
        "id": "Hasil ini tidak bisa diukur ulang lagi hari ini: mulai pemeriksaan baru.",
    },
    "already_retested": {
        "en": "This visitor was already re-tested: the reading cannot be re-tested any more.",
        "id": "Pengunjung ini sudah diukur ulang: hasil ini tidak bisa diukur ulang lagi.",
    },
}


def make_retest_refusal(code, make_visit, manager_user, clock):
    """Return the id of a first reading whose re-test now is refused for ``code``."""
    first = make_visit(temperature_dc=375).visit
    if code == "retest_closed":
        from checkin.services import checkins, transaction

        with transaction.owned():
            checkins.void_visit(first, manager_user, "wrong visitor", clock.now)
        clock.now += timedelta(minutes=5)
    elif code == "already_retested":
        clock.now += timedelta(minutes=5)
        make_visit(retest_of=first.id)
    return first.id


@pytest.mark.parametrize("language", ["en", "id"])
@pytest.mark.parametrize("code", list(RETEST_WORDS))
def test_the_door_says_why_a_re_test_is_refused(
    door, make_visit, manager_user, clock, code, language
):
    first_id = make_retest_refusal(code, make_visit, manager_user, clock)
    door.post(f"/lang/{language}")
    response = door.post(f"/visits/{first_id}/retest", data={"temperature": "36.6"})
    assert response.status_code == 422
    assert RETEST_WORDS[code][language] in response.text


@pytest.mark.parametrize("code", list(RETEST_WORDS))
def test_the_api_says_why_a_re_test_is_refused(
    client, auth_headers, door_user, make_visit, manager_user, clock, code
):
    first_id = make_retest_refusal(code, make_visit, manager_user, clock)
    body = {"temperature_c": 36.6, "hand_sanitiser": True, "mask": True, "distancing": True}
    response = client.post(
        "/api/v1/checkins",
        json=body | {"recheck_of": first_id},
        headers=auth_headers(door_user),
    )
    body = response.json
    assert (response.status_code, body["code"], body["status"]) == (409, code, 409)
    assert body["message"] == RETEST_WORDS[code]["en"]
    assert body["errors"] == {"recheck_of": [RETEST_WORDS[code]["en"]]}
    if code == "retest_too_early":
        ready_at = datetime.fromisoformat(body["facts"]["ready_at"])
        assert (ready_at.strftime("%H:%M"), ready_at.utcoffset() is not None) == ("10:05", True)
    else:
        assert body["facts"] == {}


@pytest.mark.parametrize(
    ("query", "code", "facts", "words"),
    [
        (
            "from=2026-11-20&to=2026-11-10",
            "range_reversed",
            {},
            "The end date is before the start date.",
        ),
        (
            "from=2010-01-01&to=2026-11-10",
            "range_too_long",
            {"max_days": 3700},
            "This range is too long: at most 3700 days.",
        ),
    ],
)
def test_the_api_says_why_a_range_is_refused(
    client, auth_headers, manager_user, query, code, facts, words
):
    response = client.get(f"/api/v1/reports/daily?{query}", headers=auth_headers(manager_user))
    assert (response.status_code, response.json["code"], response.json["status"]) == (
        422,
        code,
        422,
    )
    assert (response.json["errors"], response.json["facts"]) == ({"to": [words]}, facts)


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("en", "The check at 10:00 is void."),
        ("id", "Pemeriksaan pukul 10:00 dibatalkan."),
    ],
)
def test_a_second_void_is_refused_in_the_readers_language(
    client, login, manager_user, make_visit, language, words
):
    visit = make_visit().visit
    login(manager_user)
    client.post(f"/lang/{language}")
    client.post(f"/manage/visits/{visit.id}/void", data={"reason": "typed twice"})
    assert words in client.get("/manage/log").text
    client.post(f"/manage/visits/{visit.id}/void", data={"reason": "again"})
    already = {"en": "This check is already void.", "id": "Pemeriksaan ini sudah dibatalkan."}
    assert already[language] in client.get("/manage/log").text
