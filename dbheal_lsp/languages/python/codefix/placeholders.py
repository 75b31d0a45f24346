"""Placeholders and parameters: those the call already has, the driver's style, binding.

`Family` names the driver (how parameters are passed), `ParamStyle` the DB-API placeholder style.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Literal

from dbheal_lsp.languages.python.codefix.rewrite import dict_params, sequence_params
from dbheal_lsp.languages.python.codefix.sql_argument import Item, SqlArgument, string_value

if TYPE_CHECKING:
    import libcst as cst

    from dbheal_lsp.analysis.statement import Rendered

Family = Literal["sqlite3", "psycopg", "asyncpg"]
ParamStyle = Literal["qmark", "named", "format", "pyformat", "numeric"]
# `style` accepts driver names and DB-API paramstyle names (which also fix named vs positional).
_STYLE_NAMES: Mapping[str, tuple[Family, ParamStyle | None]] = MappingProxyType(
    {
        "sqlite3": ("sqlite3", None),
        "sqlite": ("sqlite3", None),
        "qmark": ("sqlite3", "qmark"),
        "named": ("sqlite3", "named"),
        "psycopg": ("psycopg", None),
        "psycopg2": ("psycopg", None),
        "psycopg3": ("psycopg", None),
        "format": ("psycopg", "format"),
        "pyformat": ("psycopg", "pyformat"),
        "asyncpg": ("asyncpg", "numeric"),
        "numeric": ("asyncpg", "numeric"),
    }
)
_FAMILY_OF: Mapping[ParamStyle, Family] = MappingProxyType(
    {
        "qmark": "sqlite3",
        "named": "sqlite3",
        "format": "psycopg",
        "pyformat": "psycopg",
        "numeric": "asyncpg",
    }
)
_ASYNCPG_CALLS = frozenset({"fetch", "fetchrow", "fetchval"})
_PARAMS_KEYWORDS = ("parameters", "params", "vars", "args")


@dataclass(frozen=True)
class Preference:
    """The placeholder style `code_fixes` was asked for (None: not said)."""

    family: Family | None
    paramstyle: ParamStyle | None


def style_preference(style: str | None) -> Preference:
    """Read a driver or paramstyle name; ValueError for one not known."""
    if style is None:
        return Preference(None, None)
    key = style.strip().lower()
    if key not in _STYLE_NAMES:
        names = ", ".join(sorted(_STYLE_NAMES))
        raise ValueError(f"unknown placeholder style {style!r} (expected one of: {names})")
    family, paramstyle = _STYLE_NAMES[key]
    return Preference(family, paramstyle)


@dataclass(eq=False)
class Placeholder:
    """A placeholder of the final SQL: new (a slot bound) or existing (already in the text).

    Mutable on purpose: `bind` gives a new one its name and writes its text.
    """

    start: int  # item range [start, end) it replaces or occupies
    end: int
    value: cst.BaseExpression | None = None  # new: what is bound
    hint: str | None = None  # new: a name for named styles
    key: str | None = None  # new: a name the code already gave (%(key)s, {key})
    existing: int | None = None  # existing positional: its 0-based index among the parameters
    name: str | None = None  # existing named
    text: str = ""  # the placeholder as written in the final SQL


@dataclass(frozen=True)
class Existing:
    """The placeholders the SQL text already has, and their style."""

    placeholders: list[Placeholder]
    kinds: set[ParamStyle]
    percent_escapes: bool  # "%%" outside strings: the text is already written for psycopg


# Placeholders a statement may already use, outside strings and comments.
_EXISTING = re.compile(
    r"\?(?P<qmark>\d*)"
    r"|(?<![:\w]):(?P<named>[A-Za-z_]\w*)"
    r"|[@$](?P<other>[A-Za-z_]\w*)"
    r"|\$(?P<numeric>\d+)"
    r"|%\((?P<pyformat>\w+)\)s"
    r"|(?P<format>%s)"
    r"|(?P<escape>%%)"
)


def existing_placeholders(
    items: list[Item], rendered: Rendered, offsets: Sequence[int]
) -> Existing | None:
    """The placeholders the SQL text already has; None for a style we do not write or a mix.

    `offsets` gives each item's offset in the rendered text, then the text's end.
    """
    from dbheal_lsp.analysis.sqlmask import masked
    from dbheal_lsp.analysis.statement import is_stand_in

    by_offset = {offsets[i]: i for i in range(len(items))}
    by_offset[offsets[-1]] = len(items)
    found: list[Placeholder] = []
    kinds: set[ParamStyle] = set()
    escapes = False
    positional = 0
    for m in _EXISTING.finditer(masked(rendered.text)):
        if m.group("escape"):
            escapes = True
            continue
        if m.group("named") and is_stand_in(m.group("named")):
            continue
        if m.group("other") or (m.group("qmark") or "") != "":
            return None  # @name, $name, ?NNN: styles we do not write
        start, end = by_offset.get(m.start()), by_offset.get(m.end())
        if start is None or end is None:
            return None
        placeholder = Placeholder(start, end, text=m.group())
        if m.group("named") or m.group("pyformat"):
            kinds.add("named" if m.group("named") else "pyformat")
            placeholder.name = m.group("named") or m.group("pyformat")
        elif m.group("numeric"):
            kinds.add("numeric")
            placeholder.existing = int(m.group("numeric")) - 1
        else:
            kinds.add("qmark" if m.group() == "?" else "format")
            placeholder.existing = positional
            positional += 1
        found.append(placeholder)
    if len(kinds) > 1:
        return None  # a mix of styles: nothing sensible to add to it
    return Existing(found, kinds, escapes)


@dataclass(frozen=True)
class Params:
    """The parameters the call passes now, and where."""

    node: cst.BaseExpression | None  # the tuple, list or dict (sqlite3, psycopg)
    index: int | None  # its index in call.args
    positional: list[cst.BaseExpression]  # their values in order (asyncpg: the extra args)
    names: list[str]  # a dict's keys
    named: bool  # passed as a dict
    args_style: bool  # asyncpg: conn.fetch(sql, a, b)


def existing_params(
    call: cst.Call, name: str, existing: Existing, preference: Preference
) -> Params | None:
    """The parameters `call` (named `name`) passes now; None when we cannot see or extend them."""
    import libcst as cst

    args = list(call.args)
    args_style = "numeric" in existing.kinds or (
        not existing.kinds
        and (
            preference.family == "asyncpg" or (preference.family is None and name in _ASYNCPG_CALLS)
        )
    )
    if args_style:
        extra = [a for a in args[1:] if a.keyword is None]
        if any(a.star for a in extra):
            return None
        return Params(None, None, [a.value for a in extra], [], False, True)
    index: int | None = None
    for i, arg in enumerate(args[1:], start=1):
        if arg.star:
            return None
        if arg.keyword is None:
            if i != 1:
                return None  # execute(sql, a, b): not a DB-API call we know
            index = i
        elif arg.keyword.value in _PARAMS_KEYWORDS:
            index = i
    if index is None:
        return Params(None, None, [], [], False, False)
    node = args[index].value
    if isinstance(node, (cst.Tuple, cst.List)):
        if any(not isinstance(e, cst.Element) for e in node.elements):
            return None
        return Params(node, index, [e.value for e in node.elements], [], False, False)
    if isinstance(node, cst.Dict):
        names: list[str] = []
        for element in node.elements:
            key = string_value(element.key) if isinstance(element, cst.DictElement) else None
            if key is None:
                return None
            names.append(key)
        return Params(node, index, [], names, True, False)
    return None  # a name or a call: we cannot see, nor add to, what it holds


def choose_style(
    model: SqlArgument,
    existing: Existing,
    params: Params,
    preference: Preference,
    placeholders: list[Placeholder],
) -> tuple[Family | None, ParamStyle | None]:
    """The driver family and paramstyle to write, from what the code already says first."""
    if existing.kinds:
        paramstyle = next(iter(existing.kinds))
        family: Family = _FAMILY_OF[paramstyle]
        if model.kind == "percent" and family == "psycopg":
            return None, None  # its %s would be read by % formatting too
        named = paramstyle in ("named", "pyformat")
        if named != params.named or (params.node is None and not params.args_style):
            return None, None  # placeholders the parameters do not match: already broken
        return family, paramstyle
    if params.args_style:
        family = "asyncpg"
    elif preference.family is not None:
        family = preference.family
    else:
        family = "sqlite3"
    new = [p for p in placeholders if p.existing is None and p.name is None]
    if family == "asyncpg":
        if params.named:
            return None, None
        return family, "numeric"
    if preference.paramstyle is not None and preference.family == family:
        wanted = preference.paramstyle
        if (wanted in ("named", "pyformat")) != params.named and params.node is not None:
            return None, None
        return family, wanted
    keyed = bool(new) and all(p.key is not None for p in new)
    named = params.named or (params.node is None and keyed)
    if family == "sqlite3":
        return family, "named" if named else "qmark"
    return family, "pyformat" if named else "format"


def bind(
    placeholders: list[Placeholder],
    paramstyle: ParamStyle,
    params: Params,
    model: SqlArgument,
) -> cst.BaseExpression | list[cst.BaseExpression] | None:
    """Write each placeholder's text; return the parameters to pass (node, or asyncpg's list)."""
    if paramstyle in ("named", "pyformat"):
        entries = _name_placeholders(placeholders, paramstyle, params)
        if entries is None:
            return None
        reuse = _reusable_dict(model, entries)
        if reuse is not None and params.node is None:
            return reuse
        return dict_params(params.node, entries)
    order = _order_placeholders(placeholders, paramstyle, params)
    if order is None:
        return None
    if paramstyle == "numeric":
        return order
    reuse_tuple = _reusable_tuple(model, order)
    if reuse_tuple is not None and params.node is None:
        return reuse_tuple
    return sequence_params(params.node, order)


def _name_placeholders(
    placeholders: list[Placeholder], paramstyle: ParamStyle, params: Params
) -> list[tuple[str, cst.BaseExpression]] | None:
    """Name each new placeholder and write its text; return the (name, value) entries to add.

    None when an existing placeholder names a key the call does not pass.
    """
    taken = set(params.names)
    entries: list[tuple[str, cst.BaseExpression]] = []
    bound: dict[str, cst.BaseExpression] = {}
    for p in placeholders:
        if p.name is not None:  # an existing one: its key must be passed
            if p.name not in taken:
                return None
            continue
        assert p.value is not None
        if p.key is not None and p.key in bound and bound[p.key] is p.value:
            p.name = p.key  # the same %(key)s / {key} twice: one entry
        else:
            p.name = _unique(p.key or p.hint or "param", taken)
            taken.add(p.name)
            bound[p.key or p.name] = p.value
            entries.append((p.name, p.value))
        p.text = f":{p.name}" if paramstyle == "named" else f"%({p.name})s"
    return entries


def _order_placeholders(
    placeholders: list[Placeholder], paramstyle: ParamStyle, params: Params
) -> list[cst.BaseExpression] | None:
    """Write each positional placeholder's text; return the values in the order they bind.

    asyncpg's existing $n are renumbered in order of appearance. None when the call's
    parameters and its placeholders do not match, or a value would be evaluated twice.
    """
    order: list[cst.BaseExpression] = []
    numbers: dict[int, int] = {}  # asyncpg: old $n index -> new number
    for p in placeholders:
        if p.existing is not None:
            if p.existing >= len(params.positional):
                return None
            if paramstyle == "numeric":
                if p.existing not in numbers:
                    order.append(params.positional[p.existing])
                    numbers[p.existing] = len(order)
                p.text = f"${numbers[p.existing]}"
            else:
                order.append(params.positional[p.existing])
            continue
        assert p.value is not None
        if any(v is p.value for v in order) and not _repeatable(p.value):
            return None  # {0} twice with a call: binding it twice would call it twice
        order.append(p.value)
        p.text = {"qmark": "?", "format": "%s", "numeric": f"${len(order)}"}[paramstyle]
    used = (
        len(numbers)
        if paramstyle == "numeric"
        else sum(1 for p in placeholders if p.existing is not None)
    )
    if used != len(params.positional):
        return None  # parameters no placeholder uses: the call is already wrong
    return order


def _reusable_tuple(model: SqlArgument, order: list[cst.BaseExpression]) -> cst.Tuple | None:
    """The `% (a, b)` tuple itself, when it already binds exactly `order`."""
    import libcst as cst

    if model.kind != "percent" or not isinstance(model.node, cst.BinaryOperation):
        return None
    right = model.node.right
    if (
        isinstance(right, cst.Tuple)
        and [e.value for e in right.elements if isinstance(e, cst.Element)] == order
        and len(right.elements) == len(order)
    ):
        return right
    return None


def _reusable_dict(
    model: SqlArgument, entries: list[tuple[str, cst.BaseExpression]]
) -> cst.Dict | None:
    """The `% {...}` dict itself, when every entry we bind comes from it under its own key."""
    import libcst as cst

    if model.kind != "percent" or not isinstance(model.node, cst.BinaryOperation):
        return None
    right = model.node.right
    if not isinstance(right, cst.Dict):
        return None
    own = {string_value(e.key): e.value for e in right.elements if isinstance(e, cst.DictElement)}
    if all(own.get(name) is value for name, value in entries):
        return right
    return None


def _repeatable(value: cst.BaseExpression) -> bool:
    """Whether evaluating `value` twice is the same as once: a name, attribute or literal."""
    import libcst as cst

    while isinstance(value, cst.Attribute):
        value = value.value
    return isinstance(value, (cst.Name, cst.SimpleString, cst.Integer, cst.Float))


def _unique(name: str, taken: set[str]) -> str:
    if name not in taken:
        return name
    n = 2
    while f"{name}_{n}" in taken:
        n += 1
    return f"{name}_{n}"
