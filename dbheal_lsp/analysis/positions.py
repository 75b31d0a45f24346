"""Every position conversion of the engine: UTF-8 byte columns, LSP columns, offsets in a text.

`ast` reports columns as 0-based UTF-8 byte offsets, the LSP speaks 0-based UTF-16 code units,
and the engine uses 1-based code-point columns (see `dbheal_lsp.model`). This module converts
between them, and `LineIndex` converts between offsets in a text and (line, column) positions,
lines split as Python splits them. String literals are mapped by `dbheal_lsp.languages.python.literals`.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field
from functools import cached_property

__all__ = [
    "LineIndex",
    "column_to_utf16",
    "source_lines",
    "utf8_col_to_column",
    "utf16_to_column",
]

# A line break as Python reads one: \r\n, a lone \r or \n (not \f, \x1c, \u2028...).
_NEWLINE = re.compile(r"\r\n|\r|\n")


def utf8_col_to_column(line_text: str, byte_col: int) -> int:
    """Return the 1-based code-point column of the 0-based UTF-8 byte offset `byte_col`.

    An offset inside a multi-byte character gives that character's column; one past the end
    of the line counts the excess as single columns.
    """
    if byte_col <= 0:
        return 1
    if line_text.isascii():
        return byte_col + 1
    data = line_text.encode("utf-8", "surrogatepass")
    if byte_col >= len(data):
        return len(line_text) + 1 + (byte_col - len(data))
    return len(data[:byte_col].decode("utf-8", "ignore")) + 1


def column_to_utf16(line_text: str, column: int) -> int:
    """Return the 0-based UTF-16 code-unit offset (LSP) of the 1-based code-point `column`."""
    index = column - 1
    if index <= 0:
        return 0
    if line_text.isascii():
        return index
    units = len(line_text[:index].encode("utf-16-le", "surrogatepass")) // 2
    return units + max(0, index - len(line_text))


def utf16_to_column(line_text: str, utf16: int) -> int:
    """Return the 1-based code-point column of the 0-based UTF-16 offset `utf16` (LSP).

    An offset between the two halves of a surrogate pair gives that character's column.
    """
    if utf16 <= 0:
        return 1
    if line_text.isascii():
        return utf16 + 1
    data = line_text.encode("utf-16-le", "surrogatepass")
    if 2 * utf16 >= len(data):
        return len(line_text) + 1 + (utf16 - len(data) // 2)
    return len(data[: 2 * utf16].decode("utf-16-le", "ignore")) + 1


_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


def source_lines(source: str) -> list[str]:
    """Return the lines of `source` with their endings, split as Python numbers lines.

    `str.splitlines` also breaks at form feeds, \\x1c-\\x1e, \\x85, \\u2028 and \\u2029, which
    Python does not: lines counted that way drift from `ast`'s line numbers.
    """
    return _LINE.findall(source)


@dataclass(frozen=True)
class LineIndex:
    """Offsets in `text` and the engine's positions of them, in both directions.

    Lines are 1-based and split as Python splits them (at \\r\\n, \\r and \\n); columns are
    1-based code points; offsets index the str. A line that ends with a break is followed by
    another one, empty at the end of the text ("a\\n" has lines 1 and 2).

    Building one costs nothing for text without a lone \\r: a line's start is then found by
    bisecting on `str.count` of newlines, which runs at memory speed (about 0.1 ms for 10,000
    lines, where indexing them all takes 1 to 3 ms). Only a lone \\r, which ends a line for
    Python too, makes it index every line start up front.
    """

    text: str
    # Every line's start offset, when the text has a lone \r; None: found by counting "\n".
    _starts: tuple[int, ...] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        text = self.text
        lone_cr = "\r" in text and text.count("\r") != text.count("\r\n")
        starts = (0, *(m.end() for m in _NEWLINE.finditer(text))) if lone_cr else None
        object.__setattr__(self, "_starts", starts)

    def line_start(self, line: int) -> int:
        """Return the offset of the first character of `line`; ValueError when there is none."""
        if self._starts is not None:
            if not 1 <= line <= len(self._starts):
                raise ValueError(f"line {line} is outside the text")
            return self._starts[line - 1]
        text = self.text
        need = line - 1  # newlines before the line
        if need < 0:
            raise ValueError(f"line {line} is outside the text")
        if need == 0:
            return 0
        # The smallest offset with `need` newlines before it: just past the need-th newline.
        lo, hi = 0, len(text)
        counted_to, counted = 0, 0
        found = False
        while lo < hi:
            mid = (lo + hi) // 2
            count = counted + text.count("\n", counted_to, mid)
            if count >= need:
                hi, found = mid, True
            else:
                lo, counted_to, counted = mid + 1, mid, count
        if not found and counted + text.count("\n", counted_to) < need:
            raise ValueError(f"line {line} is outside the text")
        return lo

    @cached_property
    def lines(self) -> tuple[str, ...]:
        """Every line without its break, split once on first use (for many lookups: the
        diagnostics of a document)."""
        return tuple(_NEWLINE.split(self.text))

    def line(self, number: int) -> str:
        """Return the text of 1-based line `number` without its line break ("" if none)."""
        lines = self.lines
        return lines[number - 1] if 1 <= number <= len(lines) else ""

    def offset(self, line: int, column: int) -> int:
        """Return the offset of (line, column); ValueError when the text has no such position.

        The column may be one past the line's last character (where its break, or the end of
        the text, stands), not further.
        """
        start = self.line_start(line)
        offset = start + column - 1
        if column < 1 or offset > self._content_end(start):
            raise ValueError(f"position {line}:{column} is past the end of its line")
        return offset

    def position(self, offset: int) -> tuple[int, int]:
        """Return the 1-based (line, column) of `offset` (0 to len(text))."""
        if self._starts is not None:
            line = bisect_right(self._starts, offset)
            return line, offset - self._starts[line - 1] + 1
        line = self.text.count("\n", 0, offset) + 1
        return line, offset - (self.text.rfind("\n", 0, offset) + 1) + 1

    def _content_end(self, line_start: int) -> int:
        """The offset of the break ending the line that starts at `line_start`, or the end."""
        match = _NEWLINE.search(self.text, line_start)
        return match.start() if match else len(self.text)
