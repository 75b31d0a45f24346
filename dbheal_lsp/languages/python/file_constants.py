"""What one file says about attributes and parameters: its `FileConstants`."""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace

from dbheal_lsp.languages.python.bindings import (
    ADDED_ARGUMENTS,
    LEAF_KINDS,
    added_arguments,
    child_nodes,
    return_statements,
)
from dbheal_lsp.languages.python.class_values import PER_CLASS_TAGS, class_collections
from dbheal_lsp.languages.python.constants import (
    PARAMETER_TAG,
    CallArguments,
    FileConstants,
    Given,
    Literal,
    Signature,
    read_given,
    read_literal,
)
from dbheal_lsp.languages.python.decorators import transparent_decorators
from dbheal_lsp.languages.python.guarded_names import guarded_collections
from dbheal_lsp.languages.python.number_values import NumberReader
from dbheal_lsp.languages.python.origins import NUMBER_CALLS, Origin, OriginReader
from dbheal_lsp.languages.python.receivers import LayoutReader, ReceiverReader, leaf_name
from dbheal_lsp.languages.python.signatures import (
    NOT_THE_PROJECTS,
    Function,
    call_arguments,
    first_base_name,
    keys_of_display,
    last_base_name,
    record_signature,
    signature_of,
)
from dbheal_lsp.languages.python.sql_methods import method_texts

_NUMBER_TYPES = frozenset({"int", "float", "bool"})


@dataclass
class _Found:
    """What `file_constants` collects while it walks a file, in the order met."""

    attributes: list[tuple[str, Given]]
    transparent: frozenset[str]  # decorators that leave callers as they are (decorators.py)
    signatures: list[Signature] = field(default_factory=list)
    returns: list[tuple[str, bool]] = field(default_factory=list)
    owned: list[tuple[str, str, Given]] = field(default_factory=list)
    bases: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    records: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    references: set[str] = field(default_factory=set)
    # Each function, with its method's class.
    defined: list[tuple[Function, str | None]] = field(default_factory=list)
    # Each comparison, with the innermost function it is in (see guarded_names.py).
    compared: list[tuple[ast.Compare, Function | None]] = field(default_factory=list)

    def attribute(self, owner: ast.ClassDef | None, name: str, given: Given) -> None:
        """Note that attribute `name` is given `given` (by class `owner`, when in one)."""
        self.attributes.append((name, given))
        if owner is not None:
            self.owned.append((owner.name, name, given))


def _origins_of_attributes(
    assignments: list[
        tuple[ast.Assign | ast.AnnAssign | ast.AugAssign | ast.Call, Function | None]
    ],
    reader: OriginReader,
) -> list[tuple[str, Origin]]:
    """Where what attributes are given comes from, read once the file's layout is known."""
    found: list[tuple[str, Origin]] = []
    for assignment, enclosing in assignments:
        if isinstance(assignment, ast.Call):
            found.extend(_added_to_attribute(assignment, enclosing, reader))
        else:
            found.extend(_attribute_origins(assignment, enclosing, reader))
    return found


def file_constants(tree: ast.Module) -> FileConstants:
    """Return what module `tree` assigns to attributes, defines and passes to functions."""
    module = _module_literals(tree)
    # A module's constants are read as attributes too: `schema.PodcastColumns`.
    found = _Found(list(module.items()), transparent_decorators(tree))
    collections = class_collections(tree)
    # Assignments and `x.append(v)` calls, with the function they are in.
    assignments: list[
        tuple[ast.Assign | ast.AnnAssign | ast.AugAssign | ast.Call, Function | None]
    ] = []
    # Names bound in each function (by id), to learn which hold one literal-keyed dict.
    local = _LocalDicts()
    reader = OriginReader(module=tree)
    pending: list[tuple[ast.Call, ast.ClassDef | None, Function | None, Function | None]] = []
    layout = LayoutReader()
    for node, owner, function, enclosing in _walk(tree):
        # The commonest nodes first: a name, an attribute, a subscript or a constant is none
        # of what the rest of the loop looks for.
        if isinstance(node, ast.Name):
            if isinstance(node.ctx, ast.Load):
                found.references.add(node.id)
            else:
                local.bound(enclosing, node.id)
            continue
        if isinstance(node, ast.Attribute):
            if isinstance(node.ctx, ast.Load):
                found.references.add(node.attr)
            continue
        if isinstance(node, ast.Subscript):
            if isinstance(node.ctx, ast.Store):
                local.key_set(enclosing, node)
            continue
        if isinstance(node, ast.Constant):
            continue
        if isinstance(node, ast.Compare):
            found.compared.append((node, enclosing))
        layout.note(node, enclosing)
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            local.assigned(enclosing, node)
        if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)) and node.value is not None:
            assignments.append((node, enclosing))
            for container in _stored_containers(node):
                found.attribute(owner, container, None)  # `self.cache[k] = v`: not a literal now
        if isinstance(node, ast.ClassDef):
            _note_class(node, module, collections, found)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                if _is_self_attribute(target) and isinstance(target, ast.Attribute):
                    given = read_given(node.value, module)
                    if given is None and owner and function and function.name == "__init__":
                        given = _constructor_parameter(node.value, owner, function)
                    found.attribute(owner, target.attr, given)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            _note_function(node, owner, function, module, found)
        elif isinstance(node, ast.Call):
            pending.append((node, owner, function, enclosing))
            added_to = _added_container(node)
            if added_to is not None:
                assignments.append((node, enclosing))
                # `self.filters.append(x)`: the list holds more than the literal it began as.
                found.attribute(owner, added_to, None)
    dicts = local.dicts()
    receivers = reader.receivers = ReceiverReader(tree, reader.bindings, layout.layout())
    made = [(f.name, receivers.of_returns(f, in_class)) for f, in_class in found.defined]
    attribute_origins = _origins_of_attributes(assignments, reader)
    calls = _calls_made(pending, module, dicts, reader, receivers)
    return FileConstants(
        tuple(found.attributes),
        tuple(found.signatures),
        tuple(calls),
        tuple(found.returns),
        tuple(found.owned),
        tuple(found.bases),
        frozenset(found.references),
        tuple(attribute_origins),
        tuple(made),
        tuple(found.records),
        method_texts(tree, reader),
        guarded_collections(found.compared),
    )


def _note_class(
    node: ast.ClassDef,
    module: Mapping[str, Literal],
    collections: Mapping[tuple[str, str], Given],
    found: _Found,
) -> None:
    """Note a class's bases, the constructor a record class gets, and its body's attributes
    (the names its collections hold: languages/python/class_values.py)."""
    found.bases.append((node.name, tuple(b for b in map(last_base_name, node.bases) if b)))
    record = record_signature(node, module)
    if record is not None:
        # `Index("idx", ("a",))` passes the fields of a named tuple or dataclass.
        found.signatures.append(record)
        found.records.append((node.name, record.parameters))
    for stmt in node.body:
        for name, value in _assigned(stmt):
            given = read_given(value, module)
            found.attribute(node, name, collections.get((node.name, name), given))
    for (owner, name), given in collections.items():
        if owner == node.name and isinstance(given, tuple) and given[0] in PER_CLASS_TAGS:
            found.owned.append((owner, name, given))  # a property: its class's value only


def _note_function(
    node: Function,
    owner: ast.ClassDef | None,
    function: Function | None,
    module: Mapping[str, Literal],
    found: _Found,
) -> None:
    """Note a function's signature and whether it returns a number."""
    is_method = owner is not None and function is None
    signature = signature_of(
        node, is_method, module, owner.name if owner else "", found.transparent
    )
    found.defined.append((node, owner.name if is_method and owner is not None else None))
    found.signatures.append(signature)
    found.returns.append((node.name, returns_number(node)))
    if owner is not None and function is None and node.name == "__init__":
        # `Table("History", ...)` calls the class's __init__.
        found.signatures.append(replace(signature, name=owner.name, method=False, owner=""))


def _calls_made(
    pending: list[tuple[ast.Call, ast.ClassDef | None, Function | None, Function | None]],
    module: Mapping[str, Literal],
    dicts: Mapping[tuple[int, str], Given],
    reader: OriginReader,
    receivers: ReceiverReader,
) -> list[CallArguments]:
    """Return what each call of the file passes, read once every binding of the file is known."""
    calls: list[CallArguments] = []
    numbers = NumberReader()
    for node, owner, method, enclosing in pending:
        call = call_arguments(node, module, enclosing, dicts, reader, numbers)
        if call is not None and call.name == "__init__" and owner is not None:
            # `super().__init__(db, "History")` in a subclass calls its base's __init__.
            call = replace(call, name=first_base_name(owner) or call.name)
        elif call is not None and call.name not in NOT_THE_PROJECTS:
            # (A builtin's or a str/list method's call: its receiver is not worth reading.)
            in_class = owner.name if owner is not None and method is not None else None
            call = replace(call, receiver=receivers.of_call(node, in_class, enclosing))
        if call is not None and method is not None:
            call = replace(call, caller=method.name)
        if call is not None:
            calls.append(call)
    return calls


def _attribute_origins(
    node: ast.Assign | ast.AnnAssign | ast.AugAssign,
    enclosing: Function | None,
    reader: OriginReader,
) -> Iterator[tuple[str, Origin]]:
    """Yield (attribute, origin) for each attribute `node` assigns: `x.a = v` anywhere, and the
    names a class body or the module binds (read as `C.a`, `module.a`)."""
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    names: list[str] = []
    for target in targets:
        for sub in ast.walk(target):
            if isinstance(sub, ast.Attribute) and isinstance(sub.ctx, ast.Store):
                names.append(sub.attr)
            elif isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store) and enclosing is None:
                names.append(sub.id)  # a class's or the module's own name
    names.extend(_stored_containers(node))  # `self.cache[key] = value`: the cache holds it
    if not names or node.value is None:
        return
    origin = reader.origin_of(node.value, enclosing)
    for name in names:
        yield name, origin


def returns_number(func: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """Return whether `func` returns a number: annotated `-> int` (float, bool), or returning
    only `int(...)`, `len(...)` or number literals."""
    returns = func.returns
    if isinstance(returns, ast.Name) and returns.id in _NUMBER_TYPES:
        return True
    if isinstance(returns, ast.Constant) and returns.value in _NUMBER_TYPES:
        return True
    values = [r.value for r in return_statements(func)]
    return bool(values) and all(
        value is not None
        and (
            (isinstance(value, ast.Constant) and type(value.value) in (int, float))
            or (isinstance(value, ast.Call) and leaf_name(value.func) in NUMBER_CALLS)
        )
        for value in values
    )


def _constructor_parameter(
    value: ast.expr | None, owner: ast.ClassDef, function: ast.FunctionDef | ast.AsyncFunctionDef
) -> Given:
    """`self._name = name` in `__init__`: a reference to what the class's callers pass."""
    args = function.args
    if isinstance(value, ast.Name) and value.id in {a.arg for a in (*args.args, *args.kwonlyargs)}:
        return (PARAMETER_TAG, f"{owner.name}.{value.id}")
    return None


@dataclass
class _LocalDicts:
    """`data = {"url": [], "title": []}` then `insert_batch(data)`: the names a function binds
    once, to a dict display of literal keys, and adds no key to by a variable; with its keys.
    Filled while a file is walked (keys: id of the function, name)."""

    stores: dict[tuple[int, str], int] = field(default_factory=dict)
    displays: dict[tuple[int, str], Given] = field(default_factory=dict)
    grown: set[tuple[int, str]] = field(default_factory=set)

    def bound(self, function: Function | None, name: str) -> None:
        key = (id(function), name)
        self.stores[key] = self.stores.get(key, 0) + 1

    def assigned(self, function: Function | None, node: ast.Assign | ast.AnnAssign) -> None:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        keys = keys_of_display(node.value) if node.value is not None else None
        if keys is not None and len(targets) == 1 and isinstance(targets[0], ast.Name):
            self.displays[(id(function), targets[0].id)] = keys

    def key_set(self, function: Function | None, node: ast.Subscript) -> None:
        if isinstance(node.value, ast.Name) and not (
            isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str)
        ):
            self.grown.add((id(function), node.value.id))  # data[key] = ...: not the code's key

    def dicts(self) -> dict[tuple[int, str], Given]:
        return {
            key: keys
            for key, keys in self.displays.items()
            if self.stores.get(key) == 1 and key not in self.grown
        }


def _stored_containers(node: ast.Assign | ast.AnnAssign | ast.AugAssign) -> Iterator[str]:
    """Yield the attributes whose container `node` stores into: `self.cache[key] = value`."""
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    for target in targets:
        for sub in ast.walk(target):
            if isinstance(sub, ast.Subscript) and isinstance(sub.ctx, ast.Store):
                container = _container_attribute(sub.value)
                if container is not None:
                    yield container


def _container_attribute(node: ast.expr) -> str | None:
    """Return the attribute a container expression is kept in (`self.cache`, `self.a[k]`)."""
    while isinstance(node, ast.Subscript):
        node = node.value
    return node.attr if isinstance(node, ast.Attribute) else None


def _added_to_attribute(
    call: ast.Call, enclosing: Function | None, reader: OriginReader
) -> Iterator[tuple[str, Origin]]:
    """`self.parts.append(value)` (extend, insert, add, update, setdefault): what the
    container kept in an attribute is given."""
    container = _added_container(call)
    if container is None:
        return
    for added in added_arguments(call):
        yield container, reader.origin_of(added, enclosing)


def _added_container(call: ast.Call) -> str | None:
    """Return the attribute `self.parts.append(v)` adds to (see ADDED_ARGUMENTS), if any."""
    func = call.func
    if not isinstance(func, ast.Attribute) or func.attr not in ADDED_ARGUMENTS:
        return None
    return _container_attribute(func.value)


def _walk(
    tree: ast.Module,
) -> Iterator[tuple[ast.AST, ast.ClassDef | None, Function | None, Function | None]]:
    """Yield every node with the class it is in, that class's method it is in (if any), and
    the innermost function it is in (if any)."""
    stack: list[tuple[ast.AST, ast.ClassDef | None, Function | None, Function | None]] = [
        (tree, None, None, None)
    ]
    while stack:
        node, owner, method, enclosing = stack.pop()
        yield node, owner, method, enclosing
        if type(node) in LEAF_KINDS:
            continue
        if isinstance(node, ast.ClassDef):
            inner: tuple[ast.ClassDef | None, Function | None, Function | None] = (
                node,
                None,
                enclosing,
            )
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            is_method = owner is not None and method is None
            inner = (owner, node if is_method else method, node)
        else:
            inner = (owner, method, enclosing)
        stack.extend((child, *inner) for child in child_nodes(node))


def _module_literals(tree: ast.Module) -> dict[str, Literal]:
    """Return the module-level names bound once, to a literal."""
    seen: dict[str, list[ast.expr | None]] = {}
    for stmt in tree.body:
        for name, value in _assigned(stmt):
            seen.setdefault(name, []).append(value)
    out: dict[str, Literal] = {}
    for name, values in seen.items():
        if len(values) == 1 and values[0] is not None:
            literal = read_literal(values[0])
            if literal is not None:
                out[name] = literal
    return out


def _assigned(stmt: ast.stmt) -> Iterator[tuple[str, ast.expr | None]]:
    """Yield (name, value) for each plain name `stmt` binds (value None: not an assignment)."""
    if isinstance(stmt, ast.Assign):
        for target in stmt.targets:
            if isinstance(target, ast.Name):
                yield target.id, stmt.value
            elif isinstance(target, (ast.Tuple, ast.List)):
                for element in target.elts:
                    if isinstance(element, ast.Name):
                        yield element.id, None
    elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
        if stmt.value is not None:
            yield stmt.target.id, stmt.value
    elif isinstance(stmt, ast.AugAssign) and isinstance(stmt.target, ast.Name):
        yield stmt.target.id, None


def _is_self_attribute(target: ast.expr) -> bool:
    return (
        isinstance(target, ast.Attribute)
        and isinstance(target.value, ast.Name)
        and target.value.id in ("self", "cls")
    )
