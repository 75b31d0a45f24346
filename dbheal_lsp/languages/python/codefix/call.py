"""The call being fixed: cut out of the file, parsed alone, and each candidate re-checked.

Every fix works on the text of the one call that sends the statement, never on the whole file,
so a fix costs the same in a 10,000-line file as in a 100-line one. Positions inside the call
("snippet coordinates") start at line 1, column 1 at the call's first character.
"""

from __future__ import annotations

import ast
import functools
import io
import re
import tokenize
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dbheal_lsp.analysis.positions import LineIndex
from dbheal_lsp.files import text_hash
from dbheal_lsp.languages.fix_check import clears_only
from dbheal_lsp.model import Issue, Span, TextEdit

if TYPE_CHECKING:
    import libcst as cst
    from libcst.metadata import CodeRange

    from dbheal_lsp.analysis.project import Project
    from dbheal_lsp.analysis.statement import Statement

_NEWLINE = re.compile(r"\r\n|\r|\n")
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_STAND_IN = re.compile(r"__dbheal_\d+")
# Issue types the checker can only see once every name in a statement resolves: after a rename
# they may appear, uncovered rather than caused by the edit (see `still_fixes`).


@dataclass(frozen=True)
class SourceFile:
    """The file a fix is made for: its positions and its hash (`CodeFix.source_hash`)."""

    lines: LineIndex
    digest: str


@functools.lru_cache(maxsize=4)
def source_file(source: str) -> SourceFile:
    """Return the line index and hash of the file whose text is `source`."""
    # The orchestrator asks for the fixes of several issues of the same buffer in a row: the
    # cache makes each of those cost only its call, not another hash of the file.
    return SourceFile(LineIndex(source), text_hash(source))


@dataclass(frozen=True)
class Context:
    """One issue's call, cut out of the file, with the analysis of that call alone."""

    issue: Issue
    project: Project | None
    file: SourceFile
    origin: tuple[int, int]  # the file position of the snippet's first character
    snippet: str
    snippet_lines: LineIndex
    statement: Statement
    newline: str

    @classmethod
    def build(cls, source: str, issue: Issue, project: Project | None) -> Context | None:
        """Cut the issue's call out of `source` and analyse it alone; None when the statement
        is not all written in that call, or the issue belongs to another version of the file."""
        call, statement_span = issue.call_span, issue.statement_span
        if call is None or statement_span is None:
            return None
        if not (within(issue.span, call) and within(statement_span, call)):
            return None  # the SQL (or the value) is not written in this call
        file = source_file(source)
        try:
            start = file.lines.offset(call.line, call.column)
            end = file.lines.offset(call.end_line, call.end_column)
        except ValueError:
            return None  # an issue of another version of the file
        snippet = source[start:end]
        snippet_lines = LineIndex(snippet)
        statement = _snippet_statement(snippet_lines, issue.path, project)
        if statement is None:
            return None
        match = _NEWLINE.search(snippet)
        ctx = cls(
            issue=issue,
            project=project,
            file=file,
            origin=(call.line, call.column),
            snippet=snippet,
            snippet_lines=snippet_lines,
            statement=statement,
            newline=match.group() if match else "\n",
        )
        if statement.span != ctx.relative(statement_span):
            return None
        if issue.sql is not None and not _same_sql(issue.sql, statement):
            # The file's analysis saw other SQL (a name it followed to its assignment, say)
            # than the call alone shows: the call is not the whole statement.
            return None
        return ctx

    def relative(self, span: Span) -> Span:
        """Return file span `span` in the snippet's coordinates."""
        line0, col0 = self.origin

        def rel(line: int, column: int) -> tuple[int, int]:
            return line - line0 + 1, column - col0 + 1 if line == line0 else column

        return Span(*rel(span.line, span.column), *rel(span.end_line, span.end_column))

    def absolute(self, line: int, column: int) -> tuple[int, int]:
        """Return snippet position (line, column) in the file's coordinates."""
        line0, col0 = self.origin
        return line + line0 - 1, column + col0 - 1 if line == 1 else column


def _snippet_statement(lines: LineIndex, path: str, project: Project | None) -> Statement | None:
    """The statement the call sends, as the analysis reads the call's text alone."""
    from dbheal_lsp.languages.python.analyzer import PythonAnalyzer
    from dbheal_lsp.languages.python.extract import Extractor

    snippet = lines.text
    tree = parse_python(snippet)
    if tree is None or len(tree.body) != 1 or not isinstance(tree.body[0], ast.Expr):
        return None
    analyzer = project.analyzer_for(path) if project is not None else None
    extractor = analyzer.extractor if isinstance(analyzer, PythonAnalyzer) else Extractor()
    whole = Span(1, 1, *lines.position(len(snippet)))
    for statement in extractor.extract(snippet, tree):
        if statement.call_span == whole:
            return statement
    return None


def within(inner: Span, outer: Span) -> bool:
    """Whether span `inner` lies inside span `outer` (ends included)."""
    return (outer.line, outer.column) <= (inner.line, inner.column) and (
        inner.end_line,
        inner.end_column,
    ) <= (outer.end_line, outer.end_column)


def _same_sql(sql: str, statement: Statement) -> bool:
    from dbheal_lsp.analysis.placeholders import normalize_placeholders
    from dbheal_lsp.analysis.statement import render

    def canonical(text: str) -> str:
        return _STAND_IN.sub("__dbheal_", " ".join(text.split()))

    return canonical(sql) in canonical(normalize_placeholders(render(statement).text))


def parse_python(text: str) -> ast.Module | None:
    """Parse `text` with ast, quietly; None when it is not Python this interpreter reads."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escapes are the code's business, not ours
            return ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def parse_call(ctx: Context) -> cst.Call | None:
    """Parse the call's text with libcst; None unless it is one call expression."""
    import libcst as cst

    try:
        node = cst.parse_expression(ctx.snippet)
    except (cst.ParserSyntaxError, RecursionError, ValueError):
        return None
    return node if isinstance(node, cst.Call) else None


def node_code(node: cst.CSTNode, newline: str = "\n") -> str:
    """Return the source text libcst writes for `node`, lines ended by `newline`."""
    import libcst as cst

    return cst.Module([], default_newline=newline).code_for_node(node)


def with_positions(
    call: cst.Call,
) -> tuple[cst.Module, Mapping[cst.CSTNode, CodeRange]]:
    """A module made of the call alone, and the positions of its nodes (snippet coordinates).

    libcst computes positions for modules only; the call starts the module's first line just
    as it starts the snippet, so the two coordinate systems are the same.
    """
    import libcst as cst
    from libcst.metadata import MetadataWrapper, PositionProvider

    module = cst.Module(body=[cst.SimpleStatementLine([cst.Expr(call)])])
    positions = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    return module, positions


def call_of(module: cst.Module) -> cst.BaseExpression:
    """The expression of a module made by `with_positions`, after a transformer ran on it."""
    import libcst as cst

    line = module.body[0]
    assert isinstance(line, cst.SimpleStatementLine) and isinstance(line.body[0], cst.Expr)
    return line.body[0].value


def range_span(pos: CodeRange) -> Span:
    """Return a libcst CodeRange (0-based columns) as a snippet Span (1-based)."""
    return Span(pos.start.line, pos.start.column + 1, pos.end.line, pos.end.column + 1)


def find_call(positions: Mapping[cst.CSTNode, CodeRange], target: Span) -> cst.Call | None:
    """The call node whose source is exactly at `target` (snippet coordinates)."""
    import libcst as cst

    for node, pos in positions.items():
        if isinstance(node, cst.Call) and range_span(pos) == target:
            return node
    return None


def shorten(text: str, limit: int = 40) -> str:
    """`text` on one line, cut to `limit` characters with an ellipsis, for a fix's title."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class Candidate:
    """A fix as a transformer proposes it: the call's new text, not checked yet."""

    kind: str
    id: str
    title: str
    new_snippet: str
    token: str | None = None  # rename: the name replaced
    replacement: str | None = None  # rename: the name it becomes


def snippet_edit(ctx: Context, old: str, new: str) -> TextEdit | None:
    """Return the one edit (in snippet coordinates) that turns `old` into `new`, trimmed."""
    if old == new:
        return None
    limit = min(len(old), len(new))
    prefix = 0
    while prefix < limit and old[prefix] == new[prefix]:
        prefix += 1
    suffix = 0
    while suffix < limit - prefix and old[-1 - suffix] == new[-1 - suffix]:
        suffix += 1
    # Never cut a \r\n in two: a position between them is on no line an editor knows.
    if 0 < prefix < len(old) and old[prefix - 1] == "\r" and old[prefix] == "\n":
        prefix -= 1
    old_end = len(old) - suffix
    if 0 < old_end < len(old) and old[old_end - 1] == "\r" and old[old_end] == "\n":
        suffix -= 1
        old_end += 1
    lines = ctx.snippet_lines
    return TextEdit(
        ctx.issue.path,
        Span(*lines.position(prefix), *lines.position(old_end)),
        new[prefix : len(new) - suffix],
    )


def count_comments(code: str) -> int:
    """Return how many comments `code` holds; -1 when it does not tokenize."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(code).readline))
    except (tokenize.TokenError, SyntaxError):
        return -1
    return sum(1 for t in tokens if t.type == tokenize.COMMENT)


def still_fixes(ctx: Context, candidate: Candidate) -> bool:
    """Re-analyse the call alone before and after: the issue gone, nothing added."""
    assert ctx.project is not None
    issue = ctx.issue
    before = ctx.project.check_source(issue.path, ctx.snippet)
    after = ctx.project.check_source(issue.path, candidate.new_snippet)
    if after.notes:
        return False
    return clears_only(
        issue, before.issues, after.issues, candidate.kind, candidate.token, candidate.replacement
    )
