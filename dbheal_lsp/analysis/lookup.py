"""Hover and completion inside SQL strings: what is under the cursor, and what may come next.

This is the engine side of two editor features; it never imports pygls or lsprotocol (a
separate module turns these values into LSP types). Positions are the engine's: 1-based lines,
1-based code-point columns.

Every request runs on a keystroke, so the work is kept to the statement under the cursor:
the file's statements are extracted (the server caches that), the one whose span holds the
cursor is found, and only that one is rendered and read. The SQL is read token by token rather
than parsed: the statement being typed is usually incomplete, and one reading serves both hover
and completion, so they never disagree about which table a name belongs to. The file itself is
often not valid Python while the user types (an unclosed string); then cheap repairs of a copy
of the text are tried, each of which keeps every position up to the cursor unchanged.
"""

from __future__ import annotations

import ast
import bisect
import re
import sqlite3
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from dbheal_lsp.analysis.drift import Drift
from dbheal_lsp.analysis.live_db import SchemaError
from dbheal_lsp.analysis.positions import source_lines
from dbheal_lsp.analysis.schema import Column, Index, Schema, Table
from dbheal_lsp.analysis.sqllex import WORD, comment_end, quoted_end, unquote
from dbheal_lsp.analysis.sqlrefs import normalize_placeholders
from dbheal_lsp.analysis.statement import (
    Rendered,
    Statement,
    TextPiece,
    is_stand_in,
    render,
)
from dbheal_lsp.model import Origin, Span

if TYPE_CHECKING:
    from dbheal_lsp.analysis.migrations import MigrationResult
    from dbheal_lsp.analysis.project import Project

__all__ = ["Completion", "SqlToken", "completions", "hover_markdown", "token_at"]


@dataclass(frozen=True)
class SqlToken:
    """A table or column name under the cursor inside a SQL string."""

    kind: Literal["table", "column"]
    name: str  # as the schema spells it when known, else as written (unquoted)
    table: str | None  # the real table a column belongs to (aliases resolved); a table's name
    span: Span  # its span in the Python file


@dataclass(frozen=True)
class Completion:
    """One completion proposal inside a SQL string."""

    label: str
    kind: Literal["table", "column", "keyword"]
    detail: str  # e.g. "INTEGER NOT NULL — users" or "table, 6 columns"
    documentation: str = ""  # Markdown


# --- public API ----------------------------------------------------------------------------------


def token_at(project: Project, path: str, source: str, line: int, column: int) -> SqlToken | None:
    """Return the table or column name at (line, column) of `source`, or None.

    None outside the SQL strings of database calls, and on anything that is not a name of the
    schema's kind: keywords, values, parameters, functions, aliases of result columns.
    """
    site = _site(project, path, source, line, column)
    if site is None or site.inert:
        return None
    index = _token_index_at(site.tokens, site.offset)
    if index is None:
        return None
    return _classify(site, index, _catalog(project))


def hover_markdown(project: Project, token: SqlToken) -> str | None:
    """Return Markdown describing `token` against the project's schemas, or None.

    A table: its columns with their declared types, its indexes, and where it is defined (the
    migration file and line, else the live database's CREATE statement), or that the database
    lacks it. A column: its declared type and affinity, NOT NULL, DEFAULT, PRIMARY KEY, the
    indexes that cover it, the migration line that defined it, and any drift of its type.
    """
    catalog = _catalog(project)
    if token.kind == "table":
        return _table_markdown(catalog, token.name)
    if token.table is None:
        return None
    return _column_markdown(catalog, token.table, token.name)


def completions(
    project: Project, path: str, source: str, line: int, column: int
) -> tuple[Completion, ...]:
    """Return what may be typed at (line, column) inside a SQL string of a database call.

    After FROM, JOIN, INTO, UPDATE or TABLE: the tables (the live schema's, then those only the
    migrations define, marked "not applied"). After `alias.`: that table's columns. Right after
    a table name: keywords. Elsewhere in the statement: the columns of the tables in scope,
    then the tables, then keywords. Outside SQL, in a SQL string literal or comment: ().
    """
    site = _site(project, path, source, line, column)
    if site is None or site.inert:
        return ()  # outside SQL, or typing a value or a comment: nothing to propose
    return _complete(site, _catalog(project))


# --- the schemas as one catalog -----------------------------------------------------------------


@dataclass(frozen=True)
class _Catalog:
    """The live schema, the migrations' schema and their drift, with paths shown for the user."""

    schema: Schema
    expected: Schema | None
    drift: Drift
    migrations: MigrationResult | None
    root: Path

    def live(self, name: str) -> Table | None:
        return self.schema.table(name)

    def defined(self, name: str) -> Table | None:
        """Return the migrations' table `name` (None when there are no migrations)."""
        return self.expected.table(name) if self.expected is not None else None

    def table(self, name: str) -> Table | None:
        """Return the live table `name`, else the one only the migrations define."""
        return self.live(name) or self.defined(name)

    @cached_property
    def live_indexes(self) -> dict[str, list[Index]]:
        """The live indexes by lower-case table name: one pass, not one per table shown."""
        return _by_table(self.schema)

    @cached_property
    def defined_indexes(self) -> dict[str, list[Index]]:
        """The migrations' indexes by lower-case table name."""
        return _by_table(self.expected) if self.expected is not None else {}

    def shown(self, origin: Origin | None) -> str | None:
        """Return `origin` as "path:line" with the path relative to the root."""
        if origin is None:
            return None
        return f"{_relative(str(self.root), origin.path)}:{origin.line}"


@lru_cache(maxsize=256)
def _relative(root: str, path: str) -> str:
    # Cached: a few migration files are shown again and again, for every column listed.
    try:
        return Path(path).relative_to(root).as_posix() if Path(path).is_absolute() else path
    except ValueError:
        return path


def _pending_columns(live: Table | None, defined: Table | None) -> list[Column]:
    """Return the columns the migrations give a live table and the database lacks."""
    if live is None or defined is None:
        return []
    names = {c.name.lower() for c in live.columns}
    return [c for c in defined.columns if c.name.lower() not in names]


def _by_table(schema: Schema) -> dict[str, list[Index]]:
    found: dict[str, list[Index]] = {}
    for index in schema.indexes.values():
        found.setdefault(index.table.lower(), []).append(index)
    return found


def _catalog(project: Project) -> _Catalog:
    root = project.config.root
    try:
        state = project.schema_state()
    except (SchemaError, OSError, sqlite3.Error):
        # An unreadable database (locked, replaced, missing) must not cost the hover: the
        # migrations alone still describe the schema.
        migrations = None
        if project.config.migrations is not None:
            try:
                migrations = project.migration_cache.get(project.config.migrations)
            except (OSError, sqlite3.Error):
                migrations = None
        expected = migrations.schema if migrations is not None else None
        return _Catalog(expected or Schema.empty(), expected, Drift(), migrations, root)
    return _Catalog(state.schema, state.expected, state.drift, state.migrations, root)


# --- finding the statement and the offset under the cursor ---------------------------------------


@dataclass(frozen=True)
class _Tok:
    """One SQL token: a word, a quoted name, a string, a comment, a parameter or a character."""

    kind: Literal["word", "number", "name", "string", "comment", "param", "punct"]
    text: str  # the word, the unquoted name, or the punctuation character
    start: int
    end: int
    closed: bool = True  # False for a quote or comment the text ends inside


@dataclass(frozen=True)
class _Site:
    """The SQL under the cursor: its rendered text, the cursor's offset in it, its tokens."""

    rendered: Rendered
    offset: int
    tokens: tuple[_Tok, ...]  # of the one statement (of a script) at the offset, no comments
    inert: bool  # the offset is inside a SQL string literal or comment


def _site(project: Project, path: str, source: str, line: int, column: int) -> _Site | None:
    located = _locate(_statements(project, path, source, line), line, column)
    if located is None:
        return None
    rendered, offset = located
    # %s and %(name)s are read as SQLite's placeholders; lengths are kept, so offsets hold.
    tokens = _part(_tokenize(normalize_placeholders(rendered.text)), offset)
    inert = any(
        t.kind in ("string", "comment")
        and (t.start < offset < t.end or (t.end == offset and not t.closed))
        for t in tokens
    )
    return _Site(rendered, offset, tuple(t for t in tokens if t.kind != "comment"), inert)


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
_BRACKETS = {"(": ")", "[": "]", "{": "}"}
# Where the scanner must look next: in code, and in each kind of string.
_CODE_STOP = re.compile(r"[#'\"()\[\]{}]")
_STRING_STOP = {
    (quote, fmt): re.compile("[\\\\\r\n" + quote + ("{}" if fmt else "") + "]")
    for quote in "'\""
    for fmt in (False, True)
}


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


def _tokenize(sql: str) -> list[_Tok]:
    """Return the tokens of `sql` by SQLite's lexing rules; quotes and comments may be open."""
    tokens: list[_Tok] = []
    size = len(sql)
    i = 0
    while i < size:
        char = sql[i]
        if char.isspace():
            i += 1
        elif char in "'\"`[":
            end = quoted_end(sql, i)
            # Only a token that reaches the end may be open; one more character tells.
            closed = end < size or quoted_end(sql + " ", i) <= size
            kind: Literal["string", "name"] = "string" if char == "'" else "name"
            body = unquote(sql[i:end]) if closed else sql[i + 1 : end]
            tokens.append(_Tok(kind, body, i, end, closed))
            i = end
        elif sql.startswith("--", i) or sql.startswith("/*", i):
            end = comment_end(sql, i)
            closed = end < size if sql[i] == "-" else sql.find("*/", i + 2) >= 0
            tokens.append(_Tok("comment", "", i, end, closed))
            i = end
        elif char in ":@?":
            word = WORD.match(sql, i + 1)
            end = word.end() if word else i + 1
            tokens.append(_Tok("param", sql[i:end], i, end))
            i = end
        else:
            word = WORD.match(sql, i)
            if word is None:
                tokens.append(_Tok("punct", char, i, i + 1))
                i += 1
                continue
            text = word.group()
            if text.startswith("$"):
                tokens.append(_Tok("param", text, i, word.end()))
            elif text[0].isdigit():
                tokens.append(_Tok("number", text, i, word.end()))
            else:
                tokens.append(_Tok("word", text, i, word.end()))
            i = word.end()
    return tokens


def _part(tokens: list[_Tok], offset: int) -> list[_Tok]:
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


def _token_index_at(tokens: Sequence[_Tok], offset: int) -> int | None:
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


# SQLite's keywords (lang_keywords.html): never an alias, a table only if the schema has one.
_KEYWORD_LIST = """
    ABORT ACTION ADD AFTER ALL ALTER ALWAYS ANALYZE AND AS ASC ATTACH AUTOINCREMENT BEFORE BEGIN
    BETWEEN BY CASCADE CASE CAST CHECK COLLATE COLUMN COMMIT CONFLICT CONSTRAINT CREATE
    CROSS CURRENT CURRENT_DATE CURRENT_TIME CURRENT_TIMESTAMP DATABASE DEFAULT DEFERRABLE
    DEFERRED DELETE DESC DETACH DISTINCT DO DROP EACH ELSE END ESCAPE EXCEPT EXCLUDE EXCLUSIVE
    EXISTS EXPLAIN FAIL FILTER FIRST FOLLOWING FOR FOREIGN FROM FULL GENERATED GLOB GROUP GROUPS
    HAVING IF IGNORE IMMEDIATE IN INDEX INDEXED INITIALLY INNER INSERT INSTEAD INTERSECT INTO IS
    ISNULL JOIN KEY LAST LEFT LIKE LIMIT MATCH MATERIALIZED NATURAL NO NOT NOTHING NOTNULL NULL
    NULLS OF OFFSET ON OR ORDER OTHERS OUTER OVER PARTITION PLAN PRAGMA PRECEDING PRIMARY QUERY
    RAISE RANGE RECURSIVE REFERENCES REGEXP REINDEX RELEASE RENAME REPLACE RESTRICT RETURNING
    RIGHT ROLLBACK ROW ROWS SAVEPOINT SELECT SET TABLE TEMP TEMPORARY THEN TIES TO TRANSACTION
    TRIGGER UNBOUNDED UNION UNIQUE UPDATE USING VACUUM VALUES VIEW VIRTUAL WHEN WHERE WINDOW
    WITH WITHOUT"""
_KEYWORDS = frozenset(_KEYWORD_LIST.split())
# Keywords after which a table name comes.
_TABLE_KEYWORDS = frozenset({"FROM", "JOIN", "INTO", "UPDATE", "TABLE", "REFERENCES"})
_CONFLICT_WORDS = frozenset({"ROLLBACK", "ABORT", "REPLACE", "FAIL", "IGNORE"})
# Qualifiers that name the target row of an upsert or a trigger, not a table of the query.
_ROW_QUALIFIERS = frozenset({"excluded", "new", "old"})
# What may be typed after a table name, and elsewhere after the names (in this order).
_COMPLETION_KEYWORDS = (
    "WHERE",
    "JOIN",
    "LEFT JOIN",
    "INNER JOIN",
    "CROSS JOIN",
    "ON",
    "USING",
    "AS",
    "AND",
    "OR",
    "NOT",
    "IN",
    "IS NULL",
    "IS NOT NULL",
    "LIKE",
    "BETWEEN",
    "EXISTS",
    "GROUP BY",
    "HAVING",
    "ORDER BY",
    "ASC",
    "DESC",
    "LIMIT",
    "OFFSET",
    "UNION",
    "UNION ALL",
    "SELECT",
    "DISTINCT",
    "FROM",
    "INSERT INTO",
    "VALUES",
    "DEFAULT VALUES",
    "UPDATE",
    "SET",
    "DELETE FROM",
    "RETURNING",
    "ON CONFLICT",
    "DO NOTHING",
    "DO UPDATE SET",
    "CASE",
    "WHEN",
    "THEN",
    "ELSE",
    "END",
    "WITH",
)


def _is_name(tok: _Tok) -> bool:
    return tok.kind == "name" or (tok.kind == "word" and not is_stand_in(tok.text))


def _upper(tok: _Tok | None) -> str:
    return tok.text.upper() if tok is not None and tok.kind == "word" else ""


@dataclass(frozen=True)
class _Source:
    """A table the statement names after FROM, JOIN, INTO, UPDATE, TABLE, REFERENCES or ON."""

    name: str  # as written, unquoted
    keyword: str
    name_index: int  # indexes in the statement's tokens
    alias: str | None = None
    alias_index: int | None = None


def _sources(tokens: Sequence[_Tok], catalog: _Catalog) -> list[_Source]:
    """Return the tables the statement names, with their aliases, in order of appearance.

    Token-level on purpose: it must work on statements that are half typed. Subqueries and
    CTEs are not scopes here: every table of the statement is in scope everywhere in it.
    """
    found: list[_Source] = []
    creates = _upper(tokens[0] if tokens else None) == "CREATE"
    size = len(tokens)
    for i, tok in enumerate(tokens):
        keyword = _upper(tok)
        if keyword not in _TABLE_KEYWORDS and not (keyword == "ON" and creates):
            continue
        j = i + 1
        if keyword == "UPDATE" and _upper(_at(tokens, j)) == "OR":
            j += 2  # UPDATE OR REPLACE t
        while _upper(_at(tokens, j)) in ("IF", "NOT", "EXISTS"):
            j += 1  # CREATE TABLE IF NOT EXISTS t, DROP TABLE IF EXISTS t
        while True:
            named = _table_name(tokens, j, catalog)
            if named is None:
                break
            name, name_index, j = named
            alias = alias_index = None
            if _upper(_at(tokens, j)) == "AS" and j + 1 < size and _is_alias(tokens[j + 1]):
                alias, alias_index, j = tokens[j + 1].text, j + 1, j + 2
            elif j < size and _is_alias(tokens[j]):
                alias, alias_index, j = tokens[j].text, j, j + 1
            found.append(_Source(name, keyword, name_index, alias, alias_index))
            nxt = _at(tokens, j)
            if keyword != "FROM" or nxt is None or nxt.kind != "punct" or nxt.text != ",":
                break
            j += 1  # FROM a, b
    return found


def _at(tokens: Sequence[_Tok], i: int) -> _Tok | None:
    return tokens[i] if 0 <= i < len(tokens) else None


def _table_name(tokens: Sequence[_Tok], j: int, catalog: _Catalog) -> tuple[str, int, int] | None:
    """Return (name, its token index, the index after it) for a table name at tokens[j]."""
    tok = _at(tokens, j)
    if tok is None or tok.kind not in ("word", "name"):
        return None
    dot = _at(tokens, j + 1)
    if dot is not None and dot.kind == "punct" and dot.text == "." and dot.start == tok.end:
        nxt = _at(tokens, j + 2)
        if nxt is not None and nxt.kind in ("word", "name"):
            tok, j = nxt, j + 2  # main.users: the schema name is not the table
    if tok.kind == "word" and tok.text.upper() in _KEYWORDS and catalog.table(tok.text) is None:
        return None
    return tok.text, j, j + 1


def _is_alias(tok: _Tok) -> bool:
    return tok.kind == "name" or (tok.kind == "word" and tok.text.upper() not in _KEYWORDS)


def _qualifier_table(name: str, sources: Sequence[_Source], catalog: _Catalog) -> Table | None:
    """Return the table that `name` stands for before a dot: an alias, a table, or a target."""
    key = name.lower()
    for source in sources:
        if source.alias is not None and source.alias.lower() == key:
            return catalog.table(source.name)
    for source in sources:
        if source.name.lower() == key:
            return catalog.table(source.name)
    if key in _ROW_QUALIFIERS:
        target = next((s for s in sources if s.keyword in ("INTO", "UPDATE", "ON")), None)
        if target is not None:
            return catalog.table(target.name)
    return catalog.table(name)


def _scope_tables(sources: Sequence[_Source], catalog: _Catalog) -> list[Table]:
    """Return the distinct tables of the schemas that `sources` name, in order."""
    seen: set[str] = set()
    tables: list[Table] = []
    for source in sources:
        if source.keyword == "REFERENCES" or is_stand_in(source.name):
            continue
        table = catalog.table(source.name)
        if table is not None and table.name.lower() not in seen:
            seen.add(table.name.lower())
            tables.append(table)
    return tables


def _column_table(name: str, sources: Sequence[_Source], catalog: _Catalog) -> Table | None:
    """Return the table in scope that has column `name`: live tables first, as SQLite would."""
    tables = _scope_tables(sources, catalog)
    for table in tables:
        live = catalog.live(table.name)
        if live is not None and live.column(name) is not None:
            return live
    for table in tables:
        defined = catalog.defined(table.name)
        if defined is not None and defined.column(name) is not None:
            return defined
    return None


def _classify(site: _Site, index: int, catalog: _Catalog) -> SqlToken | None:
    """Return what the token at `index` names: a table, a column of a table, or nothing."""
    tokens = site.tokens
    tok = tokens[index]
    if not _is_name(tok) or not tok.closed:
        return None
    span = site.rendered.span(tok.start, tok.end)
    sources = _sources(tokens, catalog)
    for source in sources:
        if index in (source.name_index, source.alias_index):
            table = catalog.table(source.name)
            name = table.name if table is not None else source.name
            return SqlToken("table", name, name, span)
    prev, nxt = _at(tokens, index - 1), _at(tokens, index + 1)
    if _is_dot(nxt):
        table = _qualifier_table(tok.text, sources, catalog)
        return SqlToken("table", table.name, table.name, span) if table is not None else None
    if _is_dot(prev):
        qualifier = _at(tokens, index - 2)
        if qualifier is None or not _is_name(qualifier):
            return None
        table = _qualifier_table(qualifier.text, sources, catalog)
        if table is None:
            return None
        return SqlToken("column", _column_name(catalog, table.name, tok.text), table.name, span)
    if _upper(prev) == "AS" or (nxt is not None and nxt.kind == "punct" and nxt.text == "("):
        return None  # an alias being defined, a type in CAST(x AS t), a function's name
    table = _column_table(tok.text, sources, catalog)
    if table is None:
        return None
    return SqlToken("column", _column_name(catalog, table.name, tok.text), table.name, span)


def _is_dot(tok: _Tok | None) -> bool:
    return tok is not None and tok.kind == "punct" and tok.text == "."


def _column_name(catalog: _Catalog, table: str, name: str) -> str:
    for candidate in (catalog.live(table), catalog.defined(table)):
        column = candidate.column(name) if candidate is not None else None
        if column is not None:
            return column.name
    return name


# --- completion -----------------------------------------------------------------------------------


def _complete(site: _Site, catalog: _Catalog) -> tuple[Completion, ...]:
    tokens = site.tokens
    offset = site.offset
    partial_start = offset  # where the name being typed starts, if one is
    for tok in tokens:
        if tok.start >= offset:
            break
        if tok.kind in ("word", "name") and tok.end >= offset:
            partial_start = tok.start
    before = [t for t in tokens if t.end <= partial_start]
    sources = _sources(tokens, catalog)

    last = before[-1] if before else None
    if last is not None and _is_dot(last):
        qualifier = before[-2] if len(before) >= 2 else None
        if qualifier is None or not _is_name(qualifier) or qualifier.end != last.start:
            return ()
        table = _qualifier_table(qualifier.text, sources, catalog)
        return tuple(_column_items(catalog, [table])) if table is not None else ()

    context = _context(before)
    if context == "table":
        return tuple(_table_items(catalog))
    if context == "after_table":
        return tuple(_keyword_items())
    tables = _scope_tables(sources, catalog)
    return (*_column_items(catalog, tables), *_table_items(catalog), *_keyword_items())


def _context(before: Sequence[_Tok]) -> Literal["table", "after_table", "other"]:
    """Return what the tokens before the cursor call for: a table, a keyword, or anything."""
    k = len(before) - 1
    while k >= 0 and _upper(before[k]) in ("IF", "NOT", "EXISTS"):
        k -= 1
    word = _upper(_at(before, k))
    if word in _TABLE_KEYWORDS:
        return "table"
    if (
        word in _CONFLICT_WORDS
        and _upper(_at(before, k - 1)) == "OR"
        and _upper(_at(before, k - 2)) == "UPDATE"
    ):
        return "table"  # UPDATE OR REPLACE t
    if word == "ON" and _upper(_at(before, 0)) == "CREATE":
        return "table"  # CREATE INDEX i ON t, CREATE TRIGGER ... ON t
    clause, at = _clause(before)
    last = _at(before, len(before) - 1)
    if clause == "FROM" and last is not None and last.kind == "punct" and last.text == ",":
        return "table"
    if clause in _TABLE_KEYWORDS and last is not None and _is_name(last):
        # FROM users |, FROM users u |, INTO users |: a name (and alias) were typed.
        names = [t for t in before[at + 1 :] if not (t.kind == "word" and t.text.upper() == "AS")]
        if 1 <= len(names) <= 2 and all(_is_name(t) or _is_dot(t) for t in names):
            return "after_table"
        if 3 <= len(names) <= 4 and _is_dot(names[1]):  # main.users u
            return "after_table"
    return "other"


def _clause(before: Sequence[_Tok]) -> tuple[str, int]:
    """Return the last clause keyword at the cursor's bracket depth, and its token index."""
    depth = 0
    for k in range(len(before) - 1, -1, -1):
        tok = before[k]
        if tok.kind == "punct" and tok.text == ")":
            depth += 1
        elif tok.kind == "punct" and tok.text == "(":
            if depth == 0:
                return "(", k
            depth -= 1
        elif depth == 0 and tok.kind == "word":
            word = tok.text.upper()
            if word in _TABLE_KEYWORDS or word in _CLAUSES:
                return word, k
    return "", -1


_CLAUSES = frozenset(
    {"SELECT", "WHERE", "ON", "USING", "SET", "VALUES", "GROUP", "ORDER", "HAVING", "LIMIT"}
    | {"RETURNING", "WITH", "DELETE", "INSERT", "CREATE", "ALTER", "DROP", "WINDOW"}
)


def _table_items(catalog: _Catalog) -> Iterator[Completion]:
    live = sorted(catalog.schema.tables.values(), key=lambda t: t.name.lower())
    for table in live:
        yield Completion(
            table.name, "table", _table_detail(table), _table_markdown(catalog, table.name) or ""
        )
    if catalog.expected is None:
        return
    pending = [t for t in catalog.expected.tables.values() if catalog.live(t.name) is None]
    for table in sorted(pending, key=lambda t: t.name.lower()):
        yield Completion(
            table.name,
            "table",
            _table_detail(table) + " — not applied",
            _table_markdown(catalog, table.name) or "",
        )


def _table_detail(table: Table) -> str:
    return f"{'view' if table.is_view else 'table'}, {_count(len(table.columns), 'column')}"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _column_items(catalog: _Catalog, tables: Sequence[Table]) -> Iterator[Completion]:
    for table in tables:
        live = catalog.live(table.name)
        defined = catalog.defined(table.name)
        columns = [(c, live is None) for c in (live or table).columns]
        columns.extend((c, True) for c in _pending_columns(live, defined))
        for column, pending in columns:
            detail = f"{_column_summary(column)} — {table.name}"
            yield Completion(
                column.name,
                "column",
                detail + (" (not applied)" if pending else ""),
                _column_markdown(catalog, table.name, column.name) or "",
            )


def _column_summary(column: Column) -> str:
    parts = [column.declared_type or "untyped"]
    if column.primary_key:
        parts.append("PRIMARY KEY")
    if column.not_null:
        parts.append("NOT NULL")
    return " ".join(parts)


def _keyword_items() -> Iterator[Completion]:
    for keyword in _COMPLETION_KEYWORDS:
        yield Completion(keyword, "keyword", "keyword")


# --- hover text -----------------------------------------------------------------------------------


def _code(name: str) -> str:
    return f"`{name.replace('`', '')}`"


def _table_markdown(catalog: _Catalog, name: str) -> str | None:
    live = catalog.live(name)
    defined = catalog.defined(name)
    table = live or defined
    if table is None:
        return None
    kind = "view" if table.is_view else "table"
    out = [f"**{kind}** {_code(table.name)} — {_count(len(table.columns), 'column')}", ""]
    origin = catalog.shown(defined.origin if defined is not None else None)
    if live is None:
        out += [f"**Not in the database**: defined in {origin or 'the migrations'}", ""]
    for column in table.columns:
        out.append(
            f"- {_code(column.name)} {_column_text(column)}{_drift_text(catalog, table, column)}"
        )
    for column in _pending_columns(live, defined):
        where = catalog.shown(column.origin)
        note = f" — not applied ({where})" if where else " — not applied"
        out.append(f"- {_code(column.name)} {_column_text(column)}{note}")
    indexes = _index_texts(catalog, table.name)
    if indexes:
        out += ["", "Indexes: " + " · ".join(indexes)]
    if live is not None:
        out += ["", *_definition(catalog, live, origin)]
    return "\n".join(out).rstrip() + "\n"


def _definition(catalog: _Catalog, live: Table, origin: str | None) -> list[str]:
    """Return where a live table is defined: its migration, else its own CREATE statement."""
    if origin is not None:
        return [f"Defined in {origin}"]
    if live.origin is not None:
        return [f"Defined in {catalog.shown(live.origin)}"]  # DDL found in the code
    if live.sql:
        return ["Defined in the database:", "```sql", live.sql.strip(), "```"]
    return []


def _column_text(column: Column) -> str:
    parts = [column.declared_type or "(untyped)"]
    if column.primary_key:
        parts.append("PRIMARY KEY")
    if column.not_null:
        parts.append("NOT NULL")
    if column.default is not None:
        parts.append(f"DEFAULT {column.default}")
    if column.is_generated:
        parts.append("GENERATED")
    return " ".join(parts)


def _drift_text(catalog: _Catalog, table: Table, column: Column) -> str:
    drift = catalog.drift.types.get((table.name.lower(), column.name.lower()))
    if drift is None:
        return ""
    return f" — drift: the migrations declare {drift.expected_type or '(untyped)'}"


def _indexes_of(catalog: _Catalog, table: str) -> list[tuple[Index, bool]]:
    """Return the table's indexes with whether each is only in the migrations (not applied)."""
    key = table.lower()
    found = [(index, False) for index in catalog.live_indexes.get(key, ())]
    if catalog.expected is not None and catalog.expected is not catalog.schema:
        names = {index.name.lower() for index, _ in found}
        found.extend(
            (index, True)
            for index in catalog.defined_indexes.get(key, ())
            if index.name.lower() not in names and index.sql is not None
        )
    return found


def _index_texts(catalog: _Catalog, table: str) -> list[str]:
    texts = []
    for index, pending in _indexes_of(catalog, table):
        label = "automatic" if index.is_automatic else _code(index.name)
        unique = " UNIQUE" if index.unique else ""
        partial = " partial" if index.partial else ""
        note = " — not applied" if pending else ""
        texts.append(f"{label}{unique}{partial} ({', '.join(index.columns)}){note}")
    return texts


def _column_markdown(catalog: _Catalog, table_name: str, name: str) -> str | None:
    live_table = catalog.live(table_name)
    defined_table = catalog.defined(table_name)
    live = live_table.column(name) if live_table is not None else None
    defined = defined_table.column(name) if defined_table is not None else None
    column = live or defined
    table = live_table if live is not None else defined_table
    if column is None or table is None:
        return None
    declared = column.declared_type or "(untyped)"
    out = [
        f"**column** {_code(f'{table.name}.{column.name}')} — {declared}, affinity {column.affinity}",
        "",
    ]
    facts = []
    if table.rowid_alias == column.name:
        facts.append("PRIMARY KEY (the rowid: never NULL)")
    else:
        if column.primary_key:
            facts.append("PRIMARY KEY")
        facts.append("NOT NULL" if column.not_null else "nullable")
    if column.default is not None:
        facts.append(f"DEFAULT {column.default}")
    if column.is_generated:
        facts.append("GENERATED")
    out += [" · ".join(facts), ""]
    where = _column_origin(catalog, table.name, column)
    if live is None:
        out += [f"**Not in the database**: defined in {where or 'the migrations'}", ""]
    covering = _covering(catalog, table.name, column.name)
    out.append("Indexes: " + ("; ".join(covering) if covering else "none"))
    drift = catalog.drift.types.get((table.name.lower(), column.name.lower()))
    if drift is not None:
        out += [
            "",
            f"**Drift**: the database declares {drift.db_type or '(untyped)'}, the migrations "
            f"{drift.expected_type or '(untyped)'}"
            + (f" ({catalog.shown(drift.origin)})" if drift.origin is not None else ""),
        ]
    if where is not None and live is not None:
        out += ["", f"Defined in {where}"]
    return "\n".join(out).rstrip() + "\n"


def _column_origin(catalog: _Catalog, table: str, column: Column) -> str | None:
    """Return where the migrations define the column ("path:line"), else its own origin."""
    defined_table = catalog.defined(table)
    defined = defined_table.column(column.name) if defined_table is not None else None
    if defined is not None and defined.origin is not None:
        return catalog.shown(defined.origin)
    if catalog.migrations is not None:
        statement = catalog.migrations.column_statement(table, column.name)
        if statement is not None:
            return catalog.shown(statement.origin)
    return catalog.shown(column.origin)


def _covering(catalog: _Catalog, table: str, column: str) -> list[str]:
    key = column.lower()
    texts = []
    found = catalog.table(table)
    if found is not None and found.rowid_alias is not None and found.rowid_alias.lower() == key:
        texts.append("the table's own b-tree (rowid)")
    for index, pending in _indexes_of(catalog, table):
        parts = [c.lower() for c in index.columns]
        if key not in parts:
            continue
        position = parts.index(key)
        label = "automatic" if index.is_automatic else _code(index.name)
        where = "leading" if position == 0 else f"not leading: position {position + 1}"
        extra = (" UNIQUE" if index.unique else "") + (" partial" if index.partial else "")
        note = ", not applied" if pending else ""
        texts.append(f"{label}{extra} ({', '.join(index.columns)}; {where}{note})")
    return texts
