"""Whether text reads as SQL: the words a statement starts with, and a fragment that is a
whole statement of its own (a subquery built above)."""

from __future__ import annotations

import re

from dbheal_lsp.analysis.sqllex import skip_trivia
from dbheal_lsp.analysis.statement import Piece, Slot, TextPiece

# The words a SQL statement starts with, after any whitespace, comments and opening parentheses
# (skipped by `starts_like_sql` with str.find: a pattern with nested repeats backtracks
# exponentially on a run of comments).
_SQL_START = re.compile(
    r"(SELECT|INSERT|UPDATE|DELETE|REPLACE|CREATE|DROP|ALTER|WITH|PRAGMA|BEGIN|COMMIT|END|"
    r"ROLLBACK|SAVEPOINT|RELEASE|EXPLAIN|VACUUM|ATTACH|DETACH|ANALYZE|REINDEX|VALUES)\b",
    re.IGNORECASE,
)


def starts_like_sql(text: str) -> bool:
    """Return whether `text` starts like a SQL statement (after blanks, comments and `(`)."""
    return _SQL_START.match(text, skip_trivia(text, 0, also="(")) is not None


def is_select(variant: list[Piece]) -> bool:
    """Return whether the pieces of a fragment are a SELECT statement of their own: written
    text that starts with SELECT, before any interpolated part."""
    first = next((p for p in variant if not isinstance(p, TextPiece) or p.text.strip()), None)
    if not isinstance(first, TextPiece):
        return False
    start = skip_trivia(first.text, 0, also="(")
    return first.text[start : start + 6].upper() == "SELECT"


def inlinable(variants: list[list[Piece]]) -> list[list[Piece]] | None:
    """Return the variants of an interpolated value when each can be read inside the larger
    statement as its own text: plain text (no slot), or a whole SELECT built above (a
    subquery, whose slots are then judged where they are written); else None."""
    if all(is_select(v) or not any(isinstance(p, Slot) for p in v) for v in variants):
        return variants
    return None
