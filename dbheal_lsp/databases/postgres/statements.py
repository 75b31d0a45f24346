"""Where a PostgreSQL script's statements end, by PostgreSQL's lexing rules (as psql splits).

SQLite's rules (analysis/migration_files.py) cut a `CREATE FUNCTION ... AS $$ ... ; ... $$` at
its inner semicolons. Here a semicolon ends a statement only outside:

- strings: `'...'` (a doubled quote stands for one), `E'...'` (a backslash escapes the next
  character), and dollar quotes `$$ ... $$`, `$tag$ ... $tag$` (nothing inside is special);
- quoted names `"..."`, `--` comments and `/* */` comments, which nest;
- parentheses, and a `BEGIN ATOMIC ... END` body of a SQL-standard function or procedure
  (its `BEGIN`/`CASE` ... `END` counted, as psql counts them).
"""

from __future__ import annotations

import bisect
import re
from pathlib import Path

from dbheal_lsp.analysis.migration_files import migration_files, read_script, up_part
from dbheal_lsp.analysis.migrations import MigrationError
from dbheal_lsp.model import Origin

__all__ = ["complete_statement", "migration_statements", "split_statements"]

# A dollar quote's opening: `$$` or `$tag$`, the tag a name without a `$` (not `$1`).
_DOLLAR = re.compile(r"\$(?:[A-Za-z_\u0080-\U0010ffff][\w\u0080-\U0010ffff]*)?\$")
_WORD = re.compile(r"[A-Za-z_\u0080-\U0010ffff][\w$\u0080-\U0010ffff]*")
_ROUTINE = re.compile(
    r"\s*CREATE\s+(?:OR\s+REPLACE\s+)?(?:FUNCTION|PROCEDURE)\b", re.IGNORECASE | re.ASCII
)


def _quoted_end(text: str, start: int, quote: str, backslash: bool) -> int:
    """Return the offset past the string or name opening at `start` (to the end if open)."""
    pos = start + 1
    size = len(text)
    while pos < size:
        char = text[pos]
        if backslash and char == "\\":
            pos += 2
        elif char == quote:
            if text.startswith(quote, pos + 1):
                pos += 2
            else:
                return pos + 1
        else:
            pos += 1
    return size


def _block_comment_end(text: str, start: int) -> int:
    """Return the offset past the `/* */` comment opening at `start`; comments nest."""
    depth = 0
    pos = start
    size = len(text)
    while pos < size:
        if text.startswith("/*", pos):
            depth += 1
            pos += 2
        elif text.startswith("*/", pos):
            depth -= 1
            pos += 2
            if depth == 0:
                return pos
        else:
            pos += 1
    return size


def _skip(text: str, pos: int) -> int | None:
    """Return the offset past the string, name, comment or dollar quote at `pos`, or None."""
    char = text[pos]
    before = text[pos - 1] if pos else " "
    if char == "'":
        escapes = before in "eE" and (pos < 2 or not _is_word_char(text[pos - 2]))
        return _quoted_end(text, pos, "'", escapes)
    if char == '"':
        return _quoted_end(text, pos, '"', False)
    if text.startswith("--", pos):
        end = text.find("\n", pos)
        return len(text) if end < 0 else end
    if text.startswith("/*", pos):
        return _block_comment_end(text, pos)
    if char == "$" and not _is_word_char(before) and (m := _DOLLAR.match(text, pos)):
        end = text.find(m.group(), m.end())
        return len(text) if end < 0 else end + len(m.group())
    return None


def _is_word_char(char: str) -> bool:
    return char.isalnum() or char in "_$"


def _statement_ends(text: str) -> list[int]:
    """Return the offsets of the semicolons that end a statement of `text`."""
    ends: list[int] = []
    pos = start = parens = blocks = 0
    routine = False
    size = len(text)
    while pos < size:
        skipped = _skip(text, pos)
        if skipped is not None:
            pos = skipped
            continue
        char = text[pos]
        if char == "(":
            parens += 1
        elif char == ")":
            parens = max(parens - 1, 0)
        elif char == ";" and parens == 0 and blocks == 0:
            ends.append(pos)
            start, routine = pos + 1, False
        elif (m := _WORD.match(text, pos)) and not _is_word_char(text[pos - 1] if pos else " "):
            word = m.group().upper()
            if word == "CREATE" and _first_significant(text, start, pos) == pos:
                routine = _ROUTINE.match(text, pos) is not None
            elif routine and (word == "BEGIN" or (word == "CASE" and blocks)):
                blocks += 1
            elif routine and word == "END" and blocks:
                blocks -= 1
            pos = m.end()
            continue
        pos += 1
    return ends


def complete_statement(text: str) -> bool:
    """Return whether `text` ends a whole statement: its last `;` outside strings, dollar
    quotes, comments, parentheses and a `BEGIN ATOMIC` body, with nothing but blanks after."""
    ends = _statement_ends(text)
    return bool(ends) and not text[ends[-1] + 1 :].strip()


def split_statements(text: str) -> list[tuple[int, str]]:
    """Return the statements of a PostgreSQL script as (1-based start line, sql without the
    ';'), as analysis/migration_files.py's `split_statements` does for SQLite. Comments before
    a statement are not part of it; a script of comments has none."""
    newlines = [m.start() for m in re.finditer("\n", text)]
    statements: list[tuple[int, str]] = []
    start = 0
    for end in [*_statement_ends(text), len(text)]:
        first = _first_significant(text, start, end)
        if first < end:
            line = bisect.bisect_left(newlines, first) + 1
            statements.append((line, text[first:end].rstrip()))
        start = end + 1
    return statements


def _first_significant(text: str, pos: int, end: int) -> int:
    """Return the offset of the first character of `text[pos:end]` not blank or comment."""
    while pos < end:
        if text[pos] in " \t\r\n\f":
            pos += 1
        elif text.startswith("--", pos) or text.startswith("/*", pos):
            skipped = _skip(text, pos)
            pos = end if skipped is None else skipped
        else:
            return pos
    return end


def migration_statements(
    folder: Path, root: Path | None
) -> tuple[tuple[Path, ...], list[tuple[str, Origin]], list[MigrationError]]:
    """Return the migration files of `folder` in order, their statements (each with the file
    and line it starts on, split by PostgreSQL's rules) and a note for each file not read."""
    files = tuple(migration_files(folder))
    statements: list[tuple[str, Origin]] = []
    errors: list[MigrationError] = []
    for path in files:
        shown = str(path)  # made relative to the root where it is shown, as on SQLite
        try:
            text = up_part(read_script(path, root))
        except OSError as exc:
            errors.append(MigrationError(shown, 0, f"not read: {exc}"))
            continue
        statements.extend((sql, Origin(shown, line)) for line, sql in split_statements(text))
    return files, statements, errors
