"""Names the project only ever gives literal text: class attributes and function parameters.

Real applications build SQL from names fixed in their own code but reached through an attribute
(`'... FROM %s' % self.TABLE_EPISODE`, a model's `_table`) or a parameter (`_save_object(o,
table, columns)` whose every caller passes constants). Read alone, such a name could hold
anything; read across the project, it holds only the literals written for it. Each file gives
its `FileConstants` (what it assigns and what it passes); `ProjectConstants` merges them and
answers "which literals can this attribute or parameter hold?" (None: something else too).

This module holds what the pass produces and reads: the literal values, signatures, call
arguments and `FileConstants`; file_constants.py reads a file, project_constants.py merges.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from dbheal_lsp.languages.python.origins import Origin

# A literal value: text, a number, or a tuple of strings (a list of column names).
Literal = str | int | float | tuple[str, ...]
# What one call gives its callee's parameters: (parameter, literal) pairs, sorted.
Environment = tuple[tuple[str, Literal], ...]
# What an argument or assignment gives: a literal, ("attr", name) to be read in the merged
# attributes, or None when it is not written in the code.
Given = Literal | tuple[str, str] | None

ATTRIBUTE_TAG = "\x00attr"  # the tag of a reference to an attribute in a `Given`
PARAMETER_TAG = "\x00param"  # ... and of a parameter of a class's constructor: (tag, "Class.param")
# The first item of a tuple that stands for a dict display's keys: iterating or joining that
# argument gives them, but the argument itself is a dict whose values may be anything.
KEYS = "\x00keys"
# A class property's value that is the names another attribute of the same class holds:
# (SELF_TAG, attribute), read per class (see ProjectConstants.class_attribute_values).
SELF_TAG = "\x00self"
# A class named as a call's argument (`self._fetch(Album, q)`): (CLASS_TAG, "Album"). Not a
# literal (see project_constants._literals); the classes a parameter is given are read apart.
CLASS_TAG = "\x00class"
_T = TypeVar("_T")
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
    # Where each argument's value can come from (languages/python/origins.py), in the same order.
    origins: tuple[Origin, ...] = ()
    keyword_origins: tuple[tuple[str, Origin], ...] = ()
    # Where what iterating an argument gives comes from, where that is less than the whole
    # (a dict display's keys): keyed by position ("0") or keyword.
    item_origins: tuple[tuple[str, Origin], ...] = ()
    # What the receiver of a method call is, when the file shows it (languages/python/receivers.py).
    receiver: str = ""
    caller: str = ""  # the method the call is made in (none: a function or the module)
    # The arguments that are certainly numbers (languages/python/number_values.py): by
    # position ("0") or keyword, with their SQLite type (INTEGER or REAL).
    numbers: tuple[tuple[str, str], ...] = ()


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
    # comes from (languages/python/origins.py).
    attribute_origins: tuple[tuple[str, Origin], ...] = ()
    # What each function returns, by name: a receiver code per returned value
    # (languages/python/receivers.py).
    made: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # Record classes (named tuples, dataclasses) and their fields, in order.
    records: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # Per function: is what it returns text the code writes, does it show SQL, which methods'
    # text is it made of (languages/python/sql_methods.py).
    method_texts: tuple[tuple[str, bool, bool, tuple[str, ...]], ...] = ()
    # Collections whose membership test decides which objects write SQL text
    # (languages/python/guarded_names.py).
    guarded_collections: tuple[str, ...] = ()


def dict_keys(value: Literal) -> tuple[str, ...] | None:
    """Return the keys of a dict display given as an argument (see keys_of_display), else
    None."""
    if isinstance(value, tuple) and value and value[0] == KEYS:
        return value[1:]
    return None


def passed_as(
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


def read_literal(node: ast.expr) -> Literal | None:
    """Return the literal `node` spells (text, a number, a tuple of strings), else None."""
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


def read_given(node: ast.expr | None, module: Mapping[str, Literal]) -> Given:
    """Return what `node` gives: a literal, a module constant's, a reference to an attribute."""
    if node is None:
        return None
    literal = read_literal(node)
    if literal is not None:
        return literal
    if isinstance(node, ast.Name) and node.id in module:
        return module[node.id]
    if isinstance(node, ast.Attribute):
        return (ATTRIBUTE_TAG, node.attr)  # `self.TABLE`, `schema.COLUMNS`, `Podcast.TABLE`
    return None
