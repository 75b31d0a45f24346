"""Python source as the engine reads it: the module tree, including newer syntax it can mend.

dbheal parses with the Python that runs it, but the code it reads may be written for a newer
one. Python 3.14 (PEP 758) allows `except A, B:` without brackets: a whole module of an app that
uses it (calibre) would otherwise go unread. Such clauses are bracketed before parsing, and the
tree's columns are moved back so that every position still points into the text as written.
Python 3.12's type parameters (`def api[T](f: T) -> T:`, PEP 695) are blanked out: the tree
then lacks them, which SQL checks never read.
"""

from __future__ import annotations

import ast
import io
import tokenize
import warnings
from collections.abc import Iterator, Sequence

from dbheal_lsp.analysis.positions import utf8_col_to_column
from dbheal_lsp.languages.language import SourceSyntaxError
from dbheal_lsp.model import Span

# (line, byte offset in that line) of each bracket inserted, in order.
Insertions = dict[int, list[int]]


def parse_module(source: str, path: str) -> ast.Module:
    """Return the module's tree; SyntaxError, or ValueError for what Python cannot parse at all.

    A 10,000-term `+` chain or thousands of nested brackets exhaust the parser's recursion
    (RecursionError, MemoryError): for dbheal that is one more file it cannot read.
    """
    try:
        return _parse(source, path)
    except SyntaxError:
        blanked = _without_type_parameters(source)
        mended = _bracketed_excepts(blanked or source)
        if mended is None and blanked is None:
            raise
        text, inserted = mended or (blanked or source, {})
        try:
            tree = _parse(text, path)
        except SyntaxError:
            pass
        else:
            _move_back(tree, inserted)
            return tree
        raise


def _parse(source: str, path: str) -> ast.Module:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escape sequences etc. are not ours to report
            return ast.parse(source, filename=path)
    except (RecursionError, MemoryError):
        raise ValueError("Python's parser gives up: nested too deeply") from None


def _without_type_parameters(source: str) -> str | None:
    """Return `source` with the type parameters of `def f[T](...)` and `class C[T]:` (PEP 695,
    Python 3.12) blanked out, every other character in place; None when there are none."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return None
    spans: list[tuple[tuple[int, int], tuple[int, int]]] = []
    for i in range(len(tokens) - 2):
        keyword, name, opening = tokens[i], tokens[i + 1], tokens[i + 2]
        if (
            keyword.type == tokenize.NAME
            and keyword.string in ("def", "class")
            and name.type == tokenize.NAME
            and opening.string == "["
        ):
            depth = 0
            for tok in tokens[i + 2 :]:
                depth += {"[": 1, "]": -1}.get(tok.string, 0) if tok.type == tokenize.OP else 0
                if depth == 0:
                    spans.append((opening.start, tok.end))
                    break
    if not spans:
        return None
    lines = source.splitlines(keepends=True)
    for (line, col), (end_line, end_col) in spans:
        for number in range(line, end_line + 1):
            text = lines[number - 1]
            start = col if number == line else 0
            stop = end_col if number == end_line else len(text.rstrip("\r\n"))
            lines[number - 1] = text[:start] + " " * (stop - start) + text[stop:]
    return "".join(lines)


def _bracketed_excepts(source: str) -> tuple[str, Insertions] | None:
    """Return `source` with each `except A, B:` written `except (A, B):`, and where brackets
    went; None when there is no such clause (or the text cannot even be tokenized)."""
    clauses = list(_unbracketed_excepts(source))
    if not clauses:
        return None
    lines = source.splitlines(keepends=True)
    inserted: Insertions = {}
    for line, start, end in reversed(clauses):  # right to left keeps earlier offsets true
        text = lines[line - 1]
        lines[line - 1] = text[:start] + "(" + text[start:end] + ")" + text[end:]
        prefix = text[:start].encode("utf-8", "surrogatepass")
        middle = text[start:end].encode("utf-8", "surrogatepass")
        # Byte offsets in the mended line, of the "(" and of the ")".
        inserted.setdefault(line, []).extend([len(prefix), len(prefix) + 1 + len(middle)])
    for offsets in inserted.values():
        offsets.sort()
    return "".join(lines), inserted


def _unbracketed_excepts(source: str) -> Iterator[tuple[int, int, int]]:
    """Yield (line, start column, end column) of each exception list that PEP 758 leaves
    unbracketed, when it fits on one line."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return
    for i, tok in enumerate(tokens):
        if tok.type != tokenize.NAME or tok.string != "except":
            continue
        j = i + 1
        if j < len(tokens) and tokens[j].string == "*":
            j += 1
        depth, commas, first, last = 0, 0, None, None
        for k in range(j, len(tokens)):
            t = tokens[k]
            if t.type in (tokenize.NEWLINE, tokenize.ENDMARKER) or (
                depth == 0 and t.string == "as"
            ):
                break
            if depth == 0 and t.string == ":":
                if commas and first and last and first.start[0] == last.end[0]:
                    yield first.start[0], first.start[1], last.end[1]
                break
            if t.string in "([{" and t.type == tokenize.OP:
                depth += 1
            elif t.string in ")]}" and t.type == tokenize.OP:
                depth -= 1
            elif depth == 0 and t.string == ",":
                commas += 1
            if t.type not in (tokenize.NL, tokenize.COMMENT):
                first = first or t
                last = t


def _move_back(tree: ast.AST, inserted: Insertions) -> None:
    """Shift the columns of nodes on mended lines back to the text as written."""

    def moved(line: int, offset: int) -> int:
        return offset - sum(1 for at in inserted.get(line, ()) if at < offset)

    for node in ast.walk(tree):
        line = getattr(node, "lineno", None)
        if line in inserted:
            node.col_offset = moved(line, node.col_offset)  # type: ignore[attr-defined]
        end_line = getattr(node, "end_lineno", None)
        end = getattr(node, "end_col_offset", None)
        if end_line in inserted and end is not None:
            node.end_col_offset = moved(end_line, end)  # type: ignore[attr-defined]


def span_of(lines: Sequence[str], node: ast.AST) -> Span:
    """Return the code-point span of an ast `node`; ValueError if it carries no position."""
    lineno = getattr(node, "lineno", None)
    col = getattr(node, "col_offset", None)
    if not isinstance(lineno, int) or not isinstance(col, int):
        raise ValueError(f"{type(node).__name__} node has no position")
    end_lineno = getattr(node, "end_lineno", None)
    end_col = getattr(node, "end_col_offset", None)
    if not isinstance(end_lineno, int) or not isinstance(end_col, int):
        end_lineno, end_col = lineno, col
    return Span(
        lineno,
        utf8_col_to_column(lines[lineno - 1] if 1 <= lineno <= len(lines) else "", col),
        end_lineno,
        utf8_col_to_column(lines[end_lineno - 1] if 1 <= end_lineno <= len(lines) else "", end_col),
    )


def _line(lines: Sequence[str], lineno: int) -> str:
    return lines[lineno - 1] if 1 <= lineno <= len(lines) else ""


def source_syntax_error(exc: SyntaxError | ValueError) -> SourceSyntaxError:
    """Return the seam's error for what `parse_module` raised (a SyntaxError, or a ValueError
    for a NUL byte), in a note's words, caused by `exc`."""
    if isinstance(exc, SyntaxError):
        line = exc.lineno or 1
        error = SourceSyntaxError(f"Python syntax error: {exc.msg} (line {line})", line)
    else:
        error = SourceSyntaxError(str(exc))
    error.__cause__ = exc
    return error
