"""What the code says about one JavaScript value: a literal, a number (`parseInt`, `Number`,
unary `+`, arithmetic, `.length`), text (`String`, `.toString()`), a configured helper's result,
or a name declared with one of them. A TypeScript `x as number` is no cast at run time: the
value is what `x` is."""

from __future__ import annotations

from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import TYPE_CHECKING

from dbheal_lsp.analysis.statement import ValueInfo
from dbheal_lsp.languages.javascript.names import declared_parts
from dbheal_lsp.languages.javascript.parse import JsSource

if TYPE_CHECKING:
    from tree_sitter import Node

__all__ = ["CASTS", "Helpers", "callee_name", "unwrapped", "value_info"]

#: Calls that give a number, with the SQLite affinity of what they give.
CASTS = MappingProxyType(
    {
        "parseInt": "INTEGER",
        "Number.parseInt": "INTEGER",
        "parseFloat": "REAL",
        "Number.parseFloat": "REAL",
        "Number": "NUMERIC",
        "BigInt": "INTEGER",
        "Math.floor": "INTEGER",
        "Math.ceil": "INTEGER",
        "Math.round": "INTEGER",
        "Math.trunc": "INTEGER",
    }
)
#: Calls that give text.
_TEXT_CALLS = frozenset({"String", "toString"})
# Operators whose result is a number or a boolean, whatever their operands are.
_NUMBER_OPERATORS = frozenset(
    {"-", "*", "/", "%", "**", "&", "|", "^", "<<", ">>", ">>>", "<", ">", "<=", ">="}
    | {"==", "===", "!=", "!==", "instanceof", "in"}
)
# Wrappers that change nothing at run time (TypeScript's types, parentheses).
_TRANSPARENT = frozenset(
    {
        "parenthesized_expression",
        "as_expression",
        "satisfies_expression",
        "non_null_expression",
        "type_assertion",
    }
)
_MAX_DEPTH = 10


@dataclass(frozen=True)
class Helpers:
    """The project's helpers (settings): those that quote a name, those that give a number."""

    identifier: frozenset[str] = frozenset()
    safe: frozenset[str] = frozenset()


def unwrapped(node: Node) -> Node:
    """Return `node` without parentheses and TypeScript's type wrappers around it."""
    while node.type in _TRANSPARENT and node.named_child_count:
        node = node.named_children[0]
    return node


def callee_name(function: Node, source: JsSource) -> tuple[str, Node]:
    """Return the dotted name a call calls (`Math.floor`, `parseInt`, `toString` of
    `x.toString`) and the node of its last name."""
    function = unwrapped(function)
    if function.type == "member_expression":
        prop = function.child_by_field_name("property")
        obj = function.child_by_field_name("object")
        if prop is not None:
            leaf = source.text_of(prop)
            if obj is not None and obj.type == "identifier":
                return f"{source.text_of(obj)}.{leaf}", prop
            return leaf, prop
    return source.text_of(function), function


def value_info(node: Node, source: JsSource, helpers: Helpers, depth: int = 0) -> ValueInfo:
    """Return what the code evidently says about the value of expression `node`."""
    span = source.offsets.span(node.start_byte, node.end_byte)
    shown = source.text_of(node)
    base = ValueInfo(shown, span)
    inner = unwrapped(node)
    kind = inner.type
    if depth > _MAX_DEPTH:
        return base
    if kind == "number":
        spelled = source.text_of(inner).lower()
        integer = spelled.startswith("0x") or not any(c in spelled for c in ".e")
        return replace(base, code_type="INTEGER" if integer else "REAL", constant=True)
    if kind == "string" or (kind == "template_string" and not _substitutions(inner)):
        return replace(base, code_type="TEXT", constant=True)
    if kind in ("true", "false", "null", "undefined"):
        return replace(base, constant=True)
    if kind == "unary_expression":
        return _unary(inner, base, source, helpers, depth)
    if kind == "binary_expression":
        return _binary(inner, base, source, helpers, depth)
    if kind == "ternary_expression":
        branches = [inner.child_by_field_name(f) for f in ("consequence", "alternative")]
        infos = [value_info(b, source, helpers, depth + 1) for b in branches if b is not None]
        return replace(
            base,
            constant=all(i.constant for i in infos),
            numeric_cast=all(i.numeric_cast or i.constant for i in infos)
            and any(i.numeric_cast for i in infos),
        )
    if kind == "member_expression":
        prop = inner.child_by_field_name("property")
        if prop is not None and source.text_of(prop) == "length":
            return replace(base, code_type="INTEGER", numeric_cast=True)
        return base
    if kind == "call_expression":
        return _call(inner, base, source, helpers)
    if kind == "identifier":
        return _name(inner, base, source, helpers, depth)
    return base


def _substitutions(template: Node) -> bool:
    return any(c.type == "template_substitution" for c in template.children)


def _unary(
    node: Node, base: ValueInfo, source: JsSource, helpers: Helpers, depth: int
) -> ValueInfo:
    operator = node.child_by_field_name("operator")
    argument = node.child_by_field_name("argument")
    spelled = source.text_of(operator) if operator is not None else ""
    if argument is not None and unwrapped(argument).type == "number":
        return replace(
            value_info(argument, source, helpers, depth + 1), source=base.source, span=base.span
        )
    if spelled in ("+", "-", "~"):
        return replace(base, code_type="NUMERIC", numeric_cast=True)
    if spelled == "!":
        return replace(base, numeric_cast=True)  # true or false
    if spelled in ("typeof", "void"):
        return replace(base, constant=True)  # one of a few fixed words, or undefined
    return base


def _binary(
    node: Node, base: ValueInfo, source: JsSource, helpers: Helpers, depth: int
) -> ValueInfo:
    operator = node.child_by_field_name("operator")
    spelled = source.text_of(operator) if operator is not None else ""
    if spelled in _NUMBER_OPERATORS:
        return replace(base, code_type="NUMERIC", numeric_cast=True)
    if spelled == "+":
        sides = [node.child_by_field_name(f) for f in ("left", "right")]
        infos = [value_info(s, source, helpers, depth + 1) for s in sides if s is not None]
        if all(i.numeric_cast or (i.constant and i.code_type != "TEXT") for i in infos):
            return replace(base, code_type="NUMERIC", numeric_cast=True)
        if all(i.constant for i in infos):
            return replace(base, code_type="TEXT", constant=True)
    return base


def _call(node: Node, base: ValueInfo, source: JsSource, helpers: Helpers) -> ValueInfo:
    function = node.child_by_field_name("function")
    if function is None:
        return base
    name, leaf = callee_name(function, source)
    short = name.rpartition(".")[2]
    if name in helpers.identifier or short in helpers.identifier:
        return replace(base, safe_identifier=True)
    if name in helpers.safe or short in helpers.safe:
        return replace(base, numeric_cast=True)
    if name in CASTS:
        helper_span = source.offsets.span(unwrapped(function).start_byte, leaf.end_byte)
        return replace(
            base, code_type=CASTS[name], helper=name, helper_span=helper_span, numeric_cast=True
        )
    if short in _TEXT_CALLS:
        return replace(
            base,
            code_type="TEXT",
            helper=short,
            helper_span=source.offsets.span(leaf.start_byte, leaf.end_byte),
        )
    return base


def _name(node: Node, base: ValueInfo, source: JsSource, helpers: Helpers, depth: int) -> ValueInfo:
    spelled = source.text_of(node)
    if len(spelled) > 1 and spelled.isupper():
        return replace(base, constant=True)  # MAX_ROWS, TABLE: a constant by convention
    if depth >= _MAX_DEPTH:
        return base
    parts = declared_parts(node, source)
    if parts is None or len(parts) != 1:
        return base
    known = value_info(parts[0], source, helpers, depth + 1)
    return replace(
        base,
        code_type=known.code_type,
        constant=known.constant,
        numeric_cast=known.numeric_cast,
        safe_identifier=known.safe_identifier,
    )
