"""Which values a function certainly gives as numbers: `int(x)`, a number literal, arithmetic
on numbers, a name every binding of which is one.

The project pre-pass notes, for each argument of each call, the SQLite type of a number it
certainly passes (INTEGER or REAL); a parameter every caller fills with a number is then typed
for TYPE_MISMATCH (`ProjectConstants.number_parameters`). `start_time = int(start_time)` at the
top of a function makes the parameter a number from there on: a binding is read only when it
is the function's own, unconditional, before the use and the only kind of binding the name has.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable, Mapping, Set
from dataclasses import dataclass, field

from dbheal_lsp.languages.python.constants import (
    CallArguments,
    FileConstants,
    Signature,
    passed_as,
)

_Function = ast.FunctionDef | ast.AsyncFunctionDef
# Calls whose result is an integer (or a float) whatever their argument.
_INTEGER_CALLS = frozenset({"int", "len", "ord", "bool"})
_REAL_CALLS = frozenset({"float"})
_ARITHMETIC = (ast.Add, ast.Sub, ast.Mult, ast.FloorDiv, ast.Div, ast.Pow)
_MAX_DEPTH = 4


@dataclass
class NumberReader:
    """Reads number types within one file; remembers each function's bindings once read."""

    # id(function) -> name -> [(value, top-level line or 0 when in a branch or loop)]; None:
    # the name is bound some other way too (a loop, `with`, an unpacking, `+=` on text).
    bindings: dict[int, dict[str, list[tuple[ast.expr, int]] | None]] = field(default_factory=dict)

    def number_type(self, node: ast.expr, function: ast.AST | None, depth: int = 0) -> str | None:
        """Return "INTEGER" or "REAL" when `node`, read inside `function`, is certainly that
        kind of number, else None."""
        if depth > _MAX_DEPTH:
            return None
        if isinstance(node, ast.Constant):
            if isinstance(node.value, int):  # bool is an int
                return "INTEGER"
            return "REAL" if isinstance(node.value, float) else None
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            return self.number_type(node.operand, function, depth + 1)
        if isinstance(node, ast.BinOp) and isinstance(node.op, _ARITHMETIC):
            kinds = {
                self.number_type(node.left, function, depth + 1),
                self.number_type(node.right, function, depth + 1),
            }
            if None in kinds:
                return None
            return "REAL" if "REAL" in kinds or isinstance(node.op, ast.Div) else "INTEGER"
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.args:
            if node.func.id in _INTEGER_CALLS:
                return "INTEGER"
            return "REAL" if node.func.id in _REAL_CALLS else None
        if isinstance(node, ast.Name) and isinstance(function, _Function):
            return self._name_type(node, function, depth)
        return None

    def _name_type(self, node: ast.Name, function: _Function, depth: int) -> str | None:
        values = self._bindings(function).get(node.id)
        if not values:
            return None  # a parameter not rebound, a module's name, bound some other way
        args = function.args
        parameters = {a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)}
        if node.id in parameters and not any(0 < line < node.lineno for _, line in values):
            return None  # the caller's value may reach the use
        kinds = {self.number_type(value, function, depth + 1) for value, _ in values}
        if None in kinds:
            return None
        return "REAL" if "REAL" in kinds else "INTEGER"

    def binds(self, name: str, function: _Function) -> bool:
        """Return whether `function` binds `name` in its body (a parameter it rebinds)."""
        return name in self._bindings(function)

    def _bindings(self, function: _Function) -> dict[str, list[tuple[ast.expr, int]] | None]:
        known = self.bindings.get(id(function))
        if known is None:
            known = self.bindings[id(function)] = _function_bindings(function)
        return known


def _function_bindings(function: _Function) -> dict[str, list[tuple[ast.expr, int]] | None]:
    """Return each name `function` binds with a plain `name = value` (or `name += value`),
    with the line when the binding is a statement of the body itself (0: inside a block); None
    for a name bound some other way too. Only statements are read (a walrus is not: rare, and
    a name it alone binds has no value here), and not the bodies of nested functions."""
    found: dict[str, list[tuple[ast.expr, int]] | None] = {}
    top = {id(s) for s in function.body}

    def add(name: str, value: ast.expr, line: int) -> None:
        known = found.setdefault(name, [])
        if known is not None:
            known.append((value, line))

    def unknown(target: ast.AST) -> None:
        for node in ast.walk(target):
            if isinstance(node, ast.Name):
                found[node.id] = None

    stack: list[ast.AST] = list(function.body)
    while stack:
        stmt = stack.pop()
        if isinstance(stmt, ast.Assign):
            target = stmt.targets[0]
            if len(stmt.targets) == 1 and isinstance(target, ast.Name):
                add(target.id, stmt.value, stmt.lineno if id(stmt) in top else 0)
            else:
                for target in stmt.targets:
                    unknown(target)
        elif isinstance(stmt, (ast.AugAssign, ast.AnnAssign)):
            if isinstance(stmt.target, ast.Name) and stmt.value is not None:
                # `n += 1`: a number only when n was one (its other bindings say).
                line = stmt.lineno if id(stmt) in top and isinstance(stmt, ast.AnnAssign) else 0
                add(stmt.target.id, stmt.value, line)
        elif isinstance(stmt, (ast.For, ast.AsyncFor)):
            unknown(stmt.target)
        elif isinstance(stmt, (ast.With, ast.AsyncWith)):
            for item in stmt.items:
                if item.optional_vars is not None:
                    unknown(item.optional_vars)
        elif isinstance(stmt, ast.Delete):
            for target in stmt.targets:
                unknown(target)
        elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            found[stmt.name] = None
            continue  # a nested scope: its own names
        elif isinstance(stmt, (ast.Import, ast.ImportFrom)):
            for alias in stmt.names:
                found[(alias.asname or alias.name).split(".")[0]] = None
        elif isinstance(stmt, (ast.Global, ast.Nonlocal)):
            for name in stmt.names:
                found[name] = None
        elif isinstance(stmt, ast.ExceptHandler) and stmt.name:
            found[stmt.name] = None
        elif isinstance(stmt, ast.match_case):
            for node in ast.walk(stmt.pattern):
                for bound in (getattr(node, "name", None), getattr(node, "rest", None)):
                    if isinstance(bound, str):
                        found[bound] = None
        for block in ("body", "orelse", "finalbody", "handlers", "cases"):
            stack.extend(getattr(stmt, block, None) or ())
    return found


def number_parameters(
    signatures: Mapping[str, list[Signature]],
    reaching: Callable[[Signature], list[CallArguments]],
    dead_methods: Set[str],
    files: Iterable[FileConstants],
) -> dict[tuple[str, str], str]:
    """Return (function, parameter) -> "INTEGER" or "REAL" for the parameters every call of
    the function in the project fills with a number (its default counts when a call leaves it
    out). A decorated function (a route, a handler) or one no call reaches is an entry point:
    anyone may call it with anything. Two functions of one name must agree."""
    found: dict[tuple[str, str], str | None] = {}
    # Most functions are never passed a number: what reaches them is not worth reading.
    passed_numbers = {c.name for f in files for c in f.calls if c.numbers}
    for name, sigs in signatures.items():
        if name not in passed_numbers:
            continue
        for sig in sigs:
            calls = [c for c in reaching(sig) if c.caller not in dead_methods]
            for index, parameter in enumerate(sig.parameters):
                kind = None if sig.decorated or not calls else _passed_kind(calls, sig, index)
                key = (name, parameter)
                if key in found and found[key] != kind:
                    kind = None
                found[key] = kind
    return {key: kind for key, kind in found.items() if kind is not None}


def _passed_kind(calls: list[CallArguments], sig: Signature, index: int) -> str | None:
    parameter = sig.parameters[index]
    default = dict(sig.defaults).get(parameter)
    default_kind = (
        "INTEGER" if isinstance(default, int) else "REAL" if isinstance(default, float) else None
    )
    kinds: set[str | None] = set()
    for call in calls:
        numbers = dict(call.numbers)
        positional = [numbers.get(str(i)) for i in range(len(call.positional))]
        keywords = [(k, numbers.get(k)) for k, _ in call.keywords]
        kinds.add(passed_as(call, index, parameter, positional, keywords, default_kind))
    if None in kinds or not kinds:
        return None
    return "REAL" if "REAL" in kinds else "INTEGER"
