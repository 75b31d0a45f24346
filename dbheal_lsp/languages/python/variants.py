"""Reading a statement's SQL again: once per caller of the enclosing function and once per
class a method runs on, so that each gets the names given for it; and numbering the slots."""

from __future__ import annotations

import ast
from dataclasses import replace

from dbheal_lsp.analysis.statement import Piece, Slot
from dbheal_lsp.languages.python.filecontext import MAX_VARIANTS, FileContext, Scope, Variants
from dbheal_lsp.languages.python.pieces import consistent, read_pieces


def per_caller_variants(
    sql_arg: ast.expr, call: ast.Call, scope: Scope, ctx: FileContext
) -> Variants:
    """Return the variants of `sql_arg` read once per caller of the enclosing function, each
    with the literals that caller passes: `_save_object(o, TABLE_PODCAST, PodcastColumns)` and
    `_save_object(o, TABLE_EPISODE, EpisodeColumns)` give one INSERT each, never a table with
    the other's columns."""
    function = scope.node
    if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return []
    out: Variants = []
    ctx.environment_of = function
    for environment in ctx.options.constants.call_environments(function.name)[:MAX_VARIANTS]:
        ctx.environment = dict(environment)
        out.extend(_read_again(sql_arg, call, scope, ctx))
    ctx.environment, ctx.environment_of = {}, None
    return out[:MAX_VARIANTS]


def per_class_variants(
    sql_arg: ast.expr, call: ast.Call, scope: Scope, ctx: FileContext
) -> Variants:
    """Return the variants of `sql_arg` read once per class a method may run on, each with
    that class's attributes: `f"UPDATE {self._table} ..."` in a base model gives one UPDATE
    per model (items, albums), never a test double's table."""
    if ctx.class_node is None:
        return []
    classes = ctx.options.constants.variant_classes(ctx.class_node.name, ctx.per_class)
    out: Variants = []
    for cls in classes[:MAX_VARIANTS]:
        ctx.as_class = cls
        out.extend(_read_again(sql_arg, call, scope, ctx))
    ctx.as_class = None
    return out[:MAX_VARIANTS]


def per_argument_variants(
    sql_arg: ast.expr, call: ast.Call, scope: Scope, ctx: FileContext
) -> Variants:
    """Return the variants of `sql_arg` read once per class the callers pass as a parameter,
    each with that class's attributes: `table = model_cls._table` in `_get_results(model_cls,
    ...)`, called as `_fetch(Album, ...)` and `_fetch(Item, ...)`, gives albums and items."""
    name, classes = min(ctx.class_arguments.items())  # one parameter's classes
    out: Variants = []
    for cls in sorted(classes)[:MAX_VARIANTS]:
        ctx.as_argument = (name, cls)
        out.extend(_read_again(sql_arg, call, scope, ctx))
    ctx.as_argument = None
    return out[:MAX_VARIANTS]


def _read_again(sql_arg: ast.expr, call: ast.Call, scope: Scope, ctx: FileContext) -> Variants:
    """Return the consistent variants of `sql_arg` read afresh (with what `ctx` now says a
    caller passes or which class `self` is)."""
    ctx.slots = 0
    ctx.work = 0
    ctx.strict = False
    ctx.alternatives = {}
    found = read_pieces(sql_arg, scope, ctx, (call.lineno, call.col_offset), 0) or []
    return [v for v in found if consistent(v, ctx)]


def numbered(pieces: list[Piece]) -> list[Piece]:
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
