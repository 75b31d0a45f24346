"""Which parameters and attributes hold only the program's own data, project-wide: every
call (every assignment) gives them values that nothing outside the program reaches."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Set

from dbheal_lsp.languages.python.constants import CallArguments, FileConstants, Signature, passed_as
from dbheal_lsp.languages.python.origins import ITEMS, PROGRAM, Origin


def program_data(
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
            if all(
                dependency_holds_program_data(d, parameters, attributes, assigned, fields)
                for d in needs[key] or ()
            )
        }
        kept_attributes = {
            key
            for key in attributes
            if all(
                dependency_holds_program_data(d, parameters, attributes, assigned, fields)
                for d in attribute_needs[key] or ()
            )
        }
        if kept_parameters == parameters and kept_attributes == attributes:
            return frozenset(parameters), frozenset(attributes), assigned
        parameters, attributes = kept_parameters, kept_attributes


def dependency_holds_program_data(
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
            dependency_holds_program_data(d, parameters, attributes, assigned, fields)
            for d in fallback.split(",")
            if d
        )
    function, _, parameter = dep.rpartition(".")
    return (function, parameter) in parameters


def _dependency_key(sig: Signature) -> str:
    """Return how origins name `sig`'s function (languages/python/origins.py: _function_key)."""
    return f"{sig.owner}.{sig.name}" if sig.owner and sig.name != "__init__" else sig.name


def _passed_origins(
    calls: list[CallArguments], index: int, parameter: str, items: bool
) -> Iterator[Origin]:
    """Yield where what each call passes as `parameter` (with `items`: what iterating it
    gives) comes from (a default: the code)."""
    for call in calls:
        whole = passed_as(call, index, parameter, call.origins, call.keyword_origins, PROGRAM)
        if items:
            given = dict(call.item_origins)
            key = str(index) if index < len(call.positional) else parameter
            yield given.get(key, whole)
        else:
            yield whole
