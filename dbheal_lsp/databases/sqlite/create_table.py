"""Text surgery on a CREATE TABLE statement: its columns and options read from SQLite's tokens,
and the statement with one column's type replaced, constraints, comments and formatting kept.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from dbheal_lsp.analysis.sqllex import (
    TABLE_CONSTRAINT_WORDS,
    Token,
    is_word_char,
    significant_tokens,
    tokenize,
    unquote,
)

# Words that end a column's type: the first word of a column constraint (CREATE TABLE grammar).
_COLUMN_CONSTRAINT_WORDS = frozenset(
    {
        "CONSTRAINT",
        "PRIMARY",
        "NOT",
        "NULL",
        "UNIQUE",
        "CHECK",
        "DEFAULT",
        "COLLATE",
        "REFERENCES",
        "GENERATED",
        "AS",
    }
)


#: The name of a table's copy while it is rebuilt: new_X.
TEMP_PREFIX = "new_"


def quote_name(name: str) -> str:
    """Return `name` as a double-quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def _quote_like(token: Token, name: str) -> str:
    """Return `name` quoted the way `token` was, so the rewritten statement keeps its style."""
    if token.kind == "word" and all(is_word_char(ch) for ch in name):
        return name  # a bare word with "new_" before it is still a bare word, never a keyword
    first = token.text[0]
    if first == "[" and "]" not in name:
        return f"[{name}]"
    if first in "'`":
        return first + name.replace(first, first * 2) + first
    return quote_name(name)


def sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


# --- CREATE TABLE surgery ---------------------------------------------------------------------


@dataclass(frozen=True)
class _ColumnDef:
    name: str
    name_token: Token
    type_span: tuple[int, int] | None  # offsets of the declared type in the statement


@dataclass(frozen=True)
class _CreateTable:
    name_token: Token
    columns: tuple[_ColumnDef, ...]
    options: frozenset[str]  # upper-case words after the column list: WITHOUT, ROWID, STRICT
    autoincrement: bool


def _matching_paren(tokens: Sequence[Token], open_at: int) -> int:
    """Return the index of the ")" that closes the "(" at `open_at` (len(tokens) if none)."""
    depth = 0
    for index in range(open_at, len(tokens)):
        text = tokens[index].text
        if text == "(":
            depth += 1
        elif text == ")":
            depth -= 1
            if depth == 0:
                return index
    return len(tokens)


def parse_create_table(sql: str) -> _CreateTable:
    tokens = significant_tokens(sql)
    end = Token("punct", "", len(sql), len(sql))

    def at(index: int) -> Token:
        return tokens[index] if index < len(tokens) else end

    pos = 0
    if at(pos).word != "CREATE":
        raise ValueError("not a CREATE TABLE statement")
    pos += 1
    if at(pos).word in ("TEMP", "TEMPORARY"):
        pos += 1
    if at(pos).word != "TABLE":
        raise ValueError("not a CREATE TABLE statement")
    pos += 1
    if at(pos).word == "IF" and at(pos + 1).word == "NOT" and at(pos + 2).word == "EXISTS":
        pos += 3
    name_token = at(pos)
    pos += 1
    if at(pos).text == "." and at(pos + 1).is_name:
        name_token = at(pos + 1)
        pos += 2
    if not name_token.is_name:
        raise ValueError("CREATE TABLE without a table name")
    if at(pos).text != "(":
        raise ValueError("CREATE TABLE ... AS SELECT has no column definitions to change")
    close = _matching_paren(tokens, pos)
    if close >= len(tokens):
        raise ValueError("CREATE TABLE with unbalanced parentheses")

    # Split the column list at its top-level commas.
    parts: list[list[Token]] = [[]]
    depth = 0
    for token in tokens[pos + 1 : close]:
        if token.text == "(":
            depth += 1
        elif token.text == ")":
            depth -= 1
        if token.text == "," and depth == 0:
            parts.append([])
        else:
            parts[-1].append(token)

    columns = []
    for part in parts:
        if not part or part[0].word in TABLE_CONSTRAINT_WORDS:
            continue
        columns.append(_ColumnDef(part[0].name, part[0], _type_span(part)))
    options = frozenset(t.word for t in tokens[close + 1 :] if t.word)
    autoincrement = any(t.word == "AUTOINCREMENT" for t in tokens[pos:close])
    return _CreateTable(name_token, tuple(columns), options, autoincrement)


def _type_span(part: Sequence[Token]) -> tuple[int, int] | None:
    """Return where the declared type of the column definition `part` is, or None."""
    index = 1
    while (
        index < len(part)
        and part[index].is_name
        and part[index].word not in _COLUMN_CONSTRAINT_WORDS
    ):
        index += 1
    if index == 1:
        return None
    last = part[index - 1]
    if index < len(part) and part[index].text == "(":
        close = _matching_paren(part, index)
        last = part[min(close, len(part) - 1)]
    return part[1].start, last.end


def _check_type(new_type: str) -> str:
    """Return `new_type` stripped, or raise ValueError if it is not a plain SQLite type name."""
    text = new_type.strip()
    tokens = [t for t in tokenize(text) if t.kind != "space"]
    names = 0
    while names < len(tokens) and tokens[names].kind == "word":
        if tokens[names].word in _COLUMN_CONSTRAINT_WORDS:
            break
        names += 1
    rest = "".join(t.text for t in tokens[names:])
    if names == 0 or (rest and not re.fullmatch(r"\([+-]?[0-9.]+(,[+-]?[0-9.]+)?\)", rest)):
        raise ValueError(f"not a column type: {new_type!r}")
    return text


def new_create_sql(create_sql: str, column: str, new_type: str, *, rename: bool = True) -> str:
    """Return `create_sql` with only the declared type of `column` replaced by `new_type`.

    Everything else is kept as written: constraints, defaults, COLLATE, CHECK, generated
    columns, table constraints, WITHOUT ROWID, STRICT, comments and formatting. A column
    without a type gets one. With `rename` (the default) the table is also renamed to
    ``new_<table>``, the rebuild's temporary name, quoted as the original name was.
    Raises ValueError if the statement is not a CREATE TABLE with that column.
    """
    new_type = _check_type(new_type)
    parsed = parse_create_table(create_sql)
    wanted = unquote(column.strip()).lower()
    found = [c for c in parsed.columns if c.name.lower() == wanted]
    if not found:
        raise ValueError(f"the table has no column {column!r}")
    target = found[0]
    edits: list[tuple[int, int, str]] = []
    if target.type_span is None:
        edits.append((target.name_token.end, target.name_token.end, " " + new_type))
    else:
        edits.append((*target.type_span, new_type))
    if rename:
        token = parsed.name_token
        edits.append((token.start, token.end, _quote_like(token, TEMP_PREFIX + token.name)))
    result = create_sql
    for start, end, text in sorted(edits, reverse=True):
        result = result[:start] + text + result[end:]
    return result
