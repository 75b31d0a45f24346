"""The string-literal scanner: each character of a decoded literal mapped to its source.

Plain strings, f-strings and implicit concatenations of both are read back from the source
text of their node, so that an issue found at some offset of an SQL string can be reported at
the exact place in the Python file.

The scanner re-reads the source of the node itself, in one linear pass, because the
positions `ast` gives to the parts of an f-string are wrong before Python 3.12. Its result is
checked against the value `ast` computed; on any disagreement it gives up (returns None) rather
than report a wrong position.
"""

from __future__ import annotations

import ast
import re
import sys
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

from dbheal_lsp.languages.python.escapes import decode_escape
from dbheal_lsp.languages.python.pysource import span_of
from dbheal_lsp.model import Span

__all__ = ["FStringField", "LiteralText", "offset_span", "scan_string"]


@dataclass(frozen=True)
class FStringField:
    """One replacement field of an f-string, where it stands in the text and in the source."""

    offset: int  # offset in LiteralText.text where the field stands; it adds no characters
    value: ast.expr  # the FormattedValue's .value node
    span: Span  # the whole field, braces included: "{int(x)!r:>5}"
    expr_span: Span  # the expression alone: "int(x)"
    expr_source: str  # the expression's source text


@dataclass(frozen=True)
class LiteralText:
    """A decoded string expression with the source position of every decoded character.

    `positions` has len(text) + 1 entries: the (line, column) of the first source character
    each decoded character came from (the backslash of an escape, the first brace of "{{"),
    then the position just past the last decoded character's source. `widths` gives, for
    each decoded character, how many source characters on its line it came from (1 for a
    plain character, 2 for "\\n" or "{{", 6 for "\\u00e9", ...).
    """

    text: str
    positions: tuple[tuple[int, int], ...]
    fields: tuple[FStringField, ...]
    span: Span
    widths: tuple[int, ...] = ()


# A string prefix (any case) and its opening quotes; the triple quotes are tried first.
_OPENING = re.compile(r"([A-Za-z]{0,2})('''|\"\"\"|'|\")")
# What may stand between the literals of an implicit concatenation.
_TRIVIA = re.compile(r"(?:[ \t\f\r\n]|#[^\r\n]*|\\(?:\r\n?|\n))*")
# Characters that interrupt a run of plain characters inside a literal.
_PLAIN_STOP = re.compile(r"[\\'\"\r\n]")
_FSTRING_STOP = re.compile(r"[\\'\"\r\n{}]")
_END_OF_LINE = re.compile(r"[\r\n]")
_WORD = re.compile(r"\w+")
# Whitespace Python keeps after the "=" of a self-documenting field.
_DEBUG_SPACE = re.compile(r"[ \t\n\r\f\v]*")

_STR_PREFIXES = frozenset({"", "r", "u", "f", "rf", "fr"})
_BYTES_PREFIXES = frozenset({"b", "br", "rb"})
_ALL_PREFIXES = _STR_PREFIXES | _BYTES_PREFIXES
_QUOTES = "'\""


def offset_span(lt: LiteralText, start: int, end: int) -> Span:
    """Return the source span of lt.text[start:end] (end exclusive).

    An empty range gives a one-character span at its position. The span runs from the first
    character's source to just past the source of character end - 1, so that a field or a
    concatenation seam after the range is not included.
    """
    size = len(lt.text)
    start = min(max(start, 0), size)
    end = min(max(end, start), size)
    line, column = lt.positions[start]
    if end == start:
        return Span.point(line, column)
    end_line, end_column = lt.positions[end - 1]
    width = lt.widths[end - 1] if len(lt.widths) == size else 1
    return Span(line, column, end_line, end_column + width)


def scan_string(lines: Sequence[str], node: ast.expr) -> LiteralText | None:
    """Return the decoded text of a str Constant or JoinedStr node with its source positions.

    `lines` are the file's lines as `source.splitlines(keepends=True)` gives them. Return None
    for any other node (bytes, numbers, ...), and whenever the scan does not agree with what
    `ast` computed: the caller then points at the whole expression. Never raises.
    """
    try:
        return _scan(lines, node)
    except Exception:
        # Any surprise (odd input, a Python version's quirk) must cost precision, not the run.
        return None


class _ScanError(Exception):
    """The source is not a string literal this scanner understands."""


class _Out:
    """What the scan of the outermost literals emits; nested strings emit nothing."""

    __slots__ = ("chars", "fields", "offsets", "widths")

    def __init__(self) -> None:
        self.chars: list[str] = []
        self.offsets: list[int] = []
        self.widths: list[int] = []
        # (text offset, field start, field end, expression start, expression end), src offsets
        self.fields: list[tuple[int, int, int, int, int]] = []

    def add(self, char: str, offset: int, width: int) -> None:
        self.chars.append(char)
        self.offsets.append(offset)
        self.widths.append(width)

    def add_run(self, src: str, start: int, end: int) -> None:
        self.chars.append(src[start:end])
        self.offsets.extend(range(start, end))
        self.widths.extend([1] * (end - start))

    def add_verbatim(self, src: str, start: int, end: int) -> None:
        """Add src[start:end] as it stands, but for newlines, which Python reads as '\\n'."""
        if "\r" not in src[start:end]:
            self.add_run(src, start, end)
            return
        i = start
        while i < end:
            if src[i] == "\r":
                width = 2 if src.startswith("\n", i + 1) else 1
                self.add("\n", i, width)
                i += width
            else:
                self.add(src[i], i, 1)
                i += 1


def _scan(lines: Sequence[str], node: ast.expr) -> LiteralText | None:
    formatted: list[ast.FormattedValue] = []
    if isinstance(node, ast.Constant):
        if not isinstance(node.value, str):
            return None
        expected = node.value
    elif isinstance(node, ast.JoinedStr):
        constants: list[str] = []
        for part in node.values:
            if isinstance(part, ast.FormattedValue):
                formatted.append(part)
            elif isinstance(part, ast.Constant) and isinstance(part.value, str):
                constants.append(part.value)
            else:
                return None
        expected = "".join(constants)
    else:
        return None

    span = span_of(lines, node)
    if not 1 <= span.line <= span.end_line <= len(lines):
        return None
    src, starts = _region(lines, span)

    opening = _OPENING.match(src)
    if opening is None:
        return None
    out = _Out()
    i = 0
    size = len(src)
    while i < size:
        i = _scan_literal(src, i, out)
        trivia = _TRIVIA.match(src, i)
        i = trivia.end() if trivia else i

    text = "".join(out.chars)
    if text != expected or len(out.fields) != len(formatted):
        return None

    def position(offset: int) -> tuple[int, int]:
        k = bisect_right(starts, offset) - 1
        return span.line + k, offset - starts[k] + (span.column if k == 0 else 1)

    positions = _positions(out.offsets, starts, span.line, span.column)
    if positions:
        last_line, last_column = positions[-1]
        positions.append((last_line, last_column + out.widths[-1]))
    else:
        positions.append(position(opening.end()))

    fields = tuple(
        FStringField(
            offset=text_offset,
            value=value.value,
            span=Span(*position(start), *position(end)),
            expr_span=Span(*position(expr_start), *position(expr_end)),
            expr_source=src[expr_start:expr_end],
        )
        for (text_offset, start, end, expr_start, expr_end), value in zip(
            out.fields, formatted, strict=True
        )
    )
    return LiteralText(text, tuple(positions), fields, span, tuple(out.widths))


def _region(lines: Sequence[str], span: Span) -> tuple[str, list[int]]:
    """Return the node's source text and the offset in it where each of its lines starts."""
    first = lines[span.line - 1]
    if span.line == span.end_line:
        return first[span.column - 1 : span.end_column - 1], [0]
    parts = [first[span.column - 1 :]]
    parts.extend(lines[span.line : span.end_line - 1])
    parts.append(lines[span.end_line - 1][: span.end_column - 1])
    starts = [0]
    for part in parts[:-1]:
        starts.append(starts[-1] + len(part))
    return "".join(parts), starts


def _positions(
    offsets: list[int], starts: list[int], line: int, column: int
) -> list[tuple[int, int]]:
    """Map increasing source offsets to (line, column) in one pass over both lists."""
    if len(starts) == 1:
        return [(line, column + offset) for offset in offsets]
    bounds = [*starts[1:], sys.maxsize]
    result: list[tuple[int, int]] = []
    k = 0
    line_start = 0
    base = column
    next_start = bounds[0]
    for offset in offsets:
        while offset >= next_start:
            line_start = next_start
            k += 1
            line += 1
            base = 1
            next_start = bounds[k]
        result.append((line, offset - line_start + base))
    return result


def _scan_literal(src: str, i: int, out: _Out | None) -> int:
    """Read one literal (prefix, quotes, body) at src[i]; return the offset past it."""
    opening = _OPENING.match(src, i)
    if opening is None:
        raise _ScanError("no string literal here")
    prefix = opening.group(1).lower()
    quotes = opening.group(2)
    is_bytes = prefix in _BYTES_PREFIXES
    if is_bytes and out is not None:
        raise _ScanError("bytes literal")
    if not is_bytes and prefix not in _STR_PREFIXES:
        raise _ScanError(f"unknown string prefix {prefix!r}")
    return _scan_body(src, opening.end(), quotes, "r" in prefix, "f" in prefix, is_bytes, out)


def _scan_body(
    src: str, i: int, quotes: str, raw: bool, fmt: bool, is_bytes: bool, out: _Out | None
) -> int:
    """Read a literal's body from src[i] to its closing `quotes`; return the offset past them."""
    stop = _FSTRING_STOP if fmt else _PLAIN_STOP
    quote = quotes[0]
    triple = len(quotes) == 3
    while True:
        found = stop.search(src, i)
        if found is None:
            raise _ScanError("unterminated string")
        j = found.start()
        if out is not None and j > i:
            out.add_run(src, i, j)
        char = src[j]
        if char == quote and (not triple or src.startswith(quotes, j)):
            return j + len(quotes)
        if char in _QUOTES:
            if out is not None:
                out.add(char, j, 1)
            i = j + 1
        elif char == "\\":
            i = _escape(src, j, raw, fmt, is_bytes, out)
        elif char in "\r\n":
            if not triple:
                raise _ScanError("newline in a single-quoted string")
            width = 2 if char == "\r" and src.startswith("\n", j + 1) else 1
            if out is not None:
                out.add("\n", j, width)
            i = j + width
        elif src.startswith(char, j + 1):
            # "{{" or "}}": one brace, placed at the first of the two.
            if out is not None:
                out.add(char, j, 2)
            i = j + 2
        elif char == "{":
            i = _scan_field(src, j, quotes, raw, out)
        else:
            raise _ScanError("single '}' in an f-string")


def _escape(src: str, j: int, raw: bool, fmt: bool, is_bytes: bool, out: _Out | None) -> int:
    """Read the escape whose backslash is src[j]; return the offset past what it consumed."""
    if j + 1 >= len(src):
        raise _ScanError("backslash at the end of the source")
    char = src[j + 1]
    if raw:
        # Nothing is decoded, but a backslash still keeps the next quote from ending the
        # string and takes a newline with it even in a single-quoted string.
        if out is not None:
            out.add("\\", j, 1)
        if char in "\\'\"":
            if out is not None:
                out.add(char, j + 1, 1)
            return j + 2
        if char in "\r\n":
            width = 2 if char == "\r" and src.startswith("\n", j + 2) else 1
            if out is not None:
                out.add("\n", j + 1, width)
            return j + 1 + width
        return j + 1
    decoded = decode_escape(src, j, is_bytes=is_bytes)
    if decoded is None:
        raise _ScanError(f"malformed \\{char} escape")
    text, end = decoded
    if len(text) > 1:
        raise _ScanError("named sequence in \\N escape")
    # A line continuation decodes to nothing; every other escape to one character.
    if out is not None and text:
        out.add(text, j, end - j)
    return end


def _scan_field(src: str, j: int, quotes: str, raw: bool, out: _Out | None) -> int:
    """Read the replacement field whose "{" is src[j]; return the offset past its "}".

    With `out`, the field is one of the outermost f-string's own: it is recorded, and the text
    of a self-documenting "{x=}" is emitted as ast does.
    """
    k, first, last = _field_expression(src, j + 1)
    size = len(src)
    if src[k] == "=":
        spaces = _DEBUG_SPACE.match(src, k + 1)
        end = spaces.end() if spaces else k + 1
        if out is not None:
            out.add_verbatim(src, j + 1, end)
        k = end
    if k < size and src[k] == "!":
        conversion = _WORD.match(src, k + 1)
        if conversion is None:
            raise _ScanError("missing conversion")
        k = conversion.end()
    if k < size and src[k] == ":":
        k = _scan_spec(src, k + 1, quotes, raw)
    if k >= size or src[k] != "}":
        raise _ScanError("expected '}' closing a field")
    k += 1
    if out is not None:
        out.fields.append((len(out.offsets), j, k, first, last))
    return k


def _field_expression(src: str, k: int) -> tuple[int, int, int]:
    """Skip the expression of a field starting at src[k].

    Return the offset where it stops, and where its source text starts and ends. It runs to
    the first "}", "!", ":" or "=" outside brackets that is not part of "!=", "==", "<=" or
    ">=".
    """
    size = len(src)
    depth = 0
    first = -1
    last = -1
    while True:
        if k >= size:
            raise _ScanError("unterminated field")
        char = src[k]
        if char in " \t\f\r\n":
            k += 1
            continue
        if char == "#":
            # Python 3.12 allows comments in a field that spans lines.
            eol = _END_OF_LINE.search(src, k)
            k = eol.start() if eol else size
            continue
        if char == "\\":
            if src.startswith("\r\n", k + 1):
                k += 3
            elif src.startswith("\n", k + 1) or src.startswith("\r", k + 1):
                k += 2
            else:
                raise _ScanError("backslash in a field expression")
            continue
        if first < 0:
            first = k
        if char in "([{":
            depth += 1
            k += 1
        elif char in ")]}":
            if depth == 0:
                if char == "}":
                    break
                raise _ScanError("unbalanced bracket in a field")
            depth -= 1
            k += 1
        elif char in _QUOTES:
            k = _scan_literal(src, k, None)
        elif depth == 0 and char in "!:=<>":
            if char != ":" and src.startswith("=", k + 1):
                k += 2
            elif char in "<>":
                k += 1
            else:
                break
        else:
            word = _WORD.match(src, k)
            if word is None:
                k += 1
            else:
                k = word.end()
                if k < size and src[k] in _QUOTES:
                    # A prefixed string such as rb"..." inside the expression, or a name
                    # directly followed by a string, as in x in"abc".
                    prefixed = word.group().lower() in _ALL_PREFIXES
                    k = _scan_literal(src, word.start() if prefixed else k, None)
        last = k
    if last < 0:
        raise _ScanError("empty field expression")
    return k, first, last


def _scan_spec(src: str, k: int, quotes: str, raw: bool) -> int:
    """Skip a format spec starting at src[k]; return the offset of the "}" closing the field."""
    quote = quotes[0]
    triple = len(quotes) == 3
    while True:
        found = _FSTRING_STOP.search(src, k)
        if found is None:
            raise _ScanError("unterminated format spec")
        j = found.start()
        char = src[j]
        if char == "}":
            return j
        if char == "{":
            k = _scan_field(src, j, quotes, raw, None)
        elif char == "\\":
            k = _escape(src, j, raw, True, False, None)
        elif char == quote and (not triple or src.startswith(quotes, j)):
            raise _ScanError("string ends inside a format spec")
        elif char in "\r\n" and not triple:
            raise _ScanError("newline in a format spec")
        else:
            k = j + 1
