"""The statement and the SQL offset under the cursor, in a file that may be half typed.

The file is often not valid Python while the user types (an unclosed string); then cheap
repairs of a copy of the text are tried, each of which keeps every position up to the cursor
unchanged.
"""

from __future__ import annotations

import ast
import bisect
import re
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Literal

from dbheal_lsp.analysis.placeholders import normalize_placeholders
from dbheal_lsp.analysis.positions import source_lines
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
    """Return the statements of `source`, or of a repaired copy when it is not valid Python."""
    try:
        # The file as it is goes through the Project, whose results the server caches.
        return project.statements(source, path)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        pass
    for text in _candidates(source, line):
        try:
            return _statements_near(project, path, text, line)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
    return ()


def _statements_near(project: Project, path: str, text: str, line: int) -> tuple[Statement, ...]:
    """Return the statements of the top-level statement holding `line` in the Python `text`.

    A repaired copy changes on every keystroke, so nothing caches it: only the part of the
    module around the cursor is walked. Module-level assignments stay, for the names a query
    may be built from.
    """
    if not project.extractor.might_contain_sql(text):
        return ()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # invalid escape sequences are not ours to report
        tree = ast.parse(text, filename=path)
    tree.body = [
        node
        for node in tree.body
        if node.lineno <= line <= (node.end_lineno or node.lineno)
        or isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign))
    ]
    return project.extractor.extract(text, tree)


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


# --- repairing a half-typed file ------------------------------------------------------------------


@dataclass(frozen=True)
class _Frame:
    """Something open at the end of the scanned text: a bracket, a string or an f-string field."""

    kind: Literal["bracket", "string", "field"]
    close: str
    fmt: bool = False  # an f-string: its braces open fields
    start: int = 0  # where a field's expression starts: "{}" would not parse


_STRING_PREFIXES = frozenset({"r", "u", "f", "b", "rf", "fr", "rb", "br"})
_BRACKETS = MappingProxyType({"(": ")", "[": "]", "{": "}"})
# Where the scanner must look next: in code, and in each kind of string.
_CODE_STOP = re.compile(r"[#'\"()\[\]{}]")
_STRING_STOP = MappingProxyType(
    {
        (quote, fmt): re.compile("[\\\\\r\n" + quote + ("{}" if fmt else "") + "]")
        for quote in "'\""
        for fmt in (False, True)
    }
)


def _candidates(source: str, line: int) -> Iterator[str]:
    """Yield repaired copies of `source`, each keeping the text before the cursor as it is.

    The repairs close what is open at the end of the cursor's line: first only the strings
    (the call's brackets may close on a later line), then the brackets too, then the same with
    the rest of the file cut off (an error below the cursor does not matter to it).
    """
    lines = source_lines(source)
    if not 1 <= line <= len(lines) + 1:
        return
    start = sum(len(text) for text in lines[: line - 1])
    current = lines[line - 1] if line <= len(lines) else ""
    content = current.rstrip("\r\n")
    head = source[: start + len(content)]
    rest = source[start + len(content) :]
    frames, insert_at = _open_frames(head)
    strings = next((i for i, f in enumerate(frames) if f.kind == "string"), None)
    before, after = head[:insert_at], head[insert_at:]
    seen = {source}
    tries: list[str] = []
    if strings is not None:
        tries.append(before + _closers(frames[strings:], before) + after + rest)
    closers = _closers(frames, before)
    tries.append(before + closers + after + rest)
    tries.append(before + closers + after + "\n")
    for text in tries:
        if text not in seen:
            seen.add(text)
            yield text


def _closers(frames: Sequence[_Frame], before: str) -> str:
    out: list[str] = []
    for n, frame in enumerate(reversed(frames)):
        if frame.kind == "string" and n == 0 and _ends_in_escape(before):
            out.append(" ")  # a backslash at the end would escape the closing quote
        if frame.kind == "field" and not before[frame.start :].strip():
            out.append("_")
        out.append(frame.close)
    return "".join(out)


def _ends_in_escape(text: str) -> bool:
    return (len(text) - len(text.rstrip("\\"))) % 2 == 1


def _open_frames(text: str) -> tuple[list[_Frame], int]:
    """Return what is open at the end of the Python text `text`, and where closers may go.

    A light scanner, not a tokenizer: strings (prefixes, triple quotes, escapes, f-string
    fields), brackets and comments, jumping from one character that matters to the next.
    Closers go before a comment or a line continuation that ends the text, so that they are
    not commented out.
    """
    stack: list[_Frame] = []
    size = len(text)
    insert_at = size
    i = 0
    while i < size:
        top = stack[-1] if stack else None
        if top is not None and top.kind == "string":
            found = _STRING_STOP[top.close[0], top.fmt].search(text, i)
            if found is None:
                break
            j = found.start()
            char = text[j]
            if char == "\\":
                i = j + (3 if text.startswith("\r\n", j + 1) else 2)
            elif char in "\r\n":
                if len(top.close) == 1:
                    stack.pop()  # an unterminated one-line string: Python gives up here too
                i = j + 1
            elif text.startswith(top.close, j):
                stack.pop()
                i = j + len(top.close)
            elif char in "{}" and not text.startswith(char * 2, j):
                if char == "{":
                    stack.append(_Frame("field", "}", start=j + 1))
                i = j + 1
            else:
                i = j + (2 if char in "{}" else 1)  # "{{", "}}", a lone quote in a triple
            continue
        found = _CODE_STOP.search(text, i)
        if found is None:
            break
        j = found.start()
        char = text[j]
        if char == "#":
            end = text.find("\n", j)
            if end < 0:
                insert_at = j
                break
            i = end
        elif char in "'\"":
            quote = text[j] * 3 if text.startswith(text[j] * 3, j) else text[j]
            prefix = _prefix_before(text, j)
            stack.append(_Frame("string", quote, fmt="f" in prefix))
            i = j + len(quote)
        elif char in _BRACKETS:
            stack.append(_Frame("bracket", _BRACKETS[char]))
            i = j + 1
        else:
            if top is not None:
                stack.pop()
            i = j + 1
    if not stack or stack[-1].kind != "string":
        stripped = text[:insert_at].rstrip()
        if stripped.endswith("\\"):
            insert_at = len(stripped) - 1  # closers after a line continuation would not parse
    return stack, insert_at


def _prefix_before(text: str, quote_at: int) -> str:
    """Return the string prefix ("f", "rb", ...) written just before the quote at `quote_at`."""
    start = quote_at
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] == "_"):
        start -= 1
    word = text[start:quote_at].lower()
    return word if word in _STRING_PREFIXES else ""


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
