"""Placeholders respelled for PostgreSQL: the server numbers its parameters `$1..$n`.

The checker hands a judge its text with the driver's placeholders in SQLite's spelling (`%s`
became `? `, `%(name)s` became `:name`, analysis/placeholders.py); the server reads none of
those. `dollar_text` respells them and keeps a map back to the original offsets, so the
position the server gives points into the caller's text. PostgreSQL's own `?`, `?|` and `?&`
(jsonb operators) and `::type` casts are not placeholders and stay.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dbheal_lsp.analysis.sqlmask import masked

__all__ = ["Dollared", "dollar_text"]

_MARKER = re.compile(r"\?(\d*)(?![|&])|(?<![:\w]):([A-Za-z_]\w*)|@([A-Za-z_]\w*)")
# Words after which a `?` is a value (a placeholder), not the jsonb "has key" operator.
_BEFORE_VALUE = frozenset(
    [
        "SELECT",
        "WHERE",
        "AND",
        "OR",
        "NOT",
        "ON",
        "SET",
        "VALUES",
        "IN",
        "IS",
        "LIKE",
        "ILIKE",
        "BETWEEN",
        "THEN",
        "ELSE",
        "WHEN",
        "CASE",
        "LIMIT",
        "OFFSET",
        "BY",
        "AS",
        "RETURNING",
        "DISTINCT",
        "HAVING",
        "ANY",
        "ALL",
        "SOME",
        "ARRAY",
        "INTERVAL",
        "FETCH",
    ]
)
_WORD_BEFORE = re.compile(r"(\w+)\s*$")


@dataclass(frozen=True)
class Dollared:
    """A text respelled with `$n` parameters; `origin[i]` is the caller's offset of index i."""

    text: str
    origin: tuple[int, ...]
    count: int

    def original_offset(self, index: int) -> int:
        """Return the caller's offset of `index` (0-based) of the respelled text."""
        if not self.origin:
            return index
        return self.origin[min(max(index, 0), len(self.origin) - 1)]


def dollar_text(text: str) -> Dollared:
    """Return `text` with its placeholders as `$1..$n` (named ones numbered by first use)."""
    mask = masked(text)
    out: list[str] = []
    origin: list[int] = []
    names: dict[str, int] = {}
    # `$n` the text already has (asyncpg's spelling) count too.
    highest = max((int(n) for n in re.findall(r"\$(\d+)", mask)), default=0)
    last = 0
    for m in _MARKER.finditer(mask):
        if m.group().startswith("?") and not m.group(1) and _is_operator(mask, m.start()):
            continue
        out.append(text[last : m.start()])
        origin.extend(range(last, m.start()))
        name = m.group(2) or m.group(3)
        if m.group(1):
            number = int(m.group(1))
        elif name is not None:
            number = names.setdefault(name, highest + 1)
        else:
            number = highest + 1
        highest = max(highest, number)
        token = f"${number}"
        out.append(token)
        origin.extend([m.start()] * len(token))
        last = m.end()
    out.append(text[last:])
    origin.extend(range(last, len(text) + 1))
    return Dollared("".join(out), tuple(origin), highest)


def _is_operator(mask: str, start: int) -> bool:
    """Return whether the `?` at `start` is jsonb's key operator: it follows an operand."""
    before = mask[:start].rstrip()
    if not before or before[-1] in "(,=<>!+-*/%|":
        return False
    word = _WORD_BEFORE.search(before)
    if word is not None and word.group(1).upper() in _BEFORE_VALUE:
        return False
    return before[-1] in ")]'\"" or word is not None
