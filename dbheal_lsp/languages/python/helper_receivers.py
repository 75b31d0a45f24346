"""What a helper's call reaches (languages/python/call_sites.py): the class its receiver is an
instance of, when the caller's file says so plainly (`self`, `self.x` that the class only ever
sets to `C(...)`, a name bound only to `C(...)` or `cast("C", ...)`); the method that class
runs, in the file it is defined in; the literals its constructors give its attributes."""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dbheal_lsp.analysis.file_scan import MAX_FILE_BYTES
from dbheal_lsp.analysis.positions import source_lines
from dbheal_lsp.files import python_source, read_regular_file
from dbheal_lsp.languages.python.constants import Literal as GivenLiteral
from dbheal_lsp.languages.python.filecontext import FileContext, Scope
from dbheal_lsp.languages.python.project_constants import ProjectConstants
from dbheal_lsp.languages.python.pysource import parse_module
from dbheal_lsp.languages.python.receivers import leaf_name

# How many helpers deep a call is followed (insert -> _insert_query is 2), and how many
# constructors up a class's attributes are read.
MAX_DEPTH = 3
_Function = ast.FunctionDef | ast.AsyncFunctionDef


def receiver_class(node: ast.expr, scope: Scope, ctx: FileContext) -> str:
    """Return the project class the call's receiver is an instance of, "" when not known:
    `self` in a method, `self.x` that the class's methods only ever make a `C(...)`, a name
    the module only ever binds to `C(...)` (or `cast("C", ...)`)."""
    constants = ctx.options.constants
    in_method = ctx.class_node is not None and scope.node is not ctx.module.node
    if isinstance(node, ast.Name) and node.id == "self":
        return ctx.class_node.name if in_method and ctx.class_node is not None else ""
    values: list[ast.expr] = []
    if (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "self"
        and in_method
        and ctx.class_node is not None
    ):
        values = _assigned(ctx.class_node, ctx, self_attribute=True).get(node.attr, [])
    elif isinstance(node, ast.Name) and scope.node is not ctx.module.node:
        function = scope.node
        stored, has_global, assigned = _stored(function, ctx)
        local = node.id in stored
        if local and has_global:
            return ""
        if local:
            values = assigned.get(node.id, [])
            if len(values) != stored[node.id]:
                return ""  # bound otherwise too (a loop, a `with`): not only what is assigned
        else:
            values = _assigned(ctx.module.node, ctx, self_attribute=False).get(node.id, [])
    classes = {_made_class(v) for v in values if not _is_none(v)}
    if len(classes) != 1:
        return ""
    cls = classes.pop()
    known = cls in constants.class_files or cls in constants.hierarchy.up
    return cls if cls and known else ""


def _assigned(
    root: ast.AST, ctx: FileContext, *, self_attribute: bool
) -> dict[str, list[ast.expr]]:
    """Return every value assigned to each `self.<name>` under class `root` (or each module
    name, at module level or in a function that declares it `global`), read once per file and
    root. Only statements are walked: a big class's methods make many calls."""
    key = (id(root), self_attribute)
    known = ctx.call_site_assigned.get(key)
    if known is not None:
        return known
    found: dict[str, list[ast.expr]] = {}
    declared: dict[int, frozenset[str]] = {}
    for node, function in _statements(root):
        if not isinstance(node, (ast.Assign, ast.AnnAssign)) or node.value is None:
            continue
        for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
            if (
                self_attribute
                and isinstance(target, ast.Attribute)
                and isinstance(target.value, ast.Name)
                and target.value.id == "self"
            ):
                found.setdefault(target.attr, []).append(node.value)
            elif (
                not self_attribute
                and isinstance(target, ast.Name)
                and (
                    function is None
                    or target.id in declared.setdefault(id(function), _globals(function))
                )
            ):
                found.setdefault(target.id, []).append(node.value)
    ctx.call_site_assigned[key] = found
    return found


def _statements(root: ast.AST) -> Iterator[tuple[ast.stmt, ast.AST | None]]:
    """Yield every statement under `root` with the innermost function it is in (None: none)."""
    stack: list[tuple[ast.stmt, ast.AST | None]] = [
        (s, None) for s in getattr(root, "body", []) if isinstance(s, ast.stmt)
    ]
    while stack:
        node, function = stack.pop()
        yield node, function
        inner = node if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) else function
        for name in ("body", "orelse", "finalbody", "handlers", "cases"):
            for child in getattr(node, name, None) or []:
                if isinstance(child, ast.stmt):
                    stack.append((child, inner))
                elif isinstance(child, (ast.ExceptHandler, ast.match_case)):
                    stack.extend((c, inner) for c in child.body)


def _globals(function: ast.AST) -> frozenset[str]:
    """Return the names `function`'s own `global` statements declare."""
    return frozenset(
        name
        for node, inner in _statements(function)
        if inner is None and isinstance(node, ast.Global)
        for name in node.names
    )


def _stored(
    function: ast.AST, ctx: FileContext
) -> tuple[dict[str, int], bool, dict[str, list[ast.expr]]]:
    """Return how many times `function` binds each name, whether it declares a global, and
    the values its assignments give names: one walk of its statements per function (a
    walrus or a comprehension's name is not counted)."""
    known = ctx.call_site_stored.get(id(function))
    if known is None:
        counts: dict[str, int] = {}
        values: dict[str, list[ast.expr]] = {}
        has_global = False
        for node, inner in _statements(function):
            if inner is not None:
                continue  # a nested function's own names
            for target in _bound_by(node):
                for name in ast.walk(target):
                    if isinstance(name, ast.Name):
                        counts[name.id] = counts.get(name.id, 0) + 1
            if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
                for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                    if isinstance(target, ast.Name):
                        values.setdefault(target.id, []).append(node.value)
            has_global = has_global or isinstance(node, ast.Global)
        known = ctx.call_site_stored[id(function)] = (counts, has_global, values)
    return known


def _bound_by(node: ast.stmt) -> list[ast.expr]:
    """Return the targets statement `node` binds names in."""
    if isinstance(node, ast.Assign):
        return list(node.targets)
    if isinstance(node, (ast.AnnAssign, ast.AugAssign, ast.For, ast.AsyncFor)):
        return [node.target]
    if isinstance(node, (ast.With, ast.AsyncWith)):
        return [i.optional_vars for i in node.items if i.optional_vars is not None]
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return [ast.Name(id=(a.asname or a.name).split(".")[0]) for a in node.names]
    return []


def _made_class(value: ast.expr) -> str:
    """Return the class `C(...)` or `cast("C", x)` makes, "" for anything else."""
    if not isinstance(value, ast.Call):
        return ""
    called = leaf_name(value.func)
    if called == "cast" and value.args:
        kind = value.args[0]
        if isinstance(kind, ast.Constant) and isinstance(kind.value, str):
            return kind.value.rpartition(".")[2]
        return leaf_name(kind) or ""
    return called if called and called[:1].isupper() and not called.isupper() else ""


def _is_none(value: ast.expr) -> bool:
    return isinstance(value, ast.Constant) and value.value is None


@dataclass
class HelperFiles:
    """The files helpers are defined in, parsed once per process (None: not readable)."""

    parsed: dict[str, tuple[ast.Module, list[str]] | None] = field(default_factory=dict)
    # The texts each helper's own statement is read as (call_sites.py), by (path, line, column).
    own: dict[tuple[str, int, int], frozenset[str]] = field(default_factory=dict)

    def read(self, root: str, relative: str) -> tuple[ast.Module, list[str]] | None:
        """Return the tree and lines of the project file `relative` to `root`: a regular file
        inside the project only (a repository is untrusted input), decoded as Python is."""
        if relative not in self.parsed:
            try:
                data = read_regular_file(Path(root) / relative, max_bytes=MAX_FILE_BYTES, root=root)
                text = python_source(data)
                self.parsed[relative] = (parse_module(text, relative), source_lines(text))
            except (OSError, SyntaxError, ValueError, RecursionError):
                self.parsed[relative] = None
        return self.parsed[relative]


@dataclass(frozen=True)
class Helper:
    """A method found for a call: its class node, the file it is in."""

    method: _Function
    cls: ast.ClassDef
    module: ast.Module
    lines: list[str]
    path: str  # "" for the caller's own file


def constructor_attributes(
    receiver: str, ctx: FileContext, files: HelperFiles
) -> dict[str, GivenLiteral]:
    """Return the literal each `self.<attribute>` of an instance of `receiver` is given by
    the constructors it runs: `super().__init__(db, "History")` in it, `self._name = name` in
    its base's."""
    out: dict[str, GivenLiteral] = {}
    passed: dict[str, GivenLiteral] = {}
    cls = receiver
    for _ in range(MAX_DEPTH + 1):
        found = method_in(cls, "__init__", ctx, files, ctx.options.constants)
        node = _class_of(cls, ctx, files)
        if node is None:
            break
        base = next((b for b in map(leaf_name, node.bases) if b), None)
        if found is not None:
            init = found.method
            for value, attr in _self_assignments(init):
                if isinstance(value, ast.Constant) and isinstance(value.value, str):
                    out.setdefault(attr, value.value)
                elif isinstance(value, ast.Name) and value.id in passed:
                    out.setdefault(attr, passed[value.id])
            up = next((c for c in calls_of(init) if _calls_base_init(c, base)), None)
            base_init = (
                method_in(base, "__init__", ctx, files, ctx.options.constants) if base else None
            )
            if up is None or base_init is None:
                break
            passed = passed_on(base_init.method, _without_self(up), passed)
        if base is None:
            break
        cls = base
    return out


def _class_of(cls: str, ctx: FileContext, files: HelperFiles) -> ast.ClassDef | None:
    module = ctx.module.node
    assert isinstance(module, ast.Module)
    node = _class_node(module, cls)
    if node is None and cls in ctx.options.constants.class_files:
        constants = ctx.options.constants
        read = files.read(constants.project_root, constants.class_files[cls])
        node = _class_node(read[0], cls) if read is not None else None
    return node


def _self_assignments(function: _Function) -> Iterator[tuple[ast.expr, str]]:
    for node in ast.walk(function):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if (
                    isinstance(target, ast.Attribute)
                    and isinstance(target.value, ast.Name)
                    and target.value.id == "self"
                ):
                    yield node.value, target.attr


def _calls_base_init(call: ast.Call, base: str | None) -> bool:
    """Return whether `call` is `super().__init__(...)` or `Base.__init__(self, ...)`."""
    func = call.func
    if not (isinstance(func, ast.Attribute) and func.attr == "__init__"):
        return False
    owner = func.value
    if isinstance(owner, ast.Call) and leaf_name(owner.func) == "super":
        return True
    return base is not None and leaf_name(owner) == base


def _without_self(call: ast.Call) -> ast.Call:
    """Return `Base.__init__(self, a)` as `__init__(a)`; `super().__init__(a)` as it is."""
    func = call.func
    if isinstance(func, ast.Attribute) and not isinstance(func.value, ast.Call) and call.args:
        return ast.Call(func=func, args=call.args[1:], keywords=call.keywords)
    return call


def calls_of(function: _Function) -> Iterator[ast.Call]:
    """Yield the calls in `function`'s body (nested functions left out), in source order."""
    found: list[ast.Call] = []
    stack: list[ast.AST] = list(function.body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        if isinstance(node, ast.Call):
            found.append(node)
        stack.extend(ast.iter_child_nodes(node))
    return iter(sorted(found, key=lambda c: (c.lineno, c.col_offset)))


def _parameters(method: _Function) -> list[str]:
    args = method.args
    names = [a.arg for a in (*args.posonlyargs, *args.args)]
    return names[1:]  # `self`


def arguments_of(method: _Function, call: ast.Call) -> dict[str, ast.expr] | None:
    """Return the argument `call` passes each parameter of `method` (None: it cannot call it)."""
    names = _parameters(method)
    keywords = {a.arg for a in method.args.kwonlyargs}
    if len(call.args) > len(names):
        return None
    given = dict(zip(names, call.args, strict=False))
    for keyword in call.keywords:
        if keyword.arg is None or keyword.arg not in (*names, *keywords):
            return None
        given[keyword.arg] = keyword.value
    return given


def passed_on(
    method: _Function, call: ast.Call, environment: Mapping[str, GivenLiteral]
) -> dict[str, GivenLiteral]:
    """Return what a helper passes the helper `method` it calls: its own parameters' values
    (as the call site gave them) and literals."""
    given = arguments_of(method, call) or {}
    out: dict[str, GivenLiteral] = {}
    for parameter, value in given.items():
        if isinstance(value, ast.Name) and value.id in environment:
            out[parameter] = environment[value.id]
        elif isinstance(value, ast.Constant) and isinstance(value.value, str):
            out[parameter] = value.value
    return out


def find_method(receiver: str, name: str, ctx: FileContext, files: HelperFiles) -> Helper | None:
    """Return the method `name` an instance of class `receiver` runs: its own, else the
    nearest base's, in this file or the file the project defines that class in."""
    constants = ctx.options.constants
    # The classes that define a method of that name: no other file is parsed to look.
    owners = constants.sql_method_owners.get(name, frozenset())
    level, seen = [receiver], {receiver}
    while level:
        for cls in level:
            if cls not in owners:
                continue
            found = method_in(cls, name, ctx, files, constants)
            if found is not None:
                return found
        level = [
            b for c in level for b in sorted(constants.hierarchy.up.get(c, ())) if b not in seen
        ]
        seen.update(level)
    return None


def method_in(
    cls: str, name: str, ctx: FileContext, files: HelperFiles, constants: ProjectConstants
) -> Helper | None:
    module = ctx.module.node
    assert isinstance(module, ast.Module)
    node = _class_node(module, cls)
    path, lines = "", list(ctx.lines)
    if node is None and cls in constants.class_files:
        path = constants.class_files[cls]
        read = files.read(constants.project_root, path)
        if read is None:
            return None
        module, lines = read
        node = _class_node(module, cls)
    if node is None:
        return None
    for item in node.body:
        if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and item.name == name:
            return Helper(item, node, module, lines, path)
    return None


def _class_node(module: ast.Module, name: str) -> ast.ClassDef | None:
    for node in module.body:
        if isinstance(node, ast.ClassDef) and node.name == name:
            return node
    return None
