"""The Issues page's question: which issues to show and in what order (`IssueQuery`, read from
the page's URL), and the lines of code shown around each.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from dbheal_lsp.model import Issue

__all__ = ["SORT_KEYS", "ExcerptLine", "IssueQuery", "excerpt", "select_issues"]

# The orders the Issues page sorts by; each breaks ties by file and position.
SORT_KEYS: Mapping[str, Callable[[Issue], Any]] = MappingProxyType(
    {
        "severity": lambda i: (-i.severity.rank, i.path, i.span),
        "type": lambda i: (i.type.value, i.path, i.span),
        "file": lambda i: (i.path, i.span),
        "table": lambda i: (i.table is None, (i.table or "").lower(), i.path, i.span),
        "message": lambda i: (i.message.lower(), i.path, i.span),
    }
)


@dataclass(frozen=True)
class IssueQuery:
    """The Issues page's filters and order, as its URL gives them ("" is no filter)."""

    severity: str = ""
    type: str = ""
    file: str = ""
    table: str = ""
    sort: str = "severity"
    descending: bool = False

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> IssueQuery:
        """Return the query of a URL's parameters; unknown values are ignored."""
        sort = params.get("sort", "severity")
        return cls(
            severity=params.get("severity", ""),
            type=params.get("type", ""),
            file=params.get("file", ""),
            table=params.get("table", ""),
            sort=sort if sort in SORT_KEYS else "severity",
            descending=params.get("dir") == "desc",
        )

    def params(self, **changes: str) -> dict[str, str]:
        """Return the URL parameters of this query with `changes` (empty ones left out)."""
        data = {
            "severity": self.severity,
            "type": self.type,
            "file": self.file,
            "table": self.table,
            "sort": self.sort,
            "dir": "desc" if self.descending else "asc",
        }
        data.update(changes)
        return {k: v for k, v in data.items() if v}


def select_issues(issues: Sequence[Issue], query: IssueQuery) -> list[Issue]:
    """Return the issues that pass the query's filters, in its order."""
    chosen = [
        i
        for i in issues
        if (not query.severity or i.severity.value == query.severity)
        and (not query.type or i.type.value == query.type)
        and (not query.file or i.path == query.file)
        and (not query.table or (i.table or "").lower() == query.table.lower())
    ]
    return sorted(chosen, key=SORT_KEYS[query.sort], reverse=query.descending)


@dataclass(frozen=True)
class ExcerptLine:
    """One line of a code excerpt; `mark` is the (start, end) slice of the issue's span in it."""

    number: int
    text: str
    mark: tuple[int, int] | None = None


def excerpt(
    issue: Issue, root: Path, cache: dict[str, list[str] | None], context: int = 2
) -> list[ExcerptLine]:
    """Return the lines of the issue's file around it (its span marked), [] if unreadable."""
    if issue.path not in cache:
        path = Path(issue.path)
        try:
            text = (path if path.is_absolute() else root / path).read_text(
                encoding="utf-8", errors="replace"
            )
            cache[issue.path] = text.splitlines()
        except OSError:
            cache[issue.path] = None
    lines = cache[issue.path]
    if not lines:
        return []
    span = issue.span
    first = max(1, span.line - context)
    last = min(len(lines), max(span.end_line, span.line) + context, span.line + context + 8)
    out = []
    for number in range(first, last + 1):
        text = lines[number - 1]
        mark = None
        if span.line <= number <= span.end_line:
            start = span.column - 1 if number == span.line else 0
            end = span.end_column - 1 if number == span.end_line else len(text)
            if 0 <= start < end:
                mark = (start, min(end, len(text)))
        out.append(ExcerptLine(number, text, mark))
    return out
