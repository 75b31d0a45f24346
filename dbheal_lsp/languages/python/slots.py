"""Slots for interpolated values, and whether each value can carry SQL: literal text, a number,
placeholders or the program's own data cannot."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import replace
from typing import Literal, TypeAlias

from dbheal_lsp.analysis.statement import Slot, SlotKind
from dbheal_lsp.languages.python.bindings import added_arguments, blocks_of, guards_around
from dbheal_lsp.languages.python.constants import dict_keys
from dbheal_lsp.languages.python.file_constants import returns_number
from dbheal_lsp.languages.python.filecontext import MAX_NAME_DEPTH, FileContext, Scope
from dbheal_lsp.languages.python.origins import NUMBER_CALLS
from dbheal_lsp.languages.python.quoting import escapes_quotes
from dbheal_lsp.languages.python.reaching import reaching_values
from dbheal_lsp.languages.python.receivers import leaf_name
from dbheal_lsp.languages.python.sql_methods import written_sql
from dbheal_lsp.languages.python.values import value_info
from dbheal_lsp.languages.python.written import parameter_values

# Conversions that spell a number (`%d`, `%.2f`, `{:d}`): they cannot carry SQL.
NUMBER_CONVERSIONS = frozenset("diouxXeEfFgGn")
_Safety: TypeAlias = 'Literal["text", "number"] | None'
_PLACEHOLDER_TEXTS = frozenset(
    {"?", "%s", "?,", "%s,", ", ?", ", %s", ",?", "(?)", "(?),", "(?), ", ", (?)"}
)


def new_slot(node: ast.expr, kind: SlotKind, ctx: FileContext, *, number: bool = False) -> Slot:
    """Return a slot for the interpolated `node`; `number`: a conversion that spells a number."""
    index = ctx.slots
    ctx.slots += 1
    info = replace(value_info(node, ctx), quote_escaped=escapes_quotes(node))
    if info.constant or info.numeric_cast or info.safe_identifier:
        return Slot(index, kind, info)
    if number:
        # "%d" % n: whatever n holds, the text is a number, which cannot carry SQL.
        return Slot(index, kind, replace(info, numeric_cast=True))
    if _is_placeholder_list(node, ctx):
        return Slot(index, kind, replace(info, constant=True))
    safety = _safety(node, ctx.scope or ctx.module, ctx, 0) if ctx.scope is not None else None
    if safety == "text":
        return Slot(index, kind, replace(info, constant=True))
    if safety == "number":
        return Slot(index, kind, replace(info, numeric_cast=True))
    if _program_data(node, ctx) or (ctx.scope is not None and written_sql(node, ctx.scope, ctx)):
        # `where, args = query.clause()`: SQL a project method writes, not outside text.
        slot = Slot(index, kind, replace(info, program_data=True))
        _note_member_slot(node, slot, ctx)
        return slot
    return Slot(index, kind, info)


def _note_member_slot(node: ast.expr, slot: Slot, ctx: FileContext) -> None:
    """Note a slot of SQL text a project method writes in a statement read for one class:
    it names that class's guarded fields (languages/python/guarded_names.py)."""
    cls = ctx.as_argument[1] if ctx.as_argument is not None else ctx.as_class
    if cls is None or not ctx.options.constants.guarded_collections or ctx.scope is None:
        return
    if written_sql(node, ctx.scope, ctx):
        ctx.member_slots[id(slot)] = (slot, cls)


def _program_data(node: ast.expr, ctx: FileContext) -> bool:
    """Return whether `node` holds only the program's own data: nothing from outside the
    program reaches it (languages/python/origins.py), through the enclosing function's callers too."""
    function = ctx.scope.node if ctx.scope is not None else None
    origin = ctx.origins.origin_of(node, function, guards_around(function, node.lineno))
    return ctx.options.constants.holds_program_data(origin)


def _safety(node: ast.expr, scope: Scope, ctx: FileContext, depth: int) -> _Safety:
    """Return whether every value `node` can have is literal text or a number (else None).

    Numbers: casts, len(), arithmetic, `-x`, functions of the module annotated `-> int` or that
    return `int(...)`, and the configured `safe-helpers`. Names are followed to every value they
    can hold (branches included); a parameter or a value not read makes the name unsafe.
    """
    if depth > MAX_NAME_DEPTH:
        return None
    if isinstance(node, ast.Constant):
        if isinstance(node.value, (str, bytes)):
            return "text"
        return (
            "number" if isinstance(node.value, (bool, int, float)) or node.value is None else None
        )
    if isinstance(node, ast.JoinedStr):
        fields = [v.value for v in node.values if isinstance(v, ast.FormattedValue)]
        return "text" if all(_safety(f, scope, ctx, depth + 1) for f in fields) else None
    if isinstance(node, ast.IfExp):
        kinds = {
            _safety(node.body, scope, ctx, depth + 1),
            _safety(node.orelse, scope, ctx, depth + 1),
        }
        return None if None in kinds else ("number" if kinds == {"number"} else "text")
    if isinstance(node, (ast.UnaryOp, ast.Compare)):
        return "number"  # -x, ~x, not x, a < b: no string supports these
    if isinstance(node, (ast.Tuple, ast.List)):
        kinds = {_safety(e, scope, ctx, depth + 1) for e in node.elts}
        return None if None in kinds else "text"
    if (
        isinstance(node, ast.Subscript)
        and isinstance(node.value, ast.Call)
        and isinstance(node.slice, ast.Constant)
        and isinstance(node.slice.value, int)
    ):
        return _returned_safety(node.value, node.slice.value, ctx, depth + 1)  # `a, b = f()`
    if isinstance(node, ast.Dict) or (
        isinstance(node, ast.Call) and leaf_name(node.func) == "dict" and not node.args
    ):
        # `script % dict(table="tags")`: the named fields are filled from literal values.
        values = node.values if isinstance(node, ast.Dict) else [k.value for k in node.keywords]
        keys_named = isinstance(node, ast.Dict) or all(k.arg for k in node.keywords)
        kinds = {_safety(v, scope, ctx, depth + 1) for v in values if v is not None}
        return "text" if keys_named and None not in kinds else None
    if isinstance(node, ast.Starred):  # an element of a loop's iterable (see reaching.py)
        return _element_safety(node.value, scope, ctx, depth)
    if isinstance(node, (ast.ListComp, ast.GeneratorExp, ast.SetComp)):
        return _comprehension_safety(node, scope, ctx, depth)
    if isinstance(node, ast.Name) and node.id in ctx.safe_names:
        return "text"
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "join"
        and isinstance(node.func.value, ast.Constant)
        and len(node.args) == 1
    ):
        # ", ".join(columns): text made only of what is joined.
        return "text" if _safety(node.args[0], scope, ctx, depth + 1) else None
    if isinstance(node, ast.BinOp):
        return _binop_safety(node, scope, ctx, depth)
    if isinstance(node, ast.Call):
        name = leaf_name(node.func)
        if name in _ITERATING_CALLS and len(node.args) == 1 and not node.keywords:
            return _element_safety(node.args[0], scope, ctx, depth)  # sorted(kwargs)
        if name in NUMBER_CALLS or name in ctx.options.safe_helpers:
            return "number"
        if name in ("max", "min") and any(_is_number_literal(a) for a in node.args):
            return "number"  # max(1, n): Python refuses to compare a str with an int
        if name is not None and (
            name in _number_functions(ctx) or name in ctx.options.constants.number_functions
        ):
            return "number"
        return None
    info = value_info(node, ctx)
    if isinstance(node, ast.Name) and not info.constant:
        return _name_safety(node, scope, ctx, depth)
    if info.constant:
        return "text"
    return "number" if info.numeric_cast else None


def _returned_safety(call: ast.Call, index: int, ctx: FileContext, depth: int) -> _Safety:
    """Return the safety of item `index` of what `call` returns, when it calls the one function
    or method of this module by that name and every `return` there gives a tuple."""
    name = leaf_name(call.func)
    if depth > MAX_NAME_DEPTH or name is None:
        return None
    if ctx.functions is None:
        ctx.functions = {}
        for n in ast.walk(ctx.module.node):
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)):
                ctx.functions.setdefault(n.name, []).append(n)
    found = ctx.functions.get(name, [])
    if len(found) != 1:
        return None
    function = found[0]
    scope = ctx.method_scopes.setdefault(id(function), Scope(function, function.name))
    kinds: set[_Safety] = set()
    stack: list[ast.stmt] = list(function.body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Return):
            value = node.value
            if not isinstance(value, ast.Tuple) or len(value.elts) <= index:
                return None
            kinds.add(_safety(value.elts[index], scope, ctx, depth + 1))
        else:
            for block in blocks_of(node):
                stack.extend(block)
    if not kinds or None in kinds:
        return None
    return "number" if kinds == {"number"} else "text"


_ITERATING_CALLS = frozenset({"sorted", "list", "tuple", "set", "reversed", "frozenset"})


def _element_safety(iterable: ast.expr, scope: Scope, ctx: FileContext, depth: int) -> _Safety:
    """Return "text" when every element of `iterable` is a name the code writes: the keys of
    the function's `**kwargs` (keyword names), `__slots__`, a collection of literals.

    Only following a name or a call to what it returns counts against `depth` here: going down
    into a node's own parts ends by itself.
    """
    if depth > MAX_NAME_DEPTH:
        return None
    if (
        isinstance(iterable, ast.Call)
        and not iterable.keywords
        and len(iterable.args) == 1
        and leaf_name(iterable.func) in _ITERATING_CALLS
    ):
        return _element_safety(iterable.args[0], scope, ctx, depth)
    if (
        isinstance(iterable, ast.Call)
        and isinstance(iterable.func, ast.Attribute)
        and iterable.func.attr == "keys"
        and not iterable.args
    ):
        return _element_safety(iterable.func.value, scope, ctx, depth)
    if isinstance(iterable, ast.Name):
        node = scope.node
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            kwarg = node.args.kwarg
            if kwarg is not None and kwarg.arg == iterable.id:
                return "text"  # the keys of **kwargs are the callers' keyword names
            if parameter_values(scope, iterable.id, ctx):
                return "text"  # names, tuples of names, the keys of literal dicts
    if isinstance(iterable, ast.Attribute) and iterable.attr == "__slots__":
        return "text"
    return "text" if _safety(iterable, scope, ctx, depth) else None


def _comprehension_safety(
    node: ast.ListComp | ast.GeneratorExp | ast.SetComp,
    scope: Scope,
    ctx: FileContext,
    depth: int,
) -> _Safety:
    """`'%s=?' % k for k in kwargs`: text when its variables hold names the code writes and
    its element is made of them and literals."""
    safe = set(ctx.safe_names)
    for generator in node.generators:
        if not isinstance(generator.target, ast.Name):
            return None
        saved = ctx.safe_names
        ctx.safe_names = frozenset(safe)
        try:
            if _element_safety(generator.iter, scope, ctx, depth) is None:
                return None
        finally:
            ctx.safe_names = saved
        safe.add(generator.target.id)
    saved = ctx.safe_names
    ctx.safe_names = frozenset(safe)
    try:
        return "text" if _safety(node.elt, scope, ctx, depth) else None
    finally:
        ctx.safe_names = saved


def _binop_safety(node: ast.BinOp, scope: Scope, ctx: FileContext, depth: int) -> _Safety:
    if isinstance(node.op, (ast.Sub, ast.Div, ast.FloorDiv, ast.Pow)):
        return "number"  # str supports none of these
    left = _safety(node.left, scope, ctx, depth + 1)
    if isinstance(node.op, ast.Mod):
        # n % 10 is a number only when n is; "%s" % x is text made of x.
        if left == "number":
            return "number"
        right = _safety(node.right, scope, ctx, depth + 1) if left == "text" else None
        if isinstance(node.right, ast.Tuple):
            right = (
                "text" if all(_safety(e, scope, ctx, depth + 1) for e in node.right.elts) else None
            )
        return "text" if left == "text" and right is not None else None
    if isinstance(node.op, (ast.Add, ast.Mult)):
        if _is_number_literal(node.left) or _is_number_literal(node.right):
            return "number"  # a + 1, n * 2: a str + int is an error, so the result is a number
        right = _safety(node.right, scope, ctx, depth + 1)
        if left is None or right is None:
            return None
        return "number" if left == right == "number" else "text"
    return None


def _is_number_literal(node: ast.expr) -> bool:
    return (
        isinstance(node, ast.Constant)
        and isinstance(node.value, (int, float))
        and not isinstance(node.value, bool)
    )


def _name_safety(node: ast.Name, scope: Scope, ctx: FileContext, depth: int) -> _Safety:
    at = (node.lineno, node.col_offset)
    for candidate in (scope, ctx.module) if scope is not ctx.module else (ctx.module,):
        reaching = reaching_values(candidate, node.id, at, ctx)
        if reaching is None:
            continue
        if _allow_listed(candidate.node, node.id, at):
            return "text"
        kinds: set[_Safety] = set()
        for base, augments in reaching:
            values = (
                None if base is not None or augments else parameter_values(candidate, node.id, ctx)
            )
            if values and not any(dict_keys(v) for v in values):
                kinds.add("text")  # a parameter every caller gives literal text
                continue
            for value in (base, *augments):
                kinds.add(None if value is None else _safety(value, candidate, ctx, depth + 1))
            if isinstance(base, _MUTABLE_DISPLAYS):
                # `parts = []` then `parts.append(user_input)`: what is added counts too.
                for added in _added_to(candidate.node, node.id):
                    kinds.add(_safety(added, candidate, ctx, depth + 1))
        if not kinds or None in kinds:
            return None
        return "number" if kinds == {"number"} else "text"
    return None


# Displays of containers the code may add to after building them.
_MUTABLE_DISPLAYS = (ast.List, ast.Dict, ast.Set, ast.ListComp, ast.DictComp, ast.SetComp)


def _added_to(scope_node: ast.AST, name: str) -> Iterator[ast.expr]:
    """Yield what the code in `scope_node` adds to the container `name` holds, anywhere in it:
    the arguments of `name.append(x)` (and extend, insert, add, update, setdefault), the values
    of `name[k] = v`. Keyword arguments of `update(...)` count too."""
    for node in ast.walk(scope_node):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == name
        ):
            yield from added_arguments(node)
        elif isinstance(node, (ast.Assign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if (
                    isinstance(target, ast.Subscript)
                    and isinstance(target.value, ast.Name)
                    and target.value.id == name
                ):
                    yield node.value


def _allow_listed(function: ast.AST, name: str, at: tuple[int, int]) -> bool:
    """Return whether, before `at`, `function` refuses any value of `name` outside a set:
    `if name not in ALLOWED: raise ...` (or return, continue), or `assert name in ALLOWED`."""
    if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return False
    for node in ast.walk(function):
        if getattr(node, "lineno", at[0]) >= at[0]:
            continue
        wanted: type[ast.cmpop]
        if isinstance(node, ast.Assert):
            test, wanted = node.test, ast.In
        elif (
            isinstance(node, ast.If)
            and node.body
            and isinstance(node.body[-1], (ast.Raise, ast.Return, ast.Continue, ast.Break))
        ):
            test, wanted = node.test, ast.NotIn
        else:
            continue
        # `if a not in A or b not in B: raise` refuses both; `assert a in A and b in B` too.
        joined = ast.Or if wanted is ast.NotIn else ast.And
        tests = (
            test.values if isinstance(test, ast.BoolOp) and isinstance(test.op, joined) else [test]
        )
        if any(
            isinstance(t, ast.Compare)
            and isinstance(t.left, ast.Name)
            and t.left.id == name
            and len(t.ops) == 1
            and isinstance(t.ops[0], wanted)
            for t in tests
        ):
            return True
    return False


def _number_functions(ctx: FileContext) -> frozenset[str]:
    """Return the module's functions that return a number: annotated `-> int` (float, bool) or
    returning only `int(...)`, `len(...)` or number literals. Read once per file, on demand."""
    if ctx.number_functions is not None:
        return ctx.number_functions
    found: set[str] = set()
    stack: list[ast.stmt] = (
        list(ctx.module.node.body) if isinstance(ctx.module.node, ast.Module) else []
    )
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if returns_number(node):
                found.add(node.name)
            stack.extend(node.body)
        elif isinstance(node, ast.ClassDef):
            stack.extend(node.body)
        else:
            for block in blocks_of(node):
                stack.extend(block)
    ctx.number_functions = frozenset(found)
    return ctx.number_functions


def _is_placeholder_list(node: ast.expr, ctx: FileContext) -> bool:
    """Return whether `node` builds only placeholders: `",".join("?" * len(ids))` and kin.

    `IN ({placeholders})` is how code binds a list of values safely: the text interpolated is
    made of "?" alone, the values still go as parameters.
    """
    if isinstance(node, ast.Name) and ctx.scope is not None:
        at = (node.lineno, node.col_offset)
        for scope in (ctx.scope, ctx.module):
            reaching = reaching_values(scope, node.id, at, ctx)
            if reaching is not None:
                return all(
                    base is not None and not augments and _is_placeholder_list(base, ctx)
                    for base, augments in reaching
                )
        return False
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Slice):
        return _is_placeholder_list(node.value, ctx)  # `marks[:-1]` of "?," * n
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
        text = node.left if isinstance(node.left, ast.Constant) else node.right
        return isinstance(text, ast.Constant) and str(text.value).strip() in _PLACEHOLDER_TEXTS
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
        return False
    if node.func.attr != "join" or not isinstance(node.func.value, ast.Constant):
        return False
    strings = [
        n.value
        for arg in node.args
        for n in ast.walk(arg)
        if isinstance(n, ast.Constant) and isinstance(n.value, str)
    ]
    return bool(strings) and all(s.strip() in _PLACEHOLDER_TEXTS for s in strings)
