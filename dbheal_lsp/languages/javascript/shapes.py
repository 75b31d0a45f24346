"""The settings that say where a JS/TS call's SQL is and which database it goes to.

- `[tool.dbheal.calls]`: a helper of its own shape, `{ sql = N }` (argument N is SQL, argument
  `params`, default N + 1, its values) or `{ statements = N }` (argument N is an array literal,
  or a `const` bound to one, of SQL texts or `[sql, values]` pairs), as for Python; the table
  shape (`{ table = N, columns = [...] }`) is read in Python files only.
- `[tool.dbheal.databases]` receivers: a call on `cacheDb`, `this.cacheDb` (also named
  `Store.cacheDb` inside `class Store`) or `db.cache` goes to the database mapped to it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from dbheal_lsp.languages.javascript.calls import SqlCall, sql_call, with_values
from dbheal_lsp.languages.javascript.names import declared_parts
from dbheal_lsp.languages.javascript.parse import JsSource
from dbheal_lsp.languages.javascript.values import unwrapped

if TYPE_CHECKING:
    from tree_sitter import Node

    from dbheal_lsp.config import CallShape

__all__ = ["call_database", "calls_of"]

_DOTTED = re.compile(r"[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*")


def calls_of(
    node: Node, source: JsSource, calls: frozenset[str], shapes: Mapping[str, CallShape]
) -> list[SqlCall]:
    """Return the SQL calls the call expression `node` makes: one for a recognised name, each
    statement of a helper of a configured shape (which wins over a recognised name)."""
    function = node.child_by_field_name("function")
    arguments = node.child_by_field_name("arguments")
    name_node = _name_node(function) if shapes and function is not None else None
    shape = shapes.get(source.text_of(name_node)) if name_node is not None else None
    if shape is None or name_node is None or arguments is None or arguments.type != "arguments":
        call = sql_call(node, source, calls)
        return [call] if call is not None else []
    given = [a for a in arguments.named_children if a.type != "comment"]
    name = source.text_of(name_node)
    if shape.statements is not None:
        return _listed(node, name, name_node, _at(given, shape.statements), source)
    if shape.sql is None:
        return []  # the table shape: Python files only
    sql = _at(given, shape.sql)
    if sql is None:
        return []
    params = _at(given, shape.params if shape.params is not None else shape.sql + 1)
    call = SqlCall(name, node, name_node, sql)
    return [with_values(call, [params] if params is not None else [], source)]


def _name_node(function: Node) -> Node | None:
    function = unwrapped(function)
    if function.type == "member_expression":
        return function.child_by_field_name("property")
    return function if function.type == "identifier" else None


def _at(given: Sequence[Node], index: int) -> Node | None:
    """Positional argument `index`, unless a spread comes first."""
    for i, argument in enumerate(given):
        if argument.type == "spread_element":
            return None
        if i == index:
            return argument
    return None


def _listed(
    node: Node, name: str, name_node: Node, items: Node | None, source: JsSource
) -> list[SqlCall]:
    """The statements of an array literal (or of the one a name is declared with): each item
    SQL, or a `[sql, values]` pair."""
    if items is not None and unwrapped(items).type == "identifier":
        parts = declared_parts(unwrapped(items), source)
        items = parts[0] if parts is not None and len(parts) == 1 else None
    if items is None or unwrapped(items).type != "array":
        return []
    found: list[SqlCall] = []
    for item in unwrapped(items).named_children:
        if item.type in ("comment", "spread_element"):
            continue
        rest: list[Node] = []
        if unwrapped(item).type == "array":
            pair = [e for e in unwrapped(item).named_children if e.type != "comment"]
            if not pair:
                continue
            item, rest = pair[0], pair[1:2]
        found.append(with_values(SqlCall(name, node, name_node, item), rest, source))
    return found


def call_database(
    call: SqlCall, source: JsSource, receivers: Sequence[tuple[str, str]]
) -> str | None:
    """The database `[tool.dbheal.databases]` maps the receiver of `call` to, if any."""
    if not receivers or call.tagged:
        return None
    function = call.call.child_by_field_name("function")
    if function is None:
        return None
    function = unwrapped(function)
    while function.type in ("await_expression", "instantiation_expression", "non_null_expression"):
        if not function.named_child_count:
            return None
        function = unwrapped(function.named_children[0])
    receiver = (
        function.child_by_field_name("object") if function.type == "member_expression" else None
    )
    if receiver is None:
        return None
    text = "".join(source.text_of(unwrapped(receiver)).split())
    if not _DOTTED.fullmatch(text):
        return None
    names = [text]
    parts = text.split(".")
    if len(parts) == 2 and parts[0] == "this":
        owner = _class_name(call.call, source)
        if owner:
            names.append(f"{owner}.{parts[1]}")
    return next((database for name, database in receivers if name in names), None)


def _class_name(node: Node, source: JsSource) -> str:
    """The name of the class whose body holds `node` ("" outside one)."""
    parent = node.parent
    while parent is not None:
        if parent.type in ("class_declaration", "class", "abstract_class_declaration"):
            named = parent.child_by_field_name("name")
            return source.text_of(named) if named is not None else ""
        parent = parent.parent
    return ""
