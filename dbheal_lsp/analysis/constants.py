"""Names the project only ever gives literal text: class attributes and function parameters.

Real applications build SQL from names fixed in their own code but reached through an attribute
(`'... FROM %s' % self.TABLE_EPISODE`, a model's `_table`) or a parameter (`_save_object(o,
table, columns)` whose every caller passes constants). Read alone, such a name could hold
anything; read across the project, it holds only the literals written for it. Each file gives
its `FileConstants` (what it assigns and what it passes); `ProjectConstants` merges them and
answers "which literals can this attribute or parameter hold?" (None: something else too).
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence, Set
from dataclasses import asdict, dataclass, field, replace
from typing import Any, TypeVar

from dbheal_lsp.analysis.bindings import (
    ADDED_ARGUMENTS,
    FUNCTIONS,
    added_arguments,
    return_statements,
)
from dbheal_lsp.analysis.origins import (
    BUILTINS,
    ITEMS,
    NUMBER_CALLS,
    PROGRAM,
    Origin,
    OriginReader,
)
from dbheal_lsp.analysis.receivers import Hierarchy, LayoutReader, ReceiverReader, leaf_name

# A literal value: text, a number, or a tuple of strings (a list of column names).
Literal = str | int | float | tuple[str, ...]
# What one call gives its callee's parameters: (parameter, literal) pairs, sorted.
Environment = tuple[tuple[str, Literal], ...]
# What an argument or assignment gives: a literal, ("attr", name) to be read in the merged
# attributes, or None when it is not written in the code.
Given = Literal | tuple[str, str] | None

_ATTR = "\x00attr"  # the tag of a reference to an attribute in a `Given`
_PARAM = "\x00param"  # ... and of a parameter of a class's constructor: (tag, "Class.param")
# The first item of a tuple that stands for a dict display's keys: iterating or joining that
# argument gives them, but the argument itself is a dict whose values may be anything.
KEYS = "\x00keys"
_T = TypeVar("_T")
_NUMBER_TYPES = frozenset({"int", "float", "bool"})
# Attributes that hold names the code itself defines: a class's name, its slots.
CODE_NAMES = frozenset({"__name__", "__qualname__", "__tablename__"})


@dataclass(frozen=True)
class Signature:
    """A function's parameters, as a call's arguments reach them."""

    name: str
    parameters: tuple[str, ...]  # positional parameters, `self`/`cls` left out for methods
    defaults: tuple[tuple[str, Given], ...]  # parameter -> what its default gives
    decorated: bool = False  # a framework may call it (a route, a handler)
    method: bool = False  # defined in a class body
    variadic: bool = False  # takes *args or **kwargs: any call may reach it
    setter: str = ""  # `@name.setter`: assigning attribute `name` calls it
    owner: str = ""  # the class a method is defined in

    def fits(self, call: CallArguments) -> bool:
        """Return whether `call` can call this function: not too many arguments, no keyword
        it lacks, every parameter without a default given (`x.delete(key)` is not a call of
        `delete(self, field, value)`, whatever other class defines a `delete`)."""
        if call.open or self.variadic:
            return True
        keywords = {name for name, _ in call.keywords}
        if len(call.positional) > len(self.parameters) or not keywords <= set(self.parameters):
            return False
        defaults = {name for name, _ in self.defaults}
        return all(
            index < len(call.positional) or name in keywords or name in defaults
            for index, name in enumerate(self.parameters)
        )


@dataclass(frozen=True)
class CallArguments:
    """What one call of a function passes: by position and by keyword; `open` when a `*args`
    or `**kwargs` hides some of them."""

    name: str
    positional: tuple[Given, ...]
    keywords: tuple[tuple[str, Given], ...]
    open: bool = False
    # Where each argument's value can come from (analysis/origins.py), in the same order.
    origins: tuple[Origin, ...] = ()
    keyword_origins: tuple[tuple[str, Origin], ...] = ()
    # Where what iterating an argument gives comes from, where that is less than the whole
    # (a dict display's keys): keyed by position ("0") or keyword.
    item_origins: tuple[tuple[str, Origin], ...] = ()
    # What the receiver of a method call is, when the file shows it (analysis/receivers.py).
    receiver: str = ""
    caller: str = ""  # the method the call is made in (none: a function or the module)


@dataclass(frozen=True)
class FileConstants:
    """What one file says about attributes and parameters (see the module docstring)."""

    attributes: tuple[tuple[str, Given], ...] = ()
    signatures: tuple[Signature, ...] = ()
    calls: tuple[CallArguments, ...] = ()
    # Functions (and methods) by name: does every definition return a number?
    returns: tuple[tuple[str, bool], ...] = ()
    # The same attributes by the class that assigns them, and each class's bases (last names).
    owned: tuple[tuple[str, str, Given], ...] = ()
    bases: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # Every name the file reads (`f`, `obj.f`): a function no file names is never called.
    references: frozenset[str] = frozenset()
    # Where each value assigned to an attribute (`x.a = v`, a class's or module's `a = v`)
    # comes from (analysis/origins.py).
    attribute_origins: tuple[tuple[str, Origin], ...] = ()
    # What each function returns, by name: a receiver code per returned value
    # (analysis/receivers.py).
    made: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # Record classes (named tuples, dataclasses) and their fields, in order.
    records: tuple[tuple[str, tuple[str, ...]], ...] = ()


@dataclass(frozen=True)
class ProjectConstants:
    """The literals each attribute name and each function parameter can hold, project-wide."""

    attributes: Mapping[str, frozenset[Literal] | None] = field(default_factory=dict)
    parameters: Mapping[tuple[str, str], frozenset[Literal] | None] = field(default_factory=dict)
    # Names of the functions whose every definition in the project returns a number.
    number_functions: frozenset[str] = frozenset()
    # (class, attribute) -> literals (the classes themselves: `hierarchy`).
    by_class: Mapping[tuple[str, str], frozenset[Literal] | None] = field(default_factory=dict)
    # Per function, what each of its calls passes: (parameter, literal) pairs, one tuple per
    # call site, for the parameters that call gives a literal (a table with its columns).
    environments: Mapping[str, tuple[Environment, ...]] = field(default_factory=dict)
    # (function, parameter) pairs that every caller in the project fills with the program's
    # own data (analysis/origins.py): nothing from outside reaches them.
    program_parameters: frozenset[tuple[str, str]] = frozenset()
    # Attributes every assignment in the project gives program data, and every one assigned.
    program_attributes: frozenset[str] = frozenset()
    assigned_attributes: frozenset[str] = frozenset()
    # The classes and their bases, and the classes test code defines (test doubles).
    hierarchy: Hierarchy = field(default_factory=lambda: Hierarchy.of((), ()))
    test_classes: frozenset[str] = frozenset()
    # (class, field) of every record class: `index.name` on an Index is what `Index(...)`
    # calls pass as `name`.
    record_fields: frozenset[tuple[str, str]] = frozenset()

    def digest(self) -> str:
        """Return a short digest of everything known (part of cache keys: a caller's change in
        one file changes what another file's statements hold)."""
        import hashlib

        text = repr(
            (
                _sorted_values(self.attributes),
                _sorted_values(self.parameters),
                sorted(self.number_functions),
                _sorted_values(self.by_class),
                sorted((k, sorted(map(repr, v))) for k, v in self.environments.items()),
                sorted(self.program_parameters),
                sorted(self.program_attributes),
                sorted(self.assigned_attributes),
                sorted((k, sorted(v)) for k, v in self.hierarchy.up.items()),
                sorted(self.test_classes),
                sorted(self.record_fields),
            )
        )
        return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()

    def attribute_values(self, name: str, owner: str | None = None) -> frozenset[Literal] | None:
        """Return every literal attribute `name` is given, or None if it is ever given
        something else (or never assigned in the project). With `owner` (`self.x` in a method
        of that class), only that class, its bases and subclasses count, when they assign it."""
        if owner is not None:
            found = [
                self.by_class[(c, name)]
                for c in self.hierarchy.family(owner)
                if (c, name) in self.by_class
            ]
            if found:
                if any(f is None for f in found):
                    return None
                return frozenset().union(*(f for f in found if f is not None))
        return self.attributes.get(name)

    def class_attribute_values(self, name: str, cls: str) -> frozenset[Literal] | None:
        """Return the literals attribute `name` holds on an instance of exactly `cls`: what
        the nearest of its classes (itself, then its bases) that assigns it gives."""
        level, seen = [cls], {cls}
        while level:
            found = [self.by_class[(c, name)] for c in level if (c, name) in self.by_class]
            if found:
                if any(f is None for f in found):
                    return None
                return frozenset().union(*(f for f in found if f is not None))
            level = [b for c in level for b in self.hierarchy.up.get(c, ()) if b not in seen]
            seen.update(level)
        return self.attributes.get(name)

    def variant_classes(self, owner: str, names: Iterable[str]) -> tuple[str, ...]:
        """Return the classes whose instances a method of `owner` may run on that give one
        of attributes `names` a value of their own: `owner` and its subclasses (test doubles
        left out), sorted."""
        wanted = set(names)
        return tuple(
            sorted(
                c
                for c in self.hierarchy.descendants(owner)
                if c not in self.test_classes and any((c, n) in self.by_class for n in wanted)
            )
        )

    def names_from_code(self, name: str, owner: str | None = None) -> bool:
        """Return whether attribute `name` only ever holds names the code itself writes: a
        literal everywhere it is assigned, or a class's own name (`__name__`)."""
        return name in CODE_NAMES or bool(self.attribute_values(name, owner))

    def parameter_values(self, function: str, parameter: str) -> frozenset[Literal] | None:
        """Return every literal the callers of `function` pass as `parameter`, or None when
        one passes something else, or no call is seen (an entry point: anyone may call it)."""
        return self.parameters.get((function, parameter))

    def holds_program_data(self, origin: Origin) -> bool:
        """Return whether a value of `origin` (analysis/origins.py) holds only the program's
        own data: the parameters it depends on are filled so by every caller (never true of
        an entry point, which anyone may call), and so are the attributes it reads."""
        if origin is None:
            return False
        return all(
            _member(
                dep,
                self.program_parameters,
                self.program_attributes,
                self.assigned_attributes,
                self.record_fields,
            )
            for dep in origin
        )

    def call_environments(self, function: str) -> tuple[Environment, ...]:
        """Return, for each call of `function` in the project, the literal each parameter is
        given there; empty when the function is defined more than once or never called."""
        return self.environments.get(function, ())


def _sorted_values(mapping: Mapping[Any, frozenset[Literal] | None]) -> list[Any]:
    return sorted((repr(k), sorted(map(repr, v)) if v else None) for k, v in mapping.items())


def file_constants(tree: ast.Module) -> FileConstants:
    """Return what module `tree` assigns to attributes, defines and passes to functions."""
    module = _module_literals(tree)
    # A module's constants are read as attributes too: `schema.PodcastColumns`.
    attributes: list[tuple[str, Given]] = list(module.items())
    signatures: list[Signature] = []
    calls: list[CallArguments] = []
    returns: list[tuple[str, bool]] = []
    owned: list[tuple[str, str, Given]] = []
    bases: list[tuple[str, tuple[str, ...]]] = []
    references: set[str] = set()
    attribute_origins: list[tuple[str, Origin]] = []
    records: list[tuple[str, tuple[str, ...]]] = []
    # Assignments and `x.append(v)` calls, with the function they are in.
    assignments: list[
        tuple[ast.Assign | ast.AnnAssign | ast.AugAssign | ast.Call, _Function | None]
    ] = []
    # Names bound in each function (by id), to learn which hold one literal-keyed dict.
    local = _LocalDicts()
    reader = OriginReader(module=tree)
    pending: list[tuple[ast.Call, ast.ClassDef | None, _Function | None, _Function | None]] = []
    layout = LayoutReader()
    defined: list[tuple[_Function, str | None]] = []  # each function, with its method's class
    for node, owner, function, enclosing in _walk(tree):
        layout.note(node, enclosing)
        if isinstance(node, ast.Name):
            if isinstance(node.ctx, ast.Load):
                references.add(node.id)
            else:
                local.bound(enclosing, node.id)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):
            references.add(node.attr)
        elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Store):
            local.key_set(enclosing, node)
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            local.assigned(enclosing, node)
        if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)) and node.value is not None:
            assignments.append((node, enclosing))
            for container in _stored_containers(node):
                attributes.append((container, None))  # `self.cache[k] = v`: not a literal now
                if owner is not None:
                    owned.append((owner.name, container, None))
        if isinstance(node, ast.ClassDef):
            bases.append((node.name, tuple(b for b in map(_base_of, node.bases) if b)))
            record = _record_signature(node, module)
            if record is not None:
                # `Index("idx", ("a",))` passes the fields of a named tuple or dataclass.
                signatures.append(record)
                records.append((node.name, record.parameters))
            for stmt in node.body:
                for name, value in _assigned(stmt):
                    attributes.append((name, _given(value, module)))
                    owned.append((node.name, name, attributes[-1][1]))
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                if _is_self_attribute(target) and isinstance(target, ast.Attribute):
                    given = _given(node.value, module)
                    if given is None and owner and function and function.name == "__init__":
                        given = _constructor_parameter(node.value, owner, function)
                    attributes.append((target.attr, given))
                    if owner is not None:
                        owned.append((owner.name, target.attr, given))
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            is_method = owner is not None and function is None
            signature = _signature(node, is_method, module, owner.name if owner else "")
            defined.append((node, owner.name if is_method and owner is not None else None))
            signatures.append(signature)
            returns.append((node.name, returns_number(node)))
            if owner is not None and function is None and node.name == "__init__":
                # `Table("History", ...)` calls the class's __init__.
                signatures.append(replace(signature, name=owner.name, method=False, owner=""))
        elif isinstance(node, ast.Call):
            pending.append((node, owner, function, enclosing))
            added_to = _added_container(node)
            if added_to is not None:
                assignments.append((node, enclosing))
                # `self.filters.append(x)`: the list holds more than the literal it began as.
                attributes.append((added_to, None))
                if owner is not None:
                    owned.append((owner.name, added_to, None))
    dicts = local.dicts()
    receivers = reader.receivers = ReceiverReader(tree, reader.bindings, layout.layout())
    made = [(f.name, receivers.of_returns(f, in_class)) for f, in_class in defined]
    # Where what attributes are given comes from, read once the file's layout is known.
    for assignment, enclosing in assignments:
        if isinstance(assignment, ast.Call):
            for container, origin in _added_to_attribute(assignment, enclosing, reader):
                attribute_origins.append((container, origin))
        else:
            attribute_origins.extend(_attribute_origins(assignment, enclosing, reader))
    for node, owner, method, enclosing in pending:  # once every binding of the file is known
        call = _call_arguments(node, module, enclosing, dicts, reader)
        if call is not None and call.name == "__init__" and owner is not None:
            # `super().__init__(db, "History")` in a subclass calls its base's __init__.
            call = replace(call, name=_base_name(owner) or call.name)
        elif call is not None and call.name not in _NOT_THE_PROJECTS:
            # (A builtin's or a str/list method's call: its receiver is not worth reading.)
            in_class = owner.name if owner is not None and method is not None else None
            call = replace(call, receiver=receivers.of_call(node, in_class, enclosing))
        if call is not None and method is not None:
            call = replace(call, caller=method.name)
        if call is not None:
            calls.append(call)
    return FileConstants(
        tuple(attributes),
        tuple(signatures),
        tuple(calls),
        tuple(returns),
        tuple(owned),
        tuple(bases),
        frozenset(references),
        tuple(attribute_origins),
        tuple(made),
        tuple(records),
    )


def _attribute_origins(
    node: ast.Assign | ast.AnnAssign | ast.AugAssign,
    enclosing: _Function | None,
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


def project_constants(
    files: Iterable[FileConstants], test_classes: frozenset[str] = frozenset()
) -> ProjectConstants:
    """Return the merge of every file's constants; `test_classes`: the classes test code
    defines (see ProjectConstants.variant_classes)."""
    files = list(files)
    given: dict[str, list[Given]] = {}
    for f in files:
        for name, value in f.attributes:
            given.setdefault(name, []).append(value)
    # Attributes first without what constructors are given, then parameters (callers may pass
    # `self.TABLE`), then attributes again with the constructors' parameters known.
    attributes = {name: _literals(values, {}, {}) for name, values in given.items()}
    attributes = {name: _literals(given[name], attributes, {}) for name in given}
    signatures: dict[str, list[Signature]] = {}
    for f in files:
        for sig in f.signatures:
            signatures.setdefault(sig.name, []).append(sig)
    record_fields = frozenset((c, n) for f in files for c, names in f.records for n in names)
    hierarchy = Hierarchy.of(
        (pair for f in files for pair in f.bases),
        (s.name for f in files for s in f.signatures if not s.method),
        (pair for f in files for pair in f.made),
    )
    referenced = frozenset().union(*(f.references for f in files))
    # Methods no file names and no decorator registers: dead code. Their calls never run, so
    # they pass nothing on (`def table(self, name): return Table(name)`) and their parameters
    # are given nothing. A module's function may be an entry point another program calls:
    # never dead.
    dead_methods = frozenset(
        name
        for name, sigs in signatures.items()
        if name not in referenced
        and not name.startswith("__")
        and all(sig.method and not sig.decorated for sig in sigs)
    )
    calls: dict[str, list[CallArguments]] = {}
    for f in files:
        for call in f.calls:
            if call.name in signatures:
                calls.setdefault(call.name, []).append(call)

    def reaching(sig: Signature) -> list[CallArguments]:
        """The calls that can call `sig`: fitting its parameters, on a receiver it can have."""
        return [
            c
            for c in calls.get(sig.name, [])
            if sig.fits(c) and hierarchy.reaches(sig.method, sig.owner, c.receiver)
        ]

    dead = {
        (name, parameter): frozenset[Literal]()
        for name in dead_methods
        for sig in signatures[name]
        for parameter in sig.parameters
    }
    parameters: dict[tuple[str, str], frozenset[Literal] | None] = {}
    # A parameter may be passed on to another function's: three rounds follow such chains.
    for _ in range(3):
        known = dict(parameters)
        parameters = {}
        for name, sigs in signatures.items():
            for sig in sigs:
                fitting = reaching(sig)
                for index, parameter in enumerate(sig.parameters):
                    values = list(_passed(fitting, sig, index, parameter))
                    key = (name, parameter)
                    found = _literals(values, attributes, {**known, **dead}) if values else None
                    if key in parameters and parameters[key] != found:
                        found = None  # two functions of one name that disagree: not known
                    parameters[key] = found
    attributes = {
        name: _literals(given[name], attributes, {**parameters, **dead}) for name in given
    }
    numeric: dict[str, bool] = {}
    for f in files:
        for name, number in f.returns:
            numeric[name] = numeric.get(name, True) and number
    numbers = frozenset(name for name, number in numeric.items() if number)
    owned: dict[tuple[str, str], list[Given]] = {}
    for f in files:
        for owner, name, value in f.owned:
            owned.setdefault((owner, name), []).append(value)
    passed = {**parameters, **dead}
    by_class = {key: _literals(values, attributes, passed) for key, values in owned.items()}
    environments = {
        name: _environments(sigs[0], reaching(sigs[0]), attributes, passed)
        for name, sigs in signatures.items()
        if len(sigs) == 1 and name in calls
    }
    return ProjectConstants(
        attributes,
        parameters,
        numbers,
        by_class,
        {name: found for name, found in environments.items() if found},
        *_program_data(signatures, reaching, files, dead_methods, record_fields),
        hierarchy,
        test_classes,
        record_fields,
    )


def classes_of_test_code(found: Mapping[str, FileConstants]) -> frozenset[str]:
    """Return the classes that test code defines, of the files `found` by relative path: in
    a `test` or `tests` folder, or in `test_*.py`, `*_test.py` or `conftest.py`."""
    return frozenset(
        name
        for path, constants in found.items()
        if _is_test_path(path)
        for name, _bases in constants.bases
    )


def _is_test_path(path: str) -> bool:
    parts = path.replace("\\", "/").split("/")
    name = parts[-1]
    return (
        any(p in ("test", "tests") for p in parts[:-1])
        or name.startswith("test_")
        or name.endswith("_test.py")
        or name == "conftest.py"
    )


def _program_data(
    signatures: Mapping[str, list[Signature]],
    reaching: Callable[[Signature], list[CallArguments]],
    files: list[FileConstants],
    dead_methods: Set[str],
    fields: Set[tuple[str, str]],
) -> tuple[frozenset[tuple[str, str]], frozenset[str], frozenset[str]]:
    """Return the parameters and attributes that only the program's own data reaches, and the
    attributes the project assigns. A parameter: every call that fits passes it (or leaves the
    default) a value whose dependencies are in the set; a decorated function (a route, a
    handler) or one no call reaches is an entry point; calls made in dead methods do not
    count. An attribute: every assignment is."""
    needs: dict[tuple[str, str], set[str] | None] = {}
    for sigs in signatures.values():
        for sig in sigs:
            reached = reaching(sig)
            # Calls made in dead methods never run; a function only they call is dead too.
            fitting = [c for c in reached if c.caller not in dead_methods]
            for index, parameter in enumerate(sig.parameters):
                for items in (False, True):
                    key = (_dependency_key(sig), parameter + ITEMS if items else parameter)
                    found: set[str] | None = set()
                    if sig.setter:
                        # `obj.name = value` calls it: what the attribute is given is its value.
                        found = {f"@{sig.setter}:!"}
                    elif sig.decorated or not reached:
                        # Nothing calls it here: a framework, a plugin or getattr may, with anything.
                        found = None
                    for origin in _passed_origins(
                        [] if sig.setter else fitting, index, parameter, items
                    ):
                        if origin is None or found is None:
                            found = None
                            break
                        found |= origin
                    if key in needs:
                        # Two functions of one name: both must be reached so.
                        earlier = needs[key]
                        found = None if earlier is None or found is None else earlier | found
                    needs[key] = found
    attribute_needs: dict[str, set[str] | None] = {}
    for f in files:
        for attribute, origin in f.attribute_origins:
            known = attribute_needs.get(attribute, set())
            attribute_needs[attribute] = None if known is None or origin is None else known | origin
    assigned = frozenset(attribute_needs)
    # The largest sets closed under "depends only on members": a value passed round a
    # recursion that nothing outside feeds holds only program data.
    parameters = {key for key, found in needs.items() if found is not None}
    attributes = {key for key, found in attribute_needs.items() if found is not None}
    while True:
        kept_parameters = {
            key
            for key in parameters
            if all(_member(d, parameters, attributes, assigned, fields) for d in needs[key] or ())
        }
        kept_attributes = {
            key
            for key in attributes
            if all(
                _member(d, parameters, attributes, assigned, fields)
                for d in attribute_needs[key] or ()
            )
        }
        if kept_parameters == parameters and kept_attributes == attributes:
            return frozenset(parameters), frozenset(attributes), assigned
        parameters, attributes = kept_parameters, kept_attributes


def _member(
    dep: str,
    parameters: Set[tuple[str, str]],
    attributes: Set[str],
    assigned: Set[str],
    fields: Set[tuple[str, str]] = frozenset(),
) -> bool:
    """Return whether dependency `dep` of an origin holds only program data: "f.p" a parameter
    of f, "@a:fallback" attribute a (or, where the project never assigns a, the fallback: ""
    program data, "!" not known, else the parameters it lists). "@C.a:fallback" reads a on an
    object of class C: a field of a record class is what its constructor's callers pass."""
    if dep.startswith("@"):
        attribute, _, fallback = dep[1:].partition(":")
        owner, _, attribute = attribute.rpartition(".")
        if (owner, attribute) in fields:
            return (owner, attribute) in parameters
        if attribute in assigned:
            return attribute in attributes
        if fallback == "!":
            return False
        return all(
            _member(d, parameters, attributes, assigned, fields) for d in fallback.split(",") if d
        )
    function, _, parameter = dep.rpartition(".")
    return (function, parameter) in parameters


def _dependency_key(sig: Signature) -> str:
    """Return how origins name `sig`'s function (analysis/origins.py: _function_key)."""
    return f"{sig.owner}.{sig.name}" if sig.owner and sig.name != "__init__" else sig.name


def _passed_origins(
    calls: list[CallArguments], index: int, parameter: str, items: bool
) -> Iterator[Origin]:
    """Yield where what each call passes as `parameter` (with `items`: what iterating it
    gives) comes from (a default: the code)."""
    for call in calls:
        whole = _passed_as(call, index, parameter, call.origins, call.keyword_origins, PROGRAM)
        if items:
            given = dict(call.item_origins)
            key = str(index) if index < len(call.positional) else parameter
            yield given.get(key, whole)
        else:
            yield whole


def _environments(
    sig: Signature,
    calls: list[CallArguments],
    attributes: Mapping[str, frozenset[Literal] | None],
    passed: Mapping[tuple[str, str], frozenset[Literal] | None],
) -> tuple[Environment, ...]:
    """Return what each call gives `sig`'s parameters, where that is one literal."""
    found: list[Environment] = []
    for call in calls:
        pairs: list[tuple[str, Literal]] = []
        for index, parameter in enumerate(sig.parameters):
            values = _literals(list(_passed([call], sig, index, parameter)), attributes, passed)
            if values is not None and len(values) == 1:
                pairs.append((parameter, next(iter(values))))
        if pairs and tuple(pairs) not in found:
            found.append(tuple(pairs))
    return tuple(found)


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
        return (_PARAM, f"{owner.name}.{value.id}")
    return None


def _argument(
    value: ast.expr,
    module: Mapping[str, Literal],
    enclosing: _Function | None,
    dicts: Mapping[tuple[int, str], Given],
) -> Given:
    given = _given(value, module)
    if given is None:
        given = _keys_of_display(value)
    if given is None and isinstance(value, ast.Name):
        given = dicts.get((id(enclosing), value.id))
    return given if given is not None else _passed_on(value, enclosing)


@dataclass
class _LocalDicts:
    """`data = {"url": [], "title": []}` then `insert_batch(data)`: the names a function binds
    once, to a dict display of literal keys, and adds no key to by a variable; with its keys.
    Filled while a file is walked (keys: id of the function, name)."""

    stores: dict[tuple[int, str], int] = field(default_factory=dict)
    displays: dict[tuple[int, str], Given] = field(default_factory=dict)
    grown: set[tuple[int, str]] = field(default_factory=set)

    def bound(self, function: _Function | None, name: str) -> None:
        key = (id(function), name)
        self.stores[key] = self.stores.get(key, 0) + 1

    def assigned(self, function: _Function | None, node: ast.Assign | ast.AnnAssign) -> None:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        keys = _keys_of_display(node.value) if node.value is not None else None
        if keys is not None and len(targets) == 1 and isinstance(targets[0], ast.Name):
            self.displays[(id(function), targets[0].id)] = keys

    def key_set(self, function: _Function | None, node: ast.Subscript) -> None:
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


def _keys_of_display(value: ast.expr) -> Given:
    """`insert({"url": u, "title": t})`: a dict display whose keys are all literal text gives
    its keys, marked (see KEYS): what iterating or joining the dict gives, never the dict."""
    if (
        isinstance(value, ast.Dict)
        and value.keys
        and all(isinstance(k, ast.Constant) and isinstance(k.value, str) for k in value.keys)
    ):
        return (KEYS, *(str(k.value) for k in value.keys if isinstance(k, ast.Constant)))
    return None


def dict_keys(value: Literal) -> tuple[str, ...] | None:
    """Return the keys of a dict display given as an argument (see _keys_of_display), else
    None."""
    if isinstance(value, tuple) and value and value[0] == KEYS:
        return value[1:]
    return None


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
    call: ast.Call, enclosing: _Function | None, reader: OriginReader
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


def _passed_on(value: ast.expr, enclosing: _Function | None) -> Given:
    """`SqlTable(self, name)` inside `def table(self, name)`: what table's callers pass."""
    if enclosing is None or not isinstance(value, ast.Name):
        return None
    args = enclosing.args
    if value.id in {a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)}:
        return (_PARAM, f"{enclosing.name}.{value.id}")
    return None


def _base_name(owner: ast.ClassDef) -> str | None:
    return _base_of(owner.bases[0]) if owner.bases else None


def _record_signature(node: ast.ClassDef, module: Mapping[str, Literal]) -> Signature | None:
    """Return the constructor a named tuple or dataclass gets from its fields (`name: str`,
    `columns: tuple = ()`), or None for another class or one that writes its `__init__`."""
    record = any(_base_of(b) == "NamedTuple" for b in node.bases) or any(
        leaf_name(d.func if isinstance(d, ast.Call) else d) == "dataclass"
        for d in node.decorator_list
    )
    if not record or any(isinstance(s, FUNCTIONS) and s.name == "__init__" for s in node.body):
        return None
    fields: list[str] = []
    defaults: list[tuple[str, Given]] = []
    for stmt in node.body:
        if not (isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)):
            continue
        if "ClassVar" in ast.unparse(stmt.annotation):
            continue  # a class attribute, not a field
        fields.append(stmt.target.id)
        if stmt.value is not None:
            defaults.append((stmt.target.id, _given(stmt.value, module)))
    return Signature(node.name, tuple(fields), tuple(defaults)) if fields else None


def _base_of(base: ast.expr) -> str | None:
    """Return the last name of a base class: `Model` of `dbcore.Model[Library]` too."""
    return leaf_name(base.value if isinstance(base, ast.Subscript) else base)


def _passed(
    calls: list[CallArguments], sig: Signature, index: int, parameter: str
) -> Iterator[Given]:
    """Yield what each call passes as `parameter` (its default when it passes none)."""
    default = dict(sig.defaults).get(parameter)
    for call in calls:
        yield _passed_as(call, index, parameter, call.positional, call.keywords, default)


def _passed_as(
    call: CallArguments,
    index: int,
    parameter: str,
    positional: Sequence[_T],
    keywords: Sequence[tuple[str, _T]],
    default: _T,
) -> _T | None:
    """Return what `call` gives parameter `parameter` (the `index`-th), read from `positional`
    and `keywords` (its values, or where they come from): `default` when it passes none,
    None when a `*args` or `**kwargs` may hide it."""
    if index < len(call.positional):
        return positional[index] if index < len(positional) else None
    given = dict(keywords)
    if parameter in given:
        return given[parameter]
    return None if call.open else default


def _literals(
    values: list[Given],
    attributes: Mapping[str, frozenset[Literal] | None],
    parameters: Mapping[tuple[str, str], frozenset[Literal] | None],
) -> frozenset[Literal] | None:
    out: set[Literal] = set()
    for value in values:
        if value is None:
            return None
        if isinstance(value, tuple) and len(value) == 2 and value[0] in (_ATTR, _PARAM):
            if value[0] == _ATTR:
                found = attributes.get(value[1])
            else:
                owner, _, parameter = value[1].partition(".")
                found = parameters.get((owner, parameter))
            if found is None:
                return None
            out |= found
        else:
            out.add(value)
    return frozenset(out) or None  # only dead code gives it a value: not known


_Function = ast.FunctionDef | ast.AsyncFunctionDef
# Calls that are never the project's own functions in practice: builtins, and methods of str,
# list, dict, connections and cursors that code calls everywhere.
_NOT_THE_PROJECTS = BUILTINS | frozenset(
    {
        "append",
        "extend",
        "join",
        "format",
        "items",
        "keys",
        "values",
        "split",
        "strip",
        "replace",
        "startswith",
        "endswith",
        "lower",
        "upper",
        "encode",
        "decode",
        "fetchone",
        "fetchall",
        "fetchmany",
        "execute",
        "executemany",
        "executescript",
    }
)


def _walk(
    tree: ast.Module,
) -> Iterator[tuple[ast.AST, ast.ClassDef | None, _Function | None, _Function | None]]:
    """Yield every node with the class it is in, that class's method it is in (if any), and
    the innermost function it is in (if any)."""
    stack: list[tuple[ast.AST, ast.ClassDef | None, _Function | None, _Function | None]] = [
        (tree, None, None, None)
    ]
    while stack:
        node, owner, method, enclosing = stack.pop()
        yield node, owner, method, enclosing
        if isinstance(node, ast.ClassDef):
            inner: tuple[ast.ClassDef | None, _Function | None, _Function | None] = (
                node,
                None,
                enclosing,
            )
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            is_method = owner is not None and method is None
            inner = (owner, node if is_method else method, node)
        else:
            inner = (owner, method, enclosing)
        stack.extend((child, *inner) for child in ast.iter_child_nodes(node))


def _module_literals(tree: ast.Module) -> dict[str, Literal]:
    """Return the module-level names bound once, to a literal."""
    seen: dict[str, list[ast.expr | None]] = {}
    for stmt in tree.body:
        for name, value in _assigned(stmt):
            seen.setdefault(name, []).append(value)
    out: dict[str, Literal] = {}
    for name, values in seen.items():
        if len(values) == 1 and values[0] is not None:
            literal = _literal(values[0])
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


def _literal(node: ast.expr) -> Literal | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, (str, int, float)):
        return node.value  # bool is an int: True and False spell no SQL either
    if (
        isinstance(node, ast.UnaryOp)
        and isinstance(node.op, ast.USub)
        and isinstance(node.operand, ast.Constant)
        and type(node.operand.value) in (int, float)
    ):
        number = node.operand.value
        return -number if isinstance(number, (int, float)) else None
    if isinstance(node, (ast.Tuple, ast.List)) and all(
        isinstance(e, ast.Constant) and isinstance(e.value, str) for e in node.elts
    ):
        return tuple(str(e.value) for e in node.elts if isinstance(e, ast.Constant))
    return None


def _given(node: ast.expr | None, module: Mapping[str, Literal]) -> Given:
    if node is None:
        return None
    literal = _literal(node)
    if literal is not None:
        return literal
    if isinstance(node, ast.Name) and node.id in module:
        return module[node.id]
    if isinstance(node, ast.Attribute):
        return (_ATTR, node.attr)  # `self.TABLE`, `schema.COLUMNS`, `Podcast.TABLE`
    return None


def _is_self_attribute(target: ast.expr) -> bool:
    return (
        isinstance(target, ast.Attribute)
        and isinstance(target.value, ast.Name)
        and target.value.id in ("self", "cls")
    )


def _signature(
    node: ast.FunctionDef | ast.AsyncFunctionDef,
    method: bool,
    module: Mapping[str, Literal],
    owner: str,
) -> Signature:
    args = node.args
    positional = [a.arg for a in (*args.posonlyargs, *args.args)]
    static = any(isinstance(d, ast.Name) and d.id == "staticmethod" for d in node.decorator_list)
    if method and not static and positional:
        positional = positional[1:]  # self or cls: the receiver, not an argument
    defaults: list[tuple[str, Given]] = []
    tail = positional[len(positional) - len(args.defaults) :] if args.defaults else []
    for name, default in zip(tail, args.defaults, strict=False):
        defaults.append((name, _given(default, module)))
    for kw, kw_default in zip(args.kwonlyargs, args.kw_defaults, strict=True):
        defaults.append((kw.arg, _given(kw_default, module)))
    keyword_only = [a.arg for a in args.kwonlyargs]
    setter = next(
        (
            d.value.id
            for d in node.decorator_list
            if isinstance(d, ast.Attribute) and d.attr == "setter" and isinstance(d.value, ast.Name)
        ),
        "",
    )
    return Signature(
        node.name,
        (*positional, *keyword_only),
        tuple(defaults),
        bool(node.decorator_list),
        method,
        args.vararg is not None or args.kwarg is not None,
        setter,
        owner if method else "",
    )


def _call_arguments(
    node: ast.Call,
    module: Mapping[str, Literal],
    enclosing: _Function | None,
    dicts: Mapping[tuple[int, str], Given],
    reader: OriginReader,
) -> CallArguments | None:
    name = leaf_name(node.func)
    if name is None:
        return None
    positional: list[Given] = []
    origins: list[Origin] = []
    # Not a function of the project's (a builtin, a method of str, list or dict): where its
    # arguments come from is not worth reading. Unread, they count as outside text.
    wanted = name not in _NOT_THE_PROJECTS
    open_ = False
    item_origins: list[tuple[str, Origin]] = []

    def note_items(key: str, value: ast.expr, whole: Origin) -> None:
        items = reader.items_of(value, enclosing) if wanted else None
        if items != whole:
            item_origins.append((key, items))

    for index, arg in enumerate(node.args):
        if isinstance(arg, ast.Starred):
            open_ = True
            break
        positional.append(_argument(arg, module, enclosing, dicts))
        origins.append(reader.origin_of(arg, enclosing) if wanted else None)
        note_items(str(index), arg, origins[-1])
    keywords: list[tuple[str, Given]] = []
    keyword_origins: list[tuple[str, Origin]] = []
    for kw in node.keywords:
        if kw.arg is None:
            open_ = True
        else:
            keywords.append((kw.arg, _argument(kw.value, module, enclosing, dicts)))
            origin = reader.origin_of(kw.value, enclosing) if wanted else None
            keyword_origins.append((kw.arg, origin))
            note_items(kw.arg, kw.value, origin)
    return CallArguments(
        name,
        tuple(positional),
        tuple(keywords),
        open_,
        tuple(origins),
        tuple(keyword_origins),
        tuple(item_origins),
    )


def constants_to_json(found: FileConstants) -> Any:
    """Return `found` as JSON-ready data (the check cache keeps it per file content)."""
    data = asdict(found)
    data["references"] = sorted(found.references)
    data["attribute_origins"] = [(n, _origin_json(o)) for n, o in found.attribute_origins]
    for call in data["calls"]:
        call["origins"] = [_origin_json(o) for o in call["origins"]]
        call["keyword_origins"] = [(n, _origin_json(o)) for n, o in call["keyword_origins"]]
        call["item_origins"] = [(n, _origin_json(o)) for n, o in call["item_origins"]]
    return data


def _origin_json(origin: Origin) -> list[str] | None:
    return None if origin is None else sorted(origin)


def _origin_of(value: Any) -> Origin:
    if value is None:
        return None
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return frozenset(value)
    raise ValueError(f"unexpected origin {value!r}")


def constants_from_json(data: Any) -> FileConstants:
    """Return the FileConstants that `constants_to_json` wrote; ValueError if it is not that."""
    try:
        return FileConstants(
            attributes=tuple((str(n), _given_of(v)) for n, v in data["attributes"]),
            signatures=tuple(
                Signature(
                    str(s["name"]),
                    tuple(map(str, s["parameters"])),
                    tuple((str(n), _given_of(v)) for n, v in s["defaults"]),
                    bool(s["decorated"]),
                    bool(s["method"]),
                    bool(s["variadic"]),
                    str(s["setter"]),
                    str(s["owner"]),
                )
                for s in data["signatures"]
            ),
            calls=tuple(
                CallArguments(
                    str(c["name"]),
                    tuple(_given_of(v) for v in c["positional"]),
                    tuple((str(n), _given_of(v)) for n, v in c["keywords"]),
                    bool(c["open"]),
                    tuple(_origin_of(v) for v in c["origins"]),
                    tuple((str(n), _origin_of(v)) for n, v in c["keyword_origins"]),
                    tuple((str(n), _origin_of(v)) for n, v in c["item_origins"]),
                    str(c["receiver"]),
                    str(c["caller"]),
                )
                for c in data["calls"]
            ),
            returns=tuple((str(n), bool(b)) for n, b in data["returns"]),
            owned=tuple((str(o), str(n), _given_of(v)) for o, n, v in data["owned"]),
            bases=tuple((str(n), tuple(map(str, b))) for n, b in data["bases"]),
            references=frozenset(map(str, data["references"])),
            attribute_origins=tuple((str(n), _origin_of(v)) for n, v in data["attribute_origins"]),
            made=tuple((str(n), tuple(map(str, codes))) for n, codes in data["made"]),
            records=tuple((str(n), tuple(map(str, f))) for n, f in data["records"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"not cached constants: {exc}") from None


def _given_of(value: Any) -> Given:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return int(value)  # True and False were stored as the ints they are
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise ValueError(f"unexpected value {value!r}")
