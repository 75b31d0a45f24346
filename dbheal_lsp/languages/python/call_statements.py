"""The statements one database call sends: its SQL argument read into variants, each that
reads as SQL made a `Statement`."""

from __future__ import annotations

import ast
import re
from collections.abc import Callable

from dbheal_lsp.analysis.statement import Parameter, Piece, Slot, Statement, TextPiece
from dbheal_lsp.languages.python.calls import DBAPI_CALLS, TEXT_CALLS, call_name_span
from dbheal_lsp.languages.python.filecontext import FileContext, Scope
from dbheal_lsp.languages.python.guarded_names import spell_members
from dbheal_lsp.languages.python.parameters import read_bindings
from dbheal_lsp.languages.python.pieces import consistent, read_pieces
from dbheal_lsp.languages.python.pysource import span_of
from dbheal_lsp.languages.python.receivers import leaf_name
from dbheal_lsp.languages.python.results import FunctionRows, function_rows
from dbheal_lsp.languages.python.sql_text import starts_like_sql
from dbheal_lsp.languages.python.variants import (
    numbered,
    per_argument_variants,
    per_caller_variants,
    per_class_variants,
)

# The written text after a leading interpolated SELECT: `UNION ALL SELECT ... FROM ...`.
_COMPOUND_OPERATOR = re.compile(r"\s*(UNION(\s+ALL)?|INTERSECT|EXCEPT)\s+(?=SELECT\b)", re.I)
_COMPOUND_SELECT = re.compile(
    r"(UNION(\s+ALL)?|INTERSECT|EXCEPT)\s+SELECT\b.*\bFROM\b", re.IGNORECASE | re.DOTALL
)
_SQL_WORD = re.compile(
    r"\b(SELECT|INSERT|UPDATE|DELETE|FROM|INTO|TABLE|WHERE|SET|VALUES|PRAGMA)\b", re.IGNORECASE
)


def sql_statements(
    call: ast.Call,
    name: str,
    sql_arg: ast.expr | None,
    parameters_of: Callable[[], tuple[Parameter, ...] | None],
    scope: Scope,
    ctx: FileContext,
) -> list[Statement]:
    """Return the statements of the SQL expression `sql_arg` of `call`, one per variant."""
    if sql_arg is None or isinstance(sql_arg, ast.Starred):
        return []
    if (
        isinstance(sql_arg, ast.Call)
        and leaf_name(sql_arg.func) in TEXT_CALLS
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
    ctx.class_arguments = {}
    ctx.member_slots = {}
    variants = read_pieces(sql_arg, scope, ctx, (call.lineno, call.col_offset), 0) or []
    variants = [v for v in variants if consistent(v, ctx)]
    again: list[list[Piece]] = []
    if ctx.several:
        again = per_caller_variants(sql_arg, call, scope, ctx)
    elif ctx.per_class:
        again = per_class_variants(sql_arg, call, scope, ctx)
    if not again and ctx.class_arguments:
        again = per_argument_variants(sql_arg, call, scope, ctx)
    variants = again or variants
    found: list[Statement] = []
    parameters = parameters_of() if variants else None
    seen: set[tuple[Piece, ...]] = set()
    for variant in variants:
        pieces = numbered(spell_members(variant, ctx))
        if not pieces or tuple(pieces) in seen:
            continue  # `"" if a else ""`: the same text twice is checked once
        seen.add(tuple(pieces))
        literal = "".join(p.text for p in pieces if isinstance(p, TextPiece))
        if name in DBAPI_CALLS:
            if not starts_like_sql(literal) and not _SQL_WORD.search(literal):
                continue
        elif not _reads_as_sql(pieces):
            continue
        pieces = _written_member_first(pieces)
        found.append(make_statement(call, name, sql_arg, tuple(pieces), parameters, scope, ctx))
    return found


def make_statement(
    call: ast.Call,
    name: str,
    sql_arg: ast.expr,
    pieces: tuple[Piece, ...],
    parameters: tuple[Parameter, ...] | None,
    scope: Scope,
    ctx: FileContext,
) -> Statement:
    """Return the `Statement` of one variant's pieces, with where the call and its SQL are."""
    return Statement(
        pieces=pieces,
        call=name,
        span=span_of(ctx.lines, sql_arg),
        name_span=call_name_span(call.func, ctx.lines),
        call_span=span_of(ctx.lines, call),
        parameters=parameters,
        function=scope.qualname,
        guarded=ctx.guarded,
        database=ctx.database,
        # A configured helper's own shape says where its SQL is, not how it binds parameters.
        bindings=None if ctx.shaped else read_bindings(call, name, scope.node, ctx.lines),
        result_casts=_rows_of(scope.node, ctx).result_casts(call, ctx.lines),
    )


def _rows_of(function: ast.AST, ctx: FileContext) -> FunctionRows:
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
        return starts_like_sql(first.text)
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
