"""Checking a module block by block, reusing the issues of top-level blocks that did not change.

An editor re-checks a file on every save, and most saves change one function: a function or
class whose text, module-level context and schema are unchanged keeps its issues, moved by as
many lines as it moved. Only ast.parse still sees the whole file. A statement that fails gives a
note and the others are still checked; past the file's deadline no further statement is.
"""

from __future__ import annotations

import ast
import hashlib
import time
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from dbheal_lsp.analysis.file_result import why_failed
from dbheal_lsp.databases.database import SchemaError
from dbheal_lsp.languages.language import CheckedStatements
from dbheal_lsp.model import FileNote, Issue, Span

if TYPE_CHECKING:
    from dbheal_lsp.analysis.checker import StatementChecker
    from dbheal_lsp.analysis.databases import DatabaseRouter
    from dbheal_lsp.analysis.statement import Statement
    from dbheal_lsp.languages.python.extract import Extractor

__all__ = ["BlockCache", "shifted"]

#: Top-level statements whose issues are remembered; the rest is every block's context.
_REUSABLE = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
#: A bound on remembered blocks, not an LRU: rebuilding is cheap.
_MAX_BLOCKS = 20_000


# (issues with lines relative to the block's first line, statements, partly checked)
_Remembered = tuple[tuple[Issue, ...], int, int]


@dataclass
class _Run:
    """The statements of the changed blocks, as they are checked."""

    found: dict[int, tuple[list[Issue], int, int]]  # id(block) -> what `_Remembered` keeps
    issues: list[Issue] = field(default_factory=list)
    notes: list[FileNote] = field(default_factory=list)
    count: int = 0
    partly: int = 0
    extracted: int | None = None  # statements found (None: extraction ran out of time)
    stopped_at: int | None = None
    unfinished: set[int] = field(default_factory=set)  # blocks with a failed or unchecked one


class BlockCache:
    """The remembered issues of unchanged top-level blocks, for one project."""

    def __init__(self) -> None:
        self._blocks: dict[str, _Remembered] = {}

    def clear(self) -> None:
        """Forget every block (what they were checked with has changed)."""
        self._blocks.clear()

    def check(
        self,
        extractor: Extractor,
        checker: StatementChecker | DatabaseRouter,
        path: str,
        source: str,
        tree: ast.Module,
        state_key: str,
        deadline: float = float("inf"),
        statements: tuple[Statement, ...] | None = None,
    ) -> CheckedStatements:
        """Check the module's top-level blocks against the schema `state_key` names, reusing
        the results of unchanged ones. Past `deadline` (time.monotonic) no further statement is
        checked; blocks not fully checked are not remembered. `statements` are the module's,
        when the caller found them already with `extractor` in `tree`."""
        from dbheal_lsp.analysis.positions import source_lines

        lines = source_lines(source)
        blocks, module_key = _top_level_blocks(tree, lines, f"{path}\x00{state_key}")
        issues: list[Issue] = []
        count = partly = 0
        fresh: dict[int, tuple[str, int, int]] = {}  # id(node) -> (cache key, start, end)
        todo: list[ast.stmt] = []
        for node, start, end in blocks:
            key = ""
            if isinstance(node, _REUSABLE):
                text = "".join(lines[start - 1 : end]).encode("utf-8", "surrogatepass")
                key = module_key + hashlib.blake2b(text, digest_size=16).hexdigest()
                cached = self._blocks.get(key)
                if cached is not None:
                    issues.extend(shifted(i, start - 1) for i in cached[0])
                    count += cached[1]
                    partly += cached[2]
                    continue
            fresh[id(node)] = (key, start, end)
            todo.append(node)
        spans = [(fresh[id(n)][1], fresh[id(n)][2], id(n)) for n in todo]
        if len(todo) < len(tree.body):
            statements = None  # found in the whole module: some are answered from the blocks
        run = _check_statements(
            extractor, checker, path, source, tree, lines, todo, spans, deadline, statements
        )
        self._remember(todo, fresh, run)
        total = count + run.extracted if run.extracted is not None else None
        return CheckedStatements(
            tuple(issues + run.issues),
            tuple(run.notes),
            count + run.count,
            total,
            run.stopped_at,
            partly + run.partly,
        )

    def _remember(
        self, todo: list[ast.stmt], fresh: dict[int, tuple[str, int, int]], run: _Run
    ) -> None:
        if len(self._blocks) > _MAX_BLOCKS:
            self._blocks.clear()
        for node in todo:
            key, start, _ = fresh[id(node)]
            if key and id(node) not in run.unfinished:
                mine, n, p = run.found[id(node)]
                self._blocks[key] = (tuple(shifted(i, 1 - start) for i in mine), n, p)


def _top_level_blocks(
    tree: ast.Module, lines: list[str], context_text: str
) -> tuple[list[tuple[ast.stmt, int, int]], str]:
    """Return each top-level statement with its first and last line (decorators included), and
    the key of the module-level context: `context_text` and all code outside functions and
    classes (constants, queries held in names), which every block's issues depend on."""
    context = hashlib.blake2b(digest_size=16)
    context.update(context_text.encode("utf-8", "surrogatepass"))
    blocks: list[tuple[ast.stmt, int, int]] = []
    for node in tree.body:
        start = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
        end = node.end_lineno or node.lineno
        blocks.append((node, start, end))
        if not isinstance(node, _REUSABLE):
            context.update("".join(lines[start - 1 : end]).encode("utf-8", "surrogatepass"))
    return blocks, context.hexdigest()


def _check_statements(
    extractor: Extractor,
    checker: StatementChecker | DatabaseRouter,
    path: str,
    source: str,
    tree: ast.Module,
    lines: list[str],
    todo: list[ast.stmt],
    spans: list[tuple[int, int, int]],
    deadline: float,
    found: tuple[Statement, ...] | None,
) -> _Run:
    """Find (unless `found` are given) and check the statements of the blocks `todo` (`spans`:
    first line, last line, id)."""
    from dbheal_lsp.analysis.databases import DatabaseRouter
    from dbheal_lsp.analysis.statement import unknown_slots
    from dbheal_lsp.languages.python.extract import OutOfTime

    run = _Run(found={id(n): ([], 0, 0) for n in todo})
    try:
        if found is not None:
            statements = found
        else:
            statements = extractor.extract(source, tree, todo, lines, deadline) if todo else ()
        run.extracted = len(statements)
    except OutOfTime:  # its budget went on reading the file's strings: none was checked
        statements, run.stopped_at = (), spans[0][0]
        run.unfinished = {id(n) for n in todo}
    if isinstance(checker, DatabaseRouter):
        checker.expect(statements)
    for statement in statements:
        owner = next((k for s, e, k in spans if s <= statement.span.line <= e), None)
        if run.stopped_at is None and time.monotonic() >= deadline:
            run.stopped_at = statement.span.line
        if run.stopped_at is not None:
            if owner is not None:
                run.unfinished.add(owner)
            continue
        try:
            result = checker.check(statement, path)
        except SchemaError:
            raise
        except Exception as exc:  # one statement's failure (RecursionError included)
            line = statement.span.line
            why = f"not checked: the statement at line {line}: {why_failed(exc)}"
            run.notes.append(FileNote(path, why, line))
            if owner is not None:
                run.unfinished.add(owner)
            continue
        run.issues.extend(result)
        run.count += 1
        unknown = 1 if unknown_slots(statement) else 0
        run.partly += unknown
        if owner is not None:
            mine, n, p = run.found[owner]
            run.found[owner] = (mine + result, n + 1, p + unknown)
    return run


def shifted(issue: Issue, delta: int) -> Issue:
    """Return `issue` moved `delta` lines down (its spans and its statement's)."""
    if delta == 0:
        return issue

    def move(span: Span | None) -> Span | None:
        if span is None:
            return None
        return Span(span.line + delta, span.column, span.end_line + delta, span.end_column)

    return replace(
        issue,
        span=move(issue.span) or issue.span,
        statement_span=move(issue.statement_span),
        call_span=move(issue.call_span),
    )
