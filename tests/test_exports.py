"""CSV and XLSX exports: parsed back and compared, file names, formula safety, site isolation."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
from datetime import datetime, time, timedelta
from pathlib import Path

import openpyxl
import pytest

from checkin.extensions import db
from checkin.words import exports

INDONESIAN_HEADERS = [
    "Tanggal",
    "Jam",
    "No. antrean",
    "Status",
    "Alasan",
    "Suhu tubuh (°C)",
    "Hand sanitizer",
    "Masker",
    "Jaga jarak",
    "Nama",
    "NIK (4 digit akhir)",
    "Nomor HP",
    "Keperluan",
    "Dicatat oleh",
    "Dibatalkan",
    "Alasan pembatalan",
    "ID pemeriksaan",
]
# The service floor's columns after those (issue 17): tests/test_floor_reports.py reads them.
FLOOR_COLUMNS = 9
COLUMNS = len(INDONESIAN_HEADERS) + FLOOR_COLUMNS


@pytest.fixture
def as_manager(login, manager_user):
    """Log the test client in as the default site's manager."""
    login(manager_user)
    return manager_user


@pytest.fixture
def two_days(make_visit, clock):
    """Check in three visitors on the 24th and 25th of November (Kediri time)."""
    yesterday = clock.now - timedelta(days=1)
    return [
        make_visit(now=yesterday, visitor_name="Budi Santoso", mask=False).visit,
        make_visit(
            visitor_name="Siti Aminah",
            phone="081234567890",
            nik_last4="3456",
            purpose="jht_claim",
            temperature_dc=366,
        ).visit,
        make_visit(now=clock.now + timedelta(minutes=5), temperature_dc=380).visit,
    ]


def download(client, extension: str, query: str):
    return client.get(f"/manage/export.{extension}?{query}", buffered=True)


def csv_rows(response, separator: str = ";") -> list[list[str]]:
    """Read a CSV export back; Indonesian (the default language) separates with semicolons."""
    text = response.data.decode("utf-8")
    assert text.startswith("\ufeff"), "Excel needs the BOM to read UTF-8"
    return list(csv.reader(io.StringIO(text[1:]), delimiter=separator))


def checks_sheet(response):
    """Return the sheet of checks: the second, after the summary."""
    workbook = openpyxl.load_workbook(io.BytesIO(response.data))
    assert workbook.sheetnames == ["Ringkasan", "Pemeriksaan"]
    return workbook["Pemeriksaan"]


def xlsx_rows(response) -> list[list]:
    return [list(row) for row in checks_sheet(response).iter_rows(values_only=True)]


def summary_figures(response) -> dict[str, object]:
    """Read the summary sheet back as {label: value} for its rows of a label and a value."""
    sheet = openpyxl.load_workbook(io.BytesIO(response.data))["Ringkasan"]
    rows = [row for row in sheet.iter_rows(values_only=True) if row and row[0] is not None]
    return {row[0]: row[1] for row in rows if len(row) > 1 and row[1] is not None}


@pytest.mark.parametrize(
    ("extension", "query", "file_name"),
    [
        ("csv", "from=2026-11-25&to=2026-11-25", "checkin-KDR-2026-11-25.csv"),
        ("xlsx", "from=2026-11-25&to=2026-11-25", "checkin-KDR-2026-11-25.xlsx"),
        ("csv", "from=2026-11-01&to=2026-11-25", "checkin-KDR-2026-11-01_2026-11-25.csv"),
        ("xlsx", "to=2026-11-25", "checkin-KDR-2026-10-27_2026-11-25.xlsx"),
        ("csv", "", "checkin-KDR-2026-10-27_2026-11-25.csv"),
    ],
)
def test_exports_are_attachments_with_clear_names(client, as_manager, extension, query, file_name):
    response = download(client, extension, query)
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == f'attachment; filename="{file_name}"'
    assert response.mimetype == {"csv": exports.CSV_MIME, "xlsx": exports.XLSX_MIME}[extension]
    assert response.headers["Cache-Control"] == "no-store"


def test_csv_reads_back_as_the_days_checks(client, as_manager, two_days, manager_user):
    rows = csv_rows(download(client, "csv", "from=2026-11-25&to=2026-11-25"))
    assert rows[0][: len(INDONESIAN_HEADERS)] == INDONESIAN_HEADERS
    siti, retest = rows[1:]
    assert siti[: len(INDONESIAN_HEADERS)] == [
        "2026-11-25",
        "10:00:00",
        "1",
        "Diterima",
        "",
        "36,6",
        "ya",
        "ya",
        "ya",
        "Siti Aminah",
        "************3456",
        '="081234567890"',
        "Klaim Jaminan Hari Tua (JHT)",
        two_days[1].recorded_by.username,
        "tidak",
        "",
        str(two_days[1].id),
    ]
    assert retest[1:5] == ["10:05:00", "", "Ukur ulang", "Demam"]


def test_xlsx_reads_back_like_the_csv_with_typed_cells(client, as_manager, two_days):
    query = "from=2026-11-24&to=2026-11-25"
    from_csv = csv_rows(download(client, "csv", query))
    from_xlsx = xlsx_rows(download(client, "xlsx", query))
    assert from_xlsx[0] == from_csv[0]
    assert from_csv[0][: len(INDONESIAN_HEADERS)] == INDONESIAN_HEADERS
    # Excel has no date-only type: openpyxl reads the date cells back as midnight.
    days = [row[0] for row in from_xlsx[1:]]
    assert days == [datetime(2026, 11, 24), datetime(2026, 11, 25), datetime(2026, 11, 25)]
    assert from_xlsx[2][1] == time(10, 0)
    assert (from_xlsx[2][2], from_xlsx[2][5]) == (1, 36.6)
    for xlsx_row, csv_row in zip(from_xlsx[1:], from_csv[1:], strict=True):
        # Likewise 38.0 comes back as the number 38; the cell shows it with its "0.0" format.
        xlsx_row[0], xlsx_row[5] = xlsx_row[0].date(), float(xlsx_row[5])
        assert [exports.csv_cell(value, ",") for value in xlsx_row] == csv_row
    sheet = checks_sheet(download(client, "xlsx", query))
    assert (sheet["A2"].number_format, sheet["F2"].number_format) == ("DD-MM-YYYY", "0.0")
    assert sheet["B2"].number_format == "HH:MM:SS"


def test_xlsx_checks_sheet_is_ready_to_hand_on(client, as_manager, two_days):
    sheet = checks_sheet(download(client, "xlsx", "from=2026-11-24&to=2026-11-25"))
    assert sheet.freeze_panes == "A2"
    assert all(cell.font.bold for cell in sheet[1])
    assert sheet.auto_filter.ref == f"A1:{openpyxl.utils.get_column_letter(COLUMNS)}4"
    widths = {letter: dimension.width for letter, dimension in sheet.column_dimensions.items()}
    assert len(widths) == COLUMNS
    for column, header in enumerate(INDONESIAN_HEADERS, start=1):
        letter = openpyxl.utils.get_column_letter(column)
        assert widths[letter] > len(header), header
    # A name column fits a name; a queue number column stays narrow.
    assert widths["J"] >= 24 > widths["C"]


def test_xlsx_summary_totals_equal_the_rows(client, as_manager, two_days, make_visit):
    make_visit(mask=False, hand_sanitiser=False)
    client.post(f"/manage/visits/{two_days[0].id}/void", data={"reason": "typed twice"})
    response = download(client, "xlsx", "from=2026-11-24&to=2026-11-25")
    rows = xlsx_rows(response)[1:]
    counted = [row for row in rows if row[14] == "tidak"]
    figures = summary_figures(response)
    assert figures["Pemeriksaan"] == len(counted) == 3
    for label, status in (
        ("Diterima", "Diterima"),
        ("Ditolak", "Ditolak"),
        ("Ukur ulang", "Ukur ulang"),
    ):
        assert figures[label] == sum(row[3] == status for row in counted), label
    assert figures["Pemeriksaan yang dibatalkan, tidak dihitung di atas"] == 1
    refused = [row for row in counted if row[3] == "Ditolak"]
    assert figures["Tanpa masker"] == 1
    for reason in ("Demam", "Tanpa masker", "Kuota penuh"):
        assert figures[reason] == sum(reason in (row[4] or "") for row in refused), reason
    report = client.get("/manage/reports?from=2026-11-24&to=2026-11-25").get_data(as_text=True)
    assert f"<dd>{figures['Diterima']}</dd>" in report


def test_a_range_export_is_in_time_order_across_days(client, as_manager, two_days):
    rows = csv_rows(download(client, "csv", "from=2026-11-24&to=2026-11-25"))
    assert [row[16] for row in rows[1:]] == [str(visit.id) for visit in two_days]
    assert rows[1][3:5] == ["Ditolak", "Tanpa masker"]


def test_headers_follow_the_interface_language(client, as_manager):
    rows = csv_rows(download(client, "csv", "lang=en"), ",")
    assert rows[0][:3] == ["Date", "Time", "Queue no."]


@pytest.mark.parametrize(
    ("name", "defused"),
    [
        ('=HYPERLINK("http://evil.test")', '\'=HYPERLINK("http://evil.test")'),
        # Shaped like a phone: one string literal, which nothing typed can end.
        ("+62 811", '="+62 811"'),
        ("-1+1", "'-1+1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tTab", "'\tTab"),
    ],
)
def test_formula_like_names_are_defused_in_csv_and_kept_exact_in_xlsx(
    client, as_manager, make_visit, name, defused
):
    make_visit(visitor_name=name)
    csv_name = csv_rows(download(client, "csv", "from=2026-11-25&to=2026-11-25"))[1][9]
    assert csv_name == defused
    response = download(client, "xlsx", "from=2026-11-25&to=2026-11-25")
    cell = checks_sheet(response)["J2"]
    assert (cell.value, cell.data_type) == (name, "s")


@pytest.mark.parametrize(
    ("phone", "cell"),
    [
        ("089624763749", '="089624763749"'),
        ("+6289624763749", '="+6289624763749"'),
        ("0896 2476 3749", '="0896 2476 3749"'),
        # A phone as the pattern lets it be typed: text, with no apostrophe to show.
        ("+62 812-3456-789", '="+62 812-3456-789"'),
        # Stored before phones were checked: never inside the string literal.
        ('0812"&ROW()&"', '0812"&ROW()&"'),
        ("=1+1", "'=1+1"),
        ("+62+1", "'+62+1"),
        ("-0812", "'-0812"),
        ("@0812", "'@0812"),
    ],
)
def test_csv_phones_stay_text_and_formulas_stay_inert(client, as_manager, make_visit, phone, cell):
    make_visit(phone=phone)
    row = csv_rows(download(client, "csv", "from=2026-11-25&to=2026-11-25"))[1]
    assert row[11] == cell


def test_control_characters_stored_before_they_were_refused_leave_every_export(
    client, as_manager, make_visit
):
    # Rows from before free text refused control characters (issue 13, finding 8): XLSX cannot
    # hold them at all, and ESC or CSI would drive the terminal of whoever reads the CSV.
    visit = make_visit(visitor_name="\x1b=1+1", phone="0812\x7f3456\x9b").visit
    visit.voided_at, visit.void_reason = visit.checked_at, "typo\x1b[31m \x0b =1+1"
    db.session.commit()
    query = "from=2026-11-25&to=2026-11-25"
    row = csv_rows(download(client, "csv", query))[1]
    assert (row[9], row[11], row[15]) == ("'=1+1", '="08123456"', "typo[31m  =1+1")
    response = download(client, "xlsx", query)
    assert response.status_code == 200
    sheet = checks_sheet(response)
    assert (sheet["J2"].value, sheet["J2"].data_type) == ("=1+1", "s")
    assert (sheet["L2"].value, sheet["P2"].value) == ("08123456", "typo[31m  =1+1")


def test_exports_hold_only_the_own_sites_checks(client, as_manager, make_site, make_visit):
    make_visit(visitor_name="Kediri Visitor")
    make_visit(make_site("BLT"), visitor_name="Blitar Visitor")
    for extension, read in (("csv", csv_rows), ("xlsx", xlsx_rows)):
        names = [row[9] for row in read(download(client, extension, ""))[1:]]
        assert names == ["Kediri Visitor"]


def test_voided_checks_are_exported_marked(client, as_manager, make_visit, manager_user):
    visit = make_visit().visit
    client.post(f"/manage/visits/{visit.id}/void", data={"reason": "double entry"})
    row = csv_rows(download(client, "csv", ""))[1]
    assert row[14:16] == ["ya", "double entry"]


@pytest.mark.parametrize(
    "query",
    [
        "from=2026-11-25&to=2026-11-24",
        "from=2025-11-24&to=2026-11-25",
        "from=2025-11-24",
        "from=yesterday",
    ],
)
@pytest.mark.parametrize("extension", ["csv", "xlsx"])
def test_invalid_ranges_are_refused(client, as_manager, extension, query):
    assert download(client, extension, query).status_code == 400


@pytest.mark.parametrize("extension", ["csv", "xlsx"])
def test_a_year_may_be_exported(client, as_manager, extension):
    assert download(client, extension, "from=2025-11-25&to=2026-11-25").status_code == 200


def test_csv_is_written_a_few_rows_at_a_time(app, site, make_visit, monkeypatch):
    monkeypatch.setattr(exports, "CSV_FLUSH_ROWS", 2)
    visits = [make_visit().visit for _ in range(5)]
    with app.test_request_context():
        chunks = list(exports.csv_chunks(iter(visits), site.zone))
    # Header and two rows, two rows, then the last row.
    assert [chunk.count("\r\n") for chunk in chunks] == [3, 2, 1]


@pytest.mark.parametrize(
    ("lang", "separator", "reading", "button"),
    [
        ("id", ";", "36,6", "Unduh CSV (titik koma, desimal koma)"),
        ("en", ",", "36.6", "Download CSV (commas, decimal point)"),
    ],
)
def test_the_csv_follows_the_reader_s_spreadsheet(
    client, as_manager, two_days, lang, separator, reading, button
):
    response = download(client, "csv", f"from=2026-11-25&to=2026-11-25&lang={lang}")
    first_line = response.data.decode("utf-8").splitlines()[0]
    assert first_line.count(separator) == COLUMNS - 1
    rows = csv_rows(response, separator)
    assert {len(row) for row in rows} == {COLUMNS}
    assert rows[1][5] == reading
    assert button in client.get(f"/manage/log?day=2026-11-25&lang={lang}").text


# LibreOffice's CSV import options: separator, quote and charset (UTF-8) as character codes, the
# first line to read, no column formats, and the language whose decimal mark to expect.
LIBREOFFICE_CSV_IMPORT = {"id": "CSV:59,34,76,1,,1057", "en": "CSV:44,34,76,1,,1033"}


def opened_in_libreoffice(response, folder: Path, name: str, lang: str) -> Path:
    """Open a CSV export in LibreOffice with the README's import settings; return it as XLSX."""
    exported = folder / f"{name}-{lang}.csv"
    exported.write_bytes(response.data)
    subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation=file://{folder}/profile",
            "--headless",
            "--convert-to",
            "xlsx",
            f"--infilter={LIBREOFFICE_CSV_IMPORT[lang]}",
            "--outdir",
            str(folder),
            str(exported),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return folder / f"{name}-{lang}.xlsx"


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
@pytest.mark.parametrize("lang", ["id", "en"])
def test_libreoffice_opens_the_csv_in_columns_with_numbers(
    client, as_manager, two_days, tmp_path, lang
):
    response = download(client, "csv", f"from=2026-11-25&to=2026-11-25&lang={lang}")
    sheet = openpyxl.load_workbook(opened_in_libreoffice(response, tmp_path, "checks", lang)).active
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    columns = len(csv_rows(response, ";" if lang == "id" else ",")[0])
    assert len(rows[0]) == columns > len(INDONESIAN_HEADERS) and None not in rows[0]
    assert rows[1][5] == 36.6, "the temperature is read as a number"
    assert rows[1][9] == "Siti Aminah"


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
@pytest.mark.parametrize("lang", ["id", "en"])
def test_libreoffice_keeps_a_phone_s_leading_zero_and_runs_no_formula(
    client, as_manager, make_visit, tmp_path, lang
):
    make_visit(visitor_name="=1+1", phone="089624763749")
    make_visit(visitor_name="@SUM(1;1)", phone="+6289624763749")
    make_visit(visitor_name="-1+1", phone="=2+2")
    make_visit(visitor_name="+1+1", phone='0812"&"1')
    response = download(client, "csv", f"from=2026-11-25&to=2026-11-25&lang={lang}")
    opened = opened_in_libreoffice(response, tmp_path, "phones", lang)
    # LibreOffice saves a formula's result beside it: what the manager sees in the cell.
    shown = openpyxl.load_workbook(opened, data_only=True).active
    rows = [[row[9], row[11]] for row in shown.iter_rows(min_row=2, values_only=True)]
    assert rows == [
        ["'=1+1", "089624763749"],
        ["'@SUM(1;1)", "+6289624763749"],
        ["'-1+1", "'=2+2"],
        ["'+1+1", '0812"&"1'],
    ]
    # Only the phones of digits are formulas, each a single string literal.
    cells = openpyxl.load_workbook(tmp_path / f"phones-{lang}.xlsx").active
    formulas = [c.value for row in cells.iter_rows(min_row=2) for c in row if c.data_type == "f"]
    assert formulas == ['="089624763749"', '="+6289624763749"']
