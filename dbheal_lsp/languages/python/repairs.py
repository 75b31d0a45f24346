"""Statements of a Python file being typed: cheap repairs of a copy of the text, each keeping
every position up to the cursor unchanged (what hover and completion read while the file is not
valid Python, an unclosed string, a call left open)."""

from __future__ import annotations

import ast
import re
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Literal

from dbheal_lsp.analysis.positions import source_lines

if TYPE_CHECKING:
    from dbheal_lsp.analysis.statement import Statement
    from dbheal_lsp.languages.python.extract import Extractor

__all__ = ["repaired_statements"]


def repaired_statements(
    extractor: Extractor, path: str, source: str, line: int
) -> tuple[Statement, ...]:
    """Return the statements around `line` of the first repaired copy of `source` that parses;
    () when none does."""
    for text in _candidates(source, line):
        try:
            return _statements_near(extractor, path, text, line)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
    return ()


def _statements_near(
    extractor: Extractor, path: str, text: str, line: int
) -> tuple[Statement, ...]:
    """Return the statements of the top-level statement holding `line` in the Python `text`.

    A repaired copy changes on every keystroke, so nothing caches it: only the part of the
    module around the cursor is walked. Module-level assignments stay, for the names a query
    may be built from.
    """
    if not extractor.might_contain_sql(text):
        return ()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # invalid escape sequences are not ours to report
        tree = ast.parse(text, filename=path)
    tree.body = [
        node
        for node in tree.body
        if node.lineno <= line <= (node.end_lineno or node.lineno)
        or isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign))
    ]
    return extractor.extract(text, tree)


@dataclass(frozen=True)
class _Frame:
    """Something open at the end of the scanned text: a bracket, a string or an f-string field."""

    kind: Literal["bracket", "string", "field"]
    close: str
    fmt: bool = False  # an f-string: its braces open fields
    start: int = 0  # where a field's expression starts: "{}" would not parse


_STRING_PREFIXES = frozenset({"r", "u", "f", "b", "rf", "fr", "rb", "br"})
_BRACKETS = MappingProxyType({"(": ")", "[": "]", "{": "}"})
# Where the scanner must look next: in code, and in each kind of string.
_CODE_STOP = re.compile(r"[#'\"()\[\]{}]")
_STRING_STOP = MappingProxyType(
    {
        (quote, fmt): re.compile("[\\\\\r\n" + quote + ("{}" if fmt else "") + "]")
        for quote in "'\""
        for fmt in (False, True)
    }
)


def _candidates(source: str, line: int) -> Iterator[str]:
    """Yield repaired copies of `source`, each keeping the text before the cursor as it is.

    The repairs close what is open at the end of the cursor's line: first only the strings
    (the call's brackets may close on a later line), then the brackets too, then the same with
    the rest of the file cut off (an error below the cursor does not matter to it).
    """
    lines = source_lines(source)
    if not 1 <= line <= len(lines) + 1:
        return
    start = sum(len(text) for text in lines[: line - 1])
    current = lines[line - 1] if line <= len(lines) else ""
    content = current.rstrip("\r\n")
    head = source[: start + len(content)]
    rest = source[start + len(content) :]
    frames, insert_at = _open_frames(head)
    strings = next((i for i, f in enumerate(frames) if f.kind == "string"), None)
    before, after = head[:insert_at], head[insert_at:]
    seen = {source}
    tries: list[str] = []
    if strings is not None:
        tries.append(before + _closers(frames[strings:], before) + after + rest)
    closers = _closers(frames, before)
    tries.append(before + closers + after + rest)
    tries.append(before + closers + after + "\n")
    for text in tries:
        if text not in seen:
            seen.add(text)
            yield text


def _closers(frames: Sequence[_Frame], before: str) -> str:
    out: list[str] = []
    for n, frame in enumerate(reversed(frames)):
        if frame.kind == "string" and n == 0 and _ends_in_escape(before):
            out.append(" ")  # a backslash at the end would escape the closing quote
        if frame.kind == "field" and not before[frame.start :].strip():
            out.append("_")
        out.append(frame.close)
    return "".join(out)


def _ends_in_escape(text: str) -> bool:
    return (len(text) - len(text.rstrip("\\"))) % 2 == 1


def _open_frames(text: str) -> tuple[list[_Frame], int]:
    """Return what is open at the end of the Python text `text`, and where closers may go.

    A light scanner, not a tokenizer: strings (prefixes, triple quotes, escapes, f-string
    fields), brackets and comments, jumping from one character that matters to the next.
    Closers go before a comment or a line continuation that ends the text, so that they are
    not commented out.
    """
    stack: list[_Frame] = []
    size = len(text)
    insert_at = size
    i = 0
    while i < size:
        top = stack[-1] if stack else None
        if top is not None and top.kind == "string":
            found = _STRING_STOP[top.close[0], top.fmt].search(text, i)
            if found is None:
                break
            j = found.start()
            char = text[j]
            if char == "\\":
                i = j + (3 if text.startswith("\r\n", j + 1) else 2)
            elif char in "\r\n":
                if len(top.close) == 1:
                    stack.pop()  # an unterminated one-line string: Python gives up here too
                i = j + 1
            elif text.startswith(top.close, j):
                stack.pop()
                i = j + len(top.close)
            elif char in "{}" and not text.startswith(char * 2, j):
                if char == "{":
                    stack.append(_Frame("field", "}", start=j + 1))
                i = j + 1
            else:
                i = j + (2 if char in "{}" else 1)  # "{{", "}}", a lone quote in a triple
            continue
        found = _CODE_STOP.search(text, i)
        if found is None:
            break
        j = found.start()
        char = text[j]
        if char == "#":
            end = text.find("\n", j)
            if end < 0:
                insert_at = j
                break
            i = end
        elif char in "'\"":
            quote = text[j] * 3 if text.startswith(text[j] * 3, j) else text[j]
            prefix = _prefix_before(text, j)
            stack.append(_Frame("string", quote, fmt="f" in prefix))
            i = j + len(quote)
        elif char in _BRACKETS:
            stack.append(_Frame("bracket", _BRACKETS[char]))
            i = j + 1
        else:
            if top is not None:
                stack.pop()
            i = j + 1
    if not stack or stack[-1].kind != "string":
        stripped = text[:insert_at].rstrip()
        if stripped.endswith("\\"):
            insert_at = len(stripped) - 1  # closers after a line continuation would not parse
    return stack, insert_at


def _prefix_before(text: str, quote_at: int) -> str:
    """Return the string prefix ("f", "rb", ...) written just before the quote at `quote_at`."""
    start = quote_at
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] == "_"):
        start -= 1
    word = text[start:quote_at].lower()
    return word if word in _STRING_PREFIXES else ""
