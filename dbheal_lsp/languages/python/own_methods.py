"""SQL text a method of the class being read returns: `self._atime_expr()` in a query's
parts is read as each text the method's `return`s give (`""` or `"AND last_atime >= {}"`)."""

from __future__ import annotations

import ast
from collections.abc import Callable

from dbheal_lsp.languages.python.bindings import FUNCTIONS, return_statements
from dbheal_lsp.languages.python.filecontext import MAX_VARIANTS, FileContext, Scope, Variants

Function = ast.FunctionDef | ast.AsyncFunctionDef


def own_method(call: ast.Call, ctx: FileContext) -> Function | None:
    """Return the method `self.m(...)` or `cls.m(...)` calls when the class being read defines
    it once, else None. Its returns are read in its own scope: a text built from its
    parameters is not read (what a caller passes is not followed here)."""
    func = call.func
    if (
        ctx.class_node is None
        or not isinstance(func, ast.Attribute)
        or not isinstance(func.value, ast.Name)
        or func.value.id not in ("self", "cls")
    ):
        return None
    found = [s for s in ctx.class_node.body if isinstance(s, FUNCTIONS) and s.name == func.attr]
    return found[0] if len(found) == 1 else None


def returned_variants(
    method: Function, ctx: FileContext, read: Callable[[ast.expr, Scope], Variants | None]
) -> Variants | None:
    """Return the variants of every text `method` returns, read by `read` in the method's own
    scope; None when one of them (or a bare `return`, or falling off the end) is not text."""
    returns = list(return_statements(method))
    if not returns or any(r.value is None for r in returns) or not _ends_in_return(method):
        return None
    scope = ctx.method_scopes.setdefault(id(method), Scope(method, method.name))
    out: Variants = []
    # What the method's text interpolates is read where it is written: its names, its origins.
    caller, ctx.scope = ctx.scope, scope
    try:
        for node in returns:
            assert node.value is not None
            variants = read(node.value, scope)
            if variants is None:
                return None
            out.extend(variants)
    finally:
        ctx.scope = caller
    return out[:MAX_VARIANTS]


def _ends_in_return(method: Function) -> bool:
    """Return whether `method`'s body ends in a `return` or `raise` (else it may give None)."""
    last = method.body[-1]
    return isinstance(last, (ast.Return, ast.Raise))
