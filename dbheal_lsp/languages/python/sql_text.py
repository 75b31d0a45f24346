"""Whether text reads as SQL: the words a statement starts with, and an interpolated value
whose text starts as written (a fragment or a subquery built above)."""

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


def inlinable(variants: list[list[Piece]]) -> list[list[Piece]] | None:
    """Return the variants of an interpolated value when each can be read inside the larger
    statement as its own text: it starts with written text (plain text; a SELECT built above,
    whose slots are then judged where they are written; `_from = table` then
    `_from += f" {join}"`, whose unread addition stays a slot); else None. A value that starts
    with a slot is nothing known: read as one slot."""
    if any(_unread_start(v) for v in variants):
        return None
    return variants


def _unread_start(variant: list[Piece]) -> bool:
    """Return whether `variant` starts with a slot (nothing known of what it is)."""
    first = next((p for p in variant if not isinstance(p, TextPiece) or p.text.strip()), None)
    return isinstance(first, Slot)
