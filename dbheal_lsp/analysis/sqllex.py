"""THE SQL tokenizer: SQLite's lexing rules, written once, for every module that reads SQL text.

Replaying migrations (`analysis/ddl.py`) finds what each statement creates; the
column-type rebuild (`databases/sqlite/create_table.py`) edits CREATE TABLE statements in place; hover and
completion (`lookup/`) read the half-typed SQL around the cursor. All must agree
with SQLite on where a quoted name, a string or a comment ends and on which characters make a
bare word, or a semicolon, a parenthesis or a keyword inside one would be misread. `tokenize`
gives every token with its offsets (whitespace and comments included, so edits are exact) and
says which quote or comment the text ends inside.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "TABLE_CONSTRAINT_WORDS",
    "WORD",
    "Token",
    "comment_end",
    "first_keyword",
    "is_word_char",
    "keyword_at",
    "quoted_end",
    "significant_tokens",
    "skip_trivia",
    "tokenize",
    "unquote",
]

#: A bare word: a keyword, a name or the body of a number. SQLite treats every non-ASCII
#: character as part of an identifier.
WORD = re.compile(r"[A-Za-z0-9_$\u0080-\U0010ffff]+")

#: Words that start a table constraint instead of a column definition (CREATE TABLE grammar).
TABLE_CONSTRAINT_WORDS = frozenset({"CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN"})

_FIRST_WORD = re.compile(r"[A-Za-z_]+")


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


def keyword_at(sql: str, pos: int = 0) -> tuple[str, int]:
    """Return the keyword at or after `pos` (skipping whitespace, comments, semicolons) and
    the offset just after it; ("", len(sql)) when there is none."""
    pos = skip_trivia(sql, pos, also=";")
    match = _FIRST_WORD.match(sql, pos)
    return (match.group().upper(), match.end()) if match else ("", len(sql))


def first_keyword(sql: str) -> str:
    """Return the first keyword of `sql` in upper case, after whitespace and comments ("" if none)."""
    return keyword_at(sql)[0]


def unquote(text: str) -> str:
    """Return the name a quoted token spells ([x], "x", `x` or 'x', doubled quotes undone), or
    `text` itself when it is not quoted."""
    if len(text) >= 2 and text[0] == "[" and text[-1] == "]":
        return text[1:-1]
    if len(text) >= 2 and text[0] in "'\"`" and text[-1] == text[0]:
        return text[1:-1].replace(text[0] * 2, text[0])
    return text


TokenKind = Literal["space", "comment", "string", "quoted", "number", "param", "word", "punct"]

_SPACE = " \t\n\r\f\v"


@dataclass(frozen=True, slots=True)
class Token:
    """One token of a SQL text with its offsets: `text` is exactly `sql[start:end]`."""

    kind: TokenKind
    text: str
    start: int
    end: int
    closed: bool = True  # False for a quote or comment that the text ends inside

    @property
    def significant(self) -> bool:
        """Whether the token is neither whitespace nor a comment."""
        return self.kind not in ("space", "comment")

    @property
    def word(self) -> str:
        """The upper-cased text of a bare word, "" for any other token."""
        return self.text.upper() if self.kind == "word" else ""

    @property
    def is_name(self) -> bool:
        """Whether the token can spell a name: a bare word, a quoted name or a string."""
        return self.kind in ("word", "quoted", "string")

    @property
    def name(self) -> str:
        """The identifier or text the token spells, without its quotes (an open quote's body
        so far)."""
        if self.kind not in ("quoted", "string"):
            return self.text
        if self.closed:
            return unquote(self.text)
        quote = self.text[0]
        body = self.text[1:]
        return body if quote == "[" else body.replace(quote * 2, quote)


def tokenize(sql: str) -> Iterator[Token]:
    """Yield the tokens of `sql` in order, whitespace and comments included. A parameter is
    `?`, `?NNN`, `:name`, `@name` or `$name`; a number may have a fraction and an exponent."""
    at, size = 0, len(sql)
    while at < size:
        token = _token_at(sql, at, size)
        yield token
        at = token.end


def significant_tokens(sql: str) -> list[Token]:
    """Return the tokens of `sql` other than whitespace and comments."""
    return [t for t in tokenize(sql) if t.significant]


def _token_at(sql: str, at: int, size: int) -> Token:
    ch = sql[at]
    if ch in _SPACE:
        end = at + 1
        while end < size and sql[end] in _SPACE:
            end += 1
        return Token("space", sql[at:end], at, end)
    if (end := comment_end(sql, at)) != at:
        closed = end < size if ch == "-" else sql.endswith("*/", at + 2, end)
        return Token("comment", sql[at:end], at, end, closed)
    if ch in "'\"`[":
        end = quoted_end(sql, at)
        # Only a token that reaches the end may be open; one more character tells.
        closed = end < size or quoted_end(sql + " ", at) <= size
        return Token("string" if ch == "'" else "quoted", sql[at:end], at, end, closed)
    if (ch.isascii() and ch.isdigit()) or (ch == "." and sql[at + 1 : at + 2].isdigit()):
        return Token("number", sql[at : (end := _number_end(sql, at, size))], at, end)
    if ch in ":@?":
        word = WORD.match(sql, at + 1)
        end = word.end() if word else at + 1
        return Token("param", sql[at:end], at, end)
    if word := WORD.match(sql, at):
        kind: TokenKind = "param" if ch == "$" else "word"
        return Token(kind, word.group(), at, word.end())
    return Token("punct", ch, at, at + 1)


def _number_end(sql: str, at: int, size: int) -> int:
    end = at + 1
    hexadecimal = sql.startswith(("0x", "0X"), at)
    while end < size and (
        is_word_char(sql[end])
        or sql[end] == "."
        or (sql[end] in "+-" and sql[end - 1] in "eE" and not hexadecimal)
    ):
        end += 1
    return end
