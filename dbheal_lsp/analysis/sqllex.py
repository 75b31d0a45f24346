"""The parts of SQLite's tokenizer that more than one module reads SQL with.

Replaying migrations (`analysis/migrations.py`) splits scripts into statements and finds what
each creates; the column-type rebuild (`fixes/rebuild.py`) edits CREATE TABLE statements in
place. Both must agree with SQLite on where a quoted name, a string or a comment ends and on
which characters make a bare word, or a semicolon, a parenthesis or a keyword inside one would
be misread. These are the rules, written once.
"""

from __future__ import annotations

import re

__all__ = [
    "TABLE_CONSTRAINT_WORDS",
    "WORD",
    "comment_end",
    "is_word_char",
    "quoted_end",
    "unquote",
]

#: A bare word: a keyword, a name or the body of a number. SQLite treats every non-ASCII
#: character as part of an identifier.
WORD = re.compile(r"[A-Za-z0-9_$\u0080-\U0010ffff]+")

#: Words that start a table constraint instead of a column definition (CREATE TABLE grammar).
TABLE_CONSTRAINT_WORDS = frozenset({"CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN"})


def is_word_char(ch: str) -> bool:
    """Return whether the character `ch` may stand in a bare word (see `WORD`)."""
    return WORD.match(ch) is not None


def quoted_end(sql: str, start: int) -> int:
    """Return the offset just past the quoted token opening at `start` with ', ", ` or [.

    Inside quotes a doubled quote stands for one; brackets do not nest. An unterminated token
    runs to the end of `sql`.
    """
    quote = sql[start]
    if quote == "[":
        end = sql.find("]", start + 1)
        return len(sql) if end < 0 else end + 1
    at = start + 1
    while True:
        end = sql.find(quote, at)
        if end < 0:
            return len(sql)
        if sql.startswith(quote, end + 1):
            at = end + 2
            continue
        return end + 1


def comment_end(sql: str, start: int) -> int:
    """Return the offset just past the comment opening at `start`, or `start` if none does.

    A "--" comment ends before its newline (or at the end of `sql`); an unterminated "/*"
    comment runs to the end of `sql`.
    """
    if sql.startswith("--", start):
        end = sql.find("\n", start)
        return len(sql) if end < 0 else end
    if sql.startswith("/*", start):
        end = sql.find("*/", start + 2)
        return len(sql) if end < 0 else end + 2
    return start


def skip_trivia(sql: str, pos: int = 0, also: str = "") -> int:
    """Return the offset of the first character at or after `pos` that is neither white space,
    a comment, nor one of `also` (e.g. ";" or "("); len(sql) when there is none. Linear."""
    size = len(sql)
    while pos < size:
        if sql[pos].isspace() or sql[pos] in also:
            pos += 1
            continue
        end = comment_end(sql, pos)
        if end == pos:
            break
        pos = end
    return pos


def unquote(text: str) -> str:
    """Return the name a quoted token spells ([x], "x", `x` or 'x', doubled quotes undone), or
    `text` itself when it is not quoted."""
    if len(text) >= 2 and text[0] == "[" and text[-1] == "]":
        return text[1:-1]
    if len(text) >= 2 and text[0] in "'\"`" and text[-1] == text[0]:
        return text[1:-1].replace(text[0] * 2, text[0])
    return text
