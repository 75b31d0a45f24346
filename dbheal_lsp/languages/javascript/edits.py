"""A JS/TS code fix as edits of the file's UTF-8 bytes (where tree-sitter says its nodes are),
applied to those bytes and turned into the one `TextEdit` (code-point positions) the engine
writes.

Only the bytes an edit names change: formatting, comments and trailing commas around them stay
as written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

from dbheal_lsp.languages.javascript.parse import JsSource
from dbheal_lsp.model import TextEdit

__all__ = ["ByteEdit", "Candidate", "applied", "text_edit"]


@dataclass(frozen=True)
class ByteEdit:
    """Replace the bytes `start` to `end` (exclusive) of the file by `text` (an insertion when
    they are equal)."""

    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Candidate:
    """A fix as one kind of fix proposes it, not checked yet: its edits, and for a rename the
    name replaced and the one it becomes."""

    kind: str  # "remove_cast" | "parameterize" | "rename"
    title: str
    edits: tuple[ByteEdit, ...]
    token: str | None = None
    replacement: str | None = None


def _ordered(edits: Sequence[ByteEdit]) -> list[ByteEdit]:
    """`edits` in the file's order; ValueError when two overlap (insertions at one place keep
    the order they were given in)."""
    ordered = sorted(edits, key=lambda e: (e.start, e.end))
    for before, after in pairwise(ordered):
        if after.start < before.end:
            raise ValueError(f"overlapping edits at byte {after.start}")
    return ordered


def applied(data: bytes, edits: Sequence[ByteEdit]) -> bytes:
    """Return `data` with `edits` made (ValueError when two overlap)."""
    out: list[bytes] = []
    at = 0
    for edit in _ordered(edits):
        out.append(data[at : edit.start])
        out.append(edit.text.encode("utf-8", "surrogatepass"))
        at = edit.end
    out.append(data[at:])
    return b"".join(out)


def text_edit(source: JsSource, path: str, edits: Sequence[ByteEdit]) -> tuple[TextEdit, str]:
    """Return the one text edit that makes `edits` in `source` (from the first edit's start to
    the last one's end) and the file's whole new text."""
    if not edits:
        raise ValueError("no edits")
    ordered = _ordered(edits)
    start, end = ordered[0].start, max(e.end for e in ordered)
    region = applied(source.data[start:end], [_moved(e, start) for e in ordered])
    new_data = source.data[:start] + region + source.data[end:]
    new_text = region.decode("utf-8", "surrogatepass")
    whole = new_data.decode("utf-8", "surrogatepass")
    return TextEdit(path, source.offsets.span(start, end), new_text), whole


def _moved(edit: ByteEdit, by: int) -> ByteEdit:
    return ByteEdit(edit.start - by, edit.end - by, edit.text)
