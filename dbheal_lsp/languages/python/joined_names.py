"""The text of `separator.join(arg)` when what is joined is names the code writes: a tuple
of names (`", ".join(columns)`), each formatted (`", ".join("%s = ?" % c for c in columns)`),
placeholders (`", ".join("?" * len(columns))`), or a list the function builds by appending in a
loop over such names: `assignments.append(f"{key}=?")` for each `key in fields` that passes
`key in self._fields`, then `",".join(assignments)` (beets' `Model.store`) is every such `key=?`."""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass

from dbheal_lsp.languages.python.filecontext import FileContext, Scope
from dbheal_lsp.languages.python.receivers import leaf_name
from dbheal_lsp.languages.python.written import names_tuple

# Reads `item` with `variable` bound to each of `names`: its texts, or None (see pieces.py).
ItemTexts = Callable[[ast.expr, str, tuple[str, ...]], "list[str] | None"]

# How many names a loop may give before the list is not spelled out.
MAX_NAMES = 400


def joined_names(
    separator: str, arg: ast.expr, scope: Scope, ctx: FileContext, texts_of: ItemTexts
) -> str | None:
    """Return the text of `separator.join(arg)` when `arg` holds names the code writes (see
    the module docstring), each item read by `texts_of`; else None."""
    if isinstance(arg, (ast.GeneratorExp, ast.ListComp)) and len(arg.generators) == 1:
        loop = arg.generators[0]
        names = names_tuple(loop.iter, scope, ctx)
        if names is None or loop.ifs or not isinstance(loop.target, ast.Name):
            return None
        texts = texts_of(arg.elt, loop.target.id, names)
        return None if texts is None else separator.join(texts)
    if (
        isinstance(arg, ast.BinOp)
        and isinstance(arg.op, ast.Mult)
        and isinstance(arg.left, ast.Constant)
        and arg.left.value in ("?", "%s")
        and isinstance(arg.right, ast.Call)
        and leaf_name(arg.right.func) == "len"
        and len(arg.right.args) == 1
    ):
        counted = names_tuple(arg.right.args[0], scope, ctx)
        if counted is None or arg.left.value != "?":
            return None
        return separator.join("?" * len(counted))
    names = names_tuple(arg, scope, ctx)
    if names is None and isinstance(arg, ast.Name):
        built: list[str] = []
        for appended in loop_built(arg, scope, ctx) or ():
            texts = texts_of(appended.item, appended.variable, appended.names)
            if texts is None:
                return None
            built.extend(texts)
        return separator.join(built) if built else None
    return None if names is None else separator.join(names)


@dataclass(frozen=True)
class Appended:
    """One `name.append(item)` in a loop: the loop's variable, the names it can hold when
    the append runs, and the appended expression (to be read with each name bound)."""

    variable: str
    names: tuple[str, ...]
    item: ast.expr


def loop_built(name: ast.Name, scope: Scope, ctx: FileContext) -> list[Appended] | None:
    """Return what is appended to the list `name` holds, when the function binds it once, to
    `[]`, adds to it only by `append` in loops over names the code writes, and each appended
    item is made of the loop's variable alone; else None."""
    function = scope.node
    if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return None
    parents: dict[int, ast.AST] = {}
    appends: list[ast.Call] = []
    bound = 0
    for node in ast.walk(function):
        for child in ast.iter_child_nodes(node):
            parents[id(child)] = node
        if isinstance(node, ast.arg) and node.arg == name.id:
            return None  # a parameter: the caller's list
        if isinstance(node, ast.Name) and node.id == name.id and not isinstance(node.ctx, ast.Load):
            bound += 1
            if not _starts_empty(parents.get(id(node))):
                return None
        elif _adds_to(node, name.id):
            if not (isinstance(node, ast.Call) and _is_append_statement(node, parents)):
                return None
            appends.append(node)
        elif (
            isinstance(node, ast.Subscript)
            and _names(node.value, name.id)
            and not isinstance(node.ctx, ast.Load)
        ):
            return None  # `parts[i] = x`
    if bound != 1 or not appends:
        return None
    found: list[Appended] = []
    for call in appends:
        appended = _appended(call, parents, scope, ctx)
        if appended is None:
            return None
        found.append(appended)
    return found


def _starts_empty(node: ast.AST | None) -> bool:
    return (
        isinstance(node, ast.Assign)
        and len(node.targets) == 1
        and isinstance(node.value, ast.List)
        and not node.value.elts
    )


def _names(node: ast.expr, name: str) -> bool:
    return isinstance(node, ast.Name) and node.id == name


def _adds_to(node: ast.AST, name: str) -> bool:
    """`name.<method>(...)` other than reading it, or `name += ...`."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        return _names(node.func.value, name) and node.func.attr not in ("copy", "count", "index")
    return isinstance(node, ast.AugAssign) and _names(node.target, name)


def _is_append_statement(call: ast.Call, parents: dict[int, ast.AST]) -> bool:
    return (
        isinstance(call.func, ast.Attribute)
        and call.func.attr == "append"
        and len(call.args) == 1
        and not call.keywords
        and isinstance(parents.get(id(call)), ast.Expr)
    )


def _appended(
    call: ast.Call, parents: dict[int, ast.AST], scope: Scope, ctx: FileContext
) -> Appended | None:
    """The loop `call` appends in, and the names its variable holds there: those of a
    `variable in names` test around the append, else those the loop goes over, less those a
    `variable != "x"` (or `not in`) test leaves out."""
    item = call.args[0]
    tests: list[ast.expr] = []
    child: ast.AST = call
    node = parents.get(id(call))
    while node is not None and not isinstance(node, (ast.For, ast.AsyncFor)):
        if isinstance(node, ast.If) and any(child is s for s in node.body):
            tests.append(node.test)
        elif isinstance(node, (ast.While, ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            return None
        child, node = node, parents.get(id(node))
    if (
        node is None
        or not isinstance(node.target, ast.Name)
        or any(child is s for s in node.orelse)
    ):
        return None
    variable = node.target.id
    if not all(n.id == variable for n in ast.walk(item) if isinstance(n, ast.Name)):
        return None
    within: tuple[str, ...] | None = None
    left_out: set[str] = set()
    for test in tests:
        for part in (
            test.values if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And) else [test]
        ):
            if not (
                isinstance(part, ast.Compare) and len(part.ops) == 1 and _names(part.left, variable)
            ):
                continue
            op, right = part.ops[0], part.comparators[0]
            if isinstance(op, ast.In) and within is None:
                within = names_tuple(right, scope, ctx)
            elif isinstance(op, ast.NotEq) and isinstance(right, ast.Constant):
                left_out.add(str(right.value))
            elif isinstance(op, ast.NotIn) and isinstance(right, (ast.Tuple, ast.List, ast.Set)):
                left_out.update(str(e.value) for e in right.elts if isinstance(e, ast.Constant))
    if within is None:
        within = names_tuple(node.iter, scope, ctx)
    if within is None:
        return None
    names = tuple(n for n in within if n not in left_out)
    if not names or len(names) > MAX_NAMES:
        return None
    return Appended(variable, names, item)
