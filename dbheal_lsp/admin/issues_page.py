"""The Issues page (every finding of the last scan, filtered and sorted, each with the code
around it) and the Manual Fix page (scan now, apply a queued migration or a code fix)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from urllib.parse import urlencode

from dbheal_lsp.model import CheckResult, Issue
from dbheal_lsp.records import QueueEntry, ScanRecord

from .app import SEVERITIES
from .html import Child, Markup, el
from .issue_query import ExcerptLine, IssueQuery
from .layout import (
    Frame,
    card,
    empty,
    layout,
    path_text,
    post_form,
    preview_row,
    queue_table,
    scan_card,
    scan_error_box,
    severity_badge,
    show_fixes_cell,
    table,
)

__all__ = ["excerpt_block", "fix_page", "issues_page"]


# --- issues -------------------------------------------------------------------------------------


def issues_page(
    frame: Frame,
    result: CheckResult,
    query: IssueQuery,
    shown: Sequence[Issue],
    excerpts: Mapping[str, Sequence[ExcerptLine]],
    scan_error: str | None,
) -> Markup:
    """The issues of the last scan that `query` selects (`shown`), with their excerpts."""
    issues = result.issues
    bodies = [
        _issue_body(issue, n, excerpts.get(issue.fingerprint, ())) for n, issue in enumerate(shown)
    ]
    found = (
        table(_issue_headers(query), bodies, cls="issues")
        if shown
        else empty("No issues match these filters." if issues else "No issues found. ✔")
    )
    count = el(
        "p",
        {"class": "muted count"},
        f"Showing {len(shown)} of {len(issues)} issue{'s' if len(issues) != 1 else ''}.",
    )
    body = [scan_error_box(scan_error), _filters(issues, query), count, found]
    return layout(
        frame,
        title="Issues",
        path="/issues",
        body=body,
        subtitle="Every finding of the last scan. Fixes are planned, and their dry runs made, when you open a row's fixes.",
    )


def _filters(issues: Sequence[Issue], query: IssueQuery) -> Markup:
    """The filter form: one choice for each value the issues have, and the current sort."""
    severities = [(s.value, s.value) for s in SEVERITIES if any(i.severity is s for i in issues)]
    types = [(t, t) for t in sorted({i.type.value for i in issues})]
    files = [(f, f) for f in sorted({i.path for i in issues})]
    tables = [(t, t) for t in sorted({i.table for i in issues if i.table}, key=str.lower)]
    return el(
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


def _issue_headers(query: IssueQuery) -> tuple[str, ...]:
    """The headers of the issue table: each column sorts by itself, again to reverse."""

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

    return (
        header("severity", "Severity"),
        header("type", "Type"),
        header("file", "File"),
        header("table", "Table"),
        header("message", "Message"),
        "Fixes",
    )


def _issue_body(issue: Issue, n: int, lines: Sequence[ExcerptLine]) -> Markup:
    span = issue.span
    main_row = el(
        "tr",
        {"class": "issue-row"},
        _issue_cells(issue, f":{span.line}:{span.column}"),
        el("td", None, issue.table or ""),
        el(
            "td",
            {"class": "message"},
            el("div", None, issue.message),
            el("div", {"class": "suggest"}, f"Did you mean {issue.suggestion!r}?")
            if issue.suggestion and issue.suggestion not in issue.message
            else None,
        ),
        show_fixes_cell(issue.fingerprint, f"fixes-{n}", "Show fixes"),
    )
    excerpt_row = el(
        "tr", {"class": "excerpt-row"}, el("td", {"colspan": "6"}, excerpt_block(lines))
    )
    fixes_row = preview_row(f"fixes-{n}", 6)
    return el(
        "tbody",
        {"class": f"issue sev-row-{issue.severity.value}", "data-fp": issue.fingerprint},
        main_row,
        excerpt_row,
        fixes_row,
    )


def _issue_cells(issue: Issue, where: str) -> list[Markup]:
    """The first cells of an issue's row: its severity, its type, and its file with `where` in
    it (":line" or ":line:column")."""
    return [
        el("td", None, severity_badge(issue.severity.value)),
        el("td", None, el("code", None, issue.type.value)),
        el(
            "td",
            {"class": "file"},
            path_text(issue.path),
            el("span", {"class": "muted nowrap"}, where),
        ),
    ]


def excerpt_block(lines: Sequence[ExcerptLine]) -> Markup:
    """The numbered lines around an issue, its token marked."""
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


# --- manual fix ---------------------------------------------------------------------------------


def fix_page(
    frame: Frame,
    last_scan: ScanRecord | None,
    queued: Sequence[QueueEntry],
    candidates: Sequence[Issue],
    open_entry: int | None,
) -> Markup:
    """The Manual Fix page; `open_entry` is the queued migration whose plan opens at once."""
    scan = scan_card(frame, "Scan", last_scan, back="/fix", inline=True)
    queue_card = card(
        "Queued migrations",
        el(
            "p",
            {"class": "muted small"},
            "Show a migration's plan and its dry run; it can be applied from there, through the safety layer (backup, lock, one transaction, verification).",
        ),
        queue_table(queued, buttons=True) if queued else empty("No schema fixes queued."),
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
    return layout(
        frame,
        title="Manual Fix",
        path="/fix",
        body=[scan, queue_card, _code_card(candidates)],
        boot={"open_entry": open_entry},
        subtitle="Scan now, apply a queued migration after reading its plan, or apply a code fix.",
    )


def _code_card(candidates: Sequence[Issue]) -> Markup:
    """The issues a code fix may exist for, each opening its fixes below it."""
    rows = [
        el(
            "tbody",
            {"class": "issue"},
            el(
                "tr",
                None,
                _issue_cells(issue, f":{issue.span.line}"),
                el("td", {"class": "message"}, issue.message),
                show_fixes_cell(issue.fingerprint, f"code-{n}", "Show code fixes", only="code"),
            ),
            preview_row(f"code-{n}", 5),
        )
        for n, issue in enumerate(candidates)
    ]
    return card(
        "Code fixes",
        el(
            "p",
            {"class": "muted small"},
            "Issues a code fix may exist for (injection, a redundant cast, a misspelt name). Each fix is shown as a diff first; the file is backed up before it is written.",
        ),
        table((), rows) if rows else empty("No issue of the last scan can have a code fix."),
    )
