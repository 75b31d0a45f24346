"""Find every SQL statement that Python code sends to a database, using the standard `ast`.

A statement is the SQL argument of a database call (execute, executemany, executescript, query,
text(...), ...) as a plain string, implicit concatenation, f-string, `%` formatting, `.format()`,
`+` concatenation, or a name bound to such a value earlier in the same function or at module
level (including `sql += "..."`). Each is returned as a `Statement`: literal text pieces with
source positions, interpolated slots, and the parameters bound to its placeholders.
"""

from __future__ import annotations

import ast
import re
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import replace

from dbheal_lsp.analysis.positions import source_lines
from dbheal_lsp.analysis.statement import Parameter, Statement
from dbheal_lsp.languages.python.bindings import child_nodes
from dbheal_lsp.languages.python.call_sites import call_site_statements
from dbheal_lsp.languages.python.call_statements import sql_statements
from dbheal_lsp.languages.python.calls import keyword_value
from dbheal_lsp.languages.python.connections import (
    CONNECT_CALLS,
    database_of_call,
    one_run_time_database_is_the_main_one,
)
from dbheal_lsp.languages.python.deferred import deferred_parameters
from dbheal_lsp.languages.python.filecontext import ExtractOptions, FileContext, Scope
from dbheal_lsp.languages.python.helper_receivers import HelperFiles
from dbheal_lsp.languages.python.receivers import leaf_name
from dbheal_lsp.languages.python.shapes import shaped_statements
from dbheal_lsp.languages.python.values import call_parameters


class OutOfTime(Exception):
    """Extraction ran past its deadline, at the statement on `line`."""

    def __init__(self, line: int) -> None:
        super().__init__(f"out of time at line {line}")
        self.line = line


class Extractor:
    """Finds statements in Python source; holds the compiled call-name pattern."""

    def __init__(self, options: ExtractOptions | None = None) -> None:
        options = options or ExtractOptions()
        if options.shapes:
            options = replace(options, calls=options.calls | {s.name for s in options.shapes})
        self.options = options
        self._helpers = HelperFiles()
        names = "|".join(sorted(re.escape(n) for n in self.options.calls))
        self._candidate = re.compile(rf"\b(?:{names})\s*\(")
        # Calls of the project's SQL helpers (call_sites.py): one simple pattern and a set
        # lookup, not hundreds of alternatives.
        self._methods = options.constants.sql_methods - options.calls
        self._method_call = re.compile(r"\.([A-Za-z_]\w*)\s*\(")

    def might_contain_sql(self, source: str) -> bool:
        """Return whether `source` calls any database call name at all (a cheap pre-filter)."""
        if self._candidate.search(source) is not None:
            return True
        methods = self._methods
        return bool(methods) and any(
            m.group(1) in methods for m in self._method_call.finditer(source)
        )

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
        ctx = FileContext(lines, self.options, candidate_lines, Scope(tree, ""), deadline)
        ctx.origins.module = tree
        ctx.helper_files = self._helpers
        # A file that opens no database itself (most get a connection from a helper elsewhere)
        # and whose receivers the settings do not map: every statement runs on the main one.
        ctx.opens_databases = bool(self.options.receivers) or any(
            name in source for name in CONNECT_CALLS
        )
        _visit_body(tree.body if only is None else only, ctx.module, ctx)
        found = one_run_time_database_is_the_main_one(ctx.statements)
        return tuple(sorted(found, key=lambda s: (s.span.line, s.span.column)))

    def _candidate_lines(self, source: str) -> frozenset[int]:
        found: set[int] = set()
        line = 1
        last = 0
        for match in self._candidate.finditer(source):
            line += source.count("\n", last, match.start())
            last = match.start()
            found.add(line)
        if self._methods:
            line, last = 1, 0
            for match in self._method_call.finditer(source):
                if match.group(1) in self._methods:
                    line += source.count("\n", last, match.start())
                    last = match.start()
                    found.add(line)
        return frozenset(found)


def _has_candidate(node: ast.stmt, ctx: FileContext) -> bool:
    end = node.end_lineno or node.lineno
    if end - node.lineno < 32:
        return any(n in ctx.candidate_lines for n in range(node.lineno, end + 1))
    return any(node.lineno <= n <= end for n in ctx.candidate_lines)


def _visit_body(body: Sequence[ast.stmt], scope: Scope, ctx: FileContext) -> None:
    for stmt in body:
        if _has_candidate(stmt, ctx):
            _visit_stmt(stmt, scope, ctx)


def _visit_stmt(stmt: ast.stmt, scope: Scope, ctx: FileContext) -> None:
    if time.monotonic() >= ctx.deadline:
        raise OutOfTime(stmt.lineno)
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
        qual = f"{scope.qualname}.{stmt.name}" if scope.qualname else stmt.name
        # A function defined inside a `try` runs later, outside it.
        outer, ctx.guarded = ctx.guarded, False
        _visit_body(stmt.body, Scope(stmt, qual), ctx)
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
        _visit_body(stmt.body, Scope(scope.node, qual, scope.assignments), ctx)
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
        called = {leaf_name(n) for n in names}
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


def _visit_expr(node: ast.AST, scope: Scope, ctx: FileContext) -> None:
    for call in _calls_in(node):
        if id(call) in ctx.consumed:
            continue
        name = leaf_name(call.func)
        if name is None:
            continue
        if name in ctx.options.calls:
            ctx.statements.extend(_statements_of_call(call, name, scope, ctx))
        elif name in ctx.options.constants.sql_methods and ctx.helper_files is not None:
            ctx.statements.extend(call_site_statements(call, name, scope, ctx, ctx.helper_files))


def _calls_in(node: ast.AST) -> Iterator[ast.Call]:
    """Yield the calls in `node` in source order, outer calls before the calls inside them."""
    stack = [node]
    found: list[ast.Call] = []
    while stack:
        current = stack.pop()
        if isinstance(current, ast.Call):
            found.append(current)
        stack.extend(child_nodes(current))
    found.sort(key=lambda c: (c.lineno, c.col_offset))
    yield from found


def _statements_of_call(
    call: ast.Call, name: str, scope: Scope, ctx: FileContext
) -> list[Statement]:
    """Return the statements a call sends: one per variant of its SQL (branches, `a if c else b`).

    A helper configured in [tool.dbheal.calls] carries them in its own shape (`shaped_statements`).
    """
    ctx.scope = scope
    ctx.work = 0
    ctx.reached.clear()
    ctx.database = database_of_call(call, scope, ctx) if ctx.opens_databases else None
    shape = next((s for s in ctx.options.shapes if s.name == name), None)
    ctx.shaped = shape is not None
    if shape is not None:
        return shaped_statements(call, name, shape, scope, ctx)
    sql_arg = call.args[0] if call.args else keyword_value(call, ("sql", "query", "statement"))

    def parameters() -> tuple[Parameter, ...] | None:
        # Nothing bound here: the values a later `.run(...)` of the stored query binds.
        found = call_parameters(call, name, ctx)
        return found if found != () else deferred_parameters(call, scope, ctx) or found

    return sql_statements(call, name, sql_arg, parameters, scope, ctx)
