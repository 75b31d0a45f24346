"""Reading the head of a DDL statement: what a CREATE makes, what an ALTER TABLE does, and where
each column of a CREATE TABLE is defined.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from dbheal_lsp.analysis.sqllex import (
    TABLE_CONSTRAINT_WORDS,
    Token,
    significant_tokens,
    tokenize,
)


def statement_head(sql: str) -> list[Token]:
    """Return the first tokens of `sql`, enough to tell what kind of statement it is."""
    return list(itertools.islice((t for t in tokenize(sql) if t.significant), 16))


def _words(tokens: list[Token], at: int, *wanted: str) -> bool:
    """Return whether the tokens from `at` are the keywords `wanted` (case-insensitive)."""
    for offset, word in enumerate(wanted):
        n = at + offset
        if n >= len(tokens) or tokens[n].word != word:
            return False
    return True


def _name_at(tokens: list[Token], at: int) -> tuple[str | None, int]:
    """Return the possibly schema-qualified name at `at` (schema dropped) and the next index."""
    if at >= len(tokens) or tokens[at].kind in ("punct", "param"):
        return None, at
    name = tokens[at].name
    at += 1
    if at + 1 < len(tokens) and tokens[at].text == "." and tokens[at].kind == "punct":
        name = tokens[at + 1].name
        at += 2
    return name, at


def created_name(tokens: list[Token]) -> tuple[str | None, int]:
    """Return the name a CREATE TABLE/VIEW statement creates and the index after it."""
    at = 0
    if not _words(tokens, at, "CREATE"):
        return None, 0
    at += 1
    if (
        _words(tokens, at, "TEMP")
        or _words(tokens, at, "TEMPORARY")
        or _words(tokens, at, "VIRTUAL")
    ):
        at += 1
    if not (_words(tokens, at, "TABLE") or _words(tokens, at, "VIEW")):
        return None, 0
    at += 1
    if _words(tokens, at, "IF", "NOT", "EXISTS"):
        at += 3
    return _name_at(tokens, at)


def column_offsets(sql: str) -> dict[str, int]:
    """Return the character offset of each column definition of a CREATE TABLE statement."""
    tokens = significant_tokens(sql)
    name, at = created_name(tokens)
    if name is None or at >= len(tokens) or tokens[at].text != "(":
        return {}
    offsets: dict[str, int] = {}
    depth = 0
    expecting = False
    for token in tokens[at:]:
        value = token.name
        if token.kind == "punct" and value in "(),":
            if value == "(":
                depth += 1
                expecting = depth == 1
            elif value == ")":
                depth -= 1
                if depth == 0:
                    break
            elif depth == 1:
                expecting = True
            continue
        if expecting and depth == 1:
            expecting = False
            if token.word in TABLE_CONSTRAINT_WORDS:
                continue
            offsets.setdefault(value.lower(), token.start)
    return offsets


@dataclass(frozen=True)
class Alter:
    """What an ALTER TABLE does: its action, its table, and the old and new names it gives."""

    action: str
    table: str
    old: str | None = None
    new: str | None = None


def parse_alter(sql: str) -> Alter | None:
    """Return what an ALTER TABLE statement does, or None for any other statement."""
    tokens = statement_head(sql)
    if not _words(tokens, 0, "ALTER", "TABLE"):
        return None
    table, at = _name_at(tokens, 2)
    if table is None:
        return None
    if _words(tokens, at, "RENAME", "TO"):
        new, _ = _name_at(tokens, at + 2)
        return Alter("rename_table", table, table, new)
    if _words(tokens, at, "RENAME"):
        at += 2 if _words(tokens, at + 1, "COLUMN") else 1
        old, at = _name_at(tokens, at)
        new, _ = _name_at(tokens, at + 1) if _words(tokens, at, "TO") else (None, at)
        return Alter("rename_column", table, old, new)
    if _words(tokens, at, "ADD"):
        at += 2 if _words(tokens, at + 1, "COLUMN") else 1
        return Alter("add_column", table, None, _name_at(tokens, at)[0])
    if _words(tokens, at, "DROP"):
        at += 2 if _words(tokens, at + 1, "COLUMN") else 1
        return Alter("drop_column", table, _name_at(tokens, at)[0], None)
    return Alter("other", table)
