"""Class properties that spell SQL text from the class's own attributes, read per class.

A model class joins its related table in a property: `@classproperty def relation_join(cls):
return f"LEFT JOIN {cls._relation._table} ON {cls._table}.id = ..."`, where `_relation` is
another class property that returns a class (`return Item`). Read on `Album`, the text is
`LEFT JOIN items ON albums.id = items.album_id`; a query that adds `model_cls.relation_join`
to its FROM clause, read once per class passed (languages/python/variants.py), is checked with
that join, and its plan with the join's index.

`text_property` reads one method (a template of literal pieces and attribute paths on the
class, or the class a property returns); `template_text` spells a template for one class.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from typing import TypeAlias

from dbheal_lsp.languages.python.constants import Given
from dbheal_lsp.languages.python.constants import Literal as GivenLiteral
from dbheal_lsp.languages.python.receivers import leaf_name

# A property's text: (TEMPLATE_TAG, piece, ...): "=text" a literal piece, ".a.b" `cls.a.b`.
TEMPLATE_TAG = "\x00template"
# A property that returns a class: (CLASS_VALUE_TAG, "Item").
CLASS_VALUE_TAG = "\x00class value"
# A template spelled for one class: (SQL_TEXT_TAG, "LEFT JOIN items ON ..."): SQL text, not a
# name (languages/python/written.py puts it in the statement as it is).
SQL_TEXT_TAG = "\x00sql text"
_NAME = re.compile(r"[A-Za-z_]\w*")
_MAX_DEPTH = 3
# The literals attribute `name` holds on an instance of class `cls` (see
# ProjectConstants.class_attribute_values), at a depth of lookups.
Lookup: TypeAlias = "Callable[[str, str, int], frozenset[GivenLiteral] | None]"


def property_return(method: ast.FunctionDef | ast.AsyncFunctionDef) -> tuple[ast.expr, str] | None:
    """Return what a decorated property-like method (`@property`, `@cached_classproperty`)
    returns in its one statement, and the name of its receiver (`self`, `cls`); None for any
    other method."""
    if not method.decorator_list or not method.args.args:
        return None
    if not any("property" in (leaf_name(d) or "") for d in method.decorator_list):
        return None
    body = [s for s in method.body if not _is_docstring(s)]
    if len(body) != 1 or not isinstance(body[0], ast.Return) or body[0].value is None:
        return None
    return body[0].value, method.args.args[0].arg


def text_property(method: ast.FunctionDef | ast.AsyncFunctionDef) -> Given:
    """Return what a property-like method gives per class: a template of its returned text,
    or the class it returns; None for anything else."""
    returned = property_return(method)
    if returned is None:
        return None
    value, receiver = returned
    if isinstance(value, ast.Name):
        return None if value.id == receiver else (CLASS_VALUE_TAG, value.id)
    pieces = _pieces(value, receiver)
    if not pieces or not any(p.startswith(".") for p in pieces):
        return None
    return (TEMPLATE_TAG, *pieces)


def template_text(
    pieces: tuple[str, ...], cls: str, lookup: Lookup, classes: frozenset[str], depth: int
) -> GivenLiteral | None:
    """Return the template `pieces` spelled for class `cls` as (SQL_TEXT_TAG, text), or None
    when one attribute path does not lead to one name (`cls._relation._table`: the class
    `_relation` gives, then that class's `_table`)."""
    if depth > _MAX_DEPTH:
        return None
    text: list[str] = []
    for piece in pieces:
        if piece.startswith("="):
            text.append(piece[1:])
            continue
        owner, names = cls, piece[1:].split(".")
        for index, name in enumerate(names):
            values = lookup(name, owner, depth + 1)
            if not values or len(values) != 1:
                return None
            value = next(iter(values))
            if index == len(names) - 1:
                if not isinstance(value, str) or not _NAME.fullmatch(value):
                    return None
                text.append(value)
            elif (
                isinstance(value, tuple)
                and len(value) == 2
                and value[0] == CLASS_VALUE_TAG
                and value[1] in classes
            ):
                owner = value[1]
            else:
                return None
    return (SQL_TEXT_TAG, "".join(text))


def is_template(value: GivenLiteral) -> bool:
    """Return whether `value` is a property's template (see text_property)."""
    return isinstance(value, tuple) and bool(value) and value[0] == TEMPLATE_TAG


def sql_text(value: GivenLiteral) -> str | None:
    """Return the SQL text of a template spelled for one class, else None."""
    if isinstance(value, tuple) and len(value) == 2 and value[0] == SQL_TEXT_TAG:
        return value[1]
    return None


def _pieces(node: ast.expr, receiver: str) -> list[str] | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return ["=" + node.value]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _pieces(node.left, receiver), _pieces(node.right, receiver)
        return None if left is None or right is None else left + right
    if isinstance(node, ast.JoinedStr):
        out: list[str] = []
        for part in node.values:
            if isinstance(part, ast.Constant):
                out.append("=" + str(part.value))
                continue
            if not isinstance(part, ast.FormattedValue) or part.format_spec or part.conversion > 0:
                return None
            path = _path(part.value, receiver)
            if path is None:
                return None
            out.append(path)
        return out
    return None


def _path(node: ast.expr, receiver: str) -> str | None:
    """`cls.a.b` as ".a.b"; None for anything else."""
    names: list[str] = []
    while isinstance(node, ast.Attribute):
        names.append(node.attr)
        node = node.value
    if not names or not isinstance(node, ast.Name) or node.id != receiver:
        return None
    return "." + ".".join(reversed(names))


def _is_docstring(stmt: ast.stmt) -> bool:
    return (
        isinstance(stmt, ast.Expr)
        and isinstance(stmt.value, ast.Constant)
        and isinstance(stmt.value.value, str)
    )
