"""`ProjectConstants`: the literals each attribute and parameter can hold across the project,
merged from every file's `FileConstants`, and the questions the checks ask of them."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from dbheal_lsp.languages.python.class_texts import is_template, template_text
from dbheal_lsp.languages.python.constants import (
    ATTRIBUTE_TAG,
    CLASS_TAG,
    CODE_NAMES,
    PARAMETER_TAG,
    SELF_TAG,
    CallArguments,
    Environment,
    FileConstants,
    Given,
    Literal,
    Signature,
    passed_as,
)
from dbheal_lsp.languages.python.number_values import number_parameters
from dbheal_lsp.languages.python.origins import Origin
from dbheal_lsp.languages.python.program_data import dependency_holds_program_data, program_data
from dbheal_lsp.languages.python.receivers import Hierarchy
from dbheal_lsp.languages.python.sql_methods import sql_text_methods


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
    # own data (languages/python/origins.py): nothing from outside reaches them.
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
    # (function, parameter) -> the project's classes its callers pass as that parameter
    # (`self._fetch(Album, q)`, passed on as `super()._get_results(model_cls, ...)`).
    argument_classes: Mapping[tuple[str, str], frozenset[str]] = field(default_factory=dict)
    # Where each class is defined (relative path; a name defined twice left out), and the
    # names of the methods that reach a database call (languages/python/call_sites.py).
    class_files: Mapping[str, str] = field(default_factory=dict)
    sql_methods: frozenset[str] = frozenset()
    # The classes that define each of those methods.
    sql_method_owners: Mapping[str, frozenset[str]] = field(default_factory=dict)
    project_root: str = ""  # what class_files are relative to
    # (function, parameter) -> "INTEGER" or "REAL": every call in the project passes that
    # kind of number (languages/python/number_values.py).
    number_parameters: Mapping[tuple[str, str], str] = field(default_factory=dict)
    # Names of the methods whose every definition writes SQL text (languages/python/sql_methods.py).
    sql_text_methods: frozenset[str] = frozenset()
    # Collections whose members that text may name (languages/python/guarded_names.py).
    guarded_collections: frozenset[str] = frozenset()

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
                sorted((k, sorted(v)) for k, v in self.argument_classes.items()),
                sorted(self.class_files.items()),
                sorted(self.sql_methods),
                sorted((k, sorted(v)) for k, v in self.sql_method_owners.items()),
                sorted(self.number_parameters.items()),
                sorted(self.sql_text_methods),
                sorted(self.guarded_collections),
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
                if any(f is None or any(_is_own(v) for v in f) for f in found):
                    return None  # (a class property: known per class only)
                return frozenset().union(*(f for f in found if f is not None))
        return self.attributes.get(name)

    def class_attribute_values(
        self, name: str, cls: str, depth: int = 0
    ) -> frozenset[Literal] | None:
        """Return the literals attribute `name` holds on an instance of exactly `cls`: what
        the nearest of its classes (itself, then its bases) that assigns it gives. A class
        property giving the names of another attribute (see SELF_TAG) gives `cls`'s."""
        level, seen = [cls], {cls}
        while level:
            found = [self.by_class[(c, name)] for c in level if (c, name) in self.by_class]
            if found:
                if any(f is None for f in found):
                    return None
                values = frozenset[Literal]().union(*(f for f in found if f is not None))
                return self._own_names(values, cls, depth)
            level = [b for c in level for b in self.hierarchy.up.get(c, ()) if b not in seen]
            seen.update(level)
        return self.attributes.get(name)

    def _own_names(
        self, values: frozenset[Literal], cls: str, depth: int
    ) -> frozenset[Literal] | None:
        """`values` with each (SELF_TAG, attribute) replaced by what `cls` gives that
        attribute; None when one of them is not known."""
        out: set[Literal] = set()
        for value in values:
            if is_template(value) and isinstance(value, tuple):
                # `f"LEFT JOIN {cls._relation._table} ..."`: spelled with cls's attributes.
                classes = frozenset(self.hierarchy.up)
                text = template_text(value[1:], cls, self.class_attribute_values, classes, depth)
                if text is None:
                    return None
                out.add(text)
            elif isinstance(value, tuple) and _is_own(value):
                if depth > 3:
                    return None
                own = self.class_attribute_values(str(value[1]), cls, depth + 1)
                if own is None:
                    return None
                out |= own
            else:
                out.add(value)
        return frozenset(out)

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

    def number_parameter(self, function: str, parameter: str) -> str | None:
        """Return "INTEGER" or "REAL" when every call of `function` passes that kind of number
        as `parameter`, else None."""
        return self.number_parameters.get((function, parameter))

    def classes_passed(self, function: str, parameter: str) -> frozenset[str]:
        """Return the project's classes the callers of `function` pass as `parameter`."""
        return self.argument_classes.get((function, parameter), frozenset())

    def holds_program_data(self, origin: Origin) -> bool:
        """Return whether a value of `origin` (languages/python/origins.py) holds only the program's
        own data: the parameters it depends on are filled so by every caller (never true of
        an entry point, which anyone may call), and so are the attributes it reads."""
        if origin is None:
            return False
        return all(
            dependency_holds_program_data(
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


def _is_own(value: Literal) -> bool:
    """A class property's (SELF_TAG, attribute): the names `attribute` holds on each class."""
    return isinstance(value, tuple) and len(value) == 2 and value[0] == SELF_TAG


def _sorted_values(mapping: Mapping[Any, frozenset[Literal] | None]) -> list[Any]:
    return sorted((repr(k), sorted(map(repr, v)) if v else None) for k, v in mapping.items())


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
    dead_methods = _dead_methods(signatures, files)
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
    parameters = _parameter_literals(signatures, reaching, attributes, dead)
    attributes = {
        name: _literals(given[name], attributes, {**parameters, **dead}) for name in given
    }
    numbers = _number_functions(files)
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
        *program_data(signatures, reaching, files, dead_methods, record_fields),
        hierarchy,
        test_classes,
        record_fields,
        _argument_classes(signatures, reaching, hierarchy.up.keys() - test_classes),
        number_parameters=number_parameters(signatures, reaching, dead_methods, files),
        sql_text_methods=sql_text_methods(t for f in files for t in f.method_texts),
        guarded_collections=frozenset(c for f in files for c in f.guarded_collections),
    )


def _argument_classes(
    signatures: Mapping[str, list[Signature]],
    reaching: Callable[[Signature], list[CallArguments]],
    classes: Iterable[str],
) -> dict[tuple[str, str], frozenset[str]]:
    """Return (function, parameter) -> the project's classes (test doubles left out) that
    calls pass as that parameter, by name or passed on from the caller's own parameter."""
    known_classes = frozenset(classes)
    wanted: dict[str, tuple[Signature, list[CallArguments]]] = {}
    for name, sigs in signatures.items():
        if len(sigs) != 1:
            continue
        calls = reaching(sigs[0])
        if any(
            _names_a_class(g) for c in calls for g in (*c.positional, *dict(c.keywords).values())
        ):
            wanted[name] = (sigs[0], calls)
    found: dict[tuple[str, str], frozenset[str]] = {}
    for _ in range(3):  # `_fetch(Album)` -> `_get_results(model_cls)`: chains of a few calls
        known, found = found, {}
        for name, (sig, calls) in wanted.items():
            for index, parameter in enumerate(sig.parameters):
                given: set[str] = set()
                for value in _passed(calls, sig, index, parameter):
                    if not isinstance(value, tuple) or len(value) != 2:
                        continue
                    if value[0] == CLASS_TAG and value[1] in known_classes:
                        given.add(value[1])
                    elif value[0] == PARAMETER_TAG:
                        owner, _, passed = value[1].partition(".")
                        given |= known.get((owner, passed), frozenset())
                if given:
                    found[(name, parameter)] = frozenset(given)
    return found


def _names_a_class(given: Given) -> bool:
    return isinstance(given, tuple) and len(given) == 2 and given[0] in (CLASS_TAG, PARAMETER_TAG)


def _dead_methods(
    signatures: Mapping[str, list[Signature]], files: list[FileConstants]
) -> frozenset[str]:
    """Return the methods no file names and no decorator registers: dead code. Their calls
    never run, so they pass nothing on (`def table(self, name): return Table(name)`) and their
    parameters are given nothing. A module's function may be an entry point another program
    calls: never dead."""
    referenced = frozenset().union(*(f.references for f in files))
    return frozenset(
        name
        for name, sigs in signatures.items()
        if name not in referenced
        and not name.startswith("__")
        and all(sig.method and not sig.decorated for sig in sigs)
    )


def _parameter_literals(
    signatures: Mapping[str, list[Signature]],
    reaching: Callable[[Signature], list[CallArguments]],
    attributes: Mapping[str, frozenset[Literal] | None],
    dead: Mapping[tuple[str, str], frozenset[Literal] | None],
) -> dict[tuple[str, str], frozenset[Literal] | None]:
    """Return the literals each function's callers pass each parameter (None: not known)."""
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
    return parameters


def _number_functions(files: list[FileConstants]) -> frozenset[str]:
    """Return the functions whose every definition in the project returns a number."""
    numeric: dict[str, bool] = {}
    for f in files:
        for name, number in f.returns:
            numeric[name] = numeric.get(name, True) and number
    return frozenset(name for name, number in numeric.items() if number)


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


def _passed(
    calls: list[CallArguments], sig: Signature, index: int, parameter: str
) -> Iterator[Given]:
    """Yield what each call passes as `parameter` (its default when it passes none)."""
    default = dict(sig.defaults).get(parameter)
    for call in calls:
        yield passed_as(call, index, parameter, call.positional, call.keywords, default)


def _literals(
    values: list[Given],
    attributes: Mapping[str, frozenset[Literal] | None],
    parameters: Mapping[tuple[str, str], frozenset[Literal] | None],
) -> frozenset[Literal] | None:
    out: set[Literal] = set()
    for value in values:
        if value is None:
            return None
        if (
            isinstance(value, tuple)
            and len(value) == 2
            and value[0] in (ATTRIBUTE_TAG, PARAMETER_TAG)
        ):
            if value[0] == ATTRIBUTE_TAG:
                found = attributes.get(value[1])
            else:
                owner, _, parameter = value[1].partition(".")
                found = parameters.get((owner, parameter))
            if found is None:
                return None
            out |= found
        elif isinstance(value, tuple) and len(value) == 2 and value[0] == CLASS_TAG:
            return None  # a class object: no literal (see argument_classes)
        else:
            out.add(value)
    return frozenset(out) or None  # only dead code gives it a value: not known
