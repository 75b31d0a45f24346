"""What the code does with a query's result rows: the casts it applies to the columns it reads.

`version = db.execute("SELECT version FROM version").fetchone()[0]` then `int(version)`, or
`for pages, fmt in db.execute("SELECT pages, format FROM ...")` then `int(pages)`: the code
expects a number in result column 0. The checks compare that with the column's type
(TYPE_MISMATCH on a read: the column was changed to TEXT, or the cast is a leftover).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Sequence

from dbheal_lsp.analysis.positions import span_of
from dbheal_lsp.analysis.statement import ResultCast

# Casts that say "this column holds a number".
NUMBER_CASTS = frozenset({"int", "float"})
# Calls on a query's result that give its rows, and the one that gives its first row.
_ROWS = frozenset({"fetchall"})
_FIRST_ROW = frozenset({"fetchone"})


def result_casts(
    call: ast.Call, function: ast.AST | None, lines: Sequence[str]
) -> tuple[ResultCast, ...]:
    """Return the number casts the code in `function` applies to the result columns of `call`
    (`int(x)` where `x` is bound once, to one column of its rows)."""
    if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return ()
    columns = {name: (index, line) for name, index, line in _bound_columns(call, function)}
    if not columns:
        return ()
    stores: dict[str, list[int]] = {}
    for node in ast.walk(function):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            stores.setdefault(node.id, []).append(node.lineno)
    found: list[ResultCast] = []
    for node in ast.walk(function):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in NUMBER_CASTS
            and len(node.args) == 1
            and isinstance(node.args[0], ast.Name)
            and node.args[0].id in columns
        ):
            name = node.args[0].id
            index, bound = columns[name]
            # Read in the lines after the binding, before anything else is bound to the name
            # (line order stands for the order the code runs in).
            if bound > node.lineno or any(bound < line <= node.lineno for line in stores[name]):
                continue
            cast = ResultCast(index, node.func.id, name, span_of(lines, node))
            if cast not in found:
                found.append(cast)
    return tuple(found)


def _bound_columns(call: ast.Call, function: ast.AST) -> Iterator[tuple[str, int, int]]:
    """Yield (name, result column, line) for each name bound to one column of `call`'s rows."""
    for node in ast.walk(function):
        if isinstance(node, (ast.For, ast.AsyncFor)) and _rows_of(node.iter, call):
            yield from _unpacked(node.target)
        elif isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
            if _first_row_of(value, call):
                yield from _unpacked(target)
            elif (
                isinstance(target, ast.Name)
                and isinstance(value, ast.Subscript)
                and _first_row_of(value.value, call)
                and isinstance(value.slice, ast.Constant)
                and type(value.slice.value) is int
            ):
                yield target.id, value.slice.value, target.lineno


def _unpacked(target: ast.expr) -> Iterator[tuple[str, int, int]]:
    if isinstance(target, (ast.Tuple, ast.List)):
        for index, element in enumerate(target.elts):
            if isinstance(element, ast.Name):
                yield element.id, index, element.lineno


def _rows_of(node: ast.expr, call: ast.Call) -> bool:
    """`call` itself (a cursor is iterable) or `call.fetchall()`."""
    return node is call or _method_on(node, call, _ROWS)


def _first_row_of(node: ast.expr, call: ast.Call) -> bool:
    return _method_on(node, call, _FIRST_ROW)


def _method_on(node: ast.expr, call: ast.Call, names: frozenset[str]) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in names
        and node.func.value is call
    )
