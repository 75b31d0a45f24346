"""The bound-parameter markers of a SQL text, and the text sqlglot is given in their place.

Drivers spell placeholders many ways (`?`, `?3`, `:name`, `@name`, `$name`, `$1`, `%s`,
`%(name)s`); `normalize_placeholders` respells the pyformat ones in SQLite's spelling and
`find_placeholders` lists them all. sqlglot is given each as `:__pN`, and `SqlglotText` maps its
offsets back to the caller's text.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from dbheal_lsp.analysis.sqlmask import masked

_PLACEHOLDER = re.compile(r"\?(\d*)|(?<![:\w]):([A-Za-z_]\w*)|@([A-Za-z_]\w*)|\$([A-Za-z_]\w*|\d+)")
_PYFORMAT = re.compile(r"%\((\w+)\)s|%s|%%|\$(\d+)")


@dataclass(frozen=True)
class Placeholder:
    """A bound-parameter marker in the SQL text; position is 0-based among positional ones."""

    start: int
    end: int
    position: int | None
    name: str | None


def normalize_placeholders(text: str) -> str:
    """Return `text` with pyformat (%s, %(name)s) and $1 placeholders in SQLite's spelling.

    Lengths are kept so that every offset still points at the same character.
    """
    mask = masked(text)
    out = list(text)
    for m in _PYFORMAT.finditer(mask):
        token = m.group()
        if token == "%s":
            out[m.start() : m.end()] = list("? ")
        elif token == "%%":
            out[m.start() : m.end()] = list("% ")
        elif m.group(2):
            out[m.start() : m.end()] = list("?" + m.group(2))
        else:
            name = m.group(1)
            out[m.start() : m.end()] = list(":" + name + " " * 3)
    return "".join(out)


def find_placeholders(text: str) -> tuple[Placeholder, ...]:
    """Return the placeholders of `text` outside strings and comments, in order."""
    found: list[Placeholder] = []
    next_index = 0
    for m in _PLACEHOLDER.finditer(masked(text)):
        number, named_colon, named_at, dollar = m.groups()
        if number is not None and m.group().startswith("?"):
            index = int(number) - 1 if number else next_index
            next_index = index + 1
            found.append(Placeholder(m.start(), m.end(), index, None))
        elif dollar is not None and dollar.isdigit():
            found.append(Placeholder(m.start(), m.end(), int(dollar) - 1, None))
        else:
            name = named_colon or named_at or dollar
            found.append(Placeholder(m.start(), m.end(), None, name))
            next_index += 1
    return tuple(found)


@dataclass(frozen=True)
class SqlglotText:
    """The text handed to sqlglot: positional placeholders named, so each can be traced back."""

    text: str
    starts: tuple[int, ...]  # start offsets in `text` where an edit changed the length
    shifts: tuple[int, ...]  # cumulative length change after each of those starts
    by_name: dict[str, Placeholder]

    def original(self, offset: int) -> int:
        """Return the offset in the caller's text of `offset` in the sqlglot text."""
        i = bisect.bisect_right(self.starts, offset) - 1
        return offset if i < 0 else offset - self.shifts[i]


def sqlglot_text(text: str, placeholders: tuple[Placeholder, ...]) -> SqlglotText:
    """Return `text` with every placeholder spelled `:__pN`, and the map back to `text`."""
    parts: list[str] = []
    starts: list[int] = []
    shifts: list[int] = []
    by_name: dict[str, Placeholder] = {}
    pos = 0
    shift = 0
    for i, ph in enumerate(placeholders):
        name = f"__p{i}"
        by_name[name] = ph
        parts.append(text[pos : ph.start])
        new_start = ph.start + shift
        replacement = f":{name}"
        parts.append(replacement)
        shift += len(replacement) - (ph.end - ph.start)
        starts.append(new_start + len(replacement))
        shifts.append(shift)
        pos = ph.end
    parts.append(text[pos:])
    return SqlglotText("".join(parts), tuple(starts), tuple(shifts), by_name)
