"""Applying text edits to a file's text and showing the change as a diff: what every code fix,
whatever its language, is written with (the CLI's `dbheal fix`, the admin page, the editor)."""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from dbheal_lsp.analysis.positions import LineIndex, source_lines
from dbheal_lsp.model import TextEdit

__all__ = ["apply_edits", "unified_diff"]


def apply_edits(source: str, edits: Sequence[TextEdit]) -> str:
    """Return `source` with `edits` applied (any order; they must not overlap).

    Spans use the engine's positions: 1-based lines (split at \\r\\n, \\r or \\n, as Python
    numbers them), 1-based code-point columns, exclusive ends. Raises ValueError for a span
    outside the text or for overlapping edits.
    """
    lines = LineIndex(source)
    ranges: list[tuple[int, int, str]] = []
    for edit in edits:
        start = lines.offset(edit.span.line, edit.span.column)
        end = lines.offset(edit.span.end_line, edit.span.end_column)
        if end < start:
            raise ValueError(f"edit span ends before it starts: {edit.span}")
        ranges.append((start, end, edit.new_text))
    ranges.sort(key=lambda r: (r[0], r[1]))
    out: list[str] = []
    pos = 0
    for start, end, text in ranges:
        if start < pos:
            raise ValueError("overlapping edits")
        out.append(source[pos:start])
        out.append(text)
        pos = end
    out.append(source[pos:])
    return "".join(out)


def unified_diff(path: str, before: str, after: str) -> str:
    """Return the unified diff of `before` -> `after` with ``a/path`` and ``b/path`` headers.

    Empty when they are equal. A last line without newline is marked as git marks it.
    """
    out: list[str] = []
    for line in difflib.unified_diff(
        source_lines(before), source_lines(after), f"a/{path}", f"b/{path}"
    ):
        if line.endswith(("\n", "\r")):
            out.append(line)
        else:
            out.append(line + "\n\\ No newline at end of file\n")
    return "".join(out)
