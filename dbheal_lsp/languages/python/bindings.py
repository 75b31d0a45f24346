"""What a function binds, and the checks around its statements: the syntax facts the origin
reader (languages/python/origins.py) and the statement finder (languages/python/extract.py) follow names with.

For each name, every value the function gives it (assignments, loop and `with` targets,
comprehension variables, what `append` and friends add to a container, `x[k] = v`), with the
membership checks (`if key in fields:`) around each binding; the parameters it looks up in a
collection at the top of its body; what `x.append(v)` adds.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from types import MappingProxyType

FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
# Leaves that say how a name is used or which operator applies: no walk of this package reads
# them as nodes (it reads `Name.ctx` and `BinOp.op` from their parents), and every Name,
# Attribute, Subscript, BinOp and Compare has them, a third of a tree's nodes.
_LEAVES = (ast.expr_context, ast.operator, ast.unaryop, ast.cmpop, ast.boolop)


# Nodes with no child a walk here reads (a name's only child is its context).
LEAF_KINDS = frozenset({ast.Name, ast.Constant})
# The nodes `function_bindings` reads (the rest it only walks through).
_BINDING_KINDS = frozenset(
    {
        *FUNCTIONS,
        ast.ClassDef,
        ast.Lambda,
        ast.Assign,
        ast.AnnAssign,
        ast.AugAssign,
        ast.NamedExpr,
        ast.For,
        ast.AsyncFor,
        ast.comprehension,
        ast.withitem,
        ast.Import,
        ast.ImportFrom,
        ast.ExceptHandler,
        ast.Call,
        ast.If,
    }
)


def child_nodes(node: ast.AST) -> list[ast.AST]:
    """Return the children of `node` in `ast.iter_child_nodes`'s order, without the context and
    operator leaves (`Load`, `Store`, `Add`, `Eq`, ...): what a walk that reads them from their
    parents visits."""
    out: list[ast.AST] = []
    for name in node._fields:
        value = getattr(node, name, None)
        if isinstance(value, ast.AST):
            if not isinstance(value, _LEAVES):
                out.append(value)
        elif isinstance(value, list):
            out.extend([v for v in value if isinstance(v, ast.AST) and not isinstance(v, _LEAVES)])
    return out


# (name, collection) pairs: the code checked `name in collection` around a value.
Guards = tuple[tuple[str, ast.expr], ...]
# How a binding relates a name to its value: IS (`x = v`), ITEM_OF (x is one of v's items: a
# loop or comprehension variable) or HOLDS (v is one of x's items: `x.append(v)`).
IS, ITEM_OF, HOLDS = "is", "item of", "holds"
# One value a name is given, with the checks around that binding, and how it relates.
Bound = tuple[ast.expr | None, Guards, str]


# Methods that add to the list, set or dict they are called on, and the positions of the
# arguments they add (keyword arguments of `update(...)` are added too).
ADDED_ARGUMENTS: Mapping[str, tuple[int, ...]] = MappingProxyType(
    {
        "append": (0,),
        "appendleft": (0,),
        "extend": (0,),
        "extendleft": (0,),
        "insert": (1,),
        "add": (0,),
        "update": (0,),
        "setdefault": (1,),
    }
)


def lookups_in(function: ast.FunctionDef | ast.AsyncFunctionDef) -> dict[str, ast.expr]:
    """Return, for each name `function` looks up in its own body, outside any branch or `try`
    (`m = table[name]`: a KeyError for any other key), what it looks the name up in."""
    found: dict[str, ast.expr] = {}
    for stmt in function.body:
        if (
            isinstance(stmt, ast.Assign)
            and isinstance(stmt.value, ast.Subscript)
            and isinstance(stmt.value.slice, ast.Name)
        ):
            name = stmt.value.slice.id
            collection = stmt.value.value
            if name not in found and not any(
                isinstance(n, ast.Name) and n.id == name for n in ast.walk(collection)
            ):
                found[name] = collection
    return found


def function_bindings(
    function: ast.FunctionDef | ast.AsyncFunctionDef | ast.Module,
) -> dict[str, list[Bound]]:
    """Return, for each name `function` binds in its own body, every value it is given (None:
    a value that holds no outside text of its own: a definition, an import, an exception),
    with the membership checks around the binding (see guards_around)."""
    found: dict[str, list[Bound]] = {}

    def bind(target: ast.AST, value: ast.expr | None, guards: Guards, how: str = IS) -> None:
        for name, stored in _stored_names(target, value):
            found.setdefault(name, []).append((stored, guards, how))

    stack: list[tuple[ast.AST, Guards]] = [(s, ()) for s in function.body]
    while stack:
        node, guards = stack.pop()
        kind = type(node)
        if kind not in _BINDING_KINDS:  # most nodes: only their children can bind
            if kind not in LEAF_KINDS:
                stack.extend((child, guards) for child in child_nodes(node))
            continue
        if isinstance(node, (*FUNCTIONS, ast.ClassDef)):
            found.setdefault(node.name, []).append((None, (), IS))
            continue  # an inner scope binds its own names
        if isinstance(node, ast.Lambda):
            continue
        if isinstance(node, ast.Assign):
            for target in node.targets:
                bind(target, node.value, guards)
        elif (
            isinstance(node, (ast.AnnAssign, ast.AugAssign)) and node.value is not None
        ) or isinstance(node, ast.NamedExpr):
            bind(node.target, node.value, guards)
        elif isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)):
            # A comprehension's variable too: `[helper(x) for x in rows]` passes rows' items.
            bind(node.target, node.iter, guards, ITEM_OF)
        elif isinstance(node, ast.withitem) and node.optional_vars is not None:
            bind(node.optional_vars, node.context_expr, guards)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:  # `from flask import request` is caught by its name
                found.setdefault((alias.asname or alias.name).split(".")[0], []).append(
                    (None, (), IS)
                )
        elif isinstance(node, ast.ExceptHandler) and node.name:
            found.setdefault(node.name, []).append((None, (), IS))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.attr in ADDED_ARGUMENTS
        ):
            # `parts.append(user_input)`: what is added is part of what the list holds.
            for added in added_arguments(node):
                found.setdefault(node.func.value.id, []).append((added, guards, HOLDS))
        if isinstance(node, ast.If):
            stack.append((node.test, guards))
            inner = (*guards, *_membership_guards(node.test))
            stack.extend((child, inner) for child in node.body)
            stack.extend((child, guards) for child in node.orelse)
        else:
            stack.extend((child, guards) for child in child_nodes(node))
    return found


def added_arguments(call: ast.Call) -> list[ast.expr]:
    """Return what `x.append(v)` (see ADDED_ARGUMENTS) adds to x: nothing for other calls."""
    if not isinstance(call.func, ast.Attribute):
        return []
    positions = ADDED_ARGUMENTS.get(call.func.attr, ())
    return (
        [call.args[i] for i in positions if i < len(call.args)] + [k.value for k in call.keywords]
        if positions
        else []
    )


def _stored_names(target: ast.AST, value: ast.expr | None) -> Iterator[tuple[str, ast.expr | None]]:
    """Yield the local names an assignment target stores to, with what each then holds: `a`,
    `a, b`, `*a` (the value), and the container of `a[k] = v` (which then holds k and v: as
    the tuple `(k, v)`, whose items are both)."""
    if isinstance(target, ast.Name):
        yield target.id, value
    elif isinstance(target, (ast.Tuple, ast.List)):
        for element in target.elts:
            yield from _stored_names(element, value)
    elif isinstance(target, ast.Starred):
        yield from _stored_names(target.value, value)
    elif isinstance(target, ast.Subscript):
        container: ast.expr = target
        keys: list[ast.expr] = []
        while isinstance(container, ast.Subscript):
            keys.append(container.slice)
            container = container.value
        if isinstance(container, ast.Name):
            held = [*keys, value] if value is not None else keys
            yield container.id, ast.Tuple(elts=held, ctx=ast.Load())


def _membership_guards(test: ast.expr) -> Guards:
    """Return the (name, collection) pairs a condition requires: `key in self._fields`, and
    each such part of an `and`."""
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And):
        return tuple(g for value in test.values for g in _membership_guards(value))
    if (
        isinstance(test, ast.Compare)
        and isinstance(test.left, ast.Name)
        and len(test.ops) == 1
        and isinstance(test.ops[0], ast.In)
    ):
        return ((test.left.id, test.comparators[0]),)
    return ()


def guards_around(function: ast.AST | None, line: int) -> Guards:
    """Return the membership checks of the `if` statements of `function` whose body holds
    `line`: there, each checked name is one of its collection's items."""
    if not isinstance(function, FUNCTIONS):
        return ()
    found: list[tuple[str, ast.expr]] = []
    block: list[ast.stmt] = function.body
    while block:
        stmt = next((s for s in block if s.lineno <= line <= (s.end_lineno or s.lineno)), None)
        if stmt is None:
            break
        inner = next(
            (b for b in blocks_of(stmt) if b[0].lineno <= line <= (b[-1].end_lineno or line)),
            None,
        )
        if isinstance(stmt, ast.If) and inner is stmt.body:
            found.extend(_membership_guards(stmt.test))
        block = inner or []
    return tuple(found)


def blocks_of(node: ast.stmt) -> list[list[ast.stmt]]:
    """Return the statement lists of a compound statement (if, for, while, with, try, match);
    none for a definition, whose body is a scope of its own."""
    if isinstance(node, (*FUNCTIONS, ast.ClassDef)):
        return []
    blocks: list[list[ast.stmt]] = []
    for name in ("body", "orelse", "finalbody"):
        block = getattr(node, name, None)
        if block:
            blocks.append(block)
    for handler in getattr(node, "handlers", ()):
        blocks.append(handler.body)
    for case in getattr(node, "cases", ()):
        blocks.append(case.body)
    return blocks


def inner_statements(node: ast.stmt) -> list[ast.stmt]:
    """Return the statements directly inside `node`: its blocks', or a definition's body."""
    if isinstance(node, (*FUNCTIONS, ast.ClassDef)):
        return list(node.body)
    return [stmt for block in blocks_of(node) for stmt in block]


def return_statements(function: ast.FunctionDef | ast.AsyncFunctionDef) -> list[ast.Return]:
    """Return the `return` statements of `function`'s own body (not of functions in it)."""
    found: list[ast.Return] = []
    stack: list[ast.stmt] = list(function.body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Return):
            found.append(node)
        else:
            for block in blocks_of(node):
                stack.extend(block)
    return found
