"""SQL text with its strings, quoted names and comments blanked, offsets kept.

Checks that look for a word or a mark in SQL (a keyword, a placeholder, a select-list `*`) run
on the masked text, so that nothing inside a string or a comment is mistaken for SQL. Blanking
keeps every character's offset, so a match points at the caller's text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from dbheal_lsp.analysis.sqllex import comment_end, quoted_end

# Where a string, a quoted name or a comment may open. What follows is found with `str.find`
# (sqllex), never by a pattern that can backtrack: the scan is linear in the text's length.
_OPENER = re.compile(r"['\"`\[]|--|/\*")
_STAR = re.compile(r"(?:\bSELECT\s+(?:DISTINCT\s+|ALL\s+)?|,\s*)((?:[A-Za-z_]\w*\.)?\*)", re.I)


def _quoted_regions(text: str) -> Iterator[tuple[int, int]]:
    """Yield (start, end) of each string, quoted name and comment of `text`, in order.

    SQLite's rules (`sqllex`): doubled quotes stay inside, brackets do not nest, and an
    unterminated quote or comment runs to the end of the text.
    """
    at = 0
    while True:
        m = _OPENER.search(text, at)
        if m is None:
            return
        start = m.start()
        end = comment_end(text, start) if m.group() in ("--", "/*") else quoted_end(text, start)
        yield start, end
        at = max(end, start + 1)


def _blank(text: str, keep_strings: bool) -> str:
    parts: list[str] = []
    pos = 0
    for start, end in _quoted_regions(text):
        if keep_strings and text[start] == "'":
            continue
        parts.append(text[pos:start])
        parts.append(" " * (end - start))
        pos = end
    parts.append(text[pos:])
    return "".join(parts)


def masked(text: str) -> str:
    """Return `text` with string literals, quoted names and comments blanked (same length)."""
    return _blank(text, keep_strings=False)


def masked_values(text: str) -> str:
    """Return `text` with comments and quoted names blanked but string literals kept."""
    return _blank(text, keep_strings=True)


def star_offsets(text: str) -> list[tuple[int, int]]:
    """Return the offsets of each `*` or `t.*` of a select list (not `count(*)`) in `text`."""
    return [(m.start(1), m.end(1)) for m in _STAR.finditer(masked(text))]
