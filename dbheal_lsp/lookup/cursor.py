"""The statement and the SQL offset under the cursor, in a file that may be half typed.

The file is often not valid code while the user types (an unclosed string); then its language
repairs a copy of the text (`Project.repaired_statements`), keeping every position up to the
cursor unchanged.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dbheal_lsp.analysis.placeholders import normalize_placeholders
from dbheal_lsp.analysis.sqllex import Token, tokenize
from dbheal_lsp.analysis.statement import (
    Rendered,
    Statement,
    TextPiece,
    render,
)

if TYPE_CHECKING:
    from dbheal_lsp.analysis.project import Project


@dataclass(frozen=True)
class CursorSite:
    """The SQL under the cursor: its rendered text, the cursor's offset in it, its tokens."""

    rendered: Rendered
    offset: int
    tokens: tuple[Token, ...]  # of the one statement (of a script) at the offset, no comments
    inert: bool  # the offset is inside a SQL string literal or comment


def cursor_site(
    project: Project, path: str, source: str, line: int, column: int
) -> CursorSite | None:
    """Return the statement, SQL offset and tokens under (line, column), or None outside SQL."""
    located = _locate(_statements(project, path, source, line), line, column)
    if located is None:
        return None
    rendered, offset = located
    # %s and %(name)s are read as SQLite's placeholders; lengths are kept, so offsets hold.
    sql = normalize_placeholders(rendered.text)
    tokens = _part([t for t in tokenize(sql) if t.kind != "space"], offset)
    inert = any(
        t.kind in ("string", "comment")
        and (t.start < offset < t.end or (t.end == offset and not t.closed))
        for t in tokens
    )
    return CursorSite(rendered, offset, tuple(t for t in tokens if t.kind != "comment"), inert)


def _statements(project: Project, path: str, source: str, line: int) -> tuple[Statement, ...]:
    """Return the statements of `source`, or of a repaired copy when it cannot be parsed."""
    try:
        # The file as it is goes through the Project, whose results the server caches.
        return project.statements(source, path)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        pass
    # A half-typed file: its language repairs a copy around the cursor.
    return project.repaired_statements(path, source, line)


def _locate(statements: Sequence[Statement], line: int, column: int) -> tuple[Rendered, int] | None:
    """Return the statement whose SQL text holds (line, column), rendered, and the offset."""
    # The argument's span first: only that statement is rendered. A query held in a variable
    # has its text elsewhere than its call's argument, so the text pieces are tried next.
    for statement in statements:
        if statement.span.contains(line, column):
            found = _offset_in(statement, line, column)
            if found is not None:
                return found
    for statement in statements:
        if not statement.span.contains(line, column) and _pieces_cover(statement, line, column):
            found = _offset_in(statement, line, column)
            if found is not None:
                return found
    return None


def _pieces_cover(statement: Statement, line: int, column: int) -> bool:
    cursor = (line, column)
    return any(
        isinstance(p, TextPiece) and p.positions and p.positions[0] <= cursor <= p.positions[-1]
        for p in statement.pieces
    )


def _offset_in(statement: Statement, line: int, column: int) -> tuple[Rendered, int] | None:
    rendered = render(statement)
    cursor = (line, column)
    offset = 0
    slots = iter(rendered.slots)
    fallback: int | None = None
    for piece in statement.pieces:
        if not isinstance(piece, TextPiece):
            slot = next(slots, None)
            if slot is None:
                return None
            offset = slot.end
            continue
        k = _caret_in_piece(piece, cursor)
        if k is not None:
            if k < len(piece.text):
                return rendered, offset + k
            # The end of a piece is also the start of what follows it (a slot, then more
            # text): the next piece's reading is the better one, if it has one.
            fallback = offset + k if fallback is None else fallback
        offset += len(piece.text)
    return None if fallback is None else (rendered, fallback)


def _caret_in_piece(piece: TextPiece, cursor: tuple[int, int]) -> int | None:
    """Return the offset in `piece` of a caret at `cursor`, or None when it is not in it.

    A caret on a character's source is before that character; a caret just past a character
    (on a closing quote, on the "{" of an f-string field) is after it. Anywhere else between
    two characters' sources — inside a field, between implicitly concatenated literals — is
    Python, not SQL.
    """
    positions = piece.positions
    if not positions or not positions[0] <= cursor <= positions[-1]:
        return None
    if piece.text and positions[0] == positions[-1]:
        return None  # the scan was not trusted: every character points at the whole string
    k = bisect.bisect_right(positions, cursor) - 1
    if k < 0:
        return None
    if positions[k] == cursor:
        return k
    line, col = positions[k]
    if k < len(piece.text) and cursor == (line, col + 1):
        return k + 1
    return None


# --- reading SQL ----------------------------------------------------------------------------------


def _part(tokens: list[Token], offset: int) -> list[Token]:
    """Return the tokens of the statement (of a script) that holds `offset`."""
    start = 0
    end = len(tokens)
    for i, tok in enumerate(tokens):
        if tok.kind == "punct" and tok.text == ";":
            if tok.end <= offset:
                start = i + 1
            elif tok.start >= offset:
                end = i
                break
    return tokens[start:end]


def token_index_at(tokens: Sequence[Token], offset: int) -> int | None:
    """Return the index of the token under `offset`, or of the one just before it (a caret
    right after a name hovers that name)."""
    before = None
    for i, tok in enumerate(tokens):
        if tok.start <= offset < tok.end:
            return i
        if tok.end == offset:
            before = i
        if tok.start > offset:
            break
    return before
