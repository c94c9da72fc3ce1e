"""Report charts drawn on the server as SVG with pygal; pages show them with ``<img>``."""

from __future__ import annotations

from collections.abc import Callable

import pygal
from flask_babel import format_date
from flask_babel import gettext as _
from pygal.style import Style

from checkin.domain.floor_figures import FloorFigures
from checkin.services.reports import DAY, MONTH, Report, Totals
from checkin.words.labels import REASON_LABELS, reasons_to_show

ADMITTED_GREEN = "#2e7d32"
REFUSED_RED = "#c62828"
RETEST_AMBER = "#ef8f00"
QUOTA_BLUE = "#1565c0"
WIDTH, HEIGHT = 760, 360
MAX_X_LABELS = 16
# An <img> never runs scripts, and the page's CSP would forbid them: leave pygal's JS out.
BASE_CONFIG = {
    "js": [],
    "width": WIDTH,
    "height": HEIGHT,
    "legend_at_bottom": True,
    "legend_at_bottom_columns": 3,
    "print_values": False,
    "truncate_label": -1,
    "margin": 12,
}
FONT = "'DejaVu Sans', 'Liberation Sans', Arial, sans-serif"


def style(*colors: str) -> Style:
    """Return a plain white chart style with these series colours and a readable font."""
    return Style(
        background="white",
        plot_background="white",
        foreground="#222",
        foreground_strong="#111",
        foreground_subtle="#ccc",
        colors=colors,
        font_family=FONT,
        label_font_size=15,
        major_label_font_size=15,
        legend_font_size=16,
        title_font_size=19,
        value_font_size=14,
    )


def period_label(period: Totals, granularity: str) -> str:
    """Return a short axis label: the day, the week's first day, or the month."""
    return format_date(period.start, "MMM yyyy" if granularity == MONTH else "d MMM")


def time_axis(periods: int) -> dict:
    """Return the x-axis options that keep at most MAX_X_LABELS period labels readable."""
    return {
        "x_label_rotation": -45 if periods > 8 else 0,
        "x_labels_major_every": max(1, -(-periods // MAX_X_LABELS)),
        "show_minor_x_labels": False,
    }


def decisions_chart(report: Report) -> pygal.Graph:
    """Stack admitted, refused and re-test readings per period."""
    chart = pygal.StackedBar(
        style=style(ADMITTED_GREEN, REFUSED_RED, RETEST_AMBER),
        title=_("Checks per %(period)s", period=period_word(report.granularity)),
        **time_axis(len(report.periods)),
        **BASE_CONFIG,
    )
    chart.x_labels = [period_label(period, report.granularity) for period in report.periods]
    chart.add(_("Admitted"), [period.admitted for period in report.periods])
    chart.add(_("Refused"), [period.refused for period in report.periods])
    chart.add(_("Re-test"), [period.retests for period in report.periods])
    return chart


def hours_chart(report: Report) -> pygal.Graph:
    """Show arrivals per hour of the day over the whole range."""
    by_hour, hours = report.arrivals.by_hour, report.arrivals.hours
    chart = pygal.Bar(
        style=style(QUOTA_BLUE),
        title=_("Arrivals per hour of the day"),
        show_legend=False,
        **BASE_CONFIG,
    )
    chart.x_labels = [f"{hour:02d}:00" for hour in hours]
    chart.add(_("Arrivals"), [by_hour.get(hour, 0) for hour in hours])
    return chart


def reasons_chart(report: Report) -> pygal.Graph:
    """Compare refusals by reason; one refused visitor may count under several reasons."""
    chart = pygal.HorizontalBar(
        style=style(REFUSED_RED), title=_("Refusals by reason"), show_legend=False, **BASE_CONFIG
    )
    shown = reasons_to_show(report.total.reasons)
    chart.x_labels = [str(REASON_LABELS[reason]) for reason in shown]
    chart.add(_("Refusals"), [report.total.reasons[reason] for reason in shown])
    return chart


def quota_chart(report: Report) -> pygal.Graph:
    """Plot the share of the walk-in quota used per period, against the 100% line."""
    chart = pygal.Line(
        style=style(QUOTA_BLUE, "#888"),
        title=_("Quota used per %(period)s (%%)", period=period_word(report.granularity)),
        **time_axis(len(report.periods)),
        range=(0, 110),
        show_legend=False,
        show_dots=len(report.periods) <= 62,
        **BASE_CONFIG,
    )
    chart.x_labels = [period_label(period, report.granularity) for period in report.periods]
    chart.add(
        _("Quota used"),
        [None if period.usage is None else round(period.usage * 100) for period in report.periods],
    )
    chart.add(
        _("Full"), [100] * len(report.periods), show_dots=False, stroke_style={"dasharray": "6,4"}
    )
    return chart


def waits_chart(floor: FloorFigures) -> pygal.Graph:
    """Show the average and the longest wait of the visitors arriving in each hour."""
    hours = list(floor.waiting_by_hour)
    chart = pygal.Bar(
        style=style(QUOTA_BLUE, REFUSED_RED),
        title=_("Waiting time by hour of arrival (minutes)"),
        # Two short series: beside the bars, where an <img> does not cut them off.
        **(BASE_CONFIG | {"legend_at_bottom": False}),
    )
    chart.x_labels = [f"{hour:02d}:00" for hour in hours]
    chart.add(_("Average"), [round(floor.waiting_by_hour[hour].average or 0, 1) for hour in hours])
    chart.add(_("Longest"), [round(floor.waiting_by_hour[hour].longest or 0, 1) for hour in hours])
    return chart


def period_word(granularity: str) -> str:
    """Return the word for one period of a report."""
    return {DAY: _("day"), MONTH: _("month")}.get(granularity, _("week"))


CHARTS: dict[str, Callable[[Report], pygal.Graph]] = {
    "decisions": decisions_chart,
    "hours": hours_chart,
    "reasons": reasons_chart,
    "quota": quota_chart,
}


def render(kind: str, report: Report) -> bytes:
    """Return the chart ``kind`` of ``report`` as a standalone SVG document."""
    return CHARTS[kind](report).render()
