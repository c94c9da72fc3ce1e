"""CSV and XLSX exports of the entry log, and the short words for refusal reasons.

Dates are written ISO (YYYY-MM-DD) in CSV, which spreadsheet programs read the same way in every
locale, while DD-MM-YYYY could be taken for MM-DD-YYYY; XLSX holds real date cells shown in the
Indonesian DD-MM-YYYY way, so they still sort and filter as dates.
"""

from __future__ import annotations

import csv
import io
import re
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import IO, Any
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from checkin.domain.floor_figures import visit_minutes
from checkin.models import Site, Visit
from checkin.services.reports import RangeSummary
from checkin.words.labels import (
    FLOOR_STATE_LABELS,
    PURPOSE_LABELS,
    REASON_LABELS,
    STATUS_LABELS,
    decimal_mark,
    translated,
)

CSV_MIME = "text/csv"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Spreadsheets run a cell starting with one of these as a formula (CSV injection).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# Text a spreadsheet would take for a number: a phone's leading zero would go (089624763749
# becomes 89624763749), and past 15 digits the rest too. Only digits and a leading plus.
DIGITS_TEXT = re.compile(r"\+?[0-9][0-9 -]*")
# Control characters rows stored before free text refused them may hold: an XLSX file cannot
# hold them at all, and ESC or CSI (U+009B) would drive the terminal that shows a CSV. Tabs and
# line breaks stay: a cell holds them, and CSV quotes them.
UNSHOWABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
CSV_FLUSH_ROWS = 200
XLSX_IN_MEMORY_BYTES = 4 * 1024 * 1024


def headers() -> list[str]:
    """Return the column headers in the interface language (Indonesian by default)."""
    return [
        _("Date"),
        _("Time"),
        _("Queue no."),
        _("Status"),
        _("Reasons"),
        _("Temperature (°C)"),
        _("Hand sanitiser"),
        _("Mask"),
        _("Distancing"),
        _("Name"),
        _("NIK (last 4)"),
        _("Phone"),
        _("Purpose"),
        _("Recorded by"),
        _("Voided"),
        _("Void reason"),
        _("Check ID"),
        # The service floor (issue 17), after the columns earlier exports had.
        _("Floor state"),
        _("Called at"),
        _("Monitor"),
        _("Called by"),
        _("Calls"),
        _("Service started"),
        _("Finished"),
        _("Waiting (min)"),
        _("Service (min)"),
    ]


@dataclass(frozen=True)
class Words:
    """An export's words in the interface language, translated once rather than per cell."""

    statuses: dict[str, str]
    reasons: dict[str, str]
    purposes: dict[str, str]
    yes_no: tuple[str, str]
    floor_states: dict[str, str]

    @classmethod
    def current(cls) -> Words:
        """Return the words of the request's language."""
        return cls(
            translated(STATUS_LABELS),
            translated(REASON_LABELS),
            translated(PURPOSE_LABELS),
            (_("no"), _("yes")),
            translated(FLOOR_STATE_LABELS),
        )


def visit_row(visit: Visit, zone: ZoneInfo, words: Words) -> list[Any]:
    """Return one check as typed cells in the order of ``headers``; local date and time."""
    local = visit.checked_at.astimezone(zone)
    yes_no = words.yes_no
    cells = [
        visit.day,
        local.time().replace(microsecond=0),
        visit.slot,
        words.statuses[visit.status],
        "; ".join(words.reasons[reason] for reason in visit.reasons),
        visit.temperature_c,
        yes_no[visit.hand_sanitiser],
        yes_no[visit.mask],
        yes_no[visit.distancing],
        visit.visitor_name,
        visit.nik_masked,
        visit.phone,
        words.purposes[visit.purpose] if visit.purpose else None,
        visit.recorded_by.username if visit.recorded_by else None,
        yes_no[visit.voided],
        visit.void_reason,
        visit.id,
        *floor_cells(visit, zone, words),
    ]
    return [UNSHOWABLE.sub("", cell) if isinstance(cell, str) else cell for cell in cells]


def floor_cells(visit: Visit, zone: ZoneInfo, words: Words) -> list[Any]:
    """Return a visit's service floor steps: local times, its booth, officer and durations."""
    waited, served = visit_minutes(visit)

    def local_time(instant: datetime | None) -> time | None:
        return instant.astimezone(zone).time().replace(microsecond=0) if instant else None

    return [
        words.floor_states[visit.floor_state] if visit.floor_state else None,
        local_time(visit.called_at),
        visit.booth.number if visit.booth else None,
        visit.called_by.username if visit.called_by else None,
        visit.calls or None,
        local_time(visit.serving_at),
        local_time(visit.finished_at),
        None if waited is None else round(waited, 1),
        None if served is None else round(served, 1),
    ]


def csv_separator(decimal: str) -> str:
    """Return the separator a spreadsheet expects beside ``decimal``.

    Excel and LibreOffice set for Indonesia read "36,5" as a number and ";" between cells; a
    comma-separated file opens there as one column.
    """
    return ";" if decimal == "," else ","


def csv_cell(value: Any, decimal: str = ".") -> str:
    """Return a cell as CSV text: ISO dates, one-decimal temperatures, formulas defused, and
    text of digits (a phone) kept as text."""
    if value is None:
        return ""
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:.1f}".replace(".", decimal)
    text = str(value)
    if isinstance(value, str) and DIGITS_TEXT.fullmatch(text):
        # Excel and LibreOffice read a quoted cell as a number all the same; a formula that
        # is one string literal shows the text as it is. Digits, spaces, dashes and a plus
        # cannot end the literal, so nothing else is ever evaluated.
        return f'="{text}"'
    # A leading apostrophe makes spreadsheets show the text instead of evaluating it.
    return f"'{text}" if text.startswith(FORMULA_TRIGGERS) else text


def csv_chunks(visits: Iterable[Visit], zone: ZoneInfo) -> Iterator[str]:
    """Yield a CSV export a couple of hundred rows at a time, with a BOM so Excel reads UTF-8.

    Numbers and separators follow the reader's language, as their spreadsheet expects them.
    """
    buffer = io.StringIO()
    decimal = decimal_mark()
    writer = csv.writer(buffer, delimiter=csv_separator(decimal))
    words = Words.current()
    buffer.write("\ufeff")
    writer.writerow(headers())
    for count, visit in enumerate(visits, start=1):
        writer.writerow(csv_cell(value, decimal) for value in visit_row(visit, zone, words))
        if count % CSV_FLUSH_ROWS == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def xlsx_cell(sheet: Any, value: Any, number_format: str | None = None) -> WriteOnlyCell:
    """Return a typed XLSX cell; text stays text even when it starts like a formula."""
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        cell.data_type = "s"
    elif isinstance(value, date):
        cell.number_format = "DD-MM-YYYY"
    elif isinstance(value, time):
        cell.number_format = "HH:MM:SS"
    elif isinstance(value, float):
        cell.number_format = "0.0"
    if number_format:
        cell.number_format = number_format
    return cell


def bold_cell(sheet: Any, value: Any) -> WriteOnlyCell:
    """Return a bold text cell: a header or a heading."""
    cell = xlsx_cell(sheet, value)
    cell.font = Font(bold=True)
    return cell


def column_widths(words: Words) -> list[int]:
    """Return each column's width in characters: its header or the longest it holds, if wider.

    Free text (names, reasons, void reasons) is given a readable width, not its longest value,
    which the widths must be set before: the rows are written as they are read.
    """

    def longest(labels: Iterable[str]) -> int:
        return max(len(label) for label in labels)

    yes_no = longest(words.yes_no)
    content = [10, 8, 4, longest(words.statuses.values()), 30, 5, yes_no, yes_no, yes_no]
    content += [24, 16, 14, longest(words.purposes.values()), 16, yes_no, 30, 8]
    content += [longest(words.floor_states.values()), 8, 3, 16, 3, 8, 8, 5, 5]
    return [max(len(header), width) + 2 for header, width in zip(headers(), content, strict=True)]


@dataclass(frozen=True)
class SummarySheet:
    """What the first sheet of a range's export sums up: the site, its days and their totals."""

    site: Site
    start: date
    end: date
    summary: RangeSummary


def write_summary(workbook: Workbook, sheet_of: SummarySheet) -> None:
    """Write the "Summary" sheet: the range's totals by decision and reason, as the report shows."""
    site, start, end, summary = sheet_of.site, sheet_of.start, sheet_of.end, sheet_of.summary
    sheet = workbook.create_sheet(_("Summary"))
    sheet.column_dimensions["A"].width = 42
    sheet.column_dimensions["B"].width = 14
    sheet.column_dimensions["C"].width = 14
    total = summary.total
    sheet.append([bold_cell(sheet, f"{site.name} ({site.code})")])
    sheet.append([xlsx_cell(sheet, _("Period")), xlsx_cell(sheet, start), xlsx_cell(sheet, end)])
    sheet.append([])
    figures = [
        (_("Checks"), total.checks),
        (_("Admitted"), total.admitted),
        (_("Refused"), total.refused),
        (_("Re-tests"), total.retests),
        (_("Quota"), total.quota),
    ]
    if total.held:
        figures.append((_("Held by tablets, not used"), total.held))
    if total.booked or total.released:
        figures += [
            (_("Booked"), total.booked),
            (_("Booked and came"), total.came),
            (_("Booked, did not come"), total.no_shows),
            (_("Booked places given to walk-ins"), total.released),
        ]
    if total.overrides:
        figures.append((_("Admitted past the quota"), total.overrides))
    for label, count in figures:
        sheet.append([xlsx_cell(sheet, label), count])
    if total.usage is not None:
        sheet.append([xlsx_cell(sheet, _("Quota used")), xlsx_cell(sheet, total.usage, "0%")])
    sheet.append([])
    sheet.append([bold_cell(sheet, _("Refusals by reason"))])
    reasons = translated(REASON_LABELS)
    for reason, count in total.reasons.items():
        sheet.append([xlsx_cell(sheet, reasons[reason]), count])
    sheet.append([])
    sheet.append([xlsx_cell(sheet, _("Voided checks, not counted above")), summary.voided])


def xlsx_file(
    visits: Iterable[Visit], zone: ZoneInfo, summary: SummarySheet | None = None
) -> IO[bytes]:
    """Write an XLSX export row by row (openpyxl's write-only mode) and return it rewound.

    A range's export opens on its ``summary``; the sheet of checks, one a row, has a frozen
    bold header and a filter on every column.
    """
    workbook = Workbook(write_only=True)
    if summary is not None:
        write_summary(workbook, summary)
    sheet = workbook.create_sheet(_("Checks"))
    sheet.freeze_panes = "A2"
    words = Words.current()
    for column, width in enumerate(column_widths(words), start=1):
        sheet.column_dimensions[get_column_letter(column)].width = width
    sheet.append([bold_cell(sheet, header) for header in headers()])
    rows = 0
    for visit in visits:
        sheet.append([xlsx_cell(sheet, value) for value in visit_row(visit, zone, words)])
        rows += 1
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(headers()))}{rows + 1}"
    # Returned open: send_file streams it and closes it after the response.
    output = tempfile.SpooledTemporaryFile(max_size=XLSX_IN_MEMORY_BYTES)  # noqa: SIM115
    workbook.save(output)
    output.seek(0)
    return output


def file_name(site_code: str, start: date, end: date, extension: str) -> str:
    """Return ``checkin-KDR-2026-11-25.csv``, or with ``_<end>`` for a range of days."""
    days = start.isoformat() if start == end else f"{start.isoformat()}_{end.isoformat()}"
    return f"checkin-{site_code}-{days}.{extension}"
