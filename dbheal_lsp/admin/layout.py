"""What every admin page is made of: the frame around it (head, navigation, notices), the page
of a refused request, and the pieces several pages share (cards, forms, tables, the queue and
the last scan).

Everything is built with `html.el`, so whatever comes from the code is escaped. Previews of
fixes and plans are not rendered here: the page's script fetches them as JSON, one row at a
time, and shows them with `textContent`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from dbheal_lsp.records import QueueEntry, ScanRecord, parse_time

from .app import Notice
from .html import Child, Markup, el, join, json_script

__all__ = [
    "NAV",
    "Frame",
    "card",
    "code_block",
    "csrf_field",
    "empty",
    "forbidden_page",
    "layout",
    "notice_box",
    "path_text",
    "post_form",
    "preview_row",
    "queue_table",
    "scan_card",
    "scan_error_box",
    "scan_facts",
    "severity_badge",
    "show_fixes_cell",
    "table",
    "when",
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


def severity_badge(severity: str) -> Markup:
    """A severity as a coloured label."""
    return el("span", {"class": f"sev sev-{severity}"}, severity)


def csrf_field(frame: Frame) -> Markup:
    """The hidden field that carries the session's CSRF token in a form."""
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
    """A notice: its first line as the headline, the rest as preformatted text."""
    headline, _, rest = notice.text.partition("\n")
    return el(
        "div",
        {"class": f"notice {'ok' if notice.ok else 'error'}", "role": "status"},
        el("strong", None, headline),
        el("pre", None, rest) if rest.strip() else None,
    )


def scan_error_box(error: str | None) -> Markup | None:
    """The notice that the last scan failed, or None when it did not."""
    return notice_box(Notice(False, f"The last scan failed: {error}")) if error else None


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
    """What a card shows when it has nothing to list."""
    return el("p", {"class": "empty"}, text)


def card(title: str, *children: Child, cls: str = "") -> Markup:
    """A titled section of a page."""
    return el("section", {"class": f"card {cls}".strip()}, el("h2", None, title), children)


def table(headers: Sequence[str | None], body: Child, *, cls: str = "") -> Markup:
    """A `<table class="table CLS">`: a header row, then `body` (its `<tbody>` elements).

    A header is the text of a `<th>`, or a `<th>` the caller made (`Markup`: a sortable column);
    None leaves the column's header out. With no headers there is no header row.
    """
    head = (
        el(
            "thead",
            None,
            el(
                "tr",
                None,
                [
                    h if isinstance(h, Markup) else el("th", None, h)
                    for h in headers
                    if h is not None
                ],
            ),
        )
        if headers
        else None
    )
    return el("table", {"class": f"table {cls}".strip()}, head, body)


def preview_row(row_id: str, colspan: int) -> Markup:
    """The hidden row, filled in by the page script, that shows a plan or the fixes of a row."""
    return el(
        "tr",
        {"class": "detail", "id": row_id, "hidden": True},
        el("td", {"colspan": str(colspan)}, el("div", {"class": "preview"})),
    )


def show_fixes_cell(
    fingerprint: str, target: str, label: str, *, only: str | None = None
) -> Markup:
    """The actions cell with the button that opens the fixes of an issue in row `target`."""
    attrs = {
        "class": "secondary show-fixes",
        "data-fp": fingerprint,
        "data-target": target,
        "data-only": only,
        "aria-expanded": "false",
    }
    return _button_cell(attrs, label)


def _button_cell(attrs: Mapping[str, object], label: str) -> Markup:
    """An actions cell with one button for the page script (`attrs` say what it opens)."""
    return el("td", {"class": "actions"}, el("button", {"type": "button", **attrs}, label))


# --- the queue and the last scan (Dashboard and Manual Fix) -------------------------------------


def queue_table(entries: Sequence[QueueEntry], *, buttons: bool) -> Markup:
    """The queued migrations: with `buttons`, each opens its plan below it; without, each title
    links to the Manual Fix page."""
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
            _show_plan_cell(entry) if buttons else None,
        )
        detail = preview_row(f"plan-{entry.id}", 5) if buttons else None
        bodies.append(el("tbody", {"class": "entry"}, row, detail))
    headers = ("#", "Severity", "Kind", "Title", "" if buttons else None)
    return table(headers, bodies, cls="queue")


def _show_plan_cell(entry: QueueEntry) -> Markup:
    attrs = {
        "class": "secondary show-plan",
        "data-entry": str(entry.id),
        "data-target": f"plan-{entry.id}",
    }
    return _button_cell(attrs, "Show plan")


def scan_card(
    frame: Frame, title: str, scan: ScanRecord | None, *, back: str, inline: bool = False
) -> Markup:
    """The card of the last scan, with the button that runs one now and comes `back`."""
    return card(
        title,
        scan_facts(scan, inline=inline),
        el(
            "div",
            {"class": "card-actions"},
            post_form(frame, "/actions/scan", "Run a scan now", {"back": back}),
        ),
    )


def scan_facts(scan: ScanRecord | None, *, inline: bool = False) -> Markup:
    """When, why and how long the scan ran, and what it found."""
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
    data = {"csrf": frame.csrf, **(boot or {})}
    document = el(
        "html",
        {"lang": "en"},
        _head(f"{title} · dbheal admin · {frame.project}"),
        el(
            "body",
            None,
            _topbar(frame, path),
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


def _head(title: str) -> Markup:
    return el(
        "head",
        None,
        el("meta", {"charset": "utf-8"}),
        el("meta", {"name": "viewport", "content": "width=device-width, initial-scale=1"}),
        el("meta", {"name": "referrer", "content": "same-origin"}),
        el("title", None, title),
        el("link", {"rel": "icon", "href": "/static/favicon.svg", "type": "image/svg+xml"}),
        el("link", {"rel": "stylesheet", "href": "/static/app.css"}),
        el("script", {"src": "/static/app.js", "defer": True}),
    )


def _topbar(frame: Frame, path: str) -> Markup:
    """The brand, the navigation (the page at `path` marked) and the project."""
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
    return el(
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
    )


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
