"""The SQL written in a template literal, as a fix reads it: its text between the backticks
(each `${...}` blanked, so code in it is not taken for SQL), where each `${...}` stands, the
quoted SQL string one stands in, the placeholders the text has already, and the driver's style.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from dbheal_lsp.analysis.sqlmask import masked
from dbheal_lsp.languages.javascript.parse import JsSource

if TYPE_CHECKING:
    from tree_sitter import Node

__all__ = ["TemplateSql", "enclosing_quote", "numbered_style"]

# pg and the drivers built on it number their placeholders ($1, $2...); a file that loads one
# of them sends pg's SQL.
_PG_IMPORT = re.compile(
    r"""(?:require\s*\(\s*|from\s+|import\s+)['"](?:pg|pg-pool|pg-promise|@vercel/postgres|"""
    r"""@neondatabase/serverless)['"]"""
)
_NUMBERED = re.compile(r"\$(\d+)")
_QMARK = re.compile(r"\?")
# A named placeholder (not a pg `::type` cast): the values are not given by position.
_NAMED = re.compile(r"(?<![:\w])[:@$][A-Za-z_]")


def numbered_style(source: JsSource, text: str) -> bool | None:
    """Whether the SQL `text` (masked) takes pg's `$n` (True) or `?` (False): what it uses
    already, else `$n` when the file loads pg; None when it names its placeholders."""
    if _NAMED.search(text):
        return None
    if _NUMBERED.search(text):
        return True
    if _QMARK.search(text):
        return False
    return _PG_IMPORT.search(source.text) is not None


class TemplateSql:
    """The text of one template literal, with offsets between its characters and the file's
    bytes."""

    def __init__(self, source: JsSource, template: Node) -> None:
        self.base = template.start_byte + 1  # after the backtick
        self._raw = source.data[self.base : template.end_byte - 1]
        self.interior = self._raw.decode("utf-8", "surrogatepass")
        self.slots: dict[int, tuple[int, int]] = {}  # a `${...}`'s first byte: its characters
        scan = list(self.interior)
        for child in template.children:
            if child.type == "template_substitution":
                start, end = self.char(child.start_byte), self.char(child.end_byte)
                self.slots[child.start_byte] = (start, end)
                scan[start:end] = "0" * (end - start)
        self.scan = "".join(scan)  # the text with each `${...}` blanked
        self.masked = masked(self.scan)  # and its strings and comments blanked too

    def char(self, byte: int) -> int:
        """The offset in `interior` of file byte `byte`."""
        return len(self._raw[: byte - self.base].decode("utf-8", "surrogatepass"))

    def byte(self, char: int) -> int:
        """The file byte of offset `char` in `interior`."""
        return self.base + len(self.interior[:char].encode("utf-8", "surrogatepass"))

    def placeholders_before(self, char: int) -> int:
        """How many `?` the SQL has before offset `char` (outside strings and comments)."""
        return len(_QMARK.findall(self.masked, 0, char))

    def question_marks(self) -> int:
        """How many `?` the SQL has."""
        return len(_QMARK.findall(self.masked))

    def highest_number(self) -> int:
        """The highest `$n` of the SQL (0 when none)."""
        return max((int(n) for n in _NUMBERED.findall(self.masked)), default=0)


def enclosing_quote(text: str, at: int) -> tuple[str, int, int] | None:
    """Return the quote character, start and end (the closing quote's offset) of the SQL
    string or quoted name that offset `at` of `text` is inside, or None."""
    i = 0
    while i < at:
        ch = text[i]
        if ch in "'\"`":
            close = i + 1
            while True:
                close = text.find(ch, close)
                if close < 0:
                    return (ch, i, len(text)) if at > i else None
                if text[close + 1 : close + 2] == ch:
                    close += 2  # a doubled quote: the quote itself
                    continue
                break
            if i < at <= close:
                return ch, i, close
            i = close + 1
        elif text.startswith("--", i):
            i = len(text) if text.find("\n", i) < 0 else text.find("\n", i) + 1
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = len(text) if end < 0 else end + 2
        else:
            i += 1
    return None
