"""The Dashboard: the issue counts of the last scan, their chart over the recorded scans, the
counts by type, the queue, the last scan and the recent runtime events."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

from dbheal_lsp.records import RuntimeEvent, ScanRecord, parse_time

from .app import Dashboard
from .html import Markup, el, join
from .layout import (
    Frame,
    card,
    empty,
    layout,
    queue_table,
    scan_card,
    scan_error_box,
    table,
    when,
)

__all__ = ["chart", "dashboard_page"]

_CHART_SERIES: tuple[tuple[str, str], ...] = (
    ("total", "Total"),
    ("critical", "Critical"),
    ("high", "High"),
    ("medium", "Medium"),
    ("low", "Low"),
)
_WIDTH, _HEIGHT = 640, 240
_LEFT, _RIGHT, _TOP, _BOTTOM = 40, 12, 12, 28


def dashboard_page(frame: Frame, data: Dashboard) -> Markup:
    """The Dashboard of the last scan."""
    total = len(data.result.issues)
    scan = scan_card(frame, "Last scan", data.last_scan, back="/")
    queue_card = card(
        "Queued fixes",
        queue_table(data.queued, buttons=False)
        if data.queued
        else empty("No schema fixes queued."),
        el(
            "div",
            {"class": "card-actions"},
            el("a", {"class": "button secondary", "href": "/fix"}, "Open Manual Fix"),
        ),
    )
    body = [
        scan_error_box(data.scan_error),
        el("div", {"class": "stats"}, _stats(total, data.by_severity)),
        el(
            "div",
            {"class": "grid grid-wide"},
            card("Issues over time", chart(data.scans), cls="chart-card"),
            card("By type", _by_type(data.by_type)),
        ),
        el("div", {"class": "grid grid-wide"}, queue_card, scan),
        card("Recent runtime events", _events_table(data.events)),
    ]
    subtitle = f"{total} issue{'s' if total != 1 else ''} in the last scan of {frame.root}"
    return layout(frame, title="Dashboard", path="/", body=body, subtitle=subtitle)


def _stats(total: int, by_severity: Sequence[tuple[str, int]]) -> list[Markup]:
    """The total and the count of each severity, each a link to the issues it counts."""
    stats = [
        el(
            "a",
            {"class": "stat stat-total", "href": "/issues"},
            el("span", {"class": "stat-num"}, str(total)),
            el("span", {"class": "stat-label"}, "issues"),
        )
    ]
    for severity, count in by_severity:
        stats.append(
            el(
                "a",
                {
                    "class": f"stat stat-{severity}",
                    "href": "/issues?" + urlencode({"severity": severity}),
                },
                el("span", {"class": "stat-num"}, str(count)),
                el("span", {"class": "stat-label"}, severity),
            )
        )
    return stats


def _by_type(by_type: Sequence[tuple[str, int]]) -> Markup:
    """The count of each issue type, as a bar and a number."""
    if not by_type:
        return empty("No issues.")
    top = max(c for _, c in by_type)
    rows = [
        el(
            "tr",
            None,
            el(
                "td",
                None,
                el("a", {"href": "/issues?" + urlencode({"type": name})}, el("code", None, name)),
            ),
            el("td", {"class": "barcell"}, _bar(count, top)),
            el("td", {"class": "num"}, str(count)),
        )
        for name, count in by_type
    ]
    return table((), el("tbody", None, rows), cls="bytype")


def _bar(value: int, top: int) -> Markup:
    width = 100 * value / top if top else 0
    return el(
        "svg",
        {
            "class": "bar",
            "viewBox": "0 0 100 8",
            "preserveAspectRatio": "none",
            "aria-hidden": "true",
        },
        el("rect", {"class": "bar-bg", "width": 100, "height": 8, "rx": 2}),
        el("rect", {"class": "bar-fg", "width": f"{width:.1f}", "height": 8, "rx": 2}),
    )


def _events_table(events: Sequence[RuntimeEvent]) -> Markup:
    if not events:
        return empty(
            "No runtime events recorded. The runtime wrapper records the database errors the running application meets."
        )
    rows = []
    for event in events:
        where = f"{event.path}:{event.line}" if event.path and event.line else (event.path or "")
        rows.append(
            el(
                "tr",
                None,
                el("td", {"class": "nowrap"}, when(event.time)),
                el("td", None, event.error),
                el("td", None, el("code", {"class": "wrap"}, event.statement)),
                el("td", {"class": "file"}, where),
                el("td", None, event.action),
                el("td", None, event.outcome),
            )
        )
    headers = ("When", "Error", "Statement", "Where", "Action", "Outcome")
    return table(headers, el("tbody", None, rows), cls="events")


# --- the chart ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Plot:
    """Where a count goes in the chart's SVG: scan `i` of `scans` on x, 0 to `top_value` on y."""

    scans: int
    top_value: int

    def x(self, i: int) -> float:
        width = _WIDTH - _LEFT - _RIGHT
        return _LEFT + (width / 2 if self.scans == 1 else width * i / (self.scans - 1))

    def y(self, value: int) -> float:
        height = _HEIGHT - _TOP - _BOTTOM
        return _TOP + height - height * value / self.top_value


def chart(scans: Sequence[ScanRecord]) -> Markup:
    """A line chart of the issue counts of the recorded scans (oldest first), in plain SVG."""
    if not scans:
        return empty("No scans recorded yet: run a scan.")
    totals = [sum(s.counts_by_severity.values()) for s in scans]
    top_value, step = _axis(max(max(totals), 1))
    plot = _Plot(len(scans), top_value)
    parts = _gridlines(plot, step)
    for name, _ in _CHART_SERIES:
        values = totals if name == "total" else [s.counts_by_severity.get(name, 0) for s in scans]
        parts.extend(_series(plot, scans, name, values))
    parts.extend(_time_labels(plot, scans))
    svg = el(
        "svg",
        {
            "class": "chart",
            "viewBox": f"0 0 {_WIDTH} {_HEIGHT}",
            "role": "img",
            "aria-label": f"Issue counts of the last {len(scans)} scans",
            "xmlns": "http://www.w3.org/2000/svg",
        },
        parts,
    )
    legend = el(
        "ul",
        {"class": "legend"},
        [
            el("li", None, el("span", {"class": f"swatch s-{name}"}), label)
            for name, label in _CHART_SERIES
        ],
    )
    return join([svg, legend])


def _axis(value: int) -> tuple[int, int]:
    """Return (top, step) of a value axis from 0 showing `value`: at most 5 even steps."""
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000):
        if -(-value // step) <= 5:
            return max(step, -(-value // step) * step), step
    step = -(-value // 5)
    return step * 5, step


def _gridlines(plot: _Plot, step: int) -> list[Markup]:
    """A line and a label at each step of the value axis."""
    parts: list[Markup] = []
    for value in range(0, plot.top_value + 1, step):
        y = f"{plot.y(value):.1f}"
        parts.append(
            el("line", {"class": "gridline", "x1": _LEFT, "x2": _WIDTH - _RIGHT, "y1": y, "y2": y})
        )
        parts.append(
            el(
                "text",
                {
                    "class": "axis",
                    "x": _LEFT - 6,
                    "y": f"{plot.y(value) + 4:.1f}",
                    "text-anchor": "end",
                },
                str(value),
            )
        )
    return parts


def _series(
    plot: _Plot, scans: Sequence[ScanRecord], name: str, values: Sequence[int]
) -> list[Markup]:
    """The line of one series, and a dot with its count's tooltip at each scan."""
    points = " ".join(f"{plot.x(i):.1f},{plot.y(v):.1f}" for i, v in enumerate(values))
    parts = [el("polyline", {"class": f"series s-{name}", "points": points, "fill": "none"})]
    for i, v in enumerate(values):
        scan = scans[i]
        parts.append(
            el(
                "circle",
                {
                    "class": f"dot s-{name}",
                    "cx": f"{plot.x(i):.1f}",
                    "cy": f"{plot.y(v):.1f}",
                    "r": 3 if name == "total" else 2.2,
                },
                el("title", None, f"{when(scan.time)} ({scan.trigger}): {v} {name}"),
            )
        )
    return parts


def _time_labels(plot: _Plot, scans: Sequence[ScanRecord]) -> list[Markup]:
    """The times of the first and the last scan under the chart (one in the middle if one)."""
    first, last = _axis_times(scans[0].time, scans[-1].time)
    labels = [(0, "start", first)] if len(scans) > 1 else [(0, "middle", last)]
    if len(scans) > 1:
        labels.append((len(scans) - 1, "end", last))
    return [
        el(
            "text",
            {"class": "axis", "x": f"{plot.x(i):.1f}", "y": _HEIGHT - 8, "text-anchor": anchor},
            label,
        )
        for i, anchor, label in labels
    ]


def _axis_times(first: str, last: str) -> tuple[str, str]:
    """The labels of the chart's first and last scan: the time of day when both are on the same
    day, else the date and time."""
    try:
        a, b = parse_time(first), parse_time(last)
    except ValueError:
        return first, last
    if a.date() == b.date():
        return a.strftime("%H:%M:%S"), b.strftime("%H:%M:%S UTC")
    return a.strftime("%Y-%m-%d %H:%M"), b.strftime("%Y-%m-%d %H:%M UTC")
