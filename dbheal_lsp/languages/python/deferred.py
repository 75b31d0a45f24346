"""The values a prepared query is run with later (issue 11, qutebrowser's history).

`self._q = db.query("SELECT ... WHERE atime <= :latest")` prepares a statement; another
method binds its values: `self._q.run(latest=latest)`. The statement is found at the first
call, its values at the second. When the first call binds nothing itself and its result is
stored in a name (`q = ...`, read in the same function) or an attribute of `self` (read in the
same class), each later call of one of `BIND_METHODS` on it gives the statement's values: its
keywords by name, or one literal tuple, list or dict. Several runs: each one's values are
checked. A value that is a parameter of the method running the query has the type every
caller in the project gives it (`ProjectConstants.number_parameters`).

The runs give TYPE_MISMATCH its values, not PARAMETER_MISMATCH its bindings: a prepared query
keeps the values bound by an earlier run (Qt's QSqlQuery does), so a run that names fewer
values than the statement's placeholders is not certainly wrong.
"""

from __future__ import annotations

import ast
from collections.abc import Callable

from dbheal_lsp.analysis.statement import Parameter
from dbheal_lsp.languages.python.filecontext import FileContext, Scope
from dbheal_lsp.languages.python.number_values import NumberReader
from dbheal_lsp.languages.python.values import literal_parameters, typed_value

# The methods that run a prepared query with its values: qutebrowser's sql.Query.run(**values)
# and the DB-API-like `prepared.execute(values)`. (Qt's own bindValue/addBindValue bind one
# value at a time and are not read; nor is run_batch, which binds lists of values.)
BIND_METHODS = frozenset({"run", "execute"})
_Function = ast.FunctionDef | ast.AsyncFunctionDef
_SQL_KEYWORDS = frozenset({"sql", "query", "statement", "operation"})


def deferred_parameters(
    call: ast.Call, scope: Scope, ctx: FileContext
) -> tuple[Parameter, ...] | None:
    """Return the values later runs of the query `call` prepares bind, or None when no run
    of it is read (see the module docstring)."""
    line = ctx.lines[call.lineno - 1] if call.lineno <= len(ctx.lines) else ""
    if "=" not in line[: call.col_offset]:
        return None  # (the cheap test first: the call's result is not assigned on its line)
    target = _stored_in(call, scope.node)
    if isinstance(target, ast.Name) and isinstance(scope.node, _Function):
        if _assignments(scope.node, lambda t: isinstance(t, ast.Name) and t.id == target.id) != 1:
            return None
        places: list[ast.AST] = [scope.node]
        receiver = target.id
    elif (
        isinstance(target, ast.Attribute)
        and isinstance(target.value, ast.Name)
        and target.value.id == "self"
        and ctx.class_node is not None
    ):
        attribute = target.attr
        if _assignments(ctx.class_node, lambda t: _is_self_attribute(t, attribute)) != 1:
            return None  # two queries in one attribute: which one a run runs is not read
        places = [n for n in ctx.class_node.body if isinstance(n, _Function)]
        receiver = f"self.{attribute}"
    else:
        return None
    numbers = NumberReader()
    found: list[Parameter] = []
    for place in places:
        for node in ast.walk(place):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in BIND_METHODS
                and _spelled(node.func.value) == receiver
            ):
                function = place if isinstance(place, _Function) else None
                found.extend(_run_values(node, function, numbers, ctx) or ())
    return tuple(found) or None


def _stored_in(call: ast.Call, scope: ast.AST) -> ast.expr | None:
    """Return the one target of the `target = call` statement in `scope`, else None."""
    for node in ast.walk(scope):
        if isinstance(node, ast.Assign) and node.value is call and len(node.targets) == 1:
            return node.targets[0]
    return None


def _assignments(scope: ast.AST, matches: Callable[[ast.AST], bool]) -> int:
    """Return how many bindings in `scope` (`=`, `+=`, a loop, `with ... as`, a walrus) bind
    a target `matches` accepts."""
    count = 0
    for node in ast.walk(scope):
        if isinstance(node, (ast.Name, ast.Attribute)) and isinstance(node.ctx, ast.Store):
            count += matches(node)
    return count


def _is_self_attribute(node: ast.AST, attribute: str) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and node.attr == attribute
        and isinstance(node.value, ast.Name)
        and node.value.id == "self"
    )


def _spelled(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        return f"{node.value.id}.{node.attr}"
    return None


def _run_values(
    run: ast.Call, function: _Function | None, numbers: NumberReader, ctx: FileContext
) -> tuple[Parameter, ...] | None:
    """Return what one run binds: its keywords by name, or its one literal argument."""
    if run.args and run.keywords:
        return None
    if run.keywords:
        if any(kw.arg is None or kw.arg in _SQL_KEYWORDS for kw in run.keywords):
            return None  # run(**values): which names it binds is not read; execute(sql=...)
        return tuple(
            Parameter(None, kw.arg, typed_value(kw.value, function, numbers, ctx))
            for kw in run.keywords
            if kw.arg is not None
        )
    if len(run.args) != 1:
        return None
    return literal_parameters(run.args[0], ctx, function, numbers)
