"""What the code does with a query's result rows: the casts it applies to the columns it reads.

`version = db.execute("SELECT version FROM version").fetchone()[0]` then `int(version)`, or
`for pages, fmt in db.execute("SELECT pages, format FROM ...")` then `int(pages)`: the code
expects a number in result column 0. The checks compare that with the column's type
(TYPE_MISMATCH on a read: the column was changed to TEXT, or the cast is a leftover).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from dbheal_lsp.analysis.statement import ResultCast
from dbheal_lsp.languages.python.pysource import span_of

# Casts that say "this column holds a number".
NUMBER_CASTS = frozenset({"int", "float"})


@dataclass
class FunctionRows:
    """One function read once: which names each query call's rows are bound to, where each
    name is bound, and where it is cast to a number."""

    # id(the query call) -> (name, result column, line of the binding)
    bound: dict[int, list[tuple[str, int, int]]] = field(default_factory=dict)
    stores: dict[str, list[int]] = field(default_factory=dict)
    casts: dict[str, list[ast.Call]] = field(default_factory=dict)

    def result_casts(self, call: ast.Call, lines: Sequence[str]) -> tuple[ResultCast, ...]:
        """Return the number casts applied to the result columns of `call` (`int(x)` after
        `x` is bound to one column, before anything else is bound to it: line order stands
        for the order the code runs in)."""
        found: list[ResultCast] = []
        for name, index, line in self.bound.get(id(call), ()):
            for cast in self.casts.get(name, ()):
                if line > cast.lineno or any(line < s <= cast.lineno for s in self.stores[name]):
                    continue
                assert isinstance(cast.func, ast.Name)
                result = ResultCast(index, cast.func.id, name, span_of(lines, cast))
                if result not in found:
                    found.append(result)
        return tuple(found)


def function_rows(function: ast.AST) -> FunctionRows:
    """Return what `function` binds query rows to and casts (see FunctionRows)."""
    rows = FunctionRows()
    if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return rows
    for node in ast.walk(function):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            rows.stores.setdefault(node.id, []).append(node.lineno)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in NUMBER_CASTS
            and len(node.args) == 1
            and isinstance(node.args[0], ast.Name)
        ):
            rows.casts.setdefault(node.args[0].id, []).append(node)
        for call, names in _bindings(node):
            rows.bound.setdefault(id(call), []).extend(names)
    return rows


def _bindings(node: ast.AST) -> Iterator[tuple[ast.expr, list[tuple[str, int, int]]]]:
    """Yield (query call, names bound to its result columns) for a binding statement."""
    if isinstance(node, (ast.For, ast.AsyncFor)):
        # `for a, b in cursor.execute(...)` or `... .fetchall()`
        yield _receiver_of(node.iter, "fetchall") or node.iter, list(_unpacked(node.target))
    elif isinstance(node, ast.Assign) and len(node.targets) == 1:
        target, value = node.targets[0], node.value
        first = _receiver_of(value, "fetchone")
        if first is not None:
            yield first, list(_unpacked(target))  # a, b = cursor.execute(...).fetchone()
        elif (
            isinstance(target, ast.Name)
            and isinstance(value, ast.Subscript)
            and isinstance(value.slice, ast.Constant)
            and type(value.slice.value) is int
            and (call := _receiver_of(value.value, "fetchone")) is not None
        ):
            yield call, [(target.id, value.slice.value, target.lineno)]  # x = ....fetchone()[0]


def _unpacked(target: ast.expr) -> Iterator[tuple[str, int, int]]:
    if isinstance(target, (ast.Tuple, ast.List)):
        for index, element in enumerate(target.elts):
            if isinstance(element, ast.Name):
                yield element.id, index, element.lineno


def _receiver_of(node: ast.expr, method: str) -> ast.expr | None:
    """`x` of `x.method()`, else None."""
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == method
        and not node.args
    ):
        return node.func.value
    return None
