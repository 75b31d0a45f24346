"""The admin's pages, built with `html.el` (so everything from the code is escaped).

Each function returns the page's HTML; the data comes from `app.AdminApp`. Previews of fixes and
plans are not rendered here: the page's script fetches them as JSON, one row at a time, and
shows them with `textContent`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

from dbheal_lsp.model import DEFAULT_SEVERITIES, CheckResult, Issue, IssueType, Severity
from dbheal_lsp.records import FixRecord, QueueEntry, RuntimeEvent, ScanRecord, parse_time

from . import settings
from .app import SEVERITIES, Dashboard, ExcerptLine, IssueQuery, Notice, RollbackPreview
from .html import Child, Markup, el, join, json_script

__all__ = [
    "NAV",
    "Frame",
    "dashboard_page",
    "fix_page",
    "forbidden_page",
    "history_page",
    "issues_page",
    "layout",
    "settings_page",
]

NAV: tuple[tuple[str, str], ...] = (
    ("/", "Dashboard"),
    ("/issues", "Issues"),
    ("/history", "History"),
    ("/settings", "Settings"),
    ("/fix", "Manual Fix"),
)


@dataclass(frozen=True)
class Frame:
    """What every page shows around its content."""

    project: str  # the project's folder name
    root: str
    database: str
    csrf: str
    notices: Sequence[Notice] = ()


# --- pieces -------------------------------------------------------------------------------------


def when(text: str | None) -> str:
    """Return a stored ISO time as `YYYY-MM-DD HH:MM:SS UTC`."""
    if not text:
        return ""
    try:
        return parse_time(text).strftime("%Y-%m-%d %H:%M:%S UTC")
    except ValueError:
        return text


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


def severity_badge(severity: str) -> Markup:
    return el("span", {"class": f"sev sev-{severity}"}, severity)


def csrf_field(frame: Frame) -> Markup:
    return el("input", {"type": "hidden", "name": "csrf", "value": frame.csrf})


def post_form(
    frame: Frame,
    action: str,
    label: str,
    fields: Mapping[str, str] | None = None,
    *,
    kind: str = "primary",
    extra: Child = None,
) -> Markup:
    """A form that POSTs `fields` (and the CSRF token) to `action` with one button."""
    hidden = [
        el("input", {"type": "hidden", "name": k, "value": v}) for k, v in (fields or {}).items()
    ]
    return el(
        "form",
        {"method": "post", "action": action, "class": "inline"},
        csrf_field(frame),
        hidden,
        extra,
        el("button", {"type": "submit", "class": kind}, label),
    )


def notice_box(notice: Notice) -> Markup:
    headline, _, rest = notice.text.partition("\n")
    return el(
        "div",
        {"class": f"notice {'ok' if notice.ok else 'error'}", "role": "status"},
        el("strong", None, headline),
        el("pre", None, rest) if rest.strip() else None,
    )


def code_block(text: str, kind: str) -> Markup:
    """A <pre> of SQL or of a diff (each diff line classed by its first character)."""
    if kind != "diff":
        return el("pre", {"class": f"code {kind}"}, text)
    lines = []
    for line in text.splitlines():
        cls = ""
        if line.startswith(("+++", "---")):
            cls = "file"
        elif line.startswith("@@"):
            cls = "hunk"
        elif line.startswith("+"):
            cls = "add"
        elif line.startswith("-"):
            cls = "del"
        lines.append(el("span", {"class": f"dl {cls}".strip()}, line + "\n"))
    return el("pre", {"class": "code diff"}, lines)


def excerpt_block(lines: Sequence[ExcerptLine]) -> Markup:
    if not lines:
        return el("p", {"class": "muted small"}, "(the file cannot be read)")
    width = len(str(lines[-1].number))
    rows = []
    for line in lines:
        if line.mark is None:
            body: Child = line.text
        else:
            start, end = line.mark
            body = [line.text[:start], el("mark", None, line.text[start:end]), line.text[end:]]
        rows.append(
            el(
                "span",
                {"class": "xl hit" if line.mark else "xl"},
                el("span", {"class": "ln"}, str(line.number).rjust(width)),
                body,
                "\n",
            )
        )
    return el("pre", {"class": "code excerpt"}, rows)


def path_text(path: str) -> Markup:
    """A path that may wrap after each slash (and nowhere else)."""
    parts = path.split("/")
    return join(
        [
            (el("wbr") if i else None, (p + "/") if i < len(parts) - 1 else p)
            for i, p in enumerate(parts)
        ]
    )


def empty(text: str) -> Markup:
    return el("p", {"class": "empty"}, text)


def card(title: str, *children: Child, cls: str = "") -> Markup:
    return el("section", {"class": f"card {cls}".strip()}, el("h2", None, title), children)


# --- the frame ----------------------------------------------------------------------------------


def layout(
    frame: Frame,
    *,
    title: str,
    path: str,
    body: Child,
    boot: Mapping[str, object] | None = None,
    subtitle: Child = None,
) -> Markup:
    """Return a whole page: head, navigation, notices, `body`, and the script's JSON data."""
    nav = el(
        "nav",
        {"aria-label": "Pages"},
        [
            el(
                "a",
                {"href": href, "class": "active" if href == path else None},
                label,
            )
            for href, label in NAV
        ],
    )
    data = {"csrf": frame.csrf, **(boot or {})}
    document = el(
        "html",
        {"lang": "en"},
        el(
            "head",
            None,
            el("meta", {"charset": "utf-8"}),
            el("meta", {"name": "viewport", "content": "width=device-width, initial-scale=1"}),
            el("meta", {"name": "referrer", "content": "same-origin"}),
            el("title", None, f"{title} · dbheal admin · {frame.project}"),
            el("link", {"rel": "icon", "href": "/static/favicon.svg", "type": "image/svg+xml"}),
            el("link", {"rel": "stylesheet", "href": "/static/app.css"}),
            el("script", {"src": "/static/app.js", "defer": True}),
        ),
        el(
            "body",
            None,
            el(
                "header",
                {"class": "topbar"},
                el(
                    "a",
                    {"class": "brand", "href": "/"},
                    el("span", {"class": "logo", "aria-hidden": "true"}),
                    "dbheal",
                    el("span", {"class": "brand-sub"}, "admin"),
                ),
                nav,
                el(
                    "div",
                    {"class": "project", "title": frame.root},
                    el("span", {"class": "project-name"}, frame.project),
                    el("span", {"class": "project-db"}, frame.database),
                ),
            ),
            el(
                "main",
                None,
                el(
                    "div",
                    {"class": "page-head"},
                    el("h1", None, title),
                    el("p", {"class": "subtitle"}, subtitle) if subtitle else None,
                ),
                [notice_box(n) for n in frame.notices],
                body,
            ),
            json_script("dbheal-data", data),
        ),
    )
    return Markup("<!doctype html>\n" + document)


def forbidden_page(message: str) -> Markup:
    """The page of a request without the token: no data, no navigation."""
    document = el(
        "html",
        {"lang": "en"},
        el(
            "head",
            None,
            el("meta", {"charset": "utf-8"}),
            el("title", None, "dbheal admin"),
            el("link", {"rel": "stylesheet", "href": "/static/app.css"}),
        ),
        el(
            "body",
            {"class": "bare"},
            el(
                "main",
                None,
                el(
                    "div",
                    {"class": "card narrow"},
                    el("h1", None, "dbheal admin"),
                    el("p", None, message),
                ),
            ),
        ),
    )
    return Markup("<!doctype html>\n" + document)


# --- dashboard ----------------------------------------------------------------------------------


_CHART_SERIES: tuple[tuple[str, str], ...] = (
    ("total", "Total"),
    ("critical", "Critical"),
    ("high", "High"),
    ("medium", "Medium"),
    ("low", "Low"),
)


def _axis(value: int) -> tuple[int, int]:
    """Return (top, step) of a value axis from 0 showing `value`: at most 5 even steps."""
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000):
        if -(-value // step) <= 5:
            return max(step, -(-value // step) * step), step
    step = -(-value // 5)
    return step * 5, step


def chart(scans: Sequence[ScanRecord]) -> Markup:
    """A line chart of the issue counts of the recorded scans (oldest first), in plain SVG."""
    if not scans:
        return empty("No scans recorded yet: run a scan.")
    width, height = 640, 240
    left, right, top, bottom = 40, 12, 12, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    totals = [sum(s.counts_by_severity.values()) for s in scans]
    top_value, step = _axis(max(max(totals), 1))

    def x(i: int) -> float:
        return left + (plot_w / 2 if len(scans) == 1 else plot_w * i / (len(scans) - 1))

    def y(v: int) -> float:
        return top + plot_h - plot_h * v / top_value

    parts: list[Markup] = []
    for value in range(0, top_value + 1, step):
        parts.append(
            el(
                "line",
                {
                    "class": "gridline",
                    "x1": left,
                    "x2": width - right,
                    "y1": f"{y(value):.1f}",
                    "y2": f"{y(value):.1f}",
                },
            )
        )
        parts.append(
            el(
                "text",
                {"class": "axis", "x": left - 6, "y": f"{y(value) + 4:.1f}", "text-anchor": "end"},
                str(value),
            )
        )
    for name, _ in _CHART_SERIES:
        values = totals if name == "total" else [s.counts_by_severity.get(name, 0) for s in scans]
        points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(values))
        parts.append(
            el("polyline", {"class": f"series s-{name}", "points": points, "fill": "none"})
        )
        for i, v in enumerate(values):
            scan = scans[i]
            parts.append(
                el(
                    "circle",
                    {
                        "class": f"dot s-{name}",
                        "cx": f"{x(i):.1f}",
                        "cy": f"{y(v):.1f}",
                        "r": 3 if name == "total" else 2.2,
                    },
                    el("title", None, f"{when(scan.time)} ({scan.trigger}): {v} {name}"),
                )
            )
    first, last = _axis_times(scans[0].time, scans[-1].time)
    labels = [(0, "start", first)] if len(scans) > 1 else [(0, "middle", last)]
    if len(scans) > 1:
        labels.append((len(scans) - 1, "end", last))
    for i, anchor, label in labels:
        parts.append(
            el(
                "text",
                {
                    "class": "axis",
                    "x": f"{x(i):.1f}",
                    "y": height - 8,
                    "text-anchor": anchor,
                },
                label,
            )
        )
    svg = el(
        "svg",
        {
            "class": "chart",
            "viewBox": f"0 0 {width} {height}",
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


def _preview_row(row_id: str, colspan: int) -> Markup:
    """The hidden row, filled in by the page script, that shows a plan or the fixes of a row."""
    return el(
        "tr",
        {"class": "detail", "id": row_id, "hidden": True},
        el("td", {"colspan": str(colspan)}, el("div", {"class": "preview"})),
    )


def _show_fixes_cell(
    fingerprint: str, target: str, label: str, *, only: str | None = None
) -> Markup:
    """The actions cell with the button that opens the fixes of an issue in row `target`."""
    return el(
        "td",
        {"class": "actions"},
        el(
            "button",
            {
                "type": "button",
                "class": "secondary show-fixes",
                "data-fp": fingerprint,
                "data-target": target,
                "data-only": only,
                "aria-expanded": "false",
            },
            label,
        ),
    )


def _queue_table(entries: Sequence[QueueEntry], *, buttons: bool) -> Markup:
    head = el(
        "thead",
        None,
        el(
            "tr",
            None,
            el("th", None, "#"),
            el("th", None, "Severity"),
            el("th", None, "Kind"),
            el("th", None, "Title"),
            el("th", None, "") if buttons else None,
        ),
    )
    bodies = []
    for entry in entries:
        title: Child = (
            entry.title if buttons else el("a", {"href": f"/fix?entry={entry.id}"}, entry.title)
        )
        row = el(
            "tr",
            None,
            el("td", {"class": "num"}, str(entry.id)),
            el("td", None, severity_badge(entry.severity.value)),
            el("td", None, el("code", None, entry.kind)),
            el("td", None, title),
            el(
                "td",
                {"class": "actions"},
                el(
                    "button",
                    {
                        "type": "button",
                        "class": "secondary show-plan",
                        "data-entry": str(entry.id),
                        "data-target": f"plan-{entry.id}",
                    },
                    "Show plan",
                ),
            )
            if buttons
            else None,
        )
        detail = _preview_row(f"plan-{entry.id}", 5) if buttons else None
        bodies.append(el("tbody", {"class": "entry"}, row, detail))
    return el("table", {"class": "table queue"}, head, bodies)


def _scan_facts(scan: ScanRecord | None, *, inline: bool = False) -> Markup:
    if scan is None:
        return empty("No scan recorded yet.")
    facts = (
        ("When", when(scan.time)),
        ("Trigger", scan.trigger),
        ("Files", str(scan.files)),
        ("Statements", str(scan.statements)),
        ("Issues", str(sum(scan.counts_by_severity.values()))),
        ("Duration", f"{scan.duration_ms:.0f} ms"),
    )
    return el(
        "dl",
        {"class": "facts facts-inline" if inline else "facts"},
        [(el("dt", None, k), el("dd", None, v)) for k, v in facts],
    )


def _events_table(events: Sequence[RuntimeEvent]) -> Markup:
    if not events:
        return empty(
            "No runtime events recorded. The runtime wrapper records the database errors the running application meets."
        )
    head = el(
        "thead",
        None,
        el(
            "tr",
            None,
            [
                el("th", None, h)
                for h in ("When", "Error", "Statement", "Where", "Action", "Outcome")
            ],
        ),
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
    return el("table", {"class": "table events"}, head, el("tbody", None, rows))


def dashboard_page(frame: Frame, data: Dashboard) -> Markup:
    total = len(data.result.issues)
    stats = [
        el(
            "a",
            {"class": "stat stat-total", "href": "/issues"},
            el("span", {"class": "stat-num"}, str(total)),
            el("span", {"class": "stat-label"}, "issues"),
        )
    ]
    for severity, count in data.by_severity:
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
    top = max((c for _, c in data.by_type), default=0)
    by_type = (
        el(
            "table",
            {"class": "table bytype"},
            el(
                "tbody",
                None,
                [
                    el(
                        "tr",
                        None,
                        el(
                            "td",
                            None,
                            el(
                                "a",
                                {"href": "/issues?" + urlencode({"type": name})},
                                el("code", None, name),
                            ),
                        ),
                        el("td", {"class": "barcell"}, _bar(count, top)),
                        el("td", {"class": "num"}, str(count)),
                    )
                    for name, count in data.by_type
                ],
            ),
        )
        if data.by_type
        else empty("No issues.")
    )
    scan_card = card(
        "Last scan",
        _scan_facts(data.last_scan),
        el(
            "div",
            {"class": "card-actions"},
            post_form(frame, "/actions/scan", "Run a scan now", {"back": "/"}),
        ),
    )
    queue_card = card(
        "Queued fixes",
        _queue_table(data.queued, buttons=False)
        if data.queued
        else empty("No schema fixes queued."),
        el(
            "div",
            {"class": "card-actions"},
            el("a", {"class": "button secondary", "href": "/fix"}, "Open Manual Fix"),
        ),
    )
    body = [
        notice_box(Notice(False, f"The last scan failed: {data.scan_error}"))
        if data.scan_error
        else None,
        el("div", {"class": "stats"}, stats),
        el(
            "div",
            {"class": "grid grid-wide"},
            card("Issues over time", chart(data.scans), cls="chart-card"),
            card("By type", by_type),
        ),
        el("div", {"class": "grid grid-wide"}, queue_card, scan_card),
        card("Recent runtime events", _events_table(data.events)),
    ]
    subtitle = f"{total} issue{'s' if total != 1 else ''} in the last scan of {frame.root}"
    return layout(frame, title="Dashboard", path="/", body=body, subtitle=subtitle)


# --- issues -------------------------------------------------------------------------------------


def _select(
    name: str, label: str, current: str, options: Sequence[tuple[str, str]], empty_label: str
) -> Markup:
    return el(
        "label",
        {"class": "field"},
        el("span", None, label),
        el(
            "select",
            {"name": name},
            el("option", {"value": ""}, empty_label),
            [
                el("option", {"value": value, "selected": value == current}, text)
                for value, text in options
            ],
        ),
    )


def issues_page(
    frame: Frame,
    result: CheckResult,
    query: IssueQuery,
    shown: Sequence[Issue],
    excerpts: Mapping[str, Sequence[ExcerptLine]],
    scan_error: str | None,
) -> Markup:
    issues = result.issues
    severities = [(s.value, s.value) for s in SEVERITIES if any(i.severity is s for i in issues)]
    types = [(t, t) for t in sorted({i.type.value for i in issues})]
    files = [(f, f) for f in sorted({i.path for i in issues})]
    tables = [(t, t) for t in sorted({i.table for i in issues if i.table}, key=str.lower)]
    filters = el(
        "form",
        {"class": "filters card", "method": "get", "action": "/issues"},
        _select("severity", "Severity", query.severity, severities, "all"),
        _select("type", "Type", query.type, types, "all"),
        _select("file", "File", query.file, files, "all"),
        _select("table", "Table", query.table, tables, "all"),
        el("input", {"type": "hidden", "name": "sort", "value": query.sort}),
        el(
            "input",
            {"type": "hidden", "name": "dir", "value": "desc" if query.descending else "asc"},
        ),
        el(
            "div",
            {"class": "filter-actions"},
            el("button", {"type": "submit", "class": "secondary"}, "Filter"),
            el("a", {"class": "button link", "href": "/issues"}, "Clear"),
        ),
    )

    def header(key: str, label: str) -> Markup:
        active = query.sort == key
        descending = not query.descending if active else False
        arrow = ("▼" if query.descending else "▲") if active else ""
        href = "/issues?" + urlencode(query.params(sort=key, dir="desc" if descending else "asc"))
        return el(
            "th",
            {"aria-sort": ("descending" if query.descending else "ascending") if active else None},
            el("a", {"href": href, "class": "sort"}, label, el("span", {"class": "arrow"}, arrow)),
        )

    head = el(
        "thead",
        None,
        el(
            "tr",
            None,
            header("severity", "Severity"),
            header("type", "Type"),
            header("file", "File"),
            header("table", "Table"),
            header("message", "Message"),
            el("th", None, "Fixes"),
        ),
    )
    bodies = []
    for n, issue in enumerate(shown):
        bodies.append(_issue_body(issue, n, excerpts.get(issue.fingerprint, ())))
    table = (
        el("table", {"class": "table issues"}, head, bodies)
        if shown
        else empty("No issues match these filters." if issues else "No issues found. ✔")
    )
    count = el(
        "p",
        {"class": "muted count"},
        f"Showing {len(shown)} of {len(issues)} issue{'s' if len(issues) != 1 else ''}.",
    )
    body = [
        notice_box(Notice(False, f"The last scan failed: {scan_error}")) if scan_error else None,
        filters,
        count,
        table,
    ]
    return layout(
        frame,
        title="Issues",
        path="/issues",
        body=body,
        subtitle="Every finding of the last scan. Fixes are planned, and their dry runs made, when you open a row's fixes.",
    )


def _issue_body(issue: Issue, n: int, lines: Sequence[ExcerptLine]) -> Markup:
    span = issue.span
    main_row = el(
        "tr",
        {"class": "issue-row"},
        el("td", None, severity_badge(issue.severity.value)),
        el("td", None, el("code", None, issue.type.value)),
        el(
            "td",
            {"class": "file"},
            path_text(issue.path),
            el("span", {"class": "muted nowrap"}, f":{span.line}:{span.column}"),
        ),
        el("td", None, issue.table or ""),
        el(
            "td",
            {"class": "message"},
            el("div", None, issue.message),
            el("div", {"class": "suggest"}, f"Did you mean {issue.suggestion!r}?")
            if issue.suggestion and issue.suggestion not in issue.message
            else None,
        ),
        _show_fixes_cell(issue.fingerprint, f"fixes-{n}", "Show fixes"),
    )
    excerpt_row = el(
        "tr", {"class": "excerpt-row"}, el("td", {"colspan": "6"}, excerpt_block(lines))
    )
    fixes_row = _preview_row(f"fixes-{n}", 6)
    return el(
        "tbody",
        {"class": f"issue sev-row-{issue.severity.value}", "data-fp": issue.fingerprint},
        main_row,
        excerpt_row,
        fixes_row,
    )


# --- history ------------------------------------------------------------------------------------


def history_page(frame: Frame, records: Sequence[FixRecord]) -> Markup:
    if not records:
        body: Child = empty("No fixes recorded yet.")
    else:
        head = el(
            "thead",
            None,
            el(
                "tr",
                None,
                [
                    el("th", None, h)
                    for h in ("Fix", "When", "Outcome", "Kind", "What", "Files", "")
                ],
            ),
        )
        body = el("table", {"class": "table history"}, head, [_fix_body(frame, r) for r in records])
    return layout(
        frame,
        title="History",
        path="/history",
        body=body,
        subtitle="Every fix applied, refused or rolled back, with its verification report. A rollback undoes a fix by its inverse change and keeps the rows written since; it says what it will do before it runs.",
    )


def _fix_body(frame: Frame, record: FixRecord) -> Markup:
    outcome = record.outcome_label  # as `dbheal history` says it
    what = [el("div", {"class": "title"}, record.title)]
    if record.message and record.message != record.title:
        what.append(el("div", {"class": "muted"}, record.message))
    if record.rollback_of:
        what.append(el("div", {"class": "muted"}, f"undoes {record.rollback_of}"))
    if record.rolled_back_at:
        what.append(el("div", {"class": "muted"}, f"rolled back {when(record.rolled_back_at)}"))
    action: Child = None
    if record.can_roll_back:
        # A link to the confirmation page, which says what the rollback will do first.
        action = el(
            "a",
            {"class": "button danger", "href": "/rollback?" + urlencode({"fix_id": record.id})},
            "Roll back…",
        )
    files = [record.database] if record.database else []
    files.extend(f for f in record.files if f not in files)
    row = el(
        "tr",
        {"class": "fix-row"},
        el("td", {"class": "nowrap"}, el("code", None, record.id)),
        el("td", {"class": "nowrap"}, when(record.created_at)),
        el(
            "td",
            None,
            el(
                "span",
                {
                    "class": "outcome outcome-rollback"
                    if record.rollback_of
                    else f"outcome outcome-{record.outcome}"
                },
                outcome,
            ),
        ),
        el("td", None, record.kind),
        el("td", None, what),
        el("td", {"class": "file"}, [el("div", None, f) for f in files]),
        el("td", {"class": "actions"}, action),
    )
    checks = record.verify.checks
    verification = (
        el(
            "ul",
            {"class": "checks"},
            [
                el(
                    "li",
                    {"class": "ok" if c.ok else "fail"},
                    el("span", {"class": "check-mark"}, "ok" if c.ok else "FAIL"),
                    el("span", {"class": "check-name"}, c.name),
                    f": {c.detail}" if c.detail else "",
                )
                for c in checks
            ],
        )
        if checks
        else el("p", {"class": "muted small"}, "No verification report.")
    )
    plan_kind = "sql" if record.kind == "schema" else "diff"
    detail = el(
        "tr",
        {"class": "fix-detail"},
        el(
            "td",
            {"colspan": "7"},
            el(
                "div",
                {"class": "verify"},
                el("span", {"class": "label"}, "Verification"),
                verification,
            ),
            el(
                "details",
                None,
                el("summary", None, "Plan"),
                code_block(record.plan_text, plan_kind),
            )
            if record.plan_text
            else None,
        ),
    )
    return el("tbody", {"class": "fix", "data-fix": record.id}, row, detail)


def rollback_page(frame: Frame, preview: RollbackPreview) -> Markup:
    """The confirmation step of a rollback: what it will do (the inverse SQL, or the restore
    and what it drops), then the POST that runs exactly that."""
    back = el("a", {"class": "button link", "href": "/history"}, "Back to History")
    fields = {"fix_id": preview.fix_id, "shown": preview.digest}
    parts: list[Child] = []
    if preview.refusal:
        parts.append(el("div", {"class": "notice error", "role": "status"}, preview.refusal))
        if preview.can_restore and not preview.restore_backup:
            restore = "/rollback?" + urlencode({"fix_id": preview.fix_id, "restore": "1"})
            parts.append(
                el(
                    "p",
                    None,
                    "Restoring the database file as it was before the fix undoes it anyway, "
                    "and drops what was written since. ",
                    el("a", {"href": restore}, "See what restoring the backup would drop"),
                )
            )
        parts.append(el("p", None, back))
    else:
        if preview.restore_backup:
            fields["restore_backup"] = "1"
            warning = (
                f"This restores the whole database file: {preview.losses}. What is lost is "
                "kept in the rollback's own backup."
                if preview.losses
                else "This restores the whole database file; nothing was written since the fix."
            )
            parts.append(el("p", {"class": "rollback-warning"}, warning))
        parts.append(code_block(preview.text, "sql"))
        label = "Restore the backup" if preview.restore_backup else "Roll back"
        parts.append(
            el("p", None, post_form(frame, "/actions/rollback", label, fields, kind="danger"), back)
        )
    return layout(
        frame,
        title=f"Roll back {preview.fix_id}",
        path="/history",
        body=card(preview.title, parts, cls="rollback-confirm"),
        subtitle="Nothing has changed yet: this is what the rollback will do.",
    )


# --- settings -----------------------------------------------------------------------------------

_HELP = {
    "database": "the live SQLite database, opened read-only (relative to the project root)",
    "migrations": "the folder of migration *.sql files",
    "dialect": "the SQL dialect of the code",
    "include": "only check files matching one of these globs (one per line)",
    "exclude": "skip files or folders matching one of these globs (one per line)",
    "extra-calls": "more function names whose first argument is SQL (one per line)",
    "identifier-helpers": "functions that quote or allow-list an identifier (one per line)",
    "fail-on": "dbheal check exits 1 at or above this severity",
    "jobs": "worker processes for checking a tree (0: one per core)",
    "cache": "keep results in your cache directory (~/.cache/dbheal)",
}


def settings_page(
    frame: Frame, rows: Sequence[settings.SettingRow], fields: Mapping[str, str]
) -> Markup:
    effective = el(
        "table",
        {"class": "table settings"},
        el(
            "thead",
            None,
            el(
                "tr",
                None,
                el("th", None, "Setting"),
                el("th", None, "Value"),
                el("th", None, "Source"),
            ),
        ),
        el(
            "tbody",
            None,
            [
                el(
                    "tr",
                    None,
                    el("td", None, el("code", None, row.key)),
                    el("td", {"class": "value"}, row.value),
                    el(
                        "td",
                        None,
                        el(
                            "span",
                            {"class": f"source source-{row.source.replace('.', '-')}"},
                            row.source,
                        ),
                    ),
                )
                for row in rows
            ],
        ),
    )
    placeholders = {row.key: row.value for row in rows}
    inputs: list[Markup] = []
    for key in settings.KEYS:
        if key == "severity":
            continue
        value = fields.get(key, "")
        label = el("span", {"class": "field-name"}, el("code", None, key))
        help_text = el("span", {"class": "help"}, _HELP.get(key, ""))
        if key in settings.CHOICES:
            choices = settings.CHOICES[key]
            control = el(
                "select",
                {"name": key, "id": f"set-{key}"},
                el("option", {"value": ""}, f"not set ({placeholders.get(key, '')})"),
                [el("option", {"value": c, "selected": c == value}, c) for c in choices],
            )
        elif key in settings.LIST_KEYS:
            control = el(
                "textarea",
                {
                    "name": key,
                    "id": f"set-{key}",
                    "rows": 2,
                    "placeholder": f"not set ({placeholders.get(key, '')})",
                },
                value,
            )
        else:
            control = el(
                "input",
                {
                    "type": "text",
                    "name": key,
                    "id": f"set-{key}",
                    "value": value,
                    "placeholder": f"not set ({placeholders.get(key, '')})",
                    "inputmode": "numeric" if key == "jobs" else None,
                },
            )
        inputs.append(
            el("label", {"class": "setting", "for": f"set-{key}"}, label, control, help_text)
        )
    severity_inputs = []
    for issue_type in IssueType:
        name = f"severity.{issue_type.value}"
        value = fields.get(name, "")
        severity_inputs.append(
            el(
                "label",
                {"class": "sev-setting"},
                el("code", None, issue_type.value),
                el(
                    "select",
                    {"name": name},
                    el(
                        "option", {"value": ""}, f"default ({DEFAULT_SEVERITIES[issue_type].value})"
                    ),
                    [
                        el("option", {"value": s.value, "selected": s.value == value}, s.value)
                        for s in Severity
                    ],
                ),
            )
        )
    form = el(
        "form",
        {"method": "post", "action": "/actions/settings", "class": "settings-form"},
        csrf_field(frame),
        inputs,
        el(
            "fieldset",
            None,
            el("legend", None, el("code", None, "severity"), " per issue type"),
            el("div", {"class": "sev-grid"}, severity_inputs),
        ),
        el(
            "div",
            {"class": "form-actions"},
            el("button", {"type": "submit", "class": "primary"}, "Save to pyproject.toml"),
            el(
                "span",
                {"class": "help"},
                "Checked first; only changed keys are rewritten, the rest of the file is kept as it is.",
            ),
        ),
    )
    body = el(
        "div",
        {"class": "grid grid-settings"},
        card(
            "Effective configuration",
            effective,
            el(
                "p",
                {"class": "muted small"},
                "Sources, lowest precedence first: default, discovered, pyproject.toml, override.",
            ),
        ),
        card("Edit [tool.dbheal]", form),
    )
    return layout(
        frame,
        title="Settings",
        path="/settings",
        body=body,
        subtitle=f"[tool.dbheal] of {frame.root}/pyproject.toml",
    )


# --- manual fix ---------------------------------------------------------------------------------


def fix_page(
    frame: Frame,
    last_scan: ScanRecord | None,
    queued: Sequence[QueueEntry],
    candidates: Sequence[Issue],
    open_entry: int | None,
) -> Markup:
    scan_card = card(
        "Scan",
        _scan_facts(last_scan, inline=True),
        el(
            "div",
            {"class": "card-actions"},
            post_form(frame, "/actions/scan", "Run a scan now", {"back": "/fix"}),
        ),
    )
    queue_card = card(
        "Queued migrations",
        el(
            "p",
            {"class": "muted small"},
            "Show a migration's plan and its dry run; it can be applied from there, through the safety layer (backup, lock, one transaction, verification).",
        ),
        _queue_table(queued, buttons=True) if queued else empty("No schema fixes queued."),
        el(
            "div",
            {"class": "card-actions"},
            post_form(
                frame,
                "/actions/queue-all",
                "Queue the schema fixes of all issues",
                {"back": "/fix"},
                kind="secondary",
            ),
        ),
    )
    rows = []
    for n, issue in enumerate(candidates):
        rows.append(
            el(
                "tbody",
                {"class": "issue"},
                el(
                    "tr",
                    None,
                    el("td", None, severity_badge(issue.severity.value)),
                    el("td", None, el("code", None, issue.type.value)),
                    el(
                        "td",
                        {"class": "file"},
                        path_text(issue.path),
                        el("span", {"class": "muted nowrap"}, f":{issue.span.line}"),
                    ),
                    el("td", {"class": "message"}, issue.message),
                    _show_fixes_cell(
                        issue.fingerprint, f"code-{n}", "Show code fixes", only="code"
                    ),
                ),
                _preview_row(f"code-{n}", 5),
            )
        )
    code_card = card(
        "Code fixes",
        el(
            "p",
            {"class": "muted small"},
            "Issues a code fix may exist for (injection, a redundant cast, a misspelt name). Each fix is shown as a diff first; the file is backed up before it is written.",
        ),
        el("table", {"class": "table"}, rows)
        if rows
        else empty("No issue of the last scan can have a code fix."),
    )
    return layout(
        frame,
        title="Manual Fix",
        path="/fix",
        body=[scan_card, queue_card, code_card],
        boot={"open_entry": open_entry},
        subtitle="Scan now, apply a queued migration after reading its plan, or apply a code fix.",
    )
