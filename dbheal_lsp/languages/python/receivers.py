"""What object a method call is made on, where the code shows it, and which classes' methods
such a call can reach.

Calls are matched to functions by name (project_constants.py): a call `x.insert(...)` may reach
every method named `insert`. Where the file shows the receiver's class, fewer can: `self.m()`
in class C reaches only methods of C's hierarchy, `parts = [...]; parts.insert(0, x)` none of
the project's, `QLineEdit().insert(t)` none either (Qt's class is not the project's), and
`module.f()` only module functions. A receiver is described by a short code, read per file and
resolved once the whole project's classes are known (`Hierarchy`):

- "" unknown: any method of that name may be reached;
- FUNCTION: a plain call, or a call on an imported module: functions and constructors only;
- VALUE: a builtin value (a literal, a display, a comprehension): no method of the project's;
- "self:C": an instance of C or of a subclass (`self`, a parameter annotated `C`);
- "new:C": an instance of exactly C (`C(...)`);
- "ext:X": a value made from name X (`X.create()`), outside the project unless X is its own;
- "ret:f": what a function or method named f returns (`cache = self.init_cache()`).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from dbheal_lsp.languages.python.bindings import (
    FUNCTIONS,
    HOLDS,
    ITEM_OF,
    Bound,
    child_nodes,
    function_bindings,
    return_statements,
)

FUNCTION = "fn"
VALUE = "value"
_VALUE_CALLS = frozenset(
    {"list", "dict", "set", "tuple", "frozenset", "str", "bytes", "bytearray", "sorted"}
)
_VALUE_NODES = (
    ast.Constant,
    ast.JoinedStr,
    ast.List,
    ast.Tuple,
    ast.Set,
    ast.Dict,
    ast.ListComp,
    ast.SetComp,
    ast.DictComp,
)
_MAX_DEPTH = 4
# Annotations of a collection whose items are all of one class: `Sequence[Index]`.
_CONTAINERS = frozenset(
    {
        "Sequence",
        "MutableSequence",
        "Iterable",
        "Iterator",
        "Collection",
        "list",
        "List",
        "tuple",
        "Tuple",
        "set",
        "Set",
        "frozenset",
        "FrozenSet",
    }
)


@dataclass
class ReceiverReader:
    """Reads the receivers of one file's calls (see the module docstring)."""

    module: ast.Module
    bindings: dict[int, dict[str, list[Bound]]] = field(default_factory=dict)
    # Read on first need when not given (the constants pre-pass gathers it on its walk).
    layout: Layout | None = None

    def class_of(self, node: ast.expr, in_class: str | None, function: ast.AST | None) -> str:
        """Return the class `node`'s value is an instance of (or of a subclass), when the file
        shows it; "" when it does not."""
        code = self._of_value(node, in_class, function, 0)
        kind, _, name = code.partition(":")
        return name if kind in ("self", "new") else ""

    def of_call(self, call: ast.Call, in_class: str | None, function: ast.AST | None) -> str:
        """Return the code of what `call` is made on; `in_class`: the class whose method the
        call is in (where `self` is one of its instances), `function`: the innermost function."""
        func = call.func
        if isinstance(func, ast.Name):
            return FUNCTION
        if not isinstance(func, ast.Attribute):
            return ""
        if isinstance(func.value, ast.Name) and self._is_module(func.value.id, function):
            return FUNCTION
        return self._of_value(func.value, in_class, function, 0)

    def _of_value(
        self, node: ast.expr, in_class: str | None, function: ast.AST | None, depth: int
    ) -> str:
        if depth > _MAX_DEPTH:
            return ""
        if isinstance(node, _VALUE_NODES):
            return VALUE
        if isinstance(node, ast.Name):
            return self._of_name(node.id, in_class, function, depth)
        if not isinstance(node, ast.Call):
            return ""
        func = node.func
        if isinstance(func, ast.Name):
            if func.id == "super" and in_class:
                return f"self:{in_class}"
            if func.id in _VALUE_CALLS:
                return VALUE
            if _is_class_name(func.id):
                return f"new:{func.id}"
            # The project's own function (an imported one may be another library's).
            return "" if func.id in self._imported() else f"ret:{func.id}"
        if not isinstance(func, ast.Attribute):
            return ""
        root = func.value
        if isinstance(root, ast.Name) and self._is_module(root.id, function):
            return f"new:{func.attr}" if _is_class_name(func.attr) else ""
        if (
            isinstance(root, ast.Name)
            and _is_class_name(root.id)
            and self._unbound(root.id, function)
        ):
            return f"ext:{root.id}"  # `QProcessEnvironment.systemEnvironment()`
        if isinstance(root, ast.Name) and root.id in ("self", "cls"):
            return f"ret:{func.attr}"  # `self.init_cache()`: what the class's method returns
        if self._of_value(root, in_class, function, depth + 1) == VALUE:
            return VALUE  # `", ".join(parts)`, `text.split()`: builtin values again
        return ""

    def of_returns(
        self, function: ast.FunctionDef | ast.AsyncFunctionDef, in_class: str | None
    ) -> tuple[str, ...]:
        """Return the code of each value `function` returns (none: it returns nothing)."""
        return tuple(
            self._of_value(r.value, in_class, function, 0) if r.value is not None else VALUE
            for r in return_statements(function)
        )

    def _of_name(
        self, name: str, in_class: str | None, function: ast.AST | None, depth: int
    ) -> str:
        if name in ("self", "cls"):
            return f"self:{in_class}" if in_class else ""
        if isinstance(function, FUNCTIONS):
            args = function.args
            for arg in (*args.posonlyargs, *args.args, *args.kwonlyargs):
                if arg.arg == name:
                    annotated = _annotated_class(arg.annotation)
                    return f"self:{annotated}" if annotated else ""
        # The innermost scope that binds the name: the function, the functions around it
        # (a closure reads theirs), the module.
        scope: ast.AST | None = function if isinstance(function, FUNCTIONS) else None
        while scope is not None and name not in self._bindings(scope):
            scope = self._enclosing().get(id(scope))
        values = self._bindings(scope or self.module).get(name)
        if not values:
            return ""
        codes = {
            self._of_items(value, scope)
            if how == ITEM_OF
            else ""
            if value is None
            else self._of_value(value, in_class, scope, depth + 1)
            for value, _guards, how in values
            if how != HOLDS  # what `x.append(v)` adds leaves x what it was
        }
        return codes.pop() if len(codes) == 1 else ""

    def _of_items(self, value: ast.expr | None, function: ast.AST | None) -> str:
        """Return the code of an item of `value`: of a parameter annotated `Sequence[C]` (or
        list, tuple, set, Iterable of C), an instance of C."""
        if not (isinstance(value, ast.Name) and isinstance(function, FUNCTIONS)):
            return ""
        args = function.args
        for arg in (*args.posonlyargs, *args.args, *args.kwonlyargs):
            if arg.arg == value.id and isinstance(arg.annotation, ast.Subscript):
                container = leaf_name(arg.annotation.value)
                inner = arg.annotation.slice
                if isinstance(inner, ast.Tuple) and inner.elts:
                    inner = inner.elts[0]  # tuple[C, ...]
                element = _annotated_class(inner)
                if container in _CONTAINERS and element:
                    return f"self:{element}"
        return ""

    def _is_module(self, name: str, function: ast.AST | None) -> bool:
        """Return whether `name` is a module the file imports (`import os.path as p`)."""
        return name in self._layout().modules and self._unbound(name, function)

    def _imported(self) -> frozenset[str]:
        """Return the names the file imports, modules or not."""
        return self._layout().imported

    def _enclosing(self) -> Mapping[int, ast.AST]:
        """Return the function each nested function is defined in, by id."""
        return self._layout().parents

    def _layout(self) -> Layout:
        if self.layout is None:
            self.layout = _layout_of(self.module)
        return self.layout

    def _unbound(self, name: str, function: ast.AST | None) -> bool:
        """Return whether `function` leaves `name` to the module (no local binding)."""
        return not isinstance(function, FUNCTIONS) or name not in self._bindings(function)

    def _bindings(self, scope: ast.AST) -> dict[str, list[Bound]]:
        known = self.bindings.get(id(scope))
        if known is None:
            assert isinstance(scope, (*FUNCTIONS, ast.Module))
            known = self.bindings[id(scope)] = function_bindings(scope)
        return known


@dataclass(frozen=True)
class Layout:
    """What a file imports, and where its functions are defined."""

    modules: frozenset[str]  # bound by `import x` (`import os.path as p`: p)
    imported: frozenset[str]  # bound by any import
    parents: Mapping[int, ast.AST]  # each nested function's enclosing function, by id


@dataclass
class LayoutReader:
    """Gathers a file's Layout from its nodes, as a walk of the file meets them (the
    constants pre-pass walks every file once already: no second walk)."""

    modules: set[str] = field(default_factory=set)
    imported: set[str] = field(default_factory=set)
    parents: dict[int, ast.AST] = field(default_factory=dict)

    def note(self, node: ast.AST, enclosing: ast.AST | None) -> None:
        """Note `node`, met inside function `enclosing` (None: outside any function)."""
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = {(a.asname or a.name).split(".")[0] for a in node.names}
            self.imported |= names
            if isinstance(node, ast.Import):
                self.modules |= names
        elif isinstance(node, FUNCTIONS) and enclosing is not None:
            self.parents[id(node)] = enclosing

    def layout(self) -> Layout:
        """Return the layout of the nodes noted."""
        return Layout(frozenset(self.modules), frozenset(self.imported), dict(self.parents))


def _layout_of(module: ast.Module) -> Layout:
    reader = LayoutReader()
    stack: list[tuple[ast.AST, ast.AST | None]] = [(module, None)]
    while stack:
        node, function = stack.pop()
        reader.note(node, function)
        inner = node if isinstance(node, FUNCTIONS) else function
        stack.extend((child, inner) for child in child_nodes(node))
    return reader.layout()


def _is_class_name(name: str) -> bool:
    """Return whether `name` is spelt as a class is (PEP 8: `CapWords`, not `CONSTANT`)."""
    return name[:1].isupper() and not name.isupper()


def leaf_name(node: ast.expr | None) -> str | None:
    """Return the last name of `f`, `obj.f` or `pkg.mod.f` (None for other expressions)."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _annotated_class(annotation: ast.expr | None) -> str | None:
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        name: str | None = annotation.value.rpartition(".")[2]  # a forward reference
    else:
        name = leaf_name(annotation)
    return name if name and _is_class_name(name) else None


@dataclass(frozen=True)
class Hierarchy:
    """The project's classes with their bases (by last name), and its function names."""

    up: Mapping[str, frozenset[str]]
    down: Mapping[str, frozenset[str]]
    functions: frozenset[str]
    # What each function and method returns, by name: the code of every returned value of
    # every definition (see ReceiverReader.of_returns); "" for one that returns nothing.
    returns: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # The classes each receiver code reaches, worked out once (every call asks).
    _reached: dict[str, frozenset[str] | None] = field(
        default_factory=dict, compare=False, repr=False
    )
    _families: dict[str, frozenset[str]] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def of(
        cls,
        bases: Iterable[tuple[str, tuple[str, ...]]],
        functions: Iterable[str],
        returns: Iterable[tuple[str, tuple[str, ...]]] = (),
    ) -> Hierarchy:
        """Return the hierarchy of the classes `bases` lists (name, its bases' last names),
        with the project's function names and what each function returns."""
        returned: dict[str, list[str]] = {}
        for name, codes in returns:
            returned.setdefault(name, []).extend(codes)  # none: it returns None
        up: dict[str, set[str]] = {}
        down: dict[str, set[str]] = {}
        for name, parents in bases:
            up.setdefault(name, set()).update(parents)
            for parent in parents:
                down.setdefault(parent, set()).add(name)
        return cls(
            {k: frozenset(v) for k, v in up.items()},
            {k: frozenset(v) for k, v in down.items()},
            frozenset(functions),
            {k: tuple(v) for k, v in returned.items()},
        )

    def ancestors(self, name: str) -> frozenset[str]:
        """Return `name` and every class it derives from."""
        return _reach(name, self.up)

    def descendants(self, name: str) -> frozenset[str]:
        """Return `name` and every class derived from it."""
        return _reach(name, self.down)

    def family(self, name: str) -> frozenset[str]:
        """Return `name`'s ancestors and descendants, itself included."""
        if name not in self._families:
            self._families[name] = self.ancestors(name) | self.descendants(name)
        return self._families[name]

    def reaches(self, method: bool, owner: str, receiver: str) -> bool:
        """Return whether a call on `receiver` (a code) can reach a function: a method of class
        `owner`, or (not `method`) a module function or constructor."""
        if not receiver:
            return True
        if receiver == FUNCTION:
            return not method
        if receiver not in self._reached:
            self._reached[receiver] = self._owners(receiver)
        owners = self._reached[receiver]
        return owners is None or (method and owner in owners)

    def _owners(self, receiver: str, seen: frozenset[str] = frozenset()) -> frozenset[str] | None:
        """Return the classes whose methods a call on `receiver` may run (None: any)."""
        kind, _, name = receiver.partition(":")
        if kind == "ret":
            codes = self.returns.get(name)
            if not codes or receiver in seen:
                return None  # not the project's function, or one that calls itself
            found: set[str] = set()
            for code in codes:
                owners = None if code == FUNCTION else self._owners(code, seen | {receiver})
                if owners is None:
                    return None
                found |= owners
            return frozenset(found)
        if kind == "self":
            return frozenset().union(*(self.ancestors(d) for d in self.descendants(name)))
        if kind == "new":
            # A project function spelt like a class may be a factory returning anything.
            return None if name in self.functions and name not in self.up else self.ancestors(name)
        if kind == "ext":
            return None if name in self.up or name in self.functions else frozenset()
        if receiver == VALUE:
            return frozenset()
        return None


def _reach(start: str, edges: Mapping[str, Iterable[str]]) -> frozenset[str]:
    seen, todo = {start}, [start]
    while todo:
        for other in edges.get(todo.pop(), ()):
            if other not in seen:
                seen.add(other)
                todo.append(other)
    return frozenset(seen)
