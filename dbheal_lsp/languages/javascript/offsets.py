"""Tree-sitter's UTF-8 byte offsets as the engine's positions (1-based lines, 1-based
code-point columns, exclusive ends), lines split as `analysis/positions.LineIndex` splits them.

A text that is all ASCII needs no table: a byte is a character. Otherwise the non-ASCII
characters alone are indexed (found by one regular expression, not a loop over the text), and a
byte offset is turned into a character offset by bisecting on where each of them ends.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field

from dbheal_lsp.analysis.positions import LineIndex
from dbheal_lsp.model import Span

__all__ = ["Offsets"]

_NON_ASCII = re.compile(r"[^\x00-\x7f]")


@dataclass(frozen=True)
class Offsets:
    """Byte offsets in the UTF-8 form of `text` turned into offsets and positions in `text`."""

    text: str
    index: LineIndex = field(init=False, repr=False)
    # The byte offset just past each non-ASCII character, and the extra bytes up to it.
    _ends: tuple[int, ...] = field(init=False, repr=False)
    _extra: tuple[int, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "index", LineIndex(self.text))
        ends: list[int] = []
        extra: list[int] = []
        total = 0
        for match in _NON_ASCII.finditer(self.text):
            size = len(match.group().encode("utf-8", "surrogatepass"))
            start = match.start() + total  # its first byte
            total += size - 1
            ends.append(start + size)
            extra.append(total)
        object.__setattr__(self, "_ends", tuple(ends))
        object.__setattr__(self, "_extra", tuple(extra))

    def char(self, byte: int) -> int:
        """Return the offset in `text` of the character at UTF-8 byte offset `byte`."""
        if not self._ends:
            return byte
        before = bisect_right(self._ends, byte)  # non-ASCII characters wholly before `byte`
        return byte - (self._extra[before - 1] if before else 0)

    def position(self, byte: int) -> tuple[int, int]:
        """Return the engine's (line, column) of UTF-8 byte offset `byte`."""
        return self.index.position(self.char(byte))

    def span(self, start: int, end: int) -> Span:
        """Return the engine's span of the bytes `start` to `end` (exclusive)."""
        line, column = self.position(start)
        end_line, end_column = self.position(end)
        return Span(line, column, end_line, end_column)
