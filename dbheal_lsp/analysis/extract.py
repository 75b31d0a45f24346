"""Find every SQL statement that Python code sends to a database, using the standard `ast`.

A statement is the SQL argument of a database call (execute, executemany, executescript, query,
text(...), ...) as a plain string, implicit concatenation, f-string, `%` formatting, `.format()`,
`+` concatenation, or a name bound to such a value earlier in the same function or at module
level (including `sql += "..."`). Each is returned as a `Statement`: literal text pieces with
source positions, interpolated slots, and the parameters bound to its placeholders.
"""

from __future__ import annotations

import ast
import bisect
import itertools
import re
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Literal, TypeAlias

from dbheal_lsp.analysis.bindings import added_arguments, blocks_of, guards_around
from dbheal_lsp.analysis.constants import Literal as GivenLiteral
from dbheal_lsp.analysis.constants import (
    ProjectConstants,
    dict_keys,
    returns_number,
)
from dbheal_lsp.analysis.literals import FStringField, LiteralText, scan_string
from dbheal_lsp.analysis.origins import NUMBER_CALLS, OriginReader, escapes_quotes
from dbheal_lsp.analysis.parameters import read_bindings
from dbheal_lsp.analysis.positions import source_lines, span_of
from dbheal_lsp.analysis.results import FunctionRows, function_rows
from dbheal_lsp.analysis.sqllex import skip_trivia
from dbheal_lsp.analysis.statement import (
    RUN_TIME,
    Parameter,
    Piece,
    Slot,
    SlotKind,
    Statement,
    TextPiece,
    ValueInfo,
)
from dbheal_lsp.model import Span

if TYPE_CHECKING:
    from dbheal_lsp.config import CallShape

DEFAULT_CALLS: frozenset[str] = frozenset(
    {
        "execute",
        "executemany",
        "executescript",
        "query",
        "raw",
        "read_sql",
        "read_sql_query",
        "fetch",
        "fetchrow",
        "fetchval",
        "text",
    }
)
# Calls whose name alone says "this runs SQL" (DB-API); for the others the string must also
# start like SQL, so that e.g. pandas' df.query("a > 1") or fetch(url) are not mistaken for SQL.
_DBAPI_CALLS = frozenset({"execute", "executemany", "executescript"})
# asyncpg passes parameters as extra positional arguments: conn.fetch(sql, a, b).
_ARGS_STYLE_CALLS = frozenset({"fetch", "fetchrow", "fetchval"})
_TEXT_CALLS = frozenset({"text"})

# The words a SQL statement starts with, after any whitespace, comments and opening parentheses
# (skipped by `_starts_like_sql` with str.find: a pattern with nested repeats backtracks
# exponentially on a run of comments).
_SQL_START = re.compile(
    r"(SELECT|INSERT|UPDATE|DELETE|REPLACE|CREATE|DROP|ALTER|WITH|PRAGMA|BEGIN|COMMIT|END|"
    r"ROLLBACK|SAVEPOINT|RELEASE|EXPLAIN|VACUUM|ATTACH|DETACH|ANALYZE|REINDEX|VALUES)\b",
    re.IGNORECASE,
)
_SURROGATE = re.compile("[\ud800-\udfff]")
# The written text after a leading interpolated SELECT: `UNION ALL SELECT ... FROM ...`.
_COMPOUND_OPERATOR = re.compile(r"\s*(UNION(\s+ALL)?|INTERSECT|EXCEPT)\s+(?=SELECT\b)", re.I)
_COMPOUND_SELECT = re.compile(
    r"(UNION(\s+ALL)?|INTERSECT|EXCEPT)\s+SELECT\b.*\bFROM\b", re.IGNORECASE | re.DOTALL
)
_SQL_WORD = re.compile(
    r"\b(SELECT|INSERT|UPDATE|DELETE|FROM|INTO|TABLE|WHERE|SET|VALUES|PRAGMA)\b", re.IGNORECASE
)
_PERCENT_SPEC = re.compile(
    r"%(?:\((?P<key>[^)%]*)\))?[#0\- +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?(?P<conv>[diouxXeEfFgGcrsa%])"
)
_FORMAT_FIELD = re.compile(r"\{\{|\}\}|\{(?P<name>[^{}!:]*)(?:![rsa])?(?::[^{}]*)?\}")
_CAST_TYPES = {
    "int": "INTEGER",
    "float": "REAL",
    "str": "TEXT",
    "bool": "INTEGER",
    "Decimal": "NUMERIC",
}
_NUMERIC_CASTS = frozenset({"int", "float", "Decimal", "bool"})
_MAX_NAME_DEPTH = 8
# How many variants of one statement are checked, and how many values a name may hold in
# branches before it counts as unreadable: both keep a file of many branches linear.
_MAX_VARIANTS = 8
_MAX_BRANCH_VALUES = 16
# Bindings looked at while reading one call's SQL: past it, names count as not read. Real code
# needs a few dozen; a function of thousands of branches would otherwise be quadratic.
_WORK_PER_CALL = 2_000
# Conversions that spell a number (`%d`, `%.2f`, `{:d}`): they cannot carry SQL.
_NUMBERS = frozenset("diouxXeEfFgGn")
# Calls whose result is a number, whatever their argument.
_Variants: TypeAlias = "list[list[Piece]]"
_Safety: TypeAlias = 'Literal["text", "number"] | None'
# Each value a name can hold: (the assigned expression or None when not read, its `+=` parts).
_Reaching: TypeAlias = "list[tuple[ast.expr | None, list[ast.expr]]]"
_PLACEHOLDER_TEXTS = frozenset(
    {"?", "%s", "?,", "%s,", ", ?", ", %s", ",?", "(?)", "(?),", "(?), ", ", (?)"}
)


@dataclass(frozen=True)
class ExtractOptions:
    """What counts as a database call, and which helpers make an identifier safe."""

    calls: frozenset[str] = DEFAULT_CALLS
    identifier_helpers: frozenset[str] = frozenset()
    # Functions whose result cannot carry SQL (a number, an allow-listed word): `safe-helpers`.
    safe_helpers: frozenset[str] = frozenset()
    # Helpers that carry SQL in their own shape ([tool.dbheal.calls]); their names are calls too.
    shapes: tuple[CallShape, ...] = ()
    # Receivers whose database the code does not show ([tool.dbheal.databases]): (text, path).
    receivers: tuple[tuple[str, str], ...] = ()
    # The literals each attribute and parameter holds across the project (analysis/constants.py).
    constants: ProjectConstants = field(default_factory=ProjectConstants, compare=False)


@dataclass(frozen=True)
class _Binding:
    """One binding of a name: where, to what (None: a value not read), inside which blocks."""

    at: tuple[int, int]
    value: ast.expr | None
    augmented: bool  # `name += value`
    path: tuple[int, ...]  # ids of the statement lists enclosing it, outermost first


@dataclass
class _Scope:
    """Assignments of one function (or the module), collected on first use."""

    node: ast.AST
    qualname: str
    assignments: dict[str, list[_Binding]] | None = None
    # Block id -> the statement whose exclusive branches it is one of (if/else, handlers, cases).
    owners: dict[int, int] = field(default_factory=dict)


class OutOfTime(Exception):
    """Extraction ran past its deadline, at the statement on `line`."""

    def __init__(self, line: int) -> None:
        super().__init__(f"out of time at line {line}")
        self.line = line


@dataclass
class _FileContext:
    lines: Sequence[str]
    options: ExtractOptions
    candidate_lines: frozenset[int]
    module: _Scope
    deadline: float = float("inf")  # time.monotonic() after which no statement is read
    statements: list[Statement] = field(default_factory=list)
    # Calls already handled as the argument of an outer call (text() inside execute()).
    consumed: set[int] = field(default_factory=set)
    # The scope of the call being read, to follow names that slots interpolate.
    scope: _Scope | None = None
    # Slots are numbered within their statement, so that stand-in names (and the fingerprints
    # of issues) do not change when code above the statement moves.
    slots: int = 0
    # What each expression node says about its value, read once: `.format(*args)` and `%`
    # give every field the same node, and copying its source text per field is quadratic.
    values: dict[int, ValueInfo] = field(default_factory=dict)
    # Reading a part of a larger string: a name must be read in every value it can hold.
    strict: bool = False
    # The module's functions that return a number, read on first need.
    number_functions: frozenset[str] | None = None
    # The module's functions and methods by name, read on first need.
    functions: dict[str, list[ast.FunctionDef | ast.AsyncFunctionDef]] | None = None
    # Bindings looked at for the current call (see _WORK_PER_CALL), and the values found.
    work: int = 0
    reached: dict[tuple[int, str, tuple[int, int]], _Reaching | None] = field(default_factory=dict)
    # Inside the body of a `try` that handles the database error (see _catches_database_error).
    guarded: bool = False
    # The class whose body is being read: `self.conn` is looked up in its methods.
    class_node: ast.ClassDef | None = None
    # The database each `self.<attribute>` of a class opens (see _attribute_database).
    attributes: dict[tuple[int, str], str | None] = field(default_factory=dict)
    method_scopes: dict[int, _Scope] = field(default_factory=dict)
    # The database the connection of the call being read opens (None: the main one).
    database: str | None = None
    # Whether the file can say which database a connection opens (see Extractor.extract).
    opens_databases: bool = True
    # The call being read is a helper of [tool.dbheal.calls] (see _shaped).
    shaped: bool = False
    # Comprehension variables that hold only names the code writes (see _comprehension_safety).
    safe_names: frozenset[str] = frozenset()
    # For each name read in several values within the statement being read: where each value's
    # text starts. A variant must take the same value wherever the name is used.
    alternatives: dict[tuple[int, str], list[frozenset[tuple[int, int]]]] = field(
        default_factory=dict
    )
    # One caller's literals for the parameters of the function being read (see
    # _per_caller_variants), and the names a comprehension binds to one literal each turn.
    environment: dict[str, GivenLiteral] = field(default_factory=dict)
    environment_of: ast.AST | None = None
    bound: dict[str, GivenLiteral] = field(default_factory=dict)
    # A parameter with several literal values was met: each caller's may be read on its own.
    several: bool = False
    # `self.x` attributes that hold one literal per subclass (`_table`): the statement is read
    # once per class (see _per_class_variants), as an instance of `as_class`.
    per_class: set[str] = field(default_factory=set)
    as_class: str | None = None
    # What each function does with query rows (analysis/results.py), by id of the function.
    rows: dict[int, FunctionRows] = field(default_factory=dict)
    # Where values come from (analysis/origins.py): each function's bindings, read once.
    origins: OriginReader = field(default_factory=OriginReader)


class Extractor:
    """Finds statements in Python source; holds the compiled call-name pattern."""

    def __init__(self, options: ExtractOptions | None = None) -> None:
        options = options or ExtractOptions()
        if options.shapes:
            options = replace(options, calls=options.calls | {s.name for s in options.shapes})
        self.options = options
        names = "|".join(sorted(re.escape(n) for n in self.options.calls))
        self._candidate = re.compile(rf"\b(?:{names})\s*\(")

    def might_contain_sql(self, source: str) -> bool:
        """Return whether `source` calls any database call name at all (a cheap pre-filter)."""
        return self._candidate.search(source) is not None

    def extract(
        self,
        source: str,
        tree: ast.Module,
        only: Sequence[ast.stmt] | None = None,
        lines: Sequence[str] | None = None,
        deadline: float = float("inf"),
    ) -> tuple[Statement, ...]:
        """Return every statement the module `tree` (parsed from `source`) sends to a database.

        `only` limits the search to some of the module's top-level statements (the ones that
        changed since the last check); names are still resolved at module level. `lines` are
        the source's lines when the caller has split them already. Past `deadline`
        (time.monotonic), raise OutOfTime: reading a huge file's strings takes time too.
        """
        candidate_lines = self._candidate_lines(source)
        if not candidate_lines:
            return ()
        lines = lines if lines is not None else source_lines(source)
        ctx = _FileContext(lines, self.options, candidate_lines, _Scope(tree, ""), deadline)
        ctx.origins.module = tree
        # A file that opens no database itself (most get a connection from a helper elsewhere)
        # and whose receivers the settings do not map: every statement runs on the main one.
        ctx.opens_databases = bool(self.options.receivers) or any(
            name in source for name in _CONNECT_CALLS
        )
        _visit_body(tree.body if only is None else only, ctx.module, ctx)
        found = _one_run_time_database_is_the_main_one(ctx.statements)
        return tuple(sorted(found, key=lambda s: (s.span.line, s.span.column)))

    def _candidate_lines(self, source: str) -> frozenset[int]:
        found: set[int] = set()
        line = 1
        last = 0
        for match in self._candidate.finditer(source):
            line += source.count("\n", last, match.start())
            last = match.start()
            found.add(line)
        return frozenset(found)


def _has_candidate(node: ast.stmt, ctx: _FileContext) -> bool:
    end = node.end_lineno or node.lineno
    if end - node.lineno < 32:
        return any(n in ctx.candidate_lines for n in range(node.lineno, end + 1))
    return any(node.lineno <= n <= end for n in ctx.candidate_lines)


def _visit_body(body: Sequence[ast.stmt], scope: _Scope, ctx: _FileContext) -> None:
    for stmt in body:
        if _has_candidate(stmt, ctx):
            _visit_stmt(stmt, scope, ctx)


def _visit_stmt(stmt: ast.stmt, scope: _Scope, ctx: _FileContext) -> None:
    if time.monotonic() >= ctx.deadline:
        raise OutOfTime(stmt.lineno)
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
        qual = f"{scope.qualname}.{stmt.name}" if scope.qualname else stmt.name
        # A function defined inside a `try` runs later, outside it.
        outer, ctx.guarded = ctx.guarded, False
        _visit_body(stmt.body, _Scope(stmt, qual), ctx)
        ctx.guarded = outer
        return
    if isinstance(stmt, _TRY_NODES) and _catches_database_error(stmt.handlers):
        outer, ctx.guarded = ctx.guarded, True
        _visit_body(stmt.body, scope, ctx)
        ctx.guarded = outer
        for handler in stmt.handlers:
            _visit_body(handler.body, scope, ctx)
        _visit_body(stmt.orelse, scope, ctx)
        _visit_body(stmt.finalbody, scope, ctx)
        return
    if isinstance(stmt, ast.ClassDef):
        qual = f"{scope.qualname}.{stmt.name}" if scope.qualname else stmt.name
        # Class bodies are not a scope for name lookups from methods; keep the enclosing one.
        outer_class, ctx.class_node = ctx.class_node, stmt
        _visit_body(stmt.body, _Scope(scope.node, qual, scope.assignments), ctx)
        ctx.class_node = outer_class
        return
    for _name, value in ast.iter_fields(stmt):
        if isinstance(value, list):
            for item in value:
                if isinstance(item, ast.stmt):
                    if _has_candidate(item, ctx):
                        _visit_stmt(item, scope, ctx)
                elif isinstance(item, (ast.ExceptHandler, ast.match_case)):
                    _visit_body(item.body, scope, ctx)
                elif isinstance(item, ast.AST):
                    _visit_expr(item, scope, ctx)
        elif isinstance(value, ast.AST):
            _visit_expr(value, scope, ctx)


# `try` and (Python 3.11+) `try ... except*`: both have body, handlers, orelse, finalbody.
if sys.version_info >= (3, 11):
    _TRY_NODES: tuple[type[ast.Try] | type[ast.TryStar], ...] = (ast.Try, ast.TryStar)
else:
    _TRY_NODES = (ast.Try,)
# What a handler names when it catches the database error (sqlite3, DB-API drivers, or all).
# ProgrammingError: what psycopg and SQLAlchemy raise for an unknown table or column.
_DATABASE_ERRORS = frozenset({"OperationalError", "ProgrammingError", "DatabaseError", "Error"})
_ANY_ERROR = frozenset({"Exception", "BaseException"})
_DDL_START = re.compile(r"\s*(CREATE|ALTER|DROP)\b", re.IGNORECASE)


def _catches_database_error(handlers: Sequence[ast.ExceptHandler]) -> bool:
    """Return whether one of `handlers` makes its `try` a probe of the schema.

    A handler of the database's error does. One that catches everything (`except:`,
    `Exception`) does only when it then changes the schema (`except Exception: db.execute(
    "ALTER TABLE ...")`, the upgrade idiom): around ordinary queries such a handler only logs,
    and a broken query there must still be found.
    """
    for handler in handlers:
        caught = handler.type
        names = [] if caught is None else caught.elts if isinstance(caught, ast.Tuple) else [caught]
        called = {_called_name(n) for n in names}
        if called & _DATABASE_ERRORS:
            return True
        if (caught is None or called & _ANY_ERROR) and _runs_ddl(handler.body):
            return True
    return False


def _runs_ddl(body: Sequence[ast.stmt]) -> bool:
    """Return whether `body` passes a string literal that starts with CREATE/ALTER/DROP to a call."""
    for statement in body:
        for node in ast.walk(statement):
            if isinstance(node, ast.Call) and any(
                isinstance(arg, ast.Constant)
                and isinstance(arg.value, str)
                and _DDL_START.match(arg.value)
                for arg in node.args
            ):
                return True
    return False


def _visit_expr(node: ast.AST, scope: _Scope, ctx: _FileContext) -> None:
    for call in _calls_in(node):
        if id(call) in ctx.consumed:
            continue
        name = _called_name(call.func)
        if name is None or name not in ctx.options.calls:
            continue
        ctx.statements.extend(_statements_of_call(call, name, scope, ctx))


def _calls_in(node: ast.AST) -> Iterator[ast.Call]:
    """Yield the calls in `node` in source order, outer calls before the calls inside them."""
    stack = [node]
    found: list[ast.Call] = []
    while stack:
        current = stack.pop()
        if isinstance(current, ast.Call):
            found.append(current)
        stack.extend(ast.iter_child_nodes(current))
    found.sort(key=lambda c: (c.lineno, c.col_offset))
    yield from found


def _called_name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _statements_of_call(
    call: ast.Call, name: str, scope: _Scope, ctx: _FileContext
) -> list[Statement]:
    """Return the statements a call sends: one per variant of its SQL (branches, `a if c else b`).

    A helper configured in [tool.dbheal.calls] carries them in its own shape (`_shaped`).
    """
    ctx.scope = scope
    ctx.work = 0
    ctx.reached.clear()
    ctx.database = _database_of_call(call, scope, ctx) if ctx.opens_databases else None
    shape = next((s for s in ctx.options.shapes if s.name == name), None)
    ctx.shaped = shape is not None
    if shape is not None:
        return _shaped(call, name, shape, scope, ctx)
    sql_arg = call.args[0] if call.args else _keyword(call, ("sql", "query", "statement"))
    return _sql_statements(call, name, sql_arg, lambda: _parameters(call, name, ctx), scope, ctx)


def _sql_statements(
    call: ast.Call,
    name: str,
    sql_arg: ast.expr | None,
    parameters_of: Callable[[], tuple[Parameter, ...] | None],
    scope: _Scope,
    ctx: _FileContext,
) -> list[Statement]:
    """Return the statements of the SQL expression `sql_arg` of `call`, one per variant."""
    if sql_arg is None or isinstance(sql_arg, ast.Starred):
        return []
    if (
        isinstance(sql_arg, ast.Call)
        and _called_name(sql_arg.func) in _TEXT_CALLS
        and "text" in ctx.options.calls
    ):
        # conn.execute(text("..."), {...}): one statement, parameters from the outer call.
        ctx.consumed.add(id(sql_arg))
        inner = sql_arg.args[0] if sql_arg.args else None
        if inner is None:
            return []
        sql_arg = inner
    ctx.scope = scope
    ctx.slots = 0
    ctx.work = 0
    ctx.strict = False
    ctx.alternatives = {}
    ctx.environment = {}
    ctx.several = False
    ctx.per_class = set()
    variants = _pieces(sql_arg, scope, ctx, (call.lineno, call.col_offset), 0) or []
    variants = [v for v in variants if _consistent(v, ctx)]
    if ctx.several:
        variants = _per_caller_variants(sql_arg, call, scope, ctx) or variants
    elif ctx.per_class:
        variants = _per_class_variants(sql_arg, call, scope, ctx) or variants
    found: list[Statement] = []
    parameters = parameters_of() if variants else None
    seen: set[tuple[Piece, ...]] = set()
    for variant in variants:
        pieces = _numbered(variant)
        if not pieces or tuple(pieces) in seen:
            continue  # `"" if a else ""`: the same text twice is checked once
        seen.add(tuple(pieces))
        literal = "".join(p.text for p in pieces if isinstance(p, TextPiece))
        if name in _DBAPI_CALLS:
            if not _starts_like_sql(literal) and not _SQL_WORD.search(literal):
                continue
        elif not _reads_as_sql(pieces):
            continue
        pieces = _written_member_first(pieces)
        found.append(_statement(call, name, sql_arg, tuple(pieces), parameters, scope, ctx))
    return found


def _per_caller_variants(
    sql_arg: ast.expr, call: ast.Call, scope: _Scope, ctx: _FileContext
) -> _Variants:
    """Return the variants of `sql_arg` read once per caller of the enclosing function, each
    with the literals that caller passes: `_save_object(o, TABLE_PODCAST, PodcastColumns)` and
    `_save_object(o, TABLE_EPISODE, EpisodeColumns)` give one INSERT each, never a table with
    the other's columns."""
    function = scope.node
    if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return []
    out: _Variants = []
    ctx.environment_of = function
    for environment in ctx.options.constants.call_environments(function.name)[:_MAX_VARIANTS]:
        ctx.environment = dict(environment)
        out.extend(_read_again(sql_arg, call, scope, ctx))
    ctx.environment, ctx.environment_of = {}, None
    return out[:_MAX_VARIANTS]


def _per_class_variants(
    sql_arg: ast.expr, call: ast.Call, scope: _Scope, ctx: _FileContext
) -> _Variants:
    """Return the variants of `sql_arg` read once per class a method may run on, each with
    that class's attributes: `f"UPDATE {self._table} ..."` in a base model gives one UPDATE
    per model (items, albums), never a test double's table."""
    if ctx.class_node is None:
        return []
    classes = ctx.options.constants.variant_classes(ctx.class_node.name, ctx.per_class)
    out: _Variants = []
    for cls in classes[:_MAX_VARIANTS]:
        ctx.as_class = cls
        out.extend(_read_again(sql_arg, call, scope, ctx))
    ctx.as_class = None
    return out[:_MAX_VARIANTS]


def _read_again(sql_arg: ast.expr, call: ast.Call, scope: _Scope, ctx: _FileContext) -> _Variants:
    """Return the consistent variants of `sql_arg` read afresh (with what `ctx` now says a
    caller passes or which class `self` is)."""
    ctx.slots = 0
    ctx.work = 0
    ctx.strict = False
    ctx.alternatives = {}
    found = _pieces(sql_arg, scope, ctx, (call.lineno, call.col_offset), 0) or []
    return [v for v in found if _consistent(v, ctx)]


def _numbered(pieces: list[Piece]) -> list[Piece]:
    """Number the slots of one variant 0, 1, ...: stand-in names do not depend on the others."""
    out: list[Piece] = []
    index = 0
    for piece in pieces:
        if isinstance(piece, Slot):
            if piece.index != index:
                piece = replace(piece, index=index)
            index += 1
        elif not piece.text and len(pieces) > 1:
            continue  # an empty fragment ("" in a branch) adds nothing
        out.append(piece)
    return out


def _statement(
    call: ast.Call,
    name: str,
    sql_arg: ast.expr,
    pieces: tuple[Piece, ...],
    parameters: tuple[Parameter, ...] | None,
    scope: _Scope,
    ctx: _FileContext,
) -> Statement:
    return Statement(
        pieces=pieces,
        call=name,
        span=span_of(ctx.lines, sql_arg),
        name_span=_name_span(call.func, ctx.lines),
        call_span=span_of(ctx.lines, call),
        parameters=parameters,
        function=scope.qualname,
        guarded=ctx.guarded,
        database=ctx.database,
        # A configured helper's own shape says where its SQL is, not how it binds parameters.
        bindings=None if ctx.shaped else read_bindings(call, name, scope.node, ctx.lines),
        result_casts=_rows_of(scope.node, ctx).result_casts(call, ctx.lines),
    )


def _rows_of(function: ast.AST, ctx: _FileContext) -> FunctionRows:
    """Return what `function` does with query rows, read once per function."""
    rows = ctx.rows.get(id(function))
    if rows is None:
        start, end = getattr(function, "lineno", 1), getattr(function, "end_lineno", None)
        text = "".join(ctx.lines[start - 1 : end or start])
        # Most functions cast nothing: not worth a walk of their tree.
        casts = "int(" in text or "float(" in text
        rows = ctx.rows[id(function)] = function_rows(function) if casts else FunctionRows()
    return rows


def _reads_as_sql(pieces: list[Piece]) -> bool:
    """Return whether a statement's pieces read as SQL: its text starts like a statement, or it
    starts with an interpolated part (`f"{' UNION ALL '.join(parts)} UNION ALL SELECT ..."`)
    whose written text goes on with a compound SELECT."""
    first = pieces[0]
    if isinstance(first, TextPiece) and first.text.strip():
        return _starts_like_sql(first.text)
    text = "".join(p.text for p in pieces if isinstance(p, TextPiece)).strip()
    leading = [p for p in pieces if not (isinstance(p, TextPiece) and not p.text.strip())]
    return (
        bool(leading) and isinstance(leading[0], Slot) and _COMPOUND_SELECT.match(text) is not None
    )


def _written_member_first(pieces: list[Piece]) -> list[Piece]:
    """Return the pieces of `{members} UNION ALL SELECT ... FROM t` as `SELECT ... FROM t
    {members}`: the written SELECT is checked on its own, and the interpolated members stay
    a fragment of it (so the statement shows as partly checked). Other pieces as they are."""
    start = next(
        (i for i, p in enumerate(pieces) if not isinstance(p, TextPiece) or p.text.strip()), 0
    )
    if not isinstance(pieces[start], Slot):
        return pieces
    for i in range(start + 1, len(pieces)):
        piece = pieces[i]
        if isinstance(piece, Slot):
            return pieces  # a second slot before the written SELECT: leave it whole
        operator = _COMPOUND_OPERATOR.match(piece.text)
        if operator is not None:
            rest = TextPiece(piece.text[operator.end() :], piece.positions[operator.end() :])
            return [rest, *pieces[i + 1 :], TextPiece(" ", piece.positions[:2]), *pieces[:i]]
    return pieces


def _starts_like_sql(text: str) -> bool:
    """Return whether `text` starts like a SQL statement (after blanks, comments and `(`)."""
    return _SQL_START.match(text, skip_trivia(text, 0, also="(")) is not None


def _keyword(call: ast.Call, names: tuple[str, ...]) -> ast.expr | None:
    for kw in call.keywords:
        if kw.arg in names:
            return kw.value
    return None


def _name_span(func: ast.expr, lines: Sequence[str]) -> Span:
    full = span_of(lines, func)
    if isinstance(func, ast.Attribute):
        return Span(full.end_line, full.end_column - len(func.attr), full.end_line, full.end_column)
    return full


# --- building pieces from Python expressions -------------------------------------------------
#
# An expression may hold several texts (`a if c else b`, a name assigned in `if`/`elif`
# branches): `_pieces` returns each variant, at most _MAX_VARIANTS of them, so that every
# variant of the SQL is checked. A variant is a list of pieces, never shared between variants.


def _pieces(
    node: ast.expr, scope: _Scope, ctx: _FileContext, at: tuple[int, int], depth: int
) -> _Variants | None:
    """Return the variants of the string expression `node`, or None when it is not one we read."""
    if depth > _MAX_NAME_DEPTH:
        return None
    if isinstance(node, ast.Constant):
        if not isinstance(node.value, str):
            return None
        return _literal_pieces(node, scope, ctx, depth)
    if isinstance(node, ast.JoinedStr):
        return _literal_pieces(node, scope, ctx, depth)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _concat_pieces(node, scope, ctx, at, depth)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
        template = _pieces(node.left, scope, ctx, at, depth + 1)
        if template is None:
            return None
        return _percent_pieces(template, node.right, scope, ctx, depth)
    if isinstance(node, ast.IfExp):
        return _either(node.body, node.orelse, scope, ctx, at, depth)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        if node.func.attr == "format":
            template = _pieces(node.func.value, scope, ctx, at, depth + 1)
            if template is None:
                return None
            return _format_pieces(template, node, scope, ctx, depth)
        if node.func.attr in ("strip", "lstrip", "rstrip") and not node.args:
            return _pieces(node.func.value, scope, ctx, at, depth + 1)
        if (
            node.func.attr == "join"
            and isinstance(node.func.value, ast.Constant)
            and isinstance(node.func.value.value, str)
            and len(node.args) == 1
        ):
            if isinstance(node.args[0], (ast.List, ast.Tuple)) and node.args[0].elts:
                return _joined_pieces(node.func.value, node.args[0].elts, scope, ctx, depth)
            joined = _joined_names(node.func.value.value, node.args[0], scope, ctx, depth)
            return None if joined is None else [[_text_at(joined, node, ctx)]]
    if isinstance(node, ast.Call) and _called_name(node.func) in _TEXT_CALLS and node.args:
        return _pieces(node.args[0], scope, ctx, at, depth + 1)
    if isinstance(node, ast.Name):
        return _name_pieces(node, scope, ctx, at, depth)
    if isinstance(node, ast.Attribute):
        return _pinned(_attribute_values(node, ctx), node, ctx)
    return None


def _attribute_values(node: ast.Attribute, ctx: _FileContext) -> frozenset[GivenLiteral] | None:
    """Return the literals attribute `node` holds: for `self.x` read as one class (see
    _per_class_variants), that class's; else every value its class family gives it (noting
    `self.x` with several, which one read per class may tell apart)."""
    constants = ctx.options.constants
    owner = _owner(node, ctx)
    if owner is not None and ctx.as_class is not None:
        return constants.class_attribute_values(node.attr, ctx.as_class)
    if owner is None and constants.record_fields:
        function = ctx.scope.node if ctx.scope is not None else None
        cls = ctx.origins.class_of(node.value, function)
        if (cls, node.attr) in constants.record_fields:
            # `index.name` on an Index: what `Index(...)` calls pass, not any `name`.
            return constants.parameter_values(cls, node.attr)
    values = constants.attribute_values(node.attr, owner)
    if owner is not None and values is not None and len(values) > 1:
        ctx.per_class.add(node.attr)
    return values


# A literal that can be put in the SQL text for a name: a name or type, not a piece of SQL.
_NAME_TEXT = re.compile(r"[A-Za-z_][\w]*(?: [A-Za-z_]\w*)?")


def _pinned(
    values: frozenset[GivenLiteral] | None, node: ast.expr, ctx: _FileContext
) -> _Variants | None:
    """The text of a name written elsewhere in the code (`self.TABLE`, a parameter every caller
    gives the same literal), as a text piece pinned to `node`: issues point where it is used."""
    if not values or len(values) != 1:
        # Several: which goes with which other name (a table with its columns) is not known,
        # and checking every combination would report the ones no caller makes.
        return None
    texts = sorted(v for v in values if isinstance(v, str))
    if len(texts) != len(values) or not all(_NAME_TEXT.fullmatch(t) for t in texts):
        return None
    return [[_text_at(t, node, ctx)] for t in texts]


def _text_at(text: str, node: ast.expr, ctx: _FileContext) -> TextPiece:
    """Return `text`, written elsewhere (or built from names written elsewhere), as a piece
    whose characters all point at `node`: an issue on any name in it spans the whole `node`
    (each name's first character maps to its start, every other character to its end)."""
    span = span_of(ctx.lines, node)
    first, last = (span.line, span.column), (span.end_line, max(span.column, span.end_column - 1))
    end = (span.end_line, span.end_column)
    positions = [
        first if _is_word(c) and (i == 0 or not _is_word(text[i - 1])) else last
        for i, c in enumerate(text)
    ]
    return TextPiece(text, (*positions, end))


def _is_word(char: str) -> bool:
    return char.isalnum() or char == "_"


def _joined_names(
    separator: str, arg: ast.expr, scope: _Scope, ctx: _FileContext, depth: int
) -> str | None:
    """Return the text of `separator.join(arg)` when `arg` is a list of names the code writes:
    a tuple constant (`", ".join(columns)`), each of its names formatted
    (`", ".join("%s = ?" % c for c in columns)`), or placeholders (`", ".join("?" * len(c))`)."""
    if isinstance(arg, (ast.GeneratorExp, ast.ListComp)) and len(arg.generators) == 1:
        loop = arg.generators[0]
        names = _names_tuple(loop.iter, scope, ctx)
        if names is None or loop.ifs or not isinstance(loop.target, ast.Name):
            return None
        texts: list[str] = []
        outer = ctx.bound
        try:
            for name in names:
                ctx.bound = {**outer, loop.target.id: name}
                variants = _operand(arg.elt, scope, ctx, (arg.lineno, arg.col_offset), depth)
                if not variants or len(variants) != 1:
                    return None
                if any(isinstance(p, Slot) for p in variants[0]):
                    return None
                texts.append("".join(p.text for p in variants[0] if isinstance(p, TextPiece)))
        finally:
            ctx.bound = outer
        return separator.join(texts)
    if (
        isinstance(arg, ast.BinOp)
        and isinstance(arg.op, ast.Mult)
        and isinstance(arg.left, ast.Constant)
        and arg.left.value in ("?", "%s")
        and isinstance(arg.right, ast.Call)
        and _called_name(arg.right.func) == "len"
        and len(arg.right.args) == 1
    ):
        counted = _names_tuple(arg.right.args[0], scope, ctx)
        if counted is None or arg.left.value != "?":
            return None
        return separator.join("?" * len(counted))
    names = _names_tuple(arg, scope, ctx)
    return None if names is None else separator.join(names)


def _names_tuple(node: ast.expr, scope: _Scope, ctx: _FileContext) -> tuple[str, ...] | None:
    """Return the tuple of names `node` holds when the code writes it: a module constant, a
    class attribute, or a parameter every caller (or this caller) gives one such tuple."""
    values: frozenset[GivenLiteral] | None = None
    if isinstance(node, ast.Attribute):
        values = _attribute_values(node, ctx)
    elif isinstance(node, ast.Name) and (found := _reaching_name(node, scope, ctx)):
        candidate, reaching = found
        if len(reaching) != 1 or reaching[0][1]:
            return None
        base = reaching[0][0]
        if base is not None:
            # A tuple: a list may have been appended to since it was assigned.
            literal = _tuple_literal(base) if isinstance(base, ast.Tuple) else None
            values = None if literal is None else frozenset({literal})
        else:
            values = _caller_literals(candidate, node.id, ctx)
    if not values or len(values) != 1:
        return None
    value = next(iter(values))
    value = dict_keys(value) or value  # joining a dict joins its keys
    if not isinstance(value, tuple) or not value:
        return None
    return value if all(_NAME_TEXT.fullmatch(v) for v in value) else None


def _tuple_literal(node: ast.expr) -> tuple[str, ...] | None:
    if isinstance(node, (ast.Tuple, ast.List)) and all(
        isinstance(e, ast.Constant) and isinstance(e.value, str) for e in node.elts
    ):
        return tuple(str(e.value) for e in node.elts if isinstance(e, ast.Constant))
    return None


def _owner(node: ast.Attribute, ctx: _FileContext) -> str | None:
    """Return the class whose attribute `self.x` (or `cls.x`) reads, in one of its methods."""
    if (
        isinstance(node.value, ast.Name)
        and node.value.id in ("self", "cls")
        and ctx.class_node is not None
    ):
        return ctx.class_node.name
    return None


def _parameter_values(
    scope: _Scope, name: str, ctx: _FileContext
) -> frozenset[GivenLiteral] | None:
    """Return the literals every caller passes as parameter `name` of the function `scope`,
    when the function never binds that name otherwise; None when not known."""
    node = scope.node
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return None
    if scope.assignments is None:
        scope.assignments = _collect_assignments(scope.node, scope.owners)
    if len(scope.assignments.get(name, ())) != 1:
        return None  # rebound in the body: the parameter is not all it holds
    args = node.args
    if name not in {a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)}:
        return None
    return ctx.options.constants.parameter_values(node.name, name)


def _caller_literals(scope: _Scope, name: str, ctx: _FileContext) -> frozenset[GivenLiteral] | None:
    """Return the literals every caller passes as parameter `name` of the function `scope`;
    while one caller's statements are read (_per_caller_variants), only that caller's. Several
    literals mark the statement as worth reading once per caller."""
    values = _parameter_values(scope, name, ctx)
    if values is not None and len(values) > 1:
        ctx.several = True
        if name in ctx.environment and scope.node is ctx.environment_of:
            return frozenset({ctx.environment[name]})
    return values


def _joined_pieces(
    separator: ast.Constant,
    parts: Sequence[ast.expr],
    scope: _Scope,
    ctx: _FileContext,
    depth: int,
) -> _Variants | None:
    """Variants of `" ".join(["SELECT ...", f"FROM {t}", ...])`: the parts with the separator
    between them, each mapped to where it is written; a part that cannot be read (a method's
    result, `self._atime_expr()`) is a slot, as an operand of `+` is."""
    glue = _literal_pieces(separator, scope, ctx, depth + 1)
    if glue is None or any(isinstance(part, ast.Starred) for part in parts):
        return None
    read: list[_Variants] = []
    unread = 0
    for i, part in enumerate(parts):
        variants = _operand(part, scope, ctx, (part.lineno, part.col_offset), depth)
        if variants is None:
            unread += 1
            variants = [[_new_slot(part, "join", ctx)]]
        if i:
            read.append(glue)
        read.append(variants)
    return None if unread == len(parts) else _join(read)


def _either(
    body: ast.expr,
    orelse: ast.expr,
    scope: _Scope,
    ctx: _FileContext,
    at: tuple[int, int],
    depth: int,
) -> _Variants | None:
    """Variants of `body if ... else orelse`: both, or the one we read (only when not strict)."""
    first = _pieces(body, scope, ctx, at, depth + 1)
    second = _pieces(orelse, scope, ctx, at, depth + 1)
    if ctx.strict and (first is None or second is None):
        return None
    both = (first or []) + (second or [])
    return both[:_MAX_VARIANTS] or None


def _operand(
    node: ast.expr, scope: _Scope, ctx: _FileContext, at: tuple[int, int], depth: int
) -> _Variants | None:
    """Variants of a part of a larger string: every value its names can hold must be read.

    Only the SQL argument itself is read leniently (a name assigned SQL in one branch and
    something unreadable in another: the SQL we can read is checked).
    """
    saved = ctx.strict
    ctx.strict = True
    try:
        return _pieces(node, scope, ctx, at, depth + 1)
    finally:
        ctx.strict = saved


def _inline(node: ast.expr, scope: _Scope, ctx: _FileContext, depth: int) -> _Variants | None:
    """Variants of an interpolated value that is plain text built only from literals, else None.

    `cond = "AND deleted = 0" if hide else ""` interpolated with `%s`: each variant of the SQL is
    checked with the fragment's own text, mapped to where the fragment is written.
    """
    variants = _operand(node, scope, ctx, (node.lineno, node.col_offset), depth)
    if variants is None:
        return None
    if any(isinstance(p, Slot) for variant in variants for p in variant):
        return None
    return variants


def _join(parts: Sequence[_Variants]) -> _Variants:
    """Concatenate `parts` (each a list of variants): every combination, at most _MAX_VARIANTS.

    A part with one variant extends each variant in place, so a long `+` chain stays linear.
    """
    out: _Variants = [[]]
    for part in parts:
        if len(part) == 1:
            for variant in out:
                variant.extend(part[0])
        else:
            pairs = itertools.islice(itertools.product(out, part), _MAX_VARIANTS)
            out = [a + b for a, b in pairs]
    return out


def _concat_pieces(
    node: ast.BinOp, scope: _Scope, ctx: _FileContext, at: tuple[int, int], depth: int
) -> _Variants | None:
    """Pieces of `a + b + c ...`: the chain's operands read in a loop, not by recursion.

    `+` nests to the left, so a long chain is a deep tree: reading it recursively, one level
    per term, would stop at the name depth limit or exhaust Python's recursion.
    """
    operands: list[ast.expr] = []
    current: ast.expr = node
    while isinstance(current, ast.BinOp) and isinstance(current.op, ast.Add):
        operands.append(current.right)
        current = current.left
    operands.append(current)
    operands.reverse()
    parts = [_operand(operand, scope, ctx, at, depth) for operand in operands]
    if all(part is None for part in parts):
        return None
    return _join(
        [
            part if part is not None else [[_new_slot(operand, "concat", ctx)]]
            for operand, part in zip(operands, parts, strict=True)
        ]
    )


def _literal_pieces(
    node: ast.Constant | ast.JoinedStr, scope: _Scope, ctx: _FileContext, depth: int
) -> _Variants | None:
    scanned = scan_string(ctx.lines, node)
    if scanned is None:
        fallback = _fallback_pieces(node, ctx)
        return None if fallback is None else [fallback]
    parts: list[_Variants] = []
    start = 0
    for f in scanned.fields:
        if f.offset > start:
            parts.append([[_text_piece(scanned, start, f.offset)]])
        # `{name}` alone (no conversion, no format spec) spells the value's own text.
        plain = f.span.line == f.span.end_line and (
            f.span.end_column - f.span.column == len(f.expr_source) + 2
        )
        inlined = _inline(f.value, scope, ctx, depth) if plain else None
        parts.append(inlined or [[_new_slot(f.value, "fstring", ctx, number=_number_spec(f, ctx))]])
        start = f.offset
    if start < len(scanned.text) or not parts:
        parts.append([[_text_piece(scanned, start, len(scanned.text))]])
    return _join(parts)


def _number_spec(f: FStringField, ctx: _FileContext) -> bool:
    """Return whether an f-string field's format spec spells a number: `{n:d}`, `{x:.2f}`."""
    if f.span.line != f.span.end_line or f.expr_span.end_line != f.span.line:
        return False
    spec = ctx.lines[f.span.line - 1][f.expr_span.end_column - 1 : f.span.end_column - 2]
    return spec.startswith(":") and len(spec) > 1 and spec[-1] in _NUMBERS


def _text_piece(scanned: LiteralText, start: int, end: int) -> TextPiece:
    return TextPiece(_sql_safe(scanned.text[start:end]), scanned.positions[start : end + 1])


def _sql_safe(text: str) -> str:
    """Return `text` with each lone surrogate (`"\\ud800"`) as U+FFFD, one for one.

    Python strings may hold them, UTF-8 (what SQLite and every output read) cannot: a
    stranger's `"\\ud800"` would make the whole run fail to encode. One character for one
    keeps every position.
    """
    if _SURROGATE.search(text) is None:
        return text
    return _SURROGATE.sub("\ufffd", text)


def _fallback_pieces(node: ast.Constant | ast.JoinedStr, ctx: _FileContext) -> list[Piece] | None:
    """Pieces pointing at the whole expression, when the exact scan could not be trusted."""
    span = span_of(ctx.lines, node)
    at = (span.line, span.column)
    if isinstance(node, ast.Constant):
        text = _sql_safe(str(node.value))
        return [TextPiece(text, (at,) * (len(text) + 1))]
    pieces: list[Piece] = []
    for part in node.values:
        if isinstance(part, ast.Constant) and isinstance(part.value, str):
            text = _sql_safe(part.value)
            pieces.append(TextPiece(text, (at,) * (len(text) + 1)))
        elif isinstance(part, ast.FormattedValue):
            pieces.append(_new_slot(part.value, "fstring", ctx))
    return pieces


def _new_slot(node: ast.expr, kind: SlotKind, ctx: _FileContext, *, number: bool = False) -> Slot:
    """Return a slot for the interpolated `node`; `number`: a conversion that spells a number."""
    index = ctx.slots
    ctx.slots += 1
    info = replace(_value_info(node, ctx), quote_escaped=escapes_quotes(node))
    if info.constant or info.numeric_cast or info.safe_identifier:
        return Slot(index, kind, info)
    if number:
        # "%d" % n: whatever n holds, the text is a number, which cannot carry SQL.
        return Slot(index, kind, replace(info, numeric_cast=True))
    if _is_placeholder_list(node, ctx):
        return Slot(index, kind, replace(info, constant=True))
    safety = _safety(node, ctx.scope or ctx.module, ctx, 0) if ctx.scope is not None else None
    if safety == "text":
        return Slot(index, kind, replace(info, constant=True))
    if safety == "number":
        return Slot(index, kind, replace(info, numeric_cast=True))
    if _program_data(node, ctx):
        return Slot(index, kind, replace(info, program_data=True))
    return Slot(index, kind, info)


def _program_data(node: ast.expr, ctx: _FileContext) -> bool:
    """Return whether `node` holds only the program's own data: nothing from outside the
    program reaches it (analysis/origins.py), through the enclosing function's callers too."""
    function = ctx.scope.node if ctx.scope is not None else None
    origin = ctx.origins.origin_of(node, function, guards_around(function, node.lineno))
    return ctx.options.constants.holds_program_data(origin)


def _safety(node: ast.expr, scope: _Scope, ctx: _FileContext, depth: int) -> _Safety:
    """Return whether every value `node` can have is literal text or a number (else None).

    Numbers: casts, len(), arithmetic, `-x`, functions of the module annotated `-> int` or that
    return `int(...)`, and the configured `safe-helpers`. Names are followed to every value they
    can hold (branches included); a parameter or a value not read makes the name unsafe.
    """
    if depth > _MAX_NAME_DEPTH:
        return None
    if isinstance(node, ast.Constant):
        if isinstance(node.value, (str, bytes)):
            return "text"
        return (
            "number" if isinstance(node.value, (bool, int, float)) or node.value is None else None
        )
    if isinstance(node, ast.JoinedStr):
        fields = [v.value for v in node.values if isinstance(v, ast.FormattedValue)]
        return "text" if all(_safety(f, scope, ctx, depth + 1) for f in fields) else None
    if isinstance(node, ast.IfExp):
        kinds = {
            _safety(node.body, scope, ctx, depth + 1),
            _safety(node.orelse, scope, ctx, depth + 1),
        }
        return None if None in kinds else ("number" if kinds == {"number"} else "text")
    if isinstance(node, (ast.UnaryOp, ast.Compare)):
        return "number"  # -x, ~x, not x, a < b: no string supports these
    if isinstance(node, (ast.Tuple, ast.List)):
        kinds = {_safety(e, scope, ctx, depth + 1) for e in node.elts}
        return None if None in kinds else "text"
    if (
        isinstance(node, ast.Subscript)
        and isinstance(node.value, ast.Call)
        and isinstance(node.slice, ast.Constant)
        and isinstance(node.slice.value, int)
    ):
        return _returned_safety(node.value, node.slice.value, ctx, depth + 1)  # `a, b = f()`
    if isinstance(node, ast.Dict) or (
        isinstance(node, ast.Call) and _called_name(node.func) == "dict" and not node.args
    ):
        # `script % dict(table="tags")`: the named fields are filled from literal values.
        values = node.values if isinstance(node, ast.Dict) else [k.value for k in node.keywords]
        keys_named = isinstance(node, ast.Dict) or all(k.arg for k in node.keywords)
        kinds = {_safety(v, scope, ctx, depth + 1) for v in values if v is not None}
        return "text" if keys_named and None not in kinds else None
    if isinstance(node, ast.Starred):  # an element of a loop's iterable (see _elements_bound)
        return _element_safety(node.value, scope, ctx, depth)
    if isinstance(node, (ast.ListComp, ast.GeneratorExp, ast.SetComp)):
        return _comprehension_safety(node, scope, ctx, depth)
    if isinstance(node, ast.Name) and node.id in ctx.safe_names:
        return "text"
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "join"
        and isinstance(node.func.value, ast.Constant)
        and len(node.args) == 1
    ):
        # ", ".join(columns): text made only of what is joined.
        return "text" if _safety(node.args[0], scope, ctx, depth + 1) else None
    if isinstance(node, ast.BinOp):
        return _binop_safety(node, scope, ctx, depth)
    if isinstance(node, ast.Call):
        name = _called_name(node.func)
        if name in _ITERATING_CALLS and len(node.args) == 1 and not node.keywords:
            return _element_safety(node.args[0], scope, ctx, depth)  # sorted(kwargs)
        if name in NUMBER_CALLS or name in ctx.options.safe_helpers:
            return "number"
        if name in ("max", "min") and any(_is_number_literal(a) for a in node.args):
            return "number"  # max(1, n): Python refuses to compare a str with an int
        if name is not None and (
            name in _number_functions(ctx) or name in ctx.options.constants.number_functions
        ):
            return "number"
        return None
    info = _value_info(node, ctx)
    if isinstance(node, ast.Name) and not info.constant:
        return _name_safety(node, scope, ctx, depth)
    if info.constant:
        return "text"
    return "number" if info.numeric_cast else None


def _returned_safety(call: ast.Call, index: int, ctx: _FileContext, depth: int) -> _Safety:
    """Return the safety of item `index` of what `call` returns, when it calls the one function
    or method of this module by that name and every `return` there gives a tuple."""
    name = _called_name(call.func)
    if depth > _MAX_NAME_DEPTH or name is None:
        return None
    if ctx.functions is None:
        ctx.functions = {}
        for n in ast.walk(ctx.module.node):
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)):
                ctx.functions.setdefault(n.name, []).append(n)
    found = ctx.functions.get(name, [])
    if len(found) != 1:
        return None
    function = found[0]
    scope = ctx.method_scopes.setdefault(id(function), _Scope(function, function.name))
    kinds: set[_Safety] = set()
    stack: list[ast.stmt] = list(function.body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Return):
            value = node.value
            if not isinstance(value, ast.Tuple) or len(value.elts) <= index:
                return None
            kinds.add(_safety(value.elts[index], scope, ctx, depth + 1))
        else:
            for block in blocks_of(node):
                stack.extend(block)
    if not kinds or None in kinds:
        return None
    return "number" if kinds == {"number"} else "text"


_ITERATING_CALLS = frozenset({"sorted", "list", "tuple", "set", "reversed", "frozenset"})


def _element_safety(iterable: ast.expr, scope: _Scope, ctx: _FileContext, depth: int) -> _Safety:
    """Return "text" when every element of `iterable` is a name the code writes: the keys of
    the function's `**kwargs` (keyword names), `__slots__`, a collection of literals.

    Only following a name or a call to what it returns counts against `depth` here: going down
    into a node's own parts ends by itself.
    """
    if depth > _MAX_NAME_DEPTH:
        return None
    if (
        isinstance(iterable, ast.Call)
        and not iterable.keywords
        and len(iterable.args) == 1
        and _called_name(iterable.func) in _ITERATING_CALLS
    ):
        return _element_safety(iterable.args[0], scope, ctx, depth)
    if (
        isinstance(iterable, ast.Call)
        and isinstance(iterable.func, ast.Attribute)
        and iterable.func.attr == "keys"
        and not iterable.args
    ):
        return _element_safety(iterable.func.value, scope, ctx, depth)
    if isinstance(iterable, ast.Name):
        node = scope.node
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            kwarg = node.args.kwarg
            if kwarg is not None and kwarg.arg == iterable.id:
                return "text"  # the keys of **kwargs are the callers' keyword names
            if _parameter_values(scope, iterable.id, ctx):
                return "text"  # names, tuples of names, the keys of literal dicts
    if isinstance(iterable, ast.Attribute) and iterable.attr == "__slots__":
        return "text"
    return "text" if _safety(iterable, scope, ctx, depth) else None


def _comprehension_safety(
    node: ast.ListComp | ast.GeneratorExp | ast.SetComp,
    scope: _Scope,
    ctx: _FileContext,
    depth: int,
) -> _Safety:
    """`'%s=?' % k for k in kwargs`: text when its variables hold names the code writes and
    its element is made of them and literals."""
    safe = set(ctx.safe_names)
    for generator in node.generators:
        if not isinstance(generator.target, ast.Name):
            return None
        saved = ctx.safe_names
        ctx.safe_names = frozenset(safe)
        try:
            if _element_safety(generator.iter, scope, ctx, depth) is None:
                return None
        finally:
            ctx.safe_names = saved
        safe.add(generator.target.id)
    saved = ctx.safe_names
    ctx.safe_names = frozenset(safe)
    try:
        return "text" if _safety(node.elt, scope, ctx, depth) else None
    finally:
        ctx.safe_names = saved


def _binop_safety(node: ast.BinOp, scope: _Scope, ctx: _FileContext, depth: int) -> _Safety:
    if isinstance(node.op, (ast.Sub, ast.Div, ast.FloorDiv, ast.Pow)):
        return "number"  # str supports none of these
    left = _safety(node.left, scope, ctx, depth + 1)
    if isinstance(node.op, ast.Mod):
        # n % 10 is a number only when n is; "%s" % x is text made of x.
        if left == "number":
            return "number"
        right = _safety(node.right, scope, ctx, depth + 1) if left == "text" else None
        if isinstance(node.right, ast.Tuple):
            right = (
                "text" if all(_safety(e, scope, ctx, depth + 1) for e in node.right.elts) else None
            )
        return "text" if left == "text" and right is not None else None
    if isinstance(node.op, (ast.Add, ast.Mult)):
        if _is_number_literal(node.left) or _is_number_literal(node.right):
            return "number"  # a + 1, n * 2: a str + int is an error, so the result is a number
        right = _safety(node.right, scope, ctx, depth + 1)
        if left is None or right is None:
            return None
        return "number" if left == right == "number" else "text"
    return None


def _is_number_literal(node: ast.expr) -> bool:
    return (
        isinstance(node, ast.Constant)
        and isinstance(node.value, (int, float))
        and not isinstance(node.value, bool)
    )


def _name_safety(node: ast.Name, scope: _Scope, ctx: _FileContext, depth: int) -> _Safety:
    at = (node.lineno, node.col_offset)
    for candidate in (scope, ctx.module) if scope is not ctx.module else (ctx.module,):
        reaching = _reaching(candidate, node.id, at, ctx)
        if reaching is None:
            continue
        if _allow_listed(candidate.node, node.id, at):
            return "text"
        kinds: set[_Safety] = set()
        for base, augments in reaching:
            values = (
                None if base is not None or augments else _parameter_values(candidate, node.id, ctx)
            )
            if values and not any(dict_keys(v) for v in values):
                kinds.add("text")  # a parameter every caller gives literal text
                continue
            for value in (base, *augments):
                kinds.add(None if value is None else _safety(value, candidate, ctx, depth + 1))
            if isinstance(base, _MUTABLE_DISPLAYS):
                # `parts = []` then `parts.append(user_input)`: what is added counts too.
                for added in _added_to(candidate.node, node.id):
                    kinds.add(_safety(added, candidate, ctx, depth + 1))
        if not kinds or None in kinds:
            return None
        return "number" if kinds == {"number"} else "text"
    return None


# Displays of containers the code may add to after building them.
_MUTABLE_DISPLAYS = (ast.List, ast.Dict, ast.Set, ast.ListComp, ast.DictComp, ast.SetComp)


def _added_to(scope_node: ast.AST, name: str) -> Iterator[ast.expr]:
    """Yield what the code in `scope_node` adds to the container `name` holds, anywhere in it:
    the arguments of `name.append(x)` (and extend, insert, add, update, setdefault), the values
    of `name[k] = v`. Keyword arguments of `update(...)` count too."""
    for node in ast.walk(scope_node):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == name
        ):
            yield from added_arguments(node)
        elif isinstance(node, (ast.Assign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if (
                    isinstance(target, ast.Subscript)
                    and isinstance(target.value, ast.Name)
                    and target.value.id == name
                ):
                    yield node.value


def _allow_listed(function: ast.AST, name: str, at: tuple[int, int]) -> bool:
    """Return whether, before `at`, `function` refuses any value of `name` outside a set:
    `if name not in ALLOWED: raise ...` (or return, continue), or `assert name in ALLOWED`."""
    if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return False
    for node in ast.walk(function):
        if getattr(node, "lineno", at[0]) >= at[0]:
            continue
        wanted: type[ast.cmpop]
        if isinstance(node, ast.Assert):
            test, wanted = node.test, ast.In
        elif (
            isinstance(node, ast.If)
            and node.body
            and isinstance(node.body[-1], (ast.Raise, ast.Return, ast.Continue, ast.Break))
        ):
            test, wanted = node.test, ast.NotIn
        else:
            continue
        # `if a not in A or b not in B: raise` refuses both; `assert a in A and b in B` too.
        joined = ast.Or if wanted is ast.NotIn else ast.And
        tests = (
            test.values if isinstance(test, ast.BoolOp) and isinstance(test.op, joined) else [test]
        )
        if any(
            isinstance(t, ast.Compare)
            and isinstance(t.left, ast.Name)
            and t.left.id == name
            and len(t.ops) == 1
            and isinstance(t.ops[0], wanted)
            for t in tests
        ):
            return True
    return False


def _number_functions(ctx: _FileContext) -> frozenset[str]:
    """Return the module's functions that return a number: annotated `-> int` (float, bool) or
    returning only `int(...)`, `len(...)` or number literals. Read once per file, on demand."""
    if ctx.number_functions is not None:
        return ctx.number_functions
    found: set[str] = set()
    stack: list[ast.stmt] = (
        list(ctx.module.node.body) if isinstance(ctx.module.node, ast.Module) else []
    )
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if returns_number(node):
                found.add(node.name)
            stack.extend(node.body)
        elif isinstance(node, ast.ClassDef):
            stack.extend(node.body)
        else:
            for block in blocks_of(node):
                stack.extend(block)
    ctx.number_functions = frozenset(found)
    return ctx.number_functions


def _is_placeholder_list(node: ast.expr, ctx: _FileContext) -> bool:
    """Return whether `node` builds only placeholders: `",".join("?" * len(ids))` and kin.

    `IN ({placeholders})` is how code binds a list of values safely: the text interpolated is
    made of "?" alone, the values still go as parameters.
    """
    if isinstance(node, ast.Name) and ctx.scope is not None:
        at = (node.lineno, node.col_offset)
        for scope in (ctx.scope, ctx.module):
            reaching = _reaching(scope, node.id, at, ctx)
            if reaching is not None:
                return all(
                    base is not None and not augments and _is_placeholder_list(base, ctx)
                    for base, augments in reaching
                )
        return False
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Slice):
        return _is_placeholder_list(node.value, ctx)  # `marks[:-1]` of "?," * n
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
        text = node.left if isinstance(node.left, ast.Constant) else node.right
        return isinstance(text, ast.Constant) and str(text.value).strip() in _PLACEHOLDER_TEXTS
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
        return False
    if node.func.attr != "join" or not isinstance(node.func.value, ast.Constant):
        return False
    strings = [
        n.value
        for arg in node.args
        for n in ast.walk(arg)
        if isinstance(n, ast.Constant) and isinstance(n.value, str)
    ]
    return bool(strings) and all(s.strip() in _PLACEHOLDER_TEXTS for s in strings)


def _split_text(piece: TextPiece, cuts: list[tuple[int, int, _Variants | None]]) -> list[_Variants]:
    """Replace the ranges `cuts` (start, end, replacement) of a text piece, in order."""
    out: list[_Variants] = []
    pos = 0
    for start, end, replacement in cuts:
        if start > pos:
            out.append([[TextPiece(piece.text[pos:start], piece.positions[pos : start + 1])]])
        if replacement is not None:
            out.append(replacement)
        pos = end
    if pos < len(piece.text):
        out.append([[TextPiece(piece.text[pos:], piece.positions[pos:])]])
    return out


def _literal_char(piece: TextPiece, start: int, char: str) -> _Variants:
    return [[TextPiece(char, (piece.positions[start], piece.positions[start + 1]))]]


def _percent_pieces(
    templates: _Variants, right: ast.expr, scope: _Scope, ctx: _FileContext, depth: int
) -> _Variants:
    """Variants of `template % right`: each conversion spec becomes a slot for its value.

    A plain `%s` of text built only from literals is replaced by that text; a number
    conversion (`%d`, `%.2f`) cannot carry SQL whatever its value.
    """
    if isinstance(right, ast.Tuple):
        values: list[ast.expr] = list(right.elts)
    else:
        values = [right]
    mapping: dict[str, ast.expr] = {}
    if isinstance(right, ast.Dict):
        for dict_key, dict_value in zip(right.keys, right.values, strict=True):
            if isinstance(dict_key, ast.Constant) and isinstance(dict_key.value, str):
                mapping[dict_key.value] = dict_value
    out: _Variants = []
    for template in templates:
        parts: list[_Variants] = []
        position = 0
        for piece in template:
            if not isinstance(piece, TextPiece):
                parts.append([[piece]])
                continue
            cuts: list[tuple[int, int, _Variants | None]] = []
            for match in _PERCENT_SPEC.finditer(piece.text):
                conv = match.group("conv")
                if conv == "%":
                    cuts.append(
                        (match.start(), match.end(), _literal_char(piece, match.start(), "%"))
                    )
                    continue
                key = match.group("key")
                value: ast.expr = right
                if key is not None and key in mapping:
                    value = mapping[key]
                elif key is None and position < len(values):
                    value = values[position]
                position += 1
                plain = match.group() in ("%s", f"%({key})s")
                inlined = _inline(value, scope, ctx, depth) if plain else None
                slot = inlined or [[_new_slot(value, "percent", ctx, number=conv in _NUMBERS)]]
                cuts.append((match.start(), match.end(), slot))
            parts.extend(_split_text(piece, cuts) if cuts else [[[piece]]])
        out.extend(_join(parts))
    return out[:_MAX_VARIANTS]


def _format_pieces(
    templates: _Variants, call: ast.Call, scope: _Scope, ctx: _FileContext, depth: int
) -> _Variants:
    """Variants of `template.format(...)`: each replacement field becomes a slot for its value."""
    keywords = {kw.arg: kw.value for kw in call.keywords if kw.arg}
    out: _Variants = []
    for template in templates:
        parts: list[_Variants] = []
        auto = 0
        for piece in template:
            if not isinstance(piece, TextPiece):
                parts.append([[piece]])
                continue
            cuts: list[tuple[int, int, _Variants | None]] = []
            for match in _FORMAT_FIELD.finditer(piece.text):
                name = match.group("name")
                if name is None:  # "{{" or "}}"
                    char = match.group()[0]
                    cuts.append(
                        (match.start(), match.end(), _literal_char(piece, match.start(), char))
                    )
                    continue
                base = re.split(r"[.\[]", name, maxsplit=1)[0]
                value: ast.expr = call
                if base == "":
                    if auto < len(call.args):
                        value = call.args[auto]
                    auto += 1
                elif base.isdigit():
                    if int(base) < len(call.args):
                        value = call.args[int(base)]
                elif base in keywords:
                    value = keywords[base]
                field_text = match.group()
                spec = field_text[:-1].partition(":")[2]
                plain = field_text == "{" + base + "}" and value is not call
                inlined = _inline(value, scope, ctx, depth) if plain else None
                number = bool(spec) and spec[-1] in _NUMBERS
                slot = inlined or [[_new_slot(value, "format", ctx, number=number)]]
                cuts.append((match.start(), match.end(), slot))
            parts.extend(_split_text(piece, cuts) if cuts else [[[piece]]])
        out.extend(_join(parts))
    return out[:_MAX_VARIANTS]


def _name_pieces(
    node: ast.Name, scope: _Scope, ctx: _FileContext, at: tuple[int, int], depth: int
) -> _Variants | None:
    """Variants of the SQL a name holds at `at`: one per assignment that can reach it.

    When not strict (the SQL argument itself), values we cannot read are left out and the
    others checked; when strict, any such value makes the whole name unreadable.
    """
    bound = ctx.bound.get(node.id)
    if isinstance(bound, str) and _NAME_TEXT.fullmatch(bound):
        return [[_text_at(bound, node, ctx)]]  # a comprehension's name, this turn's value
    for candidate in (scope, ctx.module) if scope is not ctx.module else (ctx.module,):
        reaching = _reaching(candidate, node.id, at, ctx)
        if reaching is None:
            continue
        saved = ctx.scope
        ctx.scope = candidate  # slots inside the assigned value belong to that scope
        try:
            out: _Variants = []
            for base, augments in reaching:
                variants = None
                if base is not None:
                    variants = _pieces(
                        base, candidate, ctx, (base.lineno, base.col_offset), depth + 1
                    )
                elif not augments:
                    variants = _pinned(_caller_literals(candidate, node.id, ctx), node, ctx)
                if variants is None:
                    if ctx.strict:
                        return None
                    continue
                parts = [variants]
                for value in augments:
                    more = _operand(value, candidate, ctx, (value.lineno, value.col_offset), depth)
                    parts.append(more or [[_new_slot(value, "concat", ctx)]])
                out.extend(_join(parts))
            out = out[:_MAX_VARIANTS]
            _remember_alternatives((id(candidate.node), node.id), out, ctx)
            return out or None
        finally:
            ctx.scope = saved
    return None


def _remember_alternatives(key: tuple[int, str], variants: _Variants, ctx: _FileContext) -> None:
    """Note where each of a name's values starts, when it has several distinct ones."""
    if len(variants) < 2:
        return
    starts = [
        frozenset(p.positions[0] for p in variant if isinstance(p, TextPiece) and p.text)
        for variant in variants
    ]
    if all(starts) and sum(len(s) for s in starts) == len(frozenset().union(*starts)):
        ctx.alternatives[key] = starts


def _consistent(variant: list[Piece], ctx: _FileContext) -> bool:
    """Return whether `variant` takes one value for each name it uses in several places
    (`fts = "a" if x else "b"` then `JOIN {fts} ... WHERE {fts} MATCH ?`)."""
    if not ctx.alternatives:
        return True
    covered = {pos for p in variant if isinstance(p, TextPiece) for pos in p.positions[:-1]}
    return all(
        sum(1 for starts in alternatives if starts & covered) <= 1
        for alternatives in ctx.alternatives.values()
    )


def _reaching_name(
    node: ast.Name, scope: _Scope, ctx: _FileContext
) -> tuple[_Scope, _Reaching] | None:
    """Return the scope that binds the name `node` reads (the function's, else the module's)
    and the values it can hold there; None when neither binds it."""
    at = (node.lineno, node.col_offset)
    for candidate in (scope, ctx.module) if scope is not ctx.module else (ctx.module,):
        reaching = _reaching(candidate, node.id, at, ctx)
        if reaching is not None:
            return candidate, reaching
    return None


def _reaching(scope: _Scope, name: str, at: tuple[int, int], ctx: _FileContext) -> _Reaching | None:
    """Return each value `name` can hold at `at` (None: not a name of `scope`), read once per call."""
    key = (id(scope.node), name, at)
    if key in ctx.reached:
        return ctx.reached[key]
    if ctx.work > _WORK_PER_CALL:
        return [(None, [])]  # out of patience: a value not read
    found = ctx.reached[key] = _read_reaching(scope, name, at, ctx)
    return found


def _read_reaching(
    scope: _Scope, name: str, at: tuple[int, int], ctx: _FileContext
) -> _Reaching | None:
    """Return each value `name` can hold at `at`, with the `+=` parts added to it since.

    The values are the last assignment that every path to `at` goes through (one in a block
    enclosing `at`; a parameter counts, at the function's start) and the assignments in
    branches after it, less those replaced later in a block enclosing theirs. A value is None
    where the name is bound by something not read (a parameter, a for loop, an import).
    """
    if scope.assignments is None:
        scope.assignments = _collect_assignments(scope.node, scope.owners)
    entries = scope.assignments.get(name)
    if not entries:
        return None
    end = bisect.bisect_left(entries, at, key=lambda b: b.at)
    use: tuple[int, ...] = ()
    if end == 0:
        if not isinstance(scope.node, ast.Module):
            return None
        end = len(entries)  # a module-level name used inside a function, assigned below it
    else:
        use = _use_path(scope.node, at)
    # The last value every path to `at` goes through, looking back over a bounded number of
    # values in branches (a function of a thousand `if`s stays linear).
    plain: list[int] = []
    for i in range(end - 1, -1, -1):
        entry = entries[i]
        if entry.augmented:
            continue
        plain.append(i)
        if _encloses(entry.path, use) or len(plain) > _MAX_BRANCH_VALUES:
            break
    plain.reverse()
    out: list[tuple[ast.expr | None, list[ast.expr]]] = []
    if len(plain) > _MAX_BRANCH_VALUES and not _encloses(entries[plain[0]].path, use):
        out.append((None, []))  # more values than we read: the name is not fully known
        plain = plain[1:]
    # A value replaced later in its own block or an enclosing one never reaches `at`.
    kept = [
        i
        for n, i in enumerate(plain)
        if not any(_encloses(entries[j].path, entries[i].path) for j in plain[n + 1 :])
    ]
    ctx.work += len(plain) ** 2 + len(kept) * (end - kept[0] if kept else 0)
    for n, i in enumerate(kept):
        augments = [
            entries[a]
            for a in range(i + 1, end)
            if entries[a].augmented
            and not any(
                i < j < a and _encloses(entries[j].path, entries[a].path) for j in kept[n + 1 :]
            )
        ]
        ctx.work += len(augments) * _MAX_VARIANTS
        for chosen in _branch_choices(augments, scope.owners):
            out.append((entries[i].value, [b.value for b in chosen if b.value is not None]))
    return out


def _branch_choices(augments: list[_Binding], owners: dict[int, int]) -> list[list[_Binding]]:
    """Split `+=` parts made in exclusive branches (`if: sql += A` / `else: sql += B`) into
    one sequence per choice of branch, at most _MAX_VARIANTS; all in one when too many."""
    if len({b.path for b in augments}) <= 1 or len(augments) > _MAX_BRANCH_VALUES:
        return [augments]
    choices: list[list[_Binding]] = [[]]
    for part in augments:
        grown: list[list[_Binding]] = []
        for choice in choices:
            if any(_exclusive(part.path, b.path, owners) for b in choice):
                grown.append(choice)
                fork = [b for b in choice if not _exclusive(part.path, b.path, owners)]
                fork.append(part)
                if fork not in grown:
                    grown.append(fork)
            else:
                choice.append(part)
                if choice not in grown:
                    grown.append(choice)
        choices = grown[:_MAX_VARIANTS]
    return choices


def _exclusive(first: tuple[int, ...], second: tuple[int, ...], owners: dict[int, int]) -> bool:
    """Return whether two blocks never both run: the `if` and `else` of one statement, two
    `except` handlers or two `case`s of one statement, or blocks nested in those."""
    for a, b in zip(first, second, strict=False):
        if a != b:
            owner = owners.get(a)
            return owner is not None and owner == owners.get(b)
    return False


def _encloses(outer: tuple[int, ...], inner: tuple[int, ...]) -> bool:
    return inner[: len(outer)] == outer


def _use_path(scope_node: ast.AST, at: tuple[int, int]) -> tuple[int, ...]:
    """Return the statement lists enclosing position `at`, outermost first (by bisection)."""
    path: list[int] = []
    block: list[ast.stmt] = getattr(scope_node, "body", [])
    while block:
        i = bisect.bisect_right(block, at, key=lambda s: (s.lineno, s.col_offset)) - 1
        if i < 0:
            break
        inner = None
        for sub in blocks_of(block[i]):
            last = sub[-1]
            if (
                (sub[0].lineno, sub[0].col_offset)
                <= at
                <= (
                    last.end_lineno or last.lineno,
                    last.end_col_offset or 0,
                )
            ):
                inner = sub
                break
        if inner is None:
            break
        path.append(id(inner))
        block = inner
    return tuple(path)


def _collect_assignments(scope_node: ast.AST, owners: dict[int, int]) -> dict[str, list[_Binding]]:
    """Return name -> bindings in source order, nested defs excluded.

    Assignments are statements, so only statement lists are walked, never expressions: this
    runs for every function that sends a query held in a variable.
    """
    found: dict[str, list[_Binding]] = {}

    def bind(name: str, at: tuple[int, int], value: ast.expr | None, path: tuple[int, ...]) -> None:
        found.setdefault(name, []).append(_Binding(at, value, False, path))

    if isinstance(scope_node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        args = scope_node.args
        start = (scope_node.lineno, scope_node.col_offset)
        for arg in (*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg):
            if arg is not None:
                bind(arg.arg, start, None, ())
    stack: list[tuple[ast.stmt, tuple[int, ...]]] = [
        (s, ()) for s in reversed(getattr(scope_node, "body", []))
    ]
    while stack:
        node, path = stack.pop()
        at = (node.lineno, node.col_offset)
        # A name is bound once its value is computed: `slots = [s for s in slots if ...]` reads
        # the slots bound before it.
        done = (node.end_lineno or node.lineno, node.end_col_offset or node.col_offset)
        if isinstance(node, ast.Assign):
            for target in node.targets:
                for name, value in _target_names(target, node.value):
                    bind(name, done, value, path)
        elif isinstance(node, ast.AnnAssign):
            if node.value is not None and isinstance(node.target, ast.Name):
                bind(node.target.id, done, node.value, path)
        elif isinstance(node, ast.AugAssign):
            if isinstance(node.target, ast.Name):
                if isinstance(node.op, ast.Add):
                    found.setdefault(node.target.id, []).append(
                        _Binding(at, node.value, True, path)
                    )
                else:
                    bind(node.target.id, at, None, path)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                bind((alias.asname or alias.name).split(".")[0], at, None, path)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bind(node.name, at, None, path)
            continue
        if isinstance(node, (ast.For, ast.AsyncFor)):
            elements = _elements_bound(node.target, node.iter)
            for name, _value in _target_names(node.target, None):
                bind(name, at, elements.get(name), path)
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                if item.optional_vars is not None:
                    # `with sqlite3.connect(...) as c`, `with session() as c`: c is followed to
                    # learn which database it opens; a value of any other kind is not read.
                    context = item.context_expr
                    value = context if isinstance(context, ast.Call) else None
                    for name, _value in _target_names(item.optional_vars, None):
                        bind(name, at, value, path)
        if isinstance(node, ast.If):
            owners[id(node.body)] = owners[id(node.orelse)] = id(node)
        for exclusive in (*getattr(node, "handlers", ()), *getattr(node, "cases", ())):
            owners[id(exclusive.body)] = id(node)
        for block in reversed(blocks_of(node)):
            inner = (*path, id(block))
            stack.extend((s, inner) for s in reversed(block))
        for handler in getattr(node, "handlers", ()):
            if handler.name and handler.body:
                bind(handler.name, at, None, (*path, id(handler.body)))
    for entries in found.values():
        entries.sort(key=lambda e: e.at)
    return found


def _elements_bound(target: ast.expr, iterable: ast.expr) -> dict[str, ast.expr]:
    """Return, for a loop's target names, an `ast.Starred` standing for "an element of" what
    they iterate over (`for k in kwargs`, `for k, v in d.items()`: k takes the keys of d)."""

    def element(of: ast.expr) -> ast.Starred:
        node = ast.Starred(value=of, ctx=ast.Load())
        return ast.copy_location(node, target)

    if isinstance(target, ast.Name):
        return {target.id: element(iterable)}
    if (
        isinstance(target, ast.Tuple)
        and target.elts
        and isinstance(target.elts[0], ast.Name)
        and isinstance(iterable, ast.Call)
        and isinstance(iterable.func, ast.Attribute)
        and iterable.func.attr == "items"
    ):
        return {target.elts[0].id: element(iterable.func.value)}
    return {}


def _target_names(
    target: ast.expr, value: ast.expr | None, depth: int = 0
) -> list[tuple[str, ast.expr | None]]:
    """Return (name, value) for each name an assignment target binds: `a = v`, `a, b = x, y`
    (pairwise), `a, b = f()` (each `f()[i]`, read through what f returns; see _safety)."""
    if isinstance(target, ast.Name):
        return [(target.id, value)]
    if isinstance(target, ast.Starred):
        return _target_names(target.value, None, depth + 1)
    if not isinstance(target, (ast.Tuple, ast.List)) or depth > _MAX_NAME_DEPTH:
        return []
    values: list[ast.expr | None] = [None] * len(target.elts)
    if (
        isinstance(value, (ast.Tuple, ast.List))
        and len(value.elts) == len(target.elts)
        and not any(isinstance(e, ast.Starred) for e in (*value.elts, *target.elts))
    ):
        values = list(value.elts)
    elif isinstance(value, ast.Call) and not any(isinstance(e, ast.Starred) for e in target.elts):
        values = [
            ast.copy_location(ast.Subscript(value=value, slice=ast.Constant(i), ctx=ast.Load()), e)
            for i, e in enumerate(target.elts)
        ]
    out: list[tuple[str, ast.expr | None]] = []
    for element, element_value in zip(target.elts, values, strict=True):
        out.extend(_target_names(element, element_value, depth + 1))
    return out


# --- values and parameters --------------------------------------------------------------------


def _value_info(node: ast.expr, ctx: _FileContext) -> ValueInfo:
    """Return what the code evidently says about the value `node` (read once per node)."""
    known = ctx.values.get(id(node))
    if known is None:
        known = ctx.values[id(node)] = _read_value_info(node, ctx)
    return known


def _read_value_info(node: ast.expr, ctx: _FileContext) -> ValueInfo:
    span = span_of(ctx.lines, node)
    source = _source_of(ctx.lines, span)
    if isinstance(node, ast.Constant):
        code_type = _constant_type(node.value)
        return ValueInfo(source, span, code_type, None, None, constant=True)
    if isinstance(node, ast.JoinedStr):
        return ValueInfo(
            source,
            span,
            "TEXT",
            constant=not any(isinstance(v, ast.FormattedValue) for v in node.values),
        )
    if isinstance(node, (ast.Name, ast.Attribute)):
        leaf = node.id if isinstance(node, ast.Name) else node.attr
        literal = isinstance(node, ast.Attribute) and ctx.options.constants.names_from_code(
            leaf, _owner(node, ctx)
        )
        return ValueInfo(source, span, constant=(leaf.isupper() and len(leaf) > 1) or literal)
    if isinstance(node, ast.Subscript) and isinstance(node.value, (ast.Name, ast.Attribute)):
        # SORTS[key]: a lookup in a module constant is an allow-list, not user input.
        leaf = node.value.id if isinstance(node.value, ast.Name) else node.value.attr
        return ValueInfo(source, span, constant=leaf.isupper() and len(leaf) > 1)
    if isinstance(node, ast.UnaryOp) and isinstance(node.operand, ast.Constant):
        return ValueInfo(source, span, _constant_type(node.operand.value), constant=True)
    if isinstance(node, ast.Call):
        name = _called_name(node.func)
        if name in ctx.options.identifier_helpers:
            return ValueInfo(source, span, safe_identifier=True)
        if name == "str" and len(node.args) == 1 and isinstance(node.args[0], ast.Call):
            inner = _called_name(node.args[0].func)
            if inner in ("int", "float"):
                # str(int(x)) spells a number: as safe in SQL text as int(x) itself.
                return ValueInfo(source, span, _CAST_TYPES[inner], inner, numeric_cast=True)
        if name in _CAST_TYPES and len(node.args) <= 2:
            return ValueInfo(
                source,
                span,
                _CAST_TYPES[name],
                name,
                _name_span(node.func, ctx.lines),
                numeric_cast=name in _NUMERIC_CASTS,
            )
    return ValueInfo(source, span)


def _constant_type(value: object) -> str | None:
    if isinstance(value, (bool, int)):
        return "INTEGER"
    if isinstance(value, float):
        return "REAL"
    if isinstance(value, str):
        return "TEXT"
    if isinstance(value, bytes):
        return "BLOB"
    return None


def _source_of(lines: Sequence[str], span: Span) -> str:
    if span.line == span.end_line:
        return lines[span.line - 1][span.column - 1 : span.end_column - 1]
    first = lines[span.line - 1][span.column - 1 :]
    middle = "".join(lines[span.line : span.end_line - 1])
    last = lines[span.end_line - 1][: span.end_column - 1]
    return first + middle + last


def _parameters(call: ast.Call, name: str, ctx: _FileContext) -> tuple[Parameter, ...] | None:
    """Return the parameters the call binds, when they are written out as a literal."""
    if name in _ARGS_STYLE_CALLS or (name == "execute" and len(call.args) > 2):
        return tuple(
            Parameter(i, None, _value_info(arg, ctx))
            for i, arg in enumerate(call.args[1:])
            if not isinstance(arg, ast.Starred)
        )
    params = (
        call.args[1]
        if len(call.args) > 1
        else _keyword(call, ("parameters", "params", "seq_of_parameters", "args"))
    )
    if params is None:
        return ()
    if name == "executemany":
        if isinstance(params, (ast.List, ast.Tuple)) and params.elts:
            params = params.elts[0]
        else:
            return None
    return _literal_parameters(params, ctx)


def _literal_parameters(params: ast.expr, ctx: _FileContext) -> tuple[Parameter, ...] | None:
    if isinstance(params, (ast.Tuple, ast.List)):
        return tuple(
            Parameter(i, None, _value_info(elt, ctx))
            for i, elt in enumerate(params.elts)
            if not isinstance(elt, ast.Starred)
        )
    if isinstance(params, ast.Dict):
        out = []
        for key, value in zip(params.keys, params.values, strict=True):
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                out.append(Parameter(None, key.value, _value_info(value, ctx)))
        return tuple(out)
    if isinstance(params, ast.Call) and _called_name(params.func) == "dict" and not params.args:
        return tuple(
            Parameter(None, kw.arg, _value_info(kw.value, ctx)) for kw in params.keywords if kw.arg
        )
    return None


# --- which database a connection opens (issue 11, pattern 5) -----------------------------------
#
# `cache = sqlite3.connect("cache.db")` then `cache.execute(...)`: the receiver of the call is
# followed like any name (assignments, `with ... as c`, `.cursor()`, `closing(...)`, module
# constants, `self.conn` assigned in a method of the same class) to a `connect(...)` whose path
# is literal text. What cannot be seen is None: the main database, as before.

# Calls that open a database file (sqlite3, aiosqlite, apsw).
_CONNECT_CALLS = frozenset({"connect", "Connection"})
_PATH_WRAPPERS = frozenset({"Path", "PurePath", "PosixPath", "str", "fspath"})


def _database_of_call(call: ast.Call, scope: _Scope, ctx: _FileContext) -> str | None:
    """Return the database `call`'s receiver opens (`x.execute(...)`: what x is connected to)."""
    if not isinstance(call.func, ast.Attribute):
        return None
    return _database_of(call.func.value, scope, ctx, 0)


def _database_of(node: ast.expr, scope: _Scope, ctx: _FileContext, depth: int) -> str | None:
    """Return the database the connection (or cursor) `node` opens, or None when not seen."""
    if depth > _MAX_NAME_DEPTH:
        return None
    configured = _configured_database(node, ctx)
    if configured is not None:
        return configured
    if isinstance(node, ast.Await):
        node = node.value  # aiosqlite: `await aiosqlite.connect(...)`
    if isinstance(node, ast.Call):
        name = _called_name(node.func)
        if name in _CONNECT_CALLS:
            arg = node.args[0] if node.args else _keyword(node, ("database", "filename", "path"))
            if arg is None:
                return None
            path = _literal_path(arg, scope, ctx, 0)
            return path if path is not None else run_time_database(node)
        if name in ("cursor", "__enter__") and isinstance(node.func, ast.Attribute):
            return _database_of(node.func.value, scope, ctx, depth + 1)
        if name == "closing" and node.args:
            return _database_of(node.args[0], scope, ctx, depth + 1)
        function = _function_called(node.func, ctx)
        return None if function is None else _returned_database(function, ctx, depth + 1)
    if isinstance(node, ast.Name):
        if (bound := _reaching_name(node, scope, ctx)) is None:
            return None
        candidate, reaching = bound
        found = {
            None if value is None else _database_of(value, candidate, ctx, depth + 1)
            for value, _augments in reaching
            if not (isinstance(value, ast.Constant) and value.value is None)
        }
        # Every value it can hold opens the same file, or it is not known.
        return found.pop() if len(found) == 1 else None
    if (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "self"
        and ctx.class_node is not None
    ):
        return _attribute_database(ctx.class_node, node.attr, ctx, depth + 1)
    return None


def run_time_database(connect: ast.Call) -> str:
    """Return the name of the database a `connect(...)` call opens from a path the code does
    not spell (a parameter, a setting): one per call site."""
    return f"{RUN_TIME}line {connect.lineno}"


def _one_run_time_database_is_the_main_one(statements: list[Statement]) -> list[Statement]:
    """Return `statements` with the run-time databases read as the main one, except in a
    function that opens several: a converter copying from an old database into the app's
    (`old = connect(old_path); new = connect(new_path)`) talks to two schemas, and which is
    which is told by the tables each names (analysis/databases.py)."""
    opened: dict[str, set[str]] = {}
    for s in statements:
        if s.database is not None and s.database.startswith(RUN_TIME):
            opened.setdefault(s.function, set()).add(s.database)
    return [
        replace(s, database=None)
        if s.database is not None
        and s.database.startswith(RUN_TIME)
        and len(opened[s.function]) < 2
        else s
        for s in statements
    ]


def _function_called(
    func: ast.expr, ctx: _FileContext
) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    """Return the module's function `f` of `f()`, or the class's method `m` of `self.m()`."""
    body: list[ast.stmt] = []
    if isinstance(func, ast.Name) and isinstance(ctx.module.node, ast.Module):
        body, wanted = ctx.module.node.body, func.id
    elif (
        isinstance(func, ast.Attribute)
        and isinstance(func.value, ast.Name)
        and func.value.id == "self"
        and ctx.class_node is not None
    ):
        body, wanted = ctx.class_node.body, func.attr
    found = [
        n
        for n in body
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == wanted
    ]
    return found[-1] if len(found) == 1 else None


def _returned_database(
    function: ast.FunctionDef | ast.AsyncFunctionDef, ctx: _FileContext, depth: int
) -> str | None:
    """Return the database every `return` (or `yield`: a context manager) of `function`
    gives a connection to, when they all agree."""
    key = (id(function), "()")
    if key in ctx.attributes:
        return ctx.attributes[key]
    ctx.attributes[key] = None  # while reading: a function that calls itself must not loop
    scope = ctx.method_scopes.get(id(function))
    if scope is None:
        scope = ctx.method_scopes[id(function)] = _Scope(function, function.name)
    found: set[str | None] = set()
    for node in ast.walk(function):
        if isinstance(node, (ast.Return, ast.Yield)) and node.value is not None:
            found.add(_database_of(node.value, scope, ctx, depth + 1))
    result = found.pop() if len(found) == 1 else None
    ctx.attributes[key] = result
    return result


def _configured_database(node: ast.expr, ctx: _FileContext) -> str | None:
    """Return the database [tool.dbheal.databases] gives the receiver `node` (its dotted text,
    or `Class.attribute` for `self.attribute` in that class), if any."""
    if not ctx.options.receivers:
        return None
    parts: list[str] = []
    current: ast.expr = node
    while isinstance(current, ast.Attribute):
        parts.append(current.attr)
        current = current.value
    if not isinstance(current, ast.Name):
        return None
    parts.append(current.id)
    text = ".".join(reversed(parts))
    names = [text]
    if len(parts) == 2 and current.id == "self" and ctx.class_node is not None:
        names.append(f"{ctx.class_node.name}.{parts[0]}")
    for receiver, database in ctx.options.receivers:
        if receiver in names:
            return database
    return None


def _attribute_database(
    cls: ast.ClassDef, attribute: str, ctx: _FileContext, depth: int
) -> str | None:
    """Return the database `self.<attribute>` opens: what every `self.<attribute> = ...` in
    the methods of `cls` assigns, when they all agree."""
    key = (id(cls), attribute)
    if key in ctx.attributes:
        return ctx.attributes[key]
    ctx.attributes[key] = None  # while reading: `self.a = self.a.cursor()` must not loop
    found: set[str | None] = set()
    for method in cls.body:
        if not isinstance(method, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for node in ast.walk(method):
            if not isinstance(node, (ast.Assign, ast.AnnAssign)) or node.value is None:
                continue
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if not any(
                isinstance(t, ast.Attribute)
                and t.attr == attribute
                and isinstance(t.value, ast.Name)
                and t.value.id == "self"
                for t in targets
            ):
                continue
            if isinstance(node.value, ast.Constant) and node.value.value is None:
                continue  # `self.conn = None` until opened
            scope = ctx.method_scopes.get(id(method))
            if scope is None:
                scope = ctx.method_scopes[id(method)] = _Scope(method, method.name)
            found.add(_database_of(node.value, scope, ctx, depth + 1))
    result = found.pop() if len(found) == 1 else None
    ctx.attributes[key] = result
    return result


def _literal_path(arg: ast.expr, scope: _Scope, ctx: _FileContext, depth: int) -> str | None:
    """Return the path `connect(arg)` opens when the code spells it (literal text, names of
    literals, `Path(...)`, `os.path.join(...)`), ":memory:" for an in-memory database."""
    if depth > _MAX_NAME_DEPTH:
        return None
    if isinstance(arg, ast.Call):
        name = _called_name(arg.func)
        if name in _PATH_WRAPPERS and len(arg.args) == 1:
            return _literal_path(arg.args[0], scope, ctx, depth + 1)
        if name == "join" and isinstance(arg.func, ast.Attribute) and arg.args:
            if not (isinstance(arg.func.value, ast.Attribute) and arg.func.value.attr == "path"):
                return None  # only os.path.join: ",".join(...) is no path
            parts = [_literal_path(a, scope, ctx, depth) for a in arg.args]
            known = [p for p in parts if p is not None]
            return "/".join(known) if len(known) == len(parts) else None
        return None
    if isinstance(arg, ast.Name):
        if (bound := _reaching_name(arg, scope, ctx)) is None:
            return None
        candidate, reaching = bound
        paths = {
            None if value is None or augments else _literal_path(value, candidate, ctx, depth + 1)
            for value, augments in reaching
        }
        return paths.pop() if len(paths) == 1 else None
    saved = ctx.strict
    ctx.strict = True
    try:
        variants = _pieces(arg, scope, ctx, (arg.lineno, arg.col_offset), depth + 1)
    finally:
        ctx.strict = saved
    if variants is None or len(variants) != 1:
        return None
    if any(isinstance(p, Slot) for p in variants[0]):
        return None
    text = "".join(p.text for p in variants[0] if isinstance(p, TextPiece))
    if text.startswith("file:"):  # a URI: file:cache.db?mode=ro
        path, _, query = text[5:].partition("?")
        text = ":memory:" if "mode=memory" in query else path
    elif "=" in text or "://" in text:
        return None  # a server's DSN (psycopg, SQLAlchemy), not a file: as before
    return ":memory:" if text in ("", ":memory:") else text


# --- helpers of their own shape ([tool.dbheal.calls], issue 11, pattern 11) --------------------


def _shaped(
    call: ast.Call, name: str, shape: CallShape, scope: _Scope, ctx: _FileContext
) -> list[Statement]:
    """Return the statements a helper of a configured shape carries."""
    if shape.table is not None:
        statement = _table_statement(call, name, shape, scope, ctx)
        return [] if statement is None else [statement]
    if shape.statements is not None:
        return _listed_statements(call, name, _argument(call, shape.statements), scope, ctx)
    index = shape.sql or 0
    params = _argument(call, shape.params if shape.params is not None else index + 1)

    def parameters() -> tuple[Parameter, ...] | None:
        return () if params is None else _literal_parameters(params, ctx)

    return _sql_statements(call, name, _argument(call, index), parameters, scope, ctx)


def _argument(call: ast.Call, index: int) -> ast.expr | None:
    """Return positional argument `index` of `call`, unless a `*args` comes first."""
    for i, arg in enumerate(call.args):
        if isinstance(arg, ast.Starred):
            return None
        if i == index:
            return arg
    return None


def _listed_statements(
    call: ast.Call, name: str, node: ast.expr | None, scope: _Scope, ctx: _FileContext
) -> list[Statement]:
    """Statements of a list literal (or a name bound once to one): each item SQL, or a
    [sql, params] pair."""
    if isinstance(node, ast.Name):
        reaching = _reaching(scope, node.id, (node.lineno, node.col_offset), ctx)
        if reaching is not None and len(reaching) == 1 and not reaching[0][1]:
            node = reaching[0][0]
    if not isinstance(node, (ast.List, ast.Tuple)):
        return []
    found: list[Statement] = []
    for item in node.elts:
        params: ast.expr | None = None
        sql: ast.expr = item
        if isinstance(item, (ast.List, ast.Tuple)):
            if not item.elts:
                continue
            sql = item.elts[0]
            params = item.elts[1] if len(item.elts) > 1 else None

        def parameters(params: ast.expr | None = params) -> tuple[Parameter, ...] | None:
            return () if params is None else _literal_parameters(params, ctx)

        found.extend(_sql_statements(call, name, sql, parameters, scope, ctx))
    return found


def _table_statement(
    call: ast.Call, name: str, shape: CallShape, scope: _Scope, ctx: _FileContext
) -> Statement | None:
    """The statement equivalent to `upsert("users", {"name": n}, {"id": i})`, for the checks.

    SELECT `name`, `id` FROM `users`, each name mapped to its string literal, so that
    MISSING_TABLE and MISSING_COLUMN point at "users" and "name" in the code. A SELECT, not the
    INSERT or UPDATE the helper may run: it refers to the same names and nothing else (no
    value to compare, no filter to index). A table name that is not literal text: nothing.
    """
    table_arg = _argument(call, shape.table or 0)
    if table_arg is None:
        return None
    ctx.slots = 0
    table = _name_piece(table_arg, scope, ctx)
    if table is None:
        return None
    columns: list[TextPiece] = []
    for index in shape.columns:
        mapping = _argument(call, index)
        if not isinstance(mapping, ast.Dict):
            continue
        for key in mapping.keys:
            piece = _name_piece(key, scope, ctx) if key is not None else None
            if piece is not None:
                columns.append(piece)
    name_span = _name_span(call.func, ctx.lines)
    at = (name_span.line, name_span.column)

    def glue(text: str) -> TextPiece:
        # The words the code does not spell: mapped to the helper's name.
        return TextPiece(text, (at,) * (len(text) + 1))

    pieces: list[Piece] = [glue("SELECT ")]
    for i, column in enumerate(columns):
        pieces.extend([glue(", ")] if i else [])
        pieces.extend(_quoted(column))
    if not columns:
        pieces.append(glue("1"))
    pieces.append(glue(" FROM "))
    pieces.extend(_quoted(table))
    return _statement(call, name, table_arg, tuple(pieces), (), scope, ctx)


def _quoted(piece: TextPiece) -> list[Piece]:
    """The name `piece` as a quoted SQL identifier (a column may be named `order`), the quotes
    mapped onto the name's first and last characters so that an issue covers the name alone.
    Backquotes: an unknown name in double quotes would be read as a string by SQLite."""
    first, last = piece.positions[0], piece.positions[-2]
    opening = TextPiece("`", (first, first))
    closing = TextPiece("`", (last, piece.positions[-1]))
    return [opening, piece, closing]


def _name_piece(node: ast.expr, scope: _Scope, ctx: _FileContext) -> TextPiece | None:
    """A table or column name given as literal text (or a name bound to one), with positions."""
    saved = ctx.strict
    ctx.strict = True
    try:
        variants = _pieces(node, scope, ctx, (node.lineno, node.col_offset), 0)
    finally:
        ctx.strict = saved
    if variants is None or len(variants) != 1:
        return None
    parts = variants[0]
    if not parts or not all(isinstance(p, TextPiece) for p in parts):
        return None
    texts = [p for p in parts if isinstance(p, TextPiece)]
    text = "".join(p.text for p in texts)
    # A qualified or quoted name, or one with blanks (SQLite's messages end a name at the
    # first blank), is not read: better nothing than a wrong MISSING_TABLE.
    if not text or any(c in text for c in '."`[]') or any(c.isspace() for c in text):
        return None
    positions: list[tuple[int, int]] = []
    for p in texts:
        positions.extend(p.positions[:-1])
    positions.append(texts[-1].positions[-1])
    return TextPiece(text, tuple(positions))
