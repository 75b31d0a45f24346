"""Where a Python value can come from: the program's own data, or outside it.

SQL_INJECTION and DYNAMIC_IDENTIFIER are about text someone outside the program can choose: a
request, a user's query, a file, the command line, the environment, or the caller of a function
nothing in the project calls (an entry point). A value built only from the program's own data
(an attribute of its objects, a module's names, rows it reads back from its database, the values
every caller in the project passes) cannot carry such text, whatever its exact value.

`origin_of` reads one expression: None when part of it may come from outside, else the set of
the enclosing function's parameters it depends on (empty: the program's own data). Which
parameters hold only program data is a project-wide fact (languages/python/program_data.py).

What iterating a value gives is read apart from the value (`items_of`): a dict's keys, a list's
elements. `", ".join(values)` with `values={"url": request_url}` joins the literal key only; a
parameter's items are the dependency "function.parameter#items".
"""

from __future__ import annotations

import ast
import builtins
from collections.abc import Iterator
from dataclasses import dataclass, field

from dbheal_lsp.languages.python.bindings import (
    FUNCTIONS,
    HOLDS,
    ITEM_OF,
    Bound,
    Guards,
    function_bindings,
    lookups_in,
)
from dbheal_lsp.languages.python.outside import (
    DATABASE_RESULTS,
    OUTSIDE_ATTRIBUTES,
    OUTSIDE_NAMES,
    reads_database,
)
from dbheal_lsp.languages.python.quoting import escaped_in_quotes, formatted_parts
from dbheal_lsp.languages.python.receivers import ReceiverReader

# None: part of the value may come from outside the program. Otherwise the parameters of the
# enclosing function it depends on, as "function.parameter" ("Class.method.parameter" for a
# method); empty: the program's own data.
Origin = frozenset[str] | None
PROGRAM: Origin = frozenset()
_MAX_DEPTH = 6
BUILTINS = frozenset(dir(builtins))
# Calls whose result is a number, whatever their argument (and `range`, numbers to iterate).
NUMBER_CALLS = frozenset({"int", "float", "bool", "Decimal", "len", "round", "abs", "ord"})
_NUMBERS = NUMBER_CALLS | {"range"}
ITEMS = "#items"  # the suffix of a dependency on what iterating a parameter gives
# Calls whose result holds the items of their one argument (`sorted(d)`: d's keys).
_ITEM_CALLS = frozenset({"list", "tuple", "set", "frozenset", "sorted", "reversed", "iter"})


@dataclass
class OriginReader:
    """Reads origins within one file; remembers each function's bindings once read."""

    bindings: dict[int, dict[str, list[Bound]]] = field(default_factory=dict)

    # (function id, name) pairs being read: a name that feeds itself (`s = s + part`) adds
    # nothing to what its other values bring.
    visiting: set[tuple[int, str]] = field(default_factory=set)
    cut: bool = False  # a name was cut short while reading the current one
    known: dict[tuple[int, str], Origin] = field(default_factory=dict)
    # The module read; its functions and methods by name, and each method's class by id of
    # the method (read on first need: what calls return, whose parameters a name is).
    module: ast.Module | None = None
    functions: dict[str, list[ast.FunctionDef | ast.AsyncFunctionDef]] | None = None
    classes: dict[int, str] = field(default_factory=dict)
    # Each function's parameters looked up in a collection (see _lookups_in), by function id.
    lookups: dict[int, dict[str, ast.expr]] = field(default_factory=dict)
    receivers: ReceiverReader | None = None  # what objects are (made on first need)

    def origin_of(self, node: ast.expr, function: ast.AST | None, guards: Guards = ()) -> Origin:
        """Return where the value of `node`, read inside `function` (None: module level), can
        come from (see the module docstring). `guards`: the names the code checks against a
        collection around `node` (see guards_around)."""
        return self._read(node, function, frozenset(), 0, guards)

    def items_of(self, node: ast.expr, function: ast.AST | None) -> Origin:
        """Return where what iterating `node` gives can come from: a dict's keys, a list's
        elements (never more than `origin_of` says of the whole)."""
        return self._items(node, function, frozenset(), 0)

    def _items(
        self,
        node: ast.AST,
        function: ast.AST | None,
        bound: frozenset[str],
        depth: int,
        guards: Guards = (),
    ) -> Origin:
        if depth > _MAX_DEPTH:
            return None
        if (
            isinstance(node, ast.Name)
            and node.id not in bound
            and all(name != node.id for name, _ in guards)
        ):
            return self._name_origin(node.id, function, depth, items=True)
        if isinstance(node, ast.Dict):
            found: set[str] = set()
            for key, value in zip(node.keys, node.values, strict=True):
                origin = (
                    self._items(value, function, bound, depth + 1)
                    if key is None  # `{**other}`: other's keys
                    else self._read(key, function, bound, depth + 1)
                )
                if origin is None:
                    return None
                found |= origin
            return frozenset(found)
        if isinstance(node, ast.DictComp):
            return self._read(
                ast.SetComp(elt=node.key, generators=node.generators), function, bound, depth
            )
        if isinstance(node, ast.Call):
            iterated = _iterated_argument(node)
            if iterated is not None:
                return self._items(iterated, function, bound, depth + 1, guards)
        return self._read(node, function, bound, depth, guards)

    def _read(
        self,
        node: ast.AST,
        function: ast.AST | None,
        bound: frozenset[str],
        depth: int,
        guards: Guards = (),
    ) -> Origin:
        if depth > _MAX_DEPTH:
            return None
        if isinstance(node, ast.Name):
            if node.id in bound:
                return PROGRAM
            for name, collection in guards:
                if name == node.id:
                    # Inside `if key in self._fields:`, key is one of the collection's items.
                    return self._read(collection, function, bound, depth + 1)
            return self._name_origin(node.id, function, depth)
        if isinstance(node, ast.Lambda):
            return None  # a function value: what it returns is not read here
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.BitAnd, ast.Sub)):
            return self._set_operation(node, function, bound, depth, guards)
        if isinstance(node, ast.Subscript):
            return self._read(node.value, function, bound, depth, guards)  # one of d's values
        if isinstance(node, ast.Attribute):
            return self._attribute(node, function, bound, depth, guards)
        parts: list[ast.AST] = list(ast.iter_child_nodes(node))
        items: list[ast.AST] = []  # parts whose items are what the value holds
        escaped = escaped_in_quotes(node)
        if escaped:
            # `"strftime('{}')".format(fmt.replace("'", "''"))`: text inside an SQL string
            # literal that cannot end it is data, whoever wrote it.
            parts = [p for p in formatted_parts(node) if id(p) not in escaped]
        elif isinstance(node, ast.Call):
            iterated = _iterated_argument(node)
            if iterated is not None:
                return self._items(iterated, function, bound, depth + 1, guards)
            func = node.func
            if isinstance(func, ast.Attribute):
                if func.attr in OUTSIDE_ATTRIBUTES:
                    return None
                if func.attr in DATABASE_RESULTS or reads_database(node):
                    return PROGRAM  # rows and counts the program reads from its own database
                if func.attr == "get" and node.args:
                    # `SORTS.get(key, "name")`: one of the dict's values, or the default.
                    parts = [func.value, *node.args[1:], *node.keywords]
                elif func.attr == "join" and len(node.args) == 1 and not node.keywords:
                    parts, items = [func.value], list(node.args)  # `", ".join(d)`: d's keys
                else:
                    parts = [func.value, *node.args, *node.keywords]  # `x.strip()` is x's
            elif isinstance(func, ast.Name) and func.id in OUTSIDE_NAMES:
                return None
            elif isinstance(func, ast.Name) and func.id in _NUMBERS:
                return PROGRAM  # a number (`range(len(words))` counts): it spells no text
            callee = self._callee(func)
            if callee is not None:
                return self._returned(node, callee, function, bound, depth, guards)
        if isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
            for generator in node.generators:
                bound = bound | {
                    n.id for n in ast.walk(generator.target) if isinstance(n, ast.Name)
                }
                # The variable holds one of the iterated items: those are what it brings.
                parts.remove(generator)
                parts.extend(generator.ifs)
                items.append(generator.iter)
        elif isinstance(node, ast.Starred):
            parts, items = [], [node.value]  # `[*names]`, `f(*names)`: names' items
        return self._combined(parts, items, function, bound, depth, guards)

    def _set_operation(
        self,
        node: ast.BinOp,
        function: ast.AST | None,
        bound: frozenset[str],
        depth: int,
        guards: Guards,
    ) -> Origin:
        """`{"path", "artpath"} & fields` holds only what both sides hold; `a - b` only a's."""
        left = self._read(node.left, function, bound, depth, guards)
        if isinstance(node.op, ast.Sub) or left == PROGRAM:
            return left
        right = self._read(node.right, function, bound, depth, guards)
        if right == PROGRAM or left is None:
            return right
        return None if right is None else left | right

    def _attribute(
        self,
        node: ast.Attribute,
        function: ast.AST | None,
        bound: frozenset[str],
        depth: int,
        guards: Guards,
    ) -> Origin:
        """Return where attribute `node` comes from: a dependency on the attribute itself."""
        if node.attr in OUTSIDE_ATTRIBUTES:
            return None
        if node.attr in DATABASE_RESULTS:
            return PROGRAM
        receiver = self._read(node.value, function, bound, depth, guards)
        if receiver is None:
            return None
        # Read as the attribute's own origin across the project (languages/python/program_data.py),
        # or, for an attribute the project never assigns, as its receiver's; on an object
        # whose class the file shows, as that class's (a record's field: what its
        # constructor is passed).
        fallback = "!" if any(d.startswith("@") for d in receiver) else ",".join(sorted(receiver))
        cls = self.class_of(node.value, function)
        attribute = f"{cls}.{node.attr}" if cls else node.attr
        return frozenset({f"@{attribute}:{fallback}"})

    def _combined(
        self,
        parts: list[ast.AST],
        items: list[ast.AST],
        function: ast.AST | None,
        bound: frozenset[str],
        depth: int,
        guards: Guards,
    ) -> Origin:
        """Return where a value made of `parts` (and of the items of `items`) comes from."""
        found: set[str] = set()
        for part in items:
            origin = self._items(part, function, bound, depth + 1, guards)
            if origin is None:
                return None
            found |= origin
        for part in parts:
            if isinstance(
                part, (ast.expr_context, ast.operator, ast.cmpop, ast.boolop, ast.unaryop)
            ):
                continue
            origin = self._read(part, function, bound, depth, guards)
            if origin is None:
                return None
            found |= origin
        return frozenset(found)

    def _name_origin(
        self, name: str, function: ast.AST | None, depth: int, items: bool = False
    ) -> Origin:
        """Return where the value of `name` (with `items`: what iterating it gives) comes from."""
        if name in OUTSIDE_NAMES:
            return None
        scope: ast.AST | None = function
        values: list[Bound] | None = None
        if isinstance(function, FUNCTIONS):
            args = function.args
            if name in {a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)}:
                if name in ("self", "cls"):
                    return PROGRAM
                lookups = self.lookups.get(id(function))
                if lookups is None:
                    lookups = self.lookups[id(function)] = lookups_in(function)
                looked_up = lookups.get(name)
                if looked_up is not None:
                    # `m = self.field_metadata[field]` raises for a key it lacks: past it,
                    # field is one of the program's own keys.
                    return self._read(looked_up, function, frozenset(), depth + 1)
                suffix = ITEMS if items else ""
                return frozenset({f"{self._function_key(function)}.{name}{suffix}"})
            if name in {a.arg for a in (args.vararg, args.kwarg) if a is not None}:
                return None  # *args, **kwargs: whatever any caller passes
            values = self._bindings(function).get(name)
        if values is None:  # not bound in the function: a name of the module
            scope = self.module
            if scope is None:
                return PROGRAM
            values = self._bindings(scope).get(name)
            if values is None:
                # A builtin, or a name bound elsewhere (an enclosing function, `import *`).
                return PROGRAM if name in BUILTINS else None
        key = (id(scope), name + ITEMS if items else name)
        if key in self.known:
            return self.known[key]
        if key in self.visiting:
            self.cut = True
            return PROGRAM
        self.visiting.add(key)
        outer_cut, self.cut = self.cut, False
        try:
            found: set[str] | None = set()
            for value, checked, how in values:
                if value is None:
                    origin = PROGRAM
                elif how == HOLDS:
                    # `x.append(v)`: v is one of x's items, and part of x.
                    origin = self._read(value, scope, frozenset(), depth + 1, checked)
                elif how == ITEM_OF or items:
                    # A loop variable is one of the items; so is an item of any value.
                    origin = self._items(value, scope, frozenset(), depth + 1, checked)
                else:
                    origin = self._read(value, scope, frozenset(), depth + 1, checked)
                if origin is None or found is None:
                    found = None
                    break
                found |= origin
        finally:
            self.visiting.discard(key)
        result = None if found is None else frozenset(found)
        if not self.cut or not self.visiting:
            # Complete: no name it went through was cut short for being read already.
            self.known[key] = result
        self.cut = self.cut or outer_cut
        return result

    def _callee(self, func: ast.expr) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
        """Return the one function of this module that `f(...)` or `self.f(...)` calls."""
        if isinstance(func, ast.Name):
            name = func.id
        elif (
            isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and func.value.id in ("self", "cls")
        ):
            name = func.attr
        else:
            return None
        found = self._functions().get(name, [])
        return found[0] if len(found) == 1 else None

    def _functions(self) -> dict[str, list[ast.FunctionDef | ast.AsyncFunctionDef]]:
        """Return the module's functions and its classes' methods (not functions nested in
        them) by name, noting each method's class."""
        if self.functions is None:
            self.functions = {}
            stack: list[tuple[ast.stmt, str | None]] = [
                (stmt, None) for stmt in (self.module.body if self.module is not None else [])
            ]
            while stack:
                stmt, owner = stack.pop()
                if isinstance(stmt, FUNCTIONS):
                    self.functions.setdefault(stmt.name, []).append(stmt)
                    if owner is not None:
                        self.classes[id(stmt)] = owner
                elif isinstance(stmt, ast.ClassDef):
                    stack.extend((inner, stmt.name) for inner in stmt.body)
        return self.functions

    def class_of(self, node: ast.expr, function: ast.AST | None) -> str:
        """Return the class of the object `node` (not `self`: its attributes are read
        project-wide), when the file shows it (languages/python/receivers.py); "" when not."""
        if isinstance(node, ast.Name) and node.id in ("self", "cls"):
            return ""
        if self.receivers is None:
            self.receivers = ReceiverReader(self.module or ast.Module([], []), self.bindings)
        return self.receivers.class_of(node, None, function)

    def _function_key(self, function: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
        """Return the key of `function` in dependencies: a constructor's is its class's, as
        `C(x)` passes x to `C.__init__`; a method's is "Class.method" (methods of one name
        in other classes have other callers); a function's is its name."""
        self._functions()
        owner = self.classes.get(id(function))
        if owner is None:
            return function.name
        return owner if function.name == "__init__" else f"{owner}.{function.name}"

    def _returned(
        self,
        call: ast.Call,
        callee: ast.FunctionDef | ast.AsyncFunctionDef,
        function: ast.AST | None,
        bound: frozenset[str],
        depth: int,
        guards: Guards,
    ) -> Origin:
        """Return the origin of what `call` gets back from `callee`: what its `return`s give,
        with each of its parameters read as the argument the call passes (`lookup(tag)` that
        returns an item of a fixed map, or raises, gives program data whatever tag is)."""
        key = (id(callee), "\x00return")
        if key in self.visiting:
            self.cut = True
            return PROGRAM
        self.visiting.add(key)
        try:
            returned: set[str] = set()
            for value in returned_values(callee):
                origin = self._read(value, callee, frozenset(), depth + 1)
                if origin is None:
                    return None
                returned |= origin
        finally:
            self.visiting.discard(key)
        arguments = _arguments_by_parameter(call, callee)
        prefix = f"{self._function_key(callee)}."
        found: set[str] = set()
        for dep in returned:
            if not dep.startswith(prefix):
                found.add(dep)
                continue
            parameter = dep[len(prefix) :]
            argument = arguments.get(parameter.removesuffix(ITEMS))
            if argument is None:
                continue  # left to its default: a value the code writes
            origin = (
                self._items(argument, function, bound, depth + 1)
                if parameter.endswith(ITEMS)
                else self._read(argument, function, bound, depth + 1, guards)
            )
            if origin is None:
                return None
            found |= origin
        return frozenset(found)

    def _bindings(
        self, function: ast.FunctionDef | ast.AsyncFunctionDef | ast.Module
    ) -> dict[str, list[Bound]]:
        known = self.bindings.get(id(function))
        if known is None:
            known = self.bindings[id(function)] = function_bindings(function)
        return known


def returned_values(function: ast.FunctionDef | ast.AsyncFunctionDef) -> Iterator[ast.expr]:
    """Yield what each `return` of `function` gives (not those of functions inside it)."""
    stack: list[ast.AST] = list(function.body)
    while stack:
        node = stack.pop()
        if isinstance(node, (*FUNCTIONS, ast.ClassDef, ast.Lambda)):
            continue
        if (isinstance(node, ast.Return) and node.value is not None) or (
            isinstance(node, (ast.Yield, ast.YieldFrom)) and node.value is not None
        ):
            yield node.value
        stack.extend(ast.iter_child_nodes(node))


def _arguments_by_parameter(
    call: ast.Call, callee: ast.FunctionDef | ast.AsyncFunctionDef
) -> dict[str, ast.expr]:
    """Return what `call` passes to each parameter of `callee` it fills (`self` left out when
    the call is a method call)."""
    args = callee.args
    positional = [a.arg for a in (*args.posonlyargs, *args.args)]
    if isinstance(call.func, ast.Attribute) and positional and positional[0] in ("self", "cls"):
        positional = positional[1:]
    found: dict[str, ast.expr] = {}
    for name, value in zip(positional, call.args, strict=False):
        if isinstance(value, ast.Starred):
            break
        found[name] = value
    for keyword in call.keywords:
        if keyword.arg is not None:
            found[keyword.arg] = keyword.value
    return found


def _iterated_argument(call: ast.Call) -> ast.expr | None:
    """Return the value whose items `call` gives: x of `sorted(x)`, `list(x)`, `d.keys()`."""
    func = call.func
    if isinstance(func, ast.Name) and func.id in _ITEM_CALLS and len(call.args) == 1:
        argument = call.args[0]
        return None if isinstance(argument, ast.Starred) or call.keywords else argument
    if isinstance(func, ast.Attribute) and func.attr == "keys" and not call.args:
        return func.value
    return None
