"""Code fixes: edits to the Python code that sends a statement, made with libcst and checked.

Three kinds of fix, each a `CodeFix` of one minimal `TextEdit`:

- ``remove_cast`` (TYPE_MISMATCH made by a cast): ``(int(sku),)`` becomes ``(sku,)``. When the
  cast sits inside the SQL text itself (``f"... = {int(user_id)}"``) it is what keeps the value
  from carrying SQL, so dropping it alone would open an injection; there the fix drops the cast
  *and* binds the value as a parameter (``"... = ?", (user_id,)``).
- ``parameterize`` (SQL_INJECTION): an f-string, ``%``-formatted, ``.format()``-ed or
  ``+``-concatenated query written inline in the call becomes a parameterized query in the
  driver's placeholder style, merged with the parameters the call already passes.
- ``rename`` (MISSING_COLUMN / MISSING_TABLE with a "did you mean"): the misspelt name is
  replaced by the suggestion.

Every fix works on the text of the one call that sends the statement, never on the whole file:
the call is cut out by `Issue.call_span`, parsed with ``libcst.parse_expression``, transformed,
regenerated, and diffed against the old text, so a fix costs the same in a 10,000-line file as
in a 100-line one. Before it is offered, the edit is applied to the call's text, the result must
parse, and (given a `Project`) the old and the new call are checked alone: the issue must be gone
and nothing may be added. Anything unexpected gives no fix rather than a wrong one.

libcst is imported inside the functions that need it, so importing this module stays cheap.
"""

from __future__ import annotations

import ast
import bisect
import difflib
import hashlib
import io
import itertools
import logging
import re
import tokenize
import warnings
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, TypeVar

from dbheal_lsp.analysis.positions import decode_escape
from dbheal_lsp.model import CodeFix, Issue, IssueType, Span, TextEdit

if TYPE_CHECKING:
    import libcst as cst
    from libcst.metadata import CodeRange

    from dbheal_lsp.analysis.engine import Project
    from dbheal_lsp.analysis.statement import Rendered, Statement

__all__ = ["apply_edits", "code_fixes", "unified_diff"]

_log = logging.getLogger(__name__)

_CASTS = frozenset({"int", "float", "str", "bool", "Decimal"})
_NEWLINE = re.compile(r"\r\n|\r|\n")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_STAND_IN = re.compile(r"__dbheal_\d+")
_OPEN_OCTAL = re.compile(r"(?<!\\)(?:\\\\)*\\[0-7]{1,2}\Z")  # a body ending in \1 or \12

# Issue types the checker can only see once every name in a statement resolves: after a rename
# they may appear, uncovered rather than caused by the edit (see `_still_fixes`).
_REVEALED_BY_RENAME = frozenset(
    {IssueType.MISSING_INDEX, IssueType.TYPE_MISMATCH, IssueType.SCHEMA_DRIFT}
)

Family = Literal["sqlite3", "psycopg", "asyncpg"]
ParamStyle = Literal["qmark", "named", "format", "pyformat", "numeric"]

# `style` accepts driver names and DB-API paramstyle names (which also fix named vs positional).
_STYLE_NAMES: dict[str, tuple[Family, ParamStyle | None]] = {
    "sqlite3": ("sqlite3", None),
    "sqlite": ("sqlite3", None),
    "qmark": ("sqlite3", "qmark"),
    "named": ("sqlite3", "named"),
    "psycopg": ("psycopg", None),
    "psycopg2": ("psycopg", None),
    "psycopg3": ("psycopg", None),
    "format": ("psycopg", "format"),
    "pyformat": ("psycopg", "pyformat"),
    "asyncpg": ("asyncpg", "numeric"),
    "numeric": ("asyncpg", "numeric"),
}
_FAMILY_OF: dict[ParamStyle, Family] = {
    "qmark": "sqlite3",
    "named": "sqlite3",
    "format": "psycopg",
    "pyformat": "psycopg",
    "numeric": "asyncpg",
}
_ASYNCPG_CALLS = frozenset({"fetch", "fetchrow", "fetchval"})
_PARAMS_KEYWORDS = ("parameters", "params", "vars", "args")


# --- public API -------------------------------------------------------------------------------


def code_fixes(
    source: str, issue: Issue, project: Project | None = None, *, style: str | None = None
) -> tuple[CodeFix, ...]:
    """Return every checked code fix for `issue` in the file whose current text is `source`.

    `issue.path` names the file; `issue.call_span` and `issue.statement_span` must be set (the
    engine sets them). Kinds by issue type:

    - TYPE_MISMATCH with a cast helper: ``remove_cast``. In a parameters tuple, list, dict or
      asyncpg argument the cast is simply dropped. Inside the SQL text the cast is dropped and
      the statement parameterized, as below: an uncast interpolation would be an injection.
    - SQL_INJECTION: ``parameterize``, with id ``parameterize:<statement span>`` whichever slot
      the issue names, since every value slot of the statement is bound in the same edit
      (numeric casts too; literals and UPPER_CASE constants stay interpolated in an f-string or
      a + chain, and rule the fix out for % and .format(), whose formatting goes away).
      The placeholder style comes from the placeholders the statement already uses, else from
      `style` (``sqlite3``, ``psycopg``, ``asyncpg`` or a DB-API paramstyle name: ``qmark``,
      ``named``, ``format``, ``pyformat``, ``numeric``), else from the call name (fetch,
      fetchrow, fetchval: asyncpg), else sqlite3's ``?``. Positional parameters follow the order
      of the placeholders in the final SQL, existing ones included (asyncpg's ``$n`` are
      renumbered); named ones (``:name``, ``%(name)s``) are used when the call already passes a
      dict, or when every slot is keyed already (``%(name)s`` with a dict, ``.format(name=x)``).
      For psycopg, a literal ``%`` becomes ``%%`` once parameters are passed.
      A value quoted in SQL loses its quotes (``'{x}'`` -> ``?``, bound to ``x``). An unquoted
      value was read by SQL as a literal (``5``, not ``'5'``), so ``+ str(x)`` binds ``x``.
      A quoted SQL string with more than the value in it (``'%{term}%'``) becomes one
      placeholder bound to an f-string of that text (``f"%{term}%"``) rather than
      ``'%' || ? || '%'``: Python still formats the value exactly as before (``str()``, format
      specs, conversions), where ``||`` would let SQLite convert numbers to text its own way.
      No fix when an interpolated part stands for a table or column name, when the SQL is not
      written inline in the call, when a slot is not plainly a value (``WHERE {cond}``,
      ``SELECT a, {col}``, ``IN ({ids})``), for % conversions other than ``%s``, for
      executemany / executescript, SQLAlchemy ``text()`` and parameters passed as a variable.
    - MISSING_COLUMN / MISSING_TABLE with a suggestion: ``rename``, the token at `issue.span`
      replaced by the suggestion (when the SQL is written in the call: that is what can be
      re-checked).

    With `project`, each candidate is checked by re-analysing the call alone before and after
    the edit; without it, only that the edited call parses. Raises ValueError for an unknown
    `style`; never for the code (an unexpected shape gives no fix).
    """
    preference = _style_preference(style)
    try:
        ctx = _Context.build(source, issue, project)
        if ctx is None:
            return ()
        candidate = _candidate(ctx, preference)
        if candidate is None:
            return ()
        fix = _check(ctx, candidate)
        return (fix,) if fix is not None else ()
    except Exception:
        # A fix is an offer, never a requirement: a shape of code the transformers did not
        # foresee must cost the offer, not the editor session that asked for it.
        _log.debug("no code fix for %s", issue.fingerprint, exc_info=True)
        return ()


def apply_edits(source: str, edits: Sequence[TextEdit]) -> str:
    """Return `source` with `edits` applied (any order; they must not overlap).

    Spans use the engine's positions: 1-based lines (split at \\r\\n, \\r or \\n, as Python
    numbers them), 1-based code-point columns, exclusive ends. Raises ValueError for a span
    outside the text or for overlapping edits.
    """
    lines = _Lines(source)
    ranges: list[tuple[int, int, str]] = []
    for edit in edits:
        start = lines.offset(edit.span.line, edit.span.column)
        end = lines.offset(edit.span.end_line, edit.span.end_column)
        if end < start:
            raise ValueError(f"edit span ends before it starts: {edit.span}")
        ranges.append((start, end, edit.new_text))
    ranges.sort(key=lambda r: (r[0], r[1]))
    out: list[str] = []
    pos = 0
    for start, end, text in ranges:
        if start < pos:
            raise ValueError("overlapping edits")
        out.append(source[pos:start])
        out.append(text)
        pos = end
    out.append(source[pos:])
    return "".join(out)


def unified_diff(path: str, before: str, after: str) -> str:
    """Return the unified diff of `before` -> `after` with ``a/path`` and ``b/path`` headers.

    Empty when they are equal. A last line without newline is marked as git marks it.
    """
    from dbheal_lsp.analysis.positions import source_lines

    out: list[str] = []
    for line in difflib.unified_diff(
        source_lines(before), source_lines(after), f"a/{path}", f"b/{path}"
    ):
        if line.endswith(("\n", "\r")):
            out.append(line)
        else:
            out.append(line + "\n\\ No newline at end of file\n")
    return "".join(out)


# --- positions ----------------------------------------------------------------------------------


def _line_starts(text: str) -> list[int]:
    """Return the offset of the first character of each line (Python's line breaks)."""
    starts = [0]
    starts.extend(m.end() for m in _NEWLINE.finditer(text))
    return starts


def _offset(text: str, starts: Sequence[int], line: int, column: int) -> int:
    """Return the offset of (line, column) in `text`; ValueError when it is not in the text."""
    if not 1 <= line <= len(starts):
        raise ValueError(f"position {line}:{column} is outside the text")
    return _column_offset(text, starts[line - 1], line, column)


def _column_offset(text: str, line_start: int, line: int, column: int) -> int:
    """The offset of `column` on the line starting at `line_start`, if the line has it."""
    match = _NEWLINE.search(text, line_start)
    content_end = match.start() if match else len(text)
    offset = line_start + column - 1
    if column < 1 or offset > content_end:
        raise ValueError(f"position {line}:{column} is past the end of its line")
    return offset


def _position(starts: Sequence[int], offset: int) -> tuple[int, int]:
    """Return the 1-based (line, column) of `offset`, given the text's line starts."""
    line = bisect.bisect_right(starts, offset)
    return line, offset - starts[line - 1] + 1


class _Lines:
    """Offsets of positions in a (large) text, without indexing every line.

    A line's offset is found by bisecting on `str.count` of newlines, which runs at memory
    speed: about 0.1 ms for 10,000 lines, where indexing them all takes 1 to 3 ms.
    """

    def __init__(self, source: str) -> None:
        self.source = source
        # A lone \r ends a line for Python too; counting \n alone would miss it.
        lone_cr = "\r" in source and source.count("\r") != source.count("\r\n")
        self._starts = _line_starts(source) if lone_cr else None

    def offset(self, line: int, column: int) -> int:
        """The offset of (line, column); ValueError when the text has no such position."""
        if self._starts is not None:
            return _offset(self.source, self._starts, line, column)
        return _column_offset(self.source, self._line_start(line), line, column)

    def _line_start(self, line: int) -> int:
        text = self.source
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


class _FileIndex(_Lines):
    """The file a fix is made for: its positions and its hash (`CodeFix.source_hash`)."""

    def __init__(self, source: str) -> None:
        super().__init__(source)
        self.digest = hashlib.blake2b(source.encode(), digest_size=16).hexdigest()


class _LastFile:
    # The orchestrator asks for the fixes of several issues of the same buffer in a row: keep
    # the last file's index so each of those costs only its call, not another hash of the file.
    index: _FileIndex | None = None


def _file_index(source: str) -> _FileIndex:
    last = _LastFile.index
    if last is not None and (last.source is source or last.source == source):
        return last
    index = _FileIndex(source)
    _LastFile.index = index
    return index


# --- the call being fixed -------------------------------------------------------------------


@dataclass
class _Context:
    """One issue's call, cut out of the file, with the analysis of that call alone."""

    issue: Issue
    project: Project | None
    file: _FileIndex
    origin: tuple[int, int]  # the file position of the snippet's first character
    snippet: str
    snippet_starts: list[int]
    statement: Statement
    newline: str

    @classmethod
    def build(cls, source: str, issue: Issue, project: Project | None) -> _Context | None:
        call, statement_span = issue.call_span, issue.statement_span
        if call is None or statement_span is None:
            return None
        if not (_within(issue.span, call) and _within(statement_span, call)):
            return None  # the SQL (or the value) is not written in this call
        file = _file_index(source)
        try:
            start = file.offset(call.line, call.column)
            end = file.offset(call.end_line, call.end_column)
        except ValueError:
            return None  # an issue of another version of the file
        snippet = source[start:end]
        starts = _line_starts(snippet)
        statement = _snippet_statement(snippet, starts, project)
        if statement is None:
            return None
        match = _NEWLINE.search(snippet)
        ctx = cls(
            issue=issue,
            project=project,
            file=file,
            origin=(call.line, call.column),
            snippet=snippet,
            snippet_starts=starts,
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

    def snippet_offset(self, line: int, column: int) -> int:
        return _offset(self.snippet, self.snippet_starts, line, column)


def _snippet_statement(
    snippet: str, starts: list[int], project: Project | None
) -> Statement | None:
    """The statement the call sends, as the analysis reads the call's text alone."""
    from dbheal_lsp.analysis.extract import Extractor

    tree = _parse_python(snippet)
    if tree is None or len(tree.body) != 1 or not isinstance(tree.body[0], ast.Expr):
        return None
    extractor = project.extractor if project is not None else Extractor()
    whole = Span(1, 1, *_position(starts, len(snippet)))
    for statement in extractor.extract(snippet, tree):
        if statement.call_span == whole:
            return statement
    return None


def _within(inner: Span, outer: Span) -> bool:
    return (outer.line, outer.column) <= (inner.line, inner.column) and (
        inner.end_line,
        inner.end_column,
    ) <= (outer.end_line, outer.end_column)


def _same_sql(sql: str, statement: Statement) -> bool:
    from dbheal_lsp.analysis.sqlrefs import normalize_placeholders
    from dbheal_lsp.analysis.statement import render

    def canonical(text: str) -> str:
        return _STAND_IN.sub("__dbheal_", " ".join(text.split()))

    return canonical(sql) in canonical(normalize_placeholders(render(statement).text))


def _parse_python(text: str) -> ast.Module | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escapes are the code's business, not ours
            return ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def _parse_call(ctx: _Context) -> cst.Call | None:
    import libcst as cst

    try:
        node = cst.parse_expression(ctx.snippet)
    except (cst.ParserSyntaxError, RecursionError, ValueError):
        return None
    return node if isinstance(node, cst.Call) else None


def _code(node: cst.CSTNode, newline: str = "\n") -> str:
    import libcst as cst

    return cst.Module([], default_newline=newline).code_for_node(node)


# --- candidates and their check ---------------------------------------------------------------


@dataclass(frozen=True)
class _Candidate:
    kind: str
    id: str
    title: str
    new_snippet: str
    token: str | None = None  # rename: the name replaced
    replacement: str | None = None  # rename: the name it becomes


def _candidate(ctx: _Context, preference: _Preference) -> _Candidate | None:
    issue = ctx.issue
    if issue.type is IssueType.TYPE_MISMATCH and issue.helper in _CASTS:
        return _remove_cast(ctx, preference)
    if issue.type is IssueType.SQL_INJECTION:
        return _parameterize(ctx, preference)
    if issue.type in (IssueType.MISSING_COLUMN, IssueType.MISSING_TABLE) and issue.suggestion:
        return _rename(ctx)
    return None


def _check(ctx: _Context, candidate: _Candidate) -> CodeFix | None:
    """Return the candidate as a CodeFix when its edit passes every check, else None."""
    old, new = ctx.snippet, candidate.new_snippet
    edit = _snippet_edit(ctx, old, new)
    if edit is None or apply_edits(old, [edit]) != new:
        return None
    if _parse_python(new) is None or _comments(new) < _comments(old):
        return None
    if ctx.project is not None and not _still_fixes(ctx, candidate):
        return None
    start = ctx.absolute(edit.span.line, edit.span.column)
    end = ctx.absolute(edit.span.end_line, edit.span.end_column)
    issue = ctx.issue
    return CodeFix(
        id=candidate.id,
        kind=candidate.kind,
        title=candidate.title,
        path=issue.path,
        issue_fingerprint=issue.fingerprint,
        edits=(TextEdit(issue.path, Span(*start, *end), edit.new_text),),
        source_hash=ctx.file.digest,
    )


def _snippet_edit(ctx: _Context, old: str, new: str) -> TextEdit | None:
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
    starts = ctx.snippet_starts
    return TextEdit(
        ctx.issue.path,
        Span(*_position(starts, prefix), *_position(starts, old_end)),
        new[prefix : len(new) - suffix],
    )


def _comments(code: str) -> int:
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(code).readline))
    except (tokenize.TokenError, SyntaxError):
        return -1
    return sum(1 for t in tokens if t.type == tokenize.COMMENT)


def _still_fixes(ctx: _Context, candidate: _Candidate) -> bool:
    """Re-analyse the call alone before and after: the issue gone, nothing added."""
    assert ctx.project is not None
    issue = ctx.issue
    before = ctx.project.check_source(issue.path, ctx.snippet)
    after = ctx.project.check_source(issue.path, candidate.new_snippet)
    if after.notes:
        return False
    key = (issue.type, issue.message)
    old = Counter((i.type, i.message) for i in before.issues)
    new = Counter((i.type, i.message) for i in after.issues)
    if old[key] == 0 or new[key] >= old[key]:
        return False  # the call alone does not show the issue, or the edit did not clear it
    if candidate.kind == "parameterize" and any(t is IssueType.SQL_INJECTION for t, _ in new):
        return False
    if candidate.kind == "rename" and candidate.token and candidate.replacement:
        # Messages that named the old token name the new one now (SELECT * "of users").
        word = re.compile(rf"(?<!\w){re.escape(candidate.token)}(?!\w)")
        old = Counter({(t, word.sub(candidate.replacement, m)): n for (t, m), n in old.items()})
        revealed = set(_REVEALED_BY_RENAME)
        if issue.type is IssueType.MISSING_TABLE:
            revealed.add(IssueType.MISSING_COLUMN)  # columns of a table that now resolves
        new = Counter({k: n for k, n in new.items() if k[0] not in revealed})
    added = new - old
    return not added


# --- styles -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Preference:
    family: Family | None
    paramstyle: ParamStyle | None


def _style_preference(style: str | None) -> _Preference:
    if style is None:
        return _Preference(None, None)
    key = style.strip().lower()
    if key not in _STYLE_NAMES:
        names = ", ".join(sorted(_STYLE_NAMES))
        raise ValueError(f"unknown placeholder style {style!r} (expected one of: {names})")
    family, paramstyle = _STYLE_NAMES[key]
    return _Preference(family, paramstyle)


# --- remove_cast --------------------------------------------------------------------------------


def _remove_cast(ctx: _Context, preference: _Preference) -> _Candidate | None:
    import libcst as cst

    issue = ctx.issue
    helper = issue.helper or ""
    target = ctx.relative(issue.span)
    call = _parse_call(ctx)
    if call is None:
        return None
    where = f" ({issue.table}.{issue.column_name} is {issue.db_type})" if issue.table else ""
    slot_spans = [s.value.span for s in ctx.statement.slots]
    if target in slot_spans:
        # The cast is inside the SQL text, where it is what keeps SQL out of the value:
        # drop it only together with binding the value as a parameter.
        cast = _find_cast(call, target, helper)
        if cast is None:
            return None
        override = {slot_spans.index(target): cast.args[0].value}
        plan = _plan_parameterize(ctx, call, preference, override)
        if plan is None:
            return None
        new_call = _apply_plan(call, plan)
        shown = _short(_code(cast.args[0].value))
        return _Candidate(
            "remove_cast",
            f"remove_cast:{issue.fingerprint}",
            f"Remove the {helper}() cast and pass {shown} as a bound parameter{where}",
            _code(new_call, ctx.newline),
        )
    params = ctx.statement.parameters or ()
    if target not in [p.value.span for p in params]:
        return None  # neither an interpolated value nor a bound parameter
    module, positions = _with_positions(call)

    class RemoveCast(cst.CSTTransformer):
        """Replace the one cast call at the issue's span by its argument."""

        def __init__(self) -> None:
            super().__init__()
            self.replaced = 0

        def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
            pos = positions.get(original_node)
            if pos is None or _span_of(pos) != target or not _is_cast(original_node, helper):
                return updated_node
            self.replaced += 1
            return updated_node.args[0].value

    transformer = RemoveCast()
    new_call = _call_of(module.visit(transformer))
    if transformer.replaced != 1 or "#" in _code(_find_call(positions, target) or call):
        return None  # not exactly our cast, or one with a comment inside that would be lost
    return _Candidate(
        "remove_cast",
        f"remove_cast:{issue.fingerprint}",
        f"Remove the {helper}() cast{where}",
        _code(new_call, ctx.newline),
    )


def _with_positions(
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


def _call_of(module: cst.Module) -> cst.BaseExpression:
    """The expression of a module made by `_with_positions`, after a transformer ran on it."""
    import libcst as cst

    line = module.body[0]
    assert isinstance(line, cst.SimpleStatementLine) and isinstance(line.body[0], cst.Expr)
    return line.body[0].value


def _span_of(pos: CodeRange) -> Span:
    """Return a libcst CodeRange (0-based columns) as a snippet Span (1-based)."""
    return Span(pos.start.line, pos.start.column + 1, pos.end.line, pos.end.column + 1)


def _find_call(positions: Mapping[cst.CSTNode, CodeRange], target: Span) -> cst.Call | None:
    """The call node whose source is exactly at `target` (snippet coordinates)."""
    import libcst as cst

    for node, pos in positions.items():
        if isinstance(node, cst.Call) and _span_of(pos) == target:
            return node
    return None


def _is_cast(node: cst.Call, helper: str) -> bool:
    import libcst as cst

    func = node.func
    name = func.value if isinstance(func, cst.Name) else None
    if isinstance(func, cst.Attribute):
        name = func.attr.value
    if name != helper or len(node.args) != 1:
        return False
    arg = node.args[0]
    # int(x, 16) or int(*xs) is not a plain cast: removing it would change the value.
    return arg.keyword is None and arg.star == ""


def _find_cast(call: cst.Call, target: Span, helper: str) -> cst.Call | None:
    """The plain cast call at `target`, unless a comment inside it would be lost."""
    _, positions = _with_positions(call)
    node = _find_call(positions, target)
    if node is not None and _is_cast(node, helper) and "#" not in _code(node):
        return node
    return None


def _short(text: str, limit: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- rename -----------------------------------------------------------------------------------

# The string parts a misspelt name can stand in: a plain literal, or the text of an f-string.
_StringPart = TypeVar("_StringPart", "cst.SimpleString", "cst.FormattedStringText")


def _rename(ctx: _Context) -> _Candidate | None:
    import libcst as cst

    issue = ctx.issue
    suggestion = issue.suggestion or ""
    target = ctx.relative(issue.span)
    if target.line != target.end_line or not _IDENTIFIER.match(suggestion):
        return None
    start = ctx.snippet_offset(target.line, target.column)
    end = ctx.snippet_offset(target.end_line, target.end_column)
    token = ctx.snippet[start:end]
    expected = issue.column_name if issue.type is IssueType.MISSING_COLUMN else issue.table
    if not token or expected is None or token.lower() != expected.lower().rpartition(".")[2]:
        return None  # the span is not the bare name as written (an escape, a fallback span)
    call = _parse_call(ctx)
    if call is None:
        return None
    module, positions = _with_positions(call)

    def replaced(value: str, pos: CodeRange) -> str | None:
        node_span = _span_of(pos)
        if not _within(target, node_span):
            return None
        # The offset of the token in the node's source text, lines counted as Python does.
        starts = _line_starts(value)
        line = target.line - node_span.line
        if line >= len(starts):
            return None
        column = target.column - node_span.column if line == 0 else target.column - 1
        offset = starts[line] + column
        if value[offset : offset + len(token)] != token:
            return None
        return value[:offset] + suggestion + value[offset + len(token) :]

    class Rename(cst.CSTTransformer):
        """Replace the misspelt name inside the one string part that holds it."""

        def __init__(self) -> None:
            super().__init__()
            self.replaced = 0

        def _rename_in(self, original_node: _StringPart, updated_node: _StringPart) -> _StringPart:
            new = replaced(original_node.value, positions[original_node])
            if new is None:
                return updated_node
            self.replaced += 1
            return updated_node.with_changes(value=new)

        def leave_SimpleString(
            self, original_node: cst.SimpleString, updated_node: cst.SimpleString
        ) -> cst.SimpleString:
            return self._rename_in(original_node, updated_node)

        def leave_FormattedStringText(
            self, original_node: cst.FormattedStringText, updated_node: cst.FormattedStringText
        ) -> cst.FormattedStringText:
            return self._rename_in(original_node, updated_node)

    transformer = Rename()
    new_call = _call_of(module.visit(transformer))
    if transformer.replaced != 1:
        return None
    what = "column" if issue.type is IssueType.MISSING_COLUMN else "table"
    return _Candidate(
        "rename",
        f"rename:{issue.fingerprint}",
        f"Change {what} '{token}' to '{suggestion}'",
        _code(new_call, ctx.newline),
        token=token,
        replacement=suggestion,
    )


# --- parameterize: the model of a SQL argument --------------------------------------------------


@dataclass(eq=False)
class _Unit:
    """The smallest piece of a string literal's source: a character, an escape, a '{{'."""

    raw: str  # as written
    text: str  # the character of the Python string it stands for ('' for a line continuation)
    out: str | None = None  # what to write instead of `raw` (None: keep)
    before: str = ""  # source text to insert before it


@dataclass(eq=False)
class _Field:
    """An f-string replacement field."""

    node: cst.FormattedStringExpression
    removed: bool = False
    before: str = ""


@dataclass(eq=False)
class _Leaf:
    """One string literal (a SimpleString or a FormattedString) split into units and fields."""

    node: cst.SimpleString | cst.FormattedString
    prefix: str
    quote: str
    parts: list[_Unit | _Field]
    tail: str = ""  # source text to append to the body


@dataclass(eq=False)
class _Operand:
    """A string expression (its leaves) or, in a + chain, any other operand (a slot)."""

    node: cst.BaseExpression
    leaves: list[_Leaf] | None  # None: not a string, the operand is a slot
    removed: bool = False


@dataclass(eq=False)
class _Item:
    """One character of the SQL text, or one interpolated slot, in source order."""

    char: str | None  # None for a slot
    units: list[_Unit] = field(default_factory=list)  # the char's, or a % / format spec's
    fstring: _Field | None = None  # an f-string slot
    operand: _Operand | None = None  # a + operand slot
    value: cst.BaseExpression | None = None  # a slot's Python value
    key: str | None = None  # %(key)s or {key}
    conversion: str = ""  # f-string / format: "r", "s" or "a"
    spec: str = ""  # format: the format spec (f-string specs stay in `fstring`)
    bare: bool = True  # a slot formatted as plain str(): no conversion, spec or "="
    escape: bool = False  # "%%" or "{{" of % / .format(): one char once the formatting goes


@dataclass(eq=False)
class _Model:
    kind: Literal["string", "concat", "percent", "format"]
    node: cst.BaseExpression
    operands: list[_Operand]
    operators: list[cst.BaseBinaryOp]  # "concat": the + between operand i and i + 1
    items: list[_Item]


def _units(body: str, *, raw: bool, fstring: bool) -> list[_Unit] | None:
    """Split a literal's body (as written) into units; None for a form not understood."""
    out: list[_Unit] = []
    i, n = 0, len(body)
    while i < n:
        ch = body[i]
        if ch in "\r\n":
            size = 2 if body.startswith("\r\n", i) else 1
            out.append(_Unit(body[i : i + size], "\n"))  # Python reads every newline as \n
            i += size
            continue
        if fstring and ch in "{}":
            if not body.startswith(ch * 2, i):
                return None
            out.append(_Unit(ch * 2, ch))
            i += 2
            continue
        if ch == "\\" and not raw:
            unit = _escape(body, i)
            if unit is None:
                return None
            out.append(unit)
            i += len(unit.raw)
            continue
        out.append(_Unit(ch, ch))
        i += 1
    return out


def _escape(body: str, i: int) -> _Unit | None:
    decoded = decode_escape(body, i)
    if decoded is None:
        return None
    text, end = decoded
    return _Unit(body[i:end], text)


def _split_literal(value: str) -> tuple[str, str, str] | None:
    """Return (prefix, quote, body) of a string literal's source."""
    m = re.match(r"([A-Za-z]*)('''|\"\"\"|'|\")", value)
    if m is None or not value.endswith(m.group(2)) or len(value) < m.end() + len(m.group(2)):
        return None
    prefix, quote = m.group(1), m.group(2)
    return prefix, quote, value[m.end() : len(value) - len(quote)]


def _leaves(node: cst.BaseExpression) -> list[_Leaf] | None:
    """Return the literals of a str expression (implicit concatenation included), else None."""
    import libcst as cst

    if isinstance(node, cst.ConcatenatedString):
        left, right = _leaves(node.left), _leaves(node.right)
        return None if left is None or right is None else left + right
    if isinstance(node, cst.SimpleString):
        split = _split_literal(node.value)
        if split is None or "b" in split[0].lower():
            return None
        prefix, quote, body = split
        units = _units(body, raw="r" in prefix.lower(), fstring=False)
        return None if units is None else [_Leaf(node, prefix, quote, list(units))]
    if isinstance(node, cst.FormattedString):
        prefix = node.start[: len(node.start) - len(node.end)]
        if set(prefix.lower()) - set("rf") or node.start[len(prefix) :] != node.end:
            return None  # bytes or template strings, or a form we do not know
        parts: list[_Unit | _Field] = []
        for part in node.parts:
            if isinstance(part, cst.FormattedStringText):
                units = _units(part.value, raw="r" in prefix.lower(), fstring=True)
                if units is None:
                    return None
                parts.extend(units)
            elif isinstance(part, cst.FormattedStringExpression):
                parts.append(_Field(part))
            else:
                return None
        return [_Leaf(node, prefix, node.end, parts)]
    return None


def _python_items(leaves: list[_Leaf]) -> list[_Item]:
    """The characters and f-string fields of `leaves`, in order."""
    items: list[_Item] = []
    for leaf in leaves:
        for part in leaf.parts:
            if isinstance(part, _Unit):
                if part.text:
                    items.append(_Item(part.text, [part]))
                continue
            node = part.node
            bare = node.conversion is None and node.format_spec is None and node.equal is None
            items.append(
                _Item(
                    None,
                    fstring=part,
                    value=node.expression,
                    conversion=node.conversion or "",
                    bare=bare,
                )
            )
    return items


def _read_sql(node: cst.BaseExpression) -> _Model | None:
    """Return the model of the SQL argument `node`, or None for a shape not handled."""
    import libcst as cst

    leaves = _leaves(node)
    if leaves is not None:
        operand = _Operand(node, leaves)
        return _Model("string", node, [operand], [], _python_items(leaves))
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Add):
        return _read_concat(node)
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Modulo):
        template = _leaves(node.left)
        if template is None or any(isinstance(leaf.node, cst.FormattedString) for leaf in template):
            return None
        items = _percent_items(_python_items(template), node.right)
        if items is None:
            return None
        return _Model("percent", node, [_Operand(node.left, template)], [], items)
    if (
        isinstance(node, cst.Call)
        and isinstance(node.func, cst.Attribute)
        and node.func.attr.value == "format"
    ):
        template = _leaves(node.func.value)
        if template is None or any(isinstance(leaf.node, cst.FormattedString) for leaf in template):
            return None
        items = _format_items(_python_items(template), node)
        if items is None:
            return None
        return _Model("format", node, [_Operand(node.func.value, template)], [], items)
    return None


def _read_concat(node: cst.BinaryOperation) -> _Model | None:
    import libcst as cst

    operands: list[cst.BaseExpression] = []
    operators: list[cst.BaseBinaryOp] = []
    current: cst.BaseExpression = node
    # a + b + c is ((a + b) + c): walk down the left spine while it is an unparenthesized +.
    while (
        isinstance(current, cst.BinaryOperation)
        and isinstance(current.operator, cst.Add)
        and (current is node or not current.lpar)
    ):
        operands.append(current.right)
        operators.append(current.operator)
        current = current.left
    operands.append(current)
    operands.reverse()
    operators.reverse()
    model_operands: list[_Operand] = []
    items: list[_Item] = []
    for expr in operands:
        leaves = _leaves(expr)
        operand = _Operand(expr, leaves)
        model_operands.append(operand)
        if leaves is None:
            items.append(_Item(None, operand=operand, value=expr))
        else:
            items.extend(_python_items(leaves))
    return _Model("concat", node, model_operands, operators, items)


def _percent_items(chars: list[_Item], right: cst.BaseExpression) -> list[_Item] | None:
    """SQL items of `template % right`: %% an escaped %, %s / %(key)s a slot."""
    import libcst as cst

    from dbheal_lsp.analysis.pieces import PERCENT_SPEC

    if any(c.char is None for c in chars):
        return None
    values: list[cst.BaseExpression] = [right]
    mapping: dict[str, cst.BaseExpression] = {}
    if isinstance(right, cst.Tuple):
        if any(not isinstance(e, cst.Element) for e in right.elements):
            return None
        values = [e.value for e in right.elements]
    elif isinstance(right, cst.Dict):
        for element in right.elements:
            if not isinstance(element, cst.DictElement):
                return None
            key = _string_value(element.key)
            if key is None:
                return None
            mapping[key] = element.value
    text = "".join(c.char or "" for c in chars)
    out: list[_Item] = []
    pos = 0
    position = 0
    for m in PERCENT_SPEC.finditer(text):
        out.extend(chars[pos : m.start()])
        units = [u for c in chars[m.start() : m.end()] for u in c.units]
        pos = m.end()
        if m.group() == "%%":
            out.append(_Item("%", units, escape=True))
            continue
        key = m.group("key")
        if m.group() not in ("%s", f"%({key})s"):
            return None  # %d, %r, widths...: binding would not format the value the same way
        if key is not None:
            if key not in mapping:
                return None
            out.append(_Item(None, units, value=mapping[key], key=key))
        else:
            if mapping or position >= len(values):
                return None
            out.append(_Item(None, units, value=values[position]))
            position += 1
    out.extend(chars[pos:])
    if position != (0 if mapping else len(values)):
        return None  # more values than specs: % would have raised
    return out


def _format_items(chars: list[_Item], call: cst.Call) -> list[_Item] | None:
    """SQL items of `template.format(...)`: {{ an escaped {, {} / {0} / {name} a slot."""
    from dbheal_lsp.analysis.pieces import FORMAT_FIELD

    if any(c.char is None for c in chars):
        return None
    positional: list[cst.BaseExpression] = []
    keywords: dict[str, cst.BaseExpression] = {}
    for arg in call.args:
        if arg.star:
            return None
        if arg.keyword is None:
            positional.append(arg.value)
        else:
            keywords[arg.keyword.value] = arg.value
    text = "".join(c.char or "" for c in chars)
    out: list[_Item] = []
    pos = 0
    auto = 0
    for m in FORMAT_FIELD.finditer(text):
        out.extend(chars[pos : m.start()])
        units = [u for c in chars[m.start() : m.end()] for u in c.units]
        pos = m.end()
        name = m.group("name")
        if name is None:
            out.append(_Item(m.group()[0], units, escape=True))
            continue
        rest = m.group()[1 + len(name) : -1]
        conversion = rest[1] if rest.startswith("!") else ""
        spec = rest.partition(":")[2] if ":" in rest else ""
        if "{" in spec:
            return None  # nested fields
        value: cst.BaseExpression | None = None
        key: str | None = None
        if name == "":
            value = positional[auto] if auto < len(positional) else None
            auto += 1
        elif name.isdigit():
            value = positional[int(name)] if int(name) < len(positional) else None
        elif _IDENTIFIER.match(name):
            value, key = keywords.get(name), name
        if value is None:
            return None  # attribute or index access, or a missing argument
        bare = not conversion and not spec
        out.append(
            _Item(None, units, value=value, key=key, conversion=conversion, spec=spec, bare=bare)
        )
    out.extend(chars[pos:])
    return out


def _string_value(node: cst.BaseExpression) -> str | None:
    import libcst as cst

    if isinstance(node, cst.SimpleString):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None


# --- parameterize: deciding what becomes a placeholder ------------------------------------------


@dataclass(eq=False)
class _Placeholder:
    """A placeholder of the final SQL: new (a slot bound) or existing (already in the text)."""

    start: int  # item range [start, end) it replaces or occupies
    end: int
    value: cst.BaseExpression | None = None  # new: what is bound
    hint: str | None = None  # new: a name for named styles
    key: str | None = None  # new: a name the code already gave (%(key)s, {key})
    existing: int | None = None  # existing positional: its 0-based index among the parameters
    name: str | None = None  # existing named
    text: str = ""  # the placeholder as written in the final SQL


@dataclass
class _Plan:
    new_call: cst.Call
    values: list[str]  # what is bound, for the title


def _parameterize(ctx: _Context, preference: _Preference) -> _Candidate | None:
    call = _parse_call(ctx)
    if call is None:
        return None
    plan = _plan_parameterize(ctx, call, preference, {})
    if plan is None:
        return None
    new_call = _apply_plan(call, plan)
    span = ctx.issue.statement_span
    assert span is not None
    shown = ", ".join(_short(v, 30) for v in plan.values)
    title = (
        f"Pass {shown} as a bound parameter"
        if len(plan.values) == 1
        else f"Pass {shown} as bound parameters"
    )
    return _Candidate(
        "parameterize",
        f"parameterize:{span.line}:{span.column}-{span.end_line}:{span.end_column}",
        title,
        _code(new_call, ctx.newline),
    )


def _apply_plan(root: cst.Call, plan: _Plan) -> cst.BaseExpression:
    """Run the parameterize transformer: the root call becomes the one the plan built."""
    import libcst as cst

    class Parameterize(cst.CSTTransformer):
        """Swap the sending call for its parameterized form (built by `_plan_parameterize`)."""

        def visit_Call(self, node: cst.Call) -> bool:
            return False  # the plan already rebuilt everything below the root

        def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
            return plan.new_call if original_node is root else updated_node

    result = root.visit(Parameterize())
    assert isinstance(result, cst.BaseExpression)
    return result


def _plan_parameterize(
    ctx: _Context,
    call: cst.Call,
    preference: _Preference,
    override: dict[int, cst.BaseExpression],
) -> _Plan | None:
    """Return the call with its statement parameterized, or None when that is not safe.

    `override` binds a slot (by its order among the statement's slots) to another value: the
    cast's argument when a cast is removed together with the interpolation.
    """
    from dbheal_lsp.analysis.statement import render

    statement = ctx.statement
    if statement.call in ("executemany", "executescript") or not call.args:
        return None
    sql_arg = call.args[0]
    if sql_arg.keyword is not None or sql_arg.star:
        return None
    model = _read_sql(sql_arg.value)
    if model is None or not _aligned(model.items, statement):
        return None
    rendered = render(statement)
    slot_items = [i for i, item in enumerate(model.items) if item.char is None]
    if len(slot_items) != len(rendered.slots):
        return None
    if any(sr.role in ("identifier", "fragment") for sr in rendered.slots):
        return None  # a name, or a piece of SQL: no placeholder can stand there
    offsets = _item_offsets(model.items, rendered)
    if offsets is None:
        return None

    existing = _existing_placeholders(model.items, rendered, offsets)
    if existing is None:
        return None
    params = _existing_params(call, statement.call, existing, preference)
    if params is None:
        return None

    literals = _string_literals(model.items)
    placeholders: list[_Placeholder] = list(existing.placeholders)
    done_literals: set[tuple[int, int]] = set()
    values: list[str] = []
    for order, (index, slot_range) in enumerate(zip(slot_items, rendered.slots, strict=True)):
        item = model.items[index]
        info = slot_range.slot.value
        overridden = order in override
        if info.safe_identifier:
            return None  # passed through an identifier helper: meant as a name
        if slot_range.role == "in_string":
            literal = literals.get(index)
            if literal is None or overridden:
                return None
            if info.constant or literal in done_literals:
                continue  # a constant alone stays; a string already replaced as a whole
            done_literals.add(literal)
            placeholder = _literal_placeholder(model, literal)
            if placeholder is None:
                return None
            placeholders.append(placeholder)
            bare = placeholder.value is item.value
            values.append(
                info.source if bare or placeholder.value is None else _code(placeholder.value)
            )
            continue
        if info.constant and not overridden:
            continue  # a literal or a module constant stays interpolated
        # A value outside quotes: it must plainly stand where SQL expects a value.
        if not item.bare or not _value_context(rendered.text, slot_range.start, slot_range.end):
            return None
        value = override.get(order, item.value)
        if value is None:
            return None
        if not overridden:
            # Unquoted, SQL read the value's text as a literal (5, not '5'): `+ str(x)` had
            # str() only for the concatenation, and binding x keeps what SQL saw.
            value = _without_str(value)
        placeholders.append(
            _Placeholder(index, index + 1, value=value, hint=_hint(value), key=item.key)
        )
        values.append(info.source if value is item.value else _code(value))
    if not values:
        return None
    if model.kind in ("percent", "format"):
        # The formatting goes away, so no slot may stay interpolated.
        covered = {i for p in placeholders if p.value is not None for i in range(p.start, p.end)}
        if any(i not in covered for i in slot_items):
            return None
    placeholders.sort(key=lambda p: p.start)
    if _overlapping(placeholders):
        return None

    family, paramstyle = _choose_style(model, existing, params, preference, placeholders)
    if family is None or paramstyle is None:
        return None
    new_params = _bind(placeholders, paramstyle, params, model)
    if new_params is None:
        return None
    if not _edit_items(model, placeholders, existing, family, params):
        return None
    new_sql = _rebuild_sql(model)
    if new_sql is None:
        return None
    new_call = _rebuild_call(call, new_sql, new_params, params)
    if new_call is None:
        return None
    return _Plan(new_call, values)


def _aligned(items: list[_Item], statement: Statement) -> bool:
    """Return whether the model reads the same SQL text and slots as the analysis did."""
    from dbheal_lsp.analysis.statement import TextPiece

    def runs(seq: Iterable[str | None]) -> list[str | None]:
        out: list[str | None] = []
        for part in seq:
            if part is not None and out and out[-1] is not None:
                out[-1] = (out[-1] or "") + part
            elif part != "":
                out.append(part)
        return out

    mine = runs(item.char for item in items)
    theirs = runs(p.text if isinstance(p, TextPiece) else None for p in statement.pieces)
    return mine == theirs


def _item_offsets(items: list[_Item], rendered: Rendered) -> list[int] | None:
    """Return the offset in the rendered SQL of each item (a slot: its stand-in's start)."""
    offsets: list[int] = []
    pos = 0
    slots = iter(rendered.slots)
    for item in items:
        offsets.append(pos)
        if item.char is None:
            slot_range = next(slots)
            if slot_range.start != pos:
                return None
            pos = slot_range.end
        else:
            if rendered.text[pos : pos + 1] != item.char:
                return None
            pos += 1
    offsets.append(pos)
    return offsets if pos == len(rendered.text) else None


@dataclass
class _Existing:
    placeholders: list[_Placeholder]
    kinds: set[ParamStyle]
    percent_escapes: bool  # "%%" outside strings: the text is already written for psycopg


# Placeholders a statement may already use, outside strings and comments.
_EXISTING = re.compile(
    r"\?(?P<qmark>\d*)"
    r"|(?<![:\w]):(?P<named>[A-Za-z_]\w*)"
    r"|[@$](?P<other>[A-Za-z_]\w*)"
    r"|\$(?P<numeric>\d+)"
    r"|%\((?P<pyformat>\w+)\)s"
    r"|(?P<format>%s)"
    r"|(?P<escape>%%)"
)


def _existing_placeholders(
    items: list[_Item], rendered: Rendered, offsets: list[int]
) -> _Existing | None:
    from dbheal_lsp.analysis.sqlrefs import masked
    from dbheal_lsp.analysis.statement import is_stand_in

    by_offset = {offsets[i]: i for i in range(len(items))}
    by_offset[offsets[-1]] = len(items)
    found: list[_Placeholder] = []
    kinds: set[ParamStyle] = set()
    escapes = False
    positional = 0
    for m in _EXISTING.finditer(masked(rendered.text)):
        if m.group("escape"):
            escapes = True
            continue
        if m.group("named") and is_stand_in(m.group("named")):
            continue
        if m.group("other") or (m.group("qmark") or "") != "":
            return None  # @name, $name, ?NNN: styles we do not write
        start, end = by_offset.get(m.start()), by_offset.get(m.end())
        if start is None or end is None:
            return None
        placeholder = _Placeholder(start, end, text=m.group())
        if m.group("named") or m.group("pyformat"):
            kinds.add("named" if m.group("named") else "pyformat")
            placeholder.name = m.group("named") or m.group("pyformat")
        elif m.group("numeric"):
            kinds.add("numeric")
            placeholder.existing = int(m.group("numeric")) - 1
        else:
            kinds.add("qmark" if m.group() == "?" else "format")
            placeholder.existing = positional
            positional += 1
        found.append(placeholder)
    if len(kinds) > 1:
        return None  # a mix of styles: nothing sensible to add to it
    return _Existing(found, kinds, escapes)


@dataclass
class _Params:
    """The parameters the call passes now, and where."""

    node: cst.BaseExpression | None  # the tuple, list or dict (sqlite3, psycopg)
    index: int | None  # its index in call.args
    positional: list[cst.BaseExpression]  # their values in order (asyncpg: the extra args)
    names: list[str]  # a dict's keys
    named: bool  # passed as a dict
    args_style: bool  # asyncpg: conn.fetch(sql, a, b)


def _existing_params(
    call: cst.Call, name: str, existing: _Existing, preference: _Preference
) -> _Params | None:
    import libcst as cst

    args = list(call.args)
    args_style = "numeric" in existing.kinds or (
        not existing.kinds
        and (
            preference.family == "asyncpg" or (preference.family is None and name in _ASYNCPG_CALLS)
        )
    )
    if args_style:
        extra = [a for a in args[1:] if a.keyword is None]
        if any(a.star for a in extra):
            return None
        return _Params(None, None, [a.value for a in extra], [], False, True)
    index: int | None = None
    for i, arg in enumerate(args[1:], start=1):
        if arg.star:
            return None
        if arg.keyword is None:
            if i != 1:
                return None  # execute(sql, a, b): not a DB-API call we know
            index = i
        elif arg.keyword.value in _PARAMS_KEYWORDS:
            index = i
    if index is None:
        return _Params(None, None, [], [], False, False)
    node = args[index].value
    if isinstance(node, (cst.Tuple, cst.List)):
        if any(not isinstance(e, cst.Element) for e in node.elements):
            return None
        return _Params(node, index, [e.value for e in node.elements], [], False, False)
    if isinstance(node, cst.Dict):
        names: list[str] = []
        for element in node.elements:
            key = _string_value(element.key) if isinstance(element, cst.DictElement) else None
            if key is None:
                return None
            names.append(key)
        return _Params(node, index, [], names, True, False)
    return None  # a name or a call: we cannot see, nor add to, what it holds


def _choose_style(
    model: _Model,
    existing: _Existing,
    params: _Params,
    preference: _Preference,
    placeholders: list[_Placeholder],
) -> tuple[Family | None, ParamStyle | None]:
    """The driver family and paramstyle to write, from what the code already says first."""
    if existing.kinds:
        paramstyle = next(iter(existing.kinds))
        family: Family = _FAMILY_OF[paramstyle]
        if model.kind == "percent" and family == "psycopg":
            return None, None  # its %s would be read by % formatting too
        named = paramstyle in ("named", "pyformat")
        if named != params.named or (params.node is None and not params.args_style):
            return None, None  # placeholders the parameters do not match: already broken
        return family, paramstyle
    if params.args_style:
        family = "asyncpg"
    elif preference.family is not None:
        family = preference.family
    else:
        family = "sqlite3"
    new = [p for p in placeholders if p.existing is None and p.name is None]
    if family == "asyncpg":
        if params.named:
            return None, None
        return family, "numeric"
    if preference.paramstyle is not None and preference.family == family:
        wanted = preference.paramstyle
        if (wanted in ("named", "pyformat")) != params.named and params.node is not None:
            return None, None
        return family, wanted
    keyed = bool(new) and all(p.key is not None for p in new)
    named = params.named or (params.node is None and keyed)
    if family == "sqlite3":
        return family, "named" if named else "qmark"
    return family, "pyformat" if named else "format"


def _bind(
    placeholders: list[_Placeholder],
    paramstyle: ParamStyle,
    params: _Params,
    model: _Model,
) -> cst.BaseExpression | list[cst.BaseExpression] | None:
    """Write each placeholder's text; return the parameters to pass (node, or asyncpg's list)."""
    import libcst as cst

    if paramstyle in ("named", "pyformat"):
        taken = set(params.names)
        entries: list[tuple[str, cst.BaseExpression]] = []
        bound: dict[str, cst.BaseExpression] = {}
        for p in placeholders:
            if p.name is not None:  # an existing one: its key must be passed
                if p.name not in taken:
                    return None
            else:
                assert p.value is not None
                if p.key is not None and p.key in bound and bound[p.key] is p.value:
                    p.name = p.key  # the same %(key)s / {key} twice: one entry
                else:
                    p.name = _unique(p.key or p.hint or "param", taken)
                    taken.add(p.name)
                    bound[p.key or p.name] = p.value
                    entries.append((p.name, p.value))
                p.text = f":{p.name}" if paramstyle == "named" else f"%({p.name})s"
        reuse = _reusable_dict(model, entries)
        if reuse is not None and params.node is None:
            return reuse
        base = params.node if isinstance(params.node, cst.Dict) else cst.Dict([])
        elements = [
            cst.DictElement(cst.SimpleString(_python_str(name)), value) for name, value in entries
        ]
        old_elements = list(base.elements)
        if any(not isinstance(e, cst.DictElement) for e in old_elements):
            return None
        merged = [e for e in old_elements if isinstance(e, cst.DictElement)] + elements
        return base.with_changes(
            elements=_with_commas(merged[: len(old_elements)], merged, opening=_opening(base))
        )
    order: list[cst.BaseExpression] = []
    numbers: dict[int, int] = {}  # asyncpg: old $n index -> new number
    for p in placeholders:
        if p.existing is not None:
            if p.existing >= len(params.positional):
                return None
            if paramstyle == "numeric":
                if p.existing not in numbers:
                    order.append(params.positional[p.existing])
                    numbers[p.existing] = len(order)
                p.text = f"${numbers[p.existing]}"
            else:
                order.append(params.positional[p.existing])
            continue
        assert p.value is not None
        if any(v is p.value for v in order) and not _repeatable(p.value):
            return None  # {0} twice with a call: binding it twice would call it twice
        order.append(p.value)
        p.text = {"qmark": "?", "format": "%s", "numeric": f"${len(order)}"}[paramstyle]
    used = (
        len(numbers)
        if paramstyle == "numeric"
        else sum(1 for p in placeholders if p.existing is not None)
    )
    if used != len(params.positional):
        return None  # parameters no placeholder uses: the call is already wrong
    if paramstyle == "numeric":
        return order
    reuse_tuple = _reusable_tuple(model, order)
    if reuse_tuple is not None and params.node is None:
        return reuse_tuple
    if isinstance(params.node, (cst.Tuple, cst.List)):
        olds = [e for e in params.node.elements if isinstance(e, cst.Element)]
        by_value = {id(e.value): e for e in olds}
        kept = [by_value.get(id(v), cst.Element(v)) for v in order]
        is_tuple = isinstance(params.node, cst.Tuple)
        return params.node.with_changes(
            elements=_with_commas(olds, kept, tuple_=is_tuple, opening=_opening(params.node))
        )
    return cst.Tuple(_with_commas([], [cst.Element(v) for v in order], tuple_=True))


def _reusable_tuple(model: _Model, order: list[cst.BaseExpression]) -> cst.Tuple | None:
    """The `% (a, b)` tuple itself, when it already binds exactly `order`."""
    import libcst as cst

    if model.kind != "percent" or not isinstance(model.node, cst.BinaryOperation):
        return None
    right = model.node.right
    if (
        isinstance(right, cst.Tuple)
        and [e.value for e in right.elements if isinstance(e, cst.Element)] == order
        and len(right.elements) == len(order)
    ):
        return right
    return None


def _reusable_dict(model: _Model, entries: list[tuple[str, cst.BaseExpression]]) -> cst.Dict | None:
    """The `% {...}` dict itself, when every entry we bind comes from it under its own key."""
    import libcst as cst

    if model.kind != "percent" or not isinstance(model.node, cst.BinaryOperation):
        return None
    right = model.node.right
    if not isinstance(right, cst.Dict):
        return None
    own = {_string_value(e.key): e.value for e in right.elements if isinstance(e, cst.DictElement)}
    if all(own.get(name) is value for name, value in entries):
        return right
    return None


def _without_str(value: cst.BaseExpression) -> cst.BaseExpression:
    """x for str(x) (one plain argument); any other value as it is."""
    import libcst as cst

    if (
        isinstance(value, cst.Call)
        and isinstance(value.func, cst.Name)
        and value.func.value == "str"
        and len(value.args) == 1
        and value.args[0].keyword is None
        and not value.args[0].star
        and "#" not in _code(value)
    ):
        return value.args[0].value
    return value


def _repeatable(value: cst.BaseExpression) -> bool:
    """Whether evaluating `value` twice is the same as once: a name, attribute or literal."""
    import libcst as cst

    while isinstance(value, cst.Attribute):
        value = value.value
    return isinstance(value, (cst.Name, cst.SimpleString, cst.Integer, cst.Float))


def _unique(name: str, taken: set[str]) -> str:
    if name not in taken:
        return name
    n = 2
    while f"{name}_{n}" in taken:
        n += 1
    return f"{name}_{n}"


def _hint(value: cst.BaseExpression) -> str | None:
    """A parameter name for `value`: user_id for user_id, user.id or str(user_id)."""
    import libcst as cst

    if isinstance(value, cst.Name):
        name = value.value
    elif isinstance(value, cst.Attribute):
        name = value.attr.value
    elif isinstance(value, cst.Call) and len(value.args) == 1:
        return _hint(value.args[0].value)
    else:
        return None
    return name if _IDENTIFIER.match(name) and not name.startswith("__dbheal") else None


def _overlapping(placeholders: list[_Placeholder]) -> bool:
    """Whether two placeholders (sorted by start) claim the same SQL text."""
    return any(b.start < a.end for a, b in itertools.pairwise(placeholders))


def _string_literals(items: list[_Item]) -> dict[int, tuple[int, int]]:
    """Map each slot inside a single-quoted SQL string to that string's quote items."""
    found: dict[int, tuple[int, int]] = {}
    quote: str | None = None
    start = -1
    inside: list[int] = []
    i = 0
    while i < len(items):
        ch = items[i].char
        if ch is None:
            inside.append(i)
        elif quote is None:
            if ch in "'\"`":  # the quotes `render` tracks, so both read the same strings
                quote, start, inside = ch, i, []
        elif ch == quote:
            if i + 1 < len(items) and items[i + 1].char == quote:
                i += 2  # a doubled quote is one quote character inside the string
                continue
            if quote == "'":
                found.update(dict.fromkeys(inside, (start, i)))
            quote = None
        i += 1
    return found


def _literal_placeholder(model: _Model, literal: tuple[int, int]) -> _Placeholder | None:
    """The placeholder replacing a quoted SQL string that holds slots, quotes included."""
    import libcst as cst

    start, end = literal
    content = model.items[start + 1 : end]
    if len(content) == 1 and content[0].char is None and content[0].bare:
        value = content[0].value
        if value is None:
            return None
        return _Placeholder(start, end + 1, value=value, hint=_hint(value), key=content[0].key)
    # More than the value: bind the whole text as an f-string that formats it the same way.
    code = _fstring_code(content)
    if code is None:
        return None
    value = cst.parse_expression(code)
    hints = [_hint(i.value) for i in content if i.value is not None]
    return _Placeholder(start, end + 1, value=value, hint=next((h for h in hints if h), None))


def _fstring_code(content: list[_Item]) -> str | None:
    """Source of an f-string with the value of the SQL string `content` ('' read as ')."""
    fields: list[str] = []
    for item in content:
        if item.char is None:
            code = _field_code(item)
            if code is None:
                return None
            fields.append(code)
    joined = "".join(fields)
    if "\\" in joined or "\n" in joined or "\r" in joined or "#" in joined:
        return None  # not allowed inside an f-string's fields before Python 3.12
    quote = '"' if '"' not in joined else "'"
    if quote in joined:
        return None
    out: list[str] = []
    fields_iter = iter(fields)
    i = 0
    while i < len(content):
        item = content[i]
        if item.char is None:
            out.append(next(fields_iter))
        else:
            ch = item.char
            if ch == "'" and i + 1 < len(content) and content[i + 1].char == "'":
                i += 1  # SQL's '' is one ' in the value
            out.append(_escape_fstring_char(ch, quote))
        i += 1
    code = f"f{quote}{''.join(out)}{quote}"
    try:
        tree = ast.parse(code, mode="eval")
    except SyntaxError:
        return None
    return code if isinstance(tree.body, ast.JoinedStr) else None


def _field_code(item: _Item) -> str | None:
    import libcst as cst

    if item.fstring is not None:
        return _code(item.fstring.node)  # as written: conversion, spec and "=" kept
    if item.value is None:
        return None
    code = _code(item.value)
    if not isinstance(item.value, (cst.Name, cst.Attribute, cst.Call, cst.Subscript)):
        code = f"({code})"
    conversion = f"!{item.conversion}" if item.conversion else ""
    spec = f":{item.spec}" if item.spec else ""
    return "{" + code + conversion + spec + "}"


def _escape_fstring_char(ch: str, quote: str) -> str:
    if ch in "{}":
        return ch * 2
    if ch == "\\" or ch == quote:
        return "\\" + ch
    if ch.isprintable() or ch == " ":
        return ch
    return repr(ch)[1:-1]


# Words after which an unquoted slot is plainly a value (comparisons, LIMIT, CASE arms...).
_VALUE_AFTER_WORDS = frozenset(
    {"LIKE", "GLOB", "REGEXP", "MATCH", "LIMIT", "OFFSET", "THEN", "ELSE", "WHEN", "IS", "NOT"}
)
# Words that open a clause: a parenthesis after one holds SQL, not a function's arguments.
_SQL_KEYWORDS = frozenset(
    {
        "SELECT",
        "FROM",
        "WHERE",
        "AND",
        "OR",
        "NOT",
        "ON",
        "HAVING",
        "WHEN",
        "THEN",
        "ELSE",
        "SET",
        "BY",
        "JOIN",
        "EXISTS",
        "CASE",
        "RETURNING",
        "AS",
        "USING",
        "UNION",
        "ALL",
        "INTERSECT",
        "EXCEPT",
        "WITH",
        "VALUES",
        "IN",
        "INTO",
        "TABLE",
        "DISTINCT",
        "LIMIT",
        "OFFSET",
        "END",
        "IS",
        "LIKE",
        "GLOB",
        "BETWEEN",
        "UPDATE",
        "DELETE",
        "INSERT",
    }
)
_VALUE_AFTER_OPS = ("<=", ">=", "<>", "!=", "==", "=", "<", ">", "||", "+", "-", "*", "/", "%")
_AND_OR_BETWEEN = re.compile(r"\b(AND|BETWEEN)\b", re.IGNORECASE)


def _last_token(text: str) -> str | None:
    """Return the last token of `text` (no trailing whitespace): a word that starts with a
    letter or underscore, or one punctuation character; None otherwise. A backward scan: a
    regular expression anchored at the end retries from every position of a long word."""
    if not text:
        return None
    if not (text[-1].isalnum() or text[-1] == "_"):
        return None if text[-1].isspace() else text[-1]
    start = len(text)
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] == "_"):
        start -= 1
    for at in range(start, len(text)):
        if text[at] == "_" or ("a" <= text[at].lower() <= "z"):
            return text[at:]
    return None


def _value_context(text: str, start: int, end: int) -> bool:
    """Return whether the slot at text[start:end] plainly stands where a value goes.

    `render` calls a slot a value whenever no keyword says it is a name, so `WHERE {cond}`,
    `SELECT a, {col}` and `IN ({ids})` are "values" too; binding those would change what the
    query does (a SQL fragment, a column, a comma-joined list would become one string).
    """
    from dbheal_lsp.analysis.sqlrefs import masked

    before = masked(text[:start])
    after = masked(text[end:]).lstrip()
    if after.startswith(("(", ".")):
        return False
    stripped = before.rstrip()
    if stripped.endswith(_VALUE_AFTER_OPS):
        return True
    token = _last_token(stripped)
    if token is None:
        return False
    last = token.upper()
    if last in _VALUE_AFTER_WORDS:
        return True
    if last == "AND":  # BETWEEN a AND {x}: the keyword before this AND is BETWEEN, not AND
        keywords = _AND_OR_BETWEEN.findall(stripped, 0, len(stripped) - 3)
        return bool(keywords) and keywords[-1].upper() == "BETWEEN"
    if last == "BETWEEN":
        return True
    if last in ("(", ","):
        return _in_value_group(before, after)
    return False


def _in_value_group(before: str, after: str) -> bool:
    """A slot after '(' or ',': a function argument or one of several IN / VALUES items."""
    depth = 0
    for i in range(len(before) - 1, -1, -1):
        ch = before[i]
        if ch == ")":
            depth += 1
        elif ch == "(":
            if depth == 0:
                opener = before[:i].rstrip()
                inside_before = before[i + 1 :]
                break
            depth -= 1
    else:
        return False  # a top-level list: SELECT a, {x} or ORDER BY a, {x}
    if re.search(r"\bINTO\s+\S+\Z", opener, re.I):
        return False  # INSERT INTO t ({a}, ...): a column list
    if re.search(r"\b(?:IN|VALUES)\Z", opener, re.I) or opener.endswith(","):
        # One item alone may be a whole comma-joined list: IN ({ids}).
        depth = 0
        rest = ""
        for ch in after:
            if ch == "(":
                depth += 1
            elif ch == ")":
                if depth == 0:
                    break
                depth -= 1
            rest += ch
        return "," in _top_level(inside_before) or "," in _top_level(rest)
    # A function's arguments (`lower({x})`) or a value in parentheses (`= ({x})`), but not a
    # clause in parentheses (`WHERE ({cond})`).
    word = re.search(r"([A-Za-z_]\w*)\Z", opener)
    if word is not None:
        return word.group(1).upper() not in _SQL_KEYWORDS
    return opener.endswith(_VALUE_AFTER_OPS) or opener.endswith(("(", ","))


def _top_level(text: str) -> str:
    """`text` without its parenthesized parts."""
    out: list[str] = []
    depth = 0
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(0, depth - 1)
        elif depth == 0:
            out.append(ch)
    return "".join(out)


# --- parameterize: writing it -------------------------------------------------------------------


def _edit_items(
    model: _Model,
    placeholders: list[_Placeholder],
    existing: _Existing,
    family: Family,
    params: _Params,
) -> bool:
    """Mark on units, fields and operands what the new SQL text keeps, drops and inserts."""
    for p in placeholders:
        if p.name is not None and p.value is None:
            continue  # an existing named placeholder: unchanged
        if p.existing is not None and p.text == "".join(
            i.char or "" for i in model.items[p.start : p.end]
        ):
            continue  # an existing positional placeholder that keeps its text
        for item in model.items[p.start : p.end]:
            _drop(item)
        if not _insert(model, p.start, p.text):
            return False
    replaced = {i for p in placeholders for i in range(p.start, p.end)}
    # psycopg reads % in the query once parameters are passed: a literal % must be %%.
    double = family == "psycopg" and params.node is None and not existing.percent_escapes
    for index, item in enumerate(model.items):
        if index in replaced or item.char is None:
            continue
        if item.escape:
            if family == "psycopg" and item.char == "%":
                continue  # "%%" of % formatting is what psycopg wants too
            item.units[0].out = item.char  # "%%" or "{{" of a formatting that is gone
            for unit in item.units[1:]:
                unit.out = ""
        elif double and item.char == "%":
            item.units[0].out = "%%"
    return True


def _drop(item: _Item) -> None:
    for unit in item.units:
        unit.out = ""
    if item.fstring is not None:
        item.fstring.removed = True
    if item.operand is not None:
        item.operand.removed = True


def _insert(model: _Model, index: int, text: str) -> bool:
    """Write `text` where item `index` starts; False when there is no string to write it in."""
    item = model.items[index]
    if item.units:
        item.units[0].before += text
    elif item.fstring is not None:
        item.fstring.before += text
    elif item.operand is not None:
        # A + operand: the text goes at the end of the string operand before it.
        position = model.operands.index(item.operand)
        previous = model.operands[position - 1] if position > 0 else None
        if previous is None or not previous.leaves:
            return False
        previous.leaves[-1].tail += text
    else:
        return False
    return True


def _rebuild_sql(model: _Model) -> cst.BaseExpression | None:
    import libcst as cst

    if model.kind == "concat":
        return _rebuild_concat(model)
    template = _rebuild_string(model.operands[0].node, model.operands[0].leaves or [])
    if template is None:
        return None
    if model.kind == "string":
        return template
    # `template % x` / `template.format(...)`: the template alone, keeping outer parentheses.
    node = model.node
    if isinstance(node, (cst.BinaryOperation, cst.Call)) and node.lpar:
        return template.with_changes(
            lpar=[*node.lpar, *template.lpar], rpar=[*template.rpar, *node.rpar]
        )
    return template


def _rebuild_concat(model: _Model) -> cst.BaseExpression | None:
    import libcst as cst

    kept: list[tuple[cst.BaseBinaryOp | None, cst.BaseExpression]] = []
    merge_next = False
    for i, operand in enumerate(model.operands):
        if operand.leaves is None:
            if operand.removed:
                merge_next = True
                continue
            node: cst.BaseExpression | None = operand.node
        else:
            node = _rebuild_string(operand.node, operand.leaves, drop_empty=True)
        if node is None:
            continue
        operator = model.operators[i - 1] if i > 0 and kept else None
        merged = _merge_strings(kept[-1][1], node) if kept and merge_next else None
        if merged is not None:
            kept[-1] = (kept[-1][0], merged)
        else:
            kept.append((operator, node))
        merge_next = False
    if not kept:
        return None
    result = kept[0][1]
    for operator, node in kept[1:]:
        assert operator is not None
        result = cst.BinaryOperation(left=result, operator=operator, right=node)
    root = model.node
    assert isinstance(root, cst.BinaryOperation)
    if root.lpar:
        result = result.with_changes(
            lpar=[*root.lpar, *result.lpar], rpar=[*result.rpar, *root.rpar]
        )
    return result


def _merge_strings(
    left: cst.BaseExpression, right: cst.BaseExpression
) -> cst.BaseExpression | None:
    """Join the strings that met where a + operand went: "a = ?" and " AND b" -> "a = ? AND b".

    Only plain literals of one prefix and quote merge; in an implicit concatenation it is the
    literals that touch (the last of `left`, the first of `right`) that do.
    """
    import libcst as cst

    if isinstance(left, cst.ConcatenatedString) and not left.lpar:
        last = _merge_strings(left.right, right)
        return None if last is None else left.with_changes(right=last)
    if isinstance(right, cst.ConcatenatedString) and not right.lpar:
        first = _merge_strings(left, right.left)
        if not isinstance(first, (cst.SimpleString, cst.FormattedString)):
            return None
        return right.with_changes(left=first)
    if not isinstance(left, cst.SimpleString) or not isinstance(right, cst.SimpleString):
        return None
    if left.lpar or right.lpar:
        return None
    a, b = _split_literal(left.value), _split_literal(right.value)
    if a is None or b is None or a[0].lower() != b[0].lower() or a[1] != b[1]:
        return None
    if "r" not in a[0].lower() and _OPEN_OCTAL.search(a[2]) and b[2][:1].isdigit():
        return None  # "\1" then "2" are two characters; "\12" would be one
    return cst.SimpleString(f"{a[0]}{a[1]}{a[2]}{b[2]}{a[1]}")


def _rebuild_string(
    node: cst.BaseExpression, leaves: list[_Leaf], *, drop_empty: bool = False
) -> cst.BaseExpression | None:
    """The string expression `node` with its leaves rewritten; None when all is gone."""
    import libcst as cst

    new = {id(leaf.node): _rebuild_leaf(leaf) for leaf in leaves}

    def walk(current: cst.BaseExpression) -> cst.BaseExpression | None:
        if isinstance(current, cst.ConcatenatedString):
            left, right = walk(current.left), walk(current.right)
            if left is None or right is None:
                kept = left or right
                if kept is None:
                    return None
                return kept.with_changes(
                    lpar=[*current.lpar, *kept.lpar], rpar=[*kept.rpar, *current.rpar]
                )
            assert isinstance(left, (cst.SimpleString, cst.FormattedString, cst.ConcatenatedString))
            assert isinstance(
                right, (cst.SimpleString, cst.FormattedString, cst.ConcatenatedString)
            )
            return current.with_changes(left=left, right=right)
        return new[id(current)]

    result = walk(node)
    if result is None and not drop_empty:
        first = leaves[0]
        return cst.SimpleString(f"{_plain_prefix(first.prefix)}{first.quote}{first.quote}")
    return result


def _plain_prefix(prefix: str) -> str:
    return "".join(c for c in prefix if c.lower() != "f")


def _rebuild_leaf(leaf: _Leaf) -> cst.SimpleString | cst.FormattedString | None:
    """The leaf with its edits; an f-string left without fields becomes a plain string."""
    import libcst as cst

    fields_left = any(isinstance(p, _Field) and not p.removed for p in leaf.parts)
    is_fstring = isinstance(leaf.node, cst.FormattedString)
    if not is_fstring or not fields_left:
        text: list[str] = []
        for part in leaf.parts:
            if isinstance(part, _Field):
                text.append(part.before)
                continue
            raw = part.raw if part.out is None else part.out
            if is_fstring and part.out is None and part.raw in ("{{", "}}"):
                raw = part.raw[0]  # no longer an f-string: a brace is just a brace
            text.append(part.before + raw)
        text.append(leaf.tail)
        body = "".join(text)
        if not body:
            return None
        prefix = _plain_prefix(leaf.prefix)
        return cst.SimpleString(
            f"{prefix}{leaf.quote}{body}{leaf.quote}", lpar=leaf.node.lpar, rpar=leaf.node.rpar
        )
    assert isinstance(leaf.node, cst.FormattedString)
    parts: list[cst.BaseFormattedStringContent] = []
    buffer: list[str] = []
    for part in leaf.parts:
        if isinstance(part, _Unit):
            buffer.append(part.before + (part.raw if part.out is None else part.out))
            continue
        buffer.append(part.before)
        if part.removed:
            continue
        if "".join(buffer):
            parts.append(cst.FormattedStringText("".join(buffer)))
        buffer = []
        parts.append(part.node)
    buffer.append(leaf.tail)
    if "".join(buffer):
        parts.append(cst.FormattedStringText("".join(buffer)))
    return leaf.node.with_changes(parts=parts)


_T = TypeVar("_T", "cst.Element", "cst.DictElement", "cst.Arg")


def _with_commas(
    old: list[_T],
    new: list[_T],
    *,
    tuple_: bool = False,
    opening: cst.BaseParenthesizableWhitespace | None = None,
) -> list[_T]:
    """`new` (old items reused, new ones added) with commas as the old layout had them.

    Items in the middle keep their comma, or take the one between the old first and second
    items, else one that starts a new line indented as the first item when the items are one
    per line (`opening`, the space after the opening bracket, breaks the line), else ", ".
    The last item keeps a trailing comma only where the old layout had one by choice (several
    items, or one per line); a tuple of one needs its comma.
    """
    import libcst as cst

    one_per_line = isinstance(opening, cst.ParenthesizedWhitespace)
    middle: cst.Comma = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    if len(old) > 1 and isinstance(old[0].comma, cst.Comma):
        middle = old[0].comma
    elif isinstance(opening, cst.ParenthesizedWhitespace):
        middle = cst.Comma(
            whitespace_after=cst.ParenthesizedWhitespace(
                first_line=cst.TrailingWhitespace(),
                empty_lines=[],
                indent=opening.indent,
                last_line=opening.last_line,
            )
        )
    trailing: cst.Comma | cst.MaybeSentinel = cst.MaybeSentinel.DEFAULT
    last_comma = old[-1].comma if old else cst.MaybeSentinel.DEFAULT
    if isinstance(last_comma, cst.Comma) and (
        len(old) > 1
        or one_per_line
        or isinstance(last_comma.whitespace_after, cst.ParenthesizedWhitespace)
    ):
        trailing = last_comma
    out: list[_T] = []
    for i, item in enumerate(new):
        if i < len(new) - 1:
            comma = item.comma
            if not isinstance(comma, cst.Comma) or comma is last_comma:
                comma = middle
            out.append(item.with_changes(comma=comma))
        else:
            comma_last: cst.Comma | cst.MaybeSentinel = trailing
            if tuple_ and len(new) == 1 and not isinstance(trailing, cst.Comma):
                comma_last = cst.Comma()
            out.append(item.with_changes(comma=comma_last))
    return out


def _opening(node: cst.BaseExpression) -> cst.BaseParenthesizableWhitespace | None:
    """The whitespace after the opening bracket of a tuple, list or dict."""
    import libcst as cst

    if isinstance(node, cst.Tuple) and node.lpar:
        return node.lpar[0].whitespace_after
    if isinstance(node, cst.List):
        return node.lbracket.whitespace_after
    if isinstance(node, cst.Dict):
        return node.lbrace.whitespace_after
    return None


def _rebuild_call(
    call: cst.Call,
    new_sql: cst.BaseExpression,
    new_params: cst.BaseExpression | list[cst.BaseExpression],
    params: _Params,
) -> cst.Call | None:
    """The call with the new SQL and parameters, the rest of its layout unchanged."""
    import libcst as cst

    args = list(call.args)
    sql_arg = args[0].with_changes(value=new_sql)
    if isinstance(new_params, list):  # asyncpg: the values are the call's extra arguments
        values = [a for a in args[1:] if a.keyword is None]
        keywords = [a for a in args[1:] if a.keyword is not None]
        if args[1 : 1 + len(values)] != values:
            return None  # a value after a keyword: not code we can read
        if not values:
            new_args = _after_sql(args[0], sql_arg, [cst.Arg(v) for v in new_params])
            return call.with_changes(args=[*new_args, *keywords])
        by_value = {id(a.value): a for a in values}
        ordered = _with_commas(
            values,
            [by_value.get(id(v), cst.Arg(v)) for v in new_params],
            opening=call.whitespace_before_args,
        )
        # What followed the last value (the comma before the keywords, a comment before ")")
        # follows the new last value.
        last = values[-1]
        nothing = cst.SimpleWhitespace("")
        ordered = [
            a.with_changes(comma=last.comma, whitespace_after_arg=last.whitespace_after_arg)
            if i == len(ordered) - 1
            else a.with_changes(whitespace_after_arg=nothing)
            if a.value is last.value
            else a
            for i, a in enumerate(ordered)
        ]
        return call.with_changes(args=[sql_arg, *ordered, *keywords])
    assert isinstance(new_params, cst.BaseExpression)
    if params.index is not None:
        args[params.index] = args[params.index].with_changes(value=new_params)
        args[0] = sql_arg
        return call.with_changes(args=args)
    return call.with_changes(args=[*_after_sql(args[0], sql_arg, [cst.Arg(new_params)]), *args[1:]])


def _after_sql(old_sql: cst.Arg, new_sql: cst.Arg, new_args: list[cst.Arg]) -> list[cst.Arg]:
    """The SQL argument followed by new arguments, which take over what followed the SQL.

    The SQL's comma (a trailing one, with a comment after it) and the space before ")"
    (where a comment sits when there is no comma) go to the last new argument.
    """
    import libcst as cst

    space = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    out = [new_sql.with_changes(comma=space, whitespace_after_arg=cst.SimpleWhitespace(""))]
    out.extend(a.with_changes(comma=space) for a in new_args[:-1])
    out.append(
        new_args[-1].with_changes(
            comma=old_sql.comma, whitespace_after_arg=old_sql.whitespace_after_arg
        )
    )
    return out


def _python_str(text: str) -> str:
    """`text` as a double-quoted Python literal (names: no escapes needed)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
