"""Which JavaScript calls send SQL, on any receiver, and where their SQL and values are.

- node `sqlite3`: `db.all/get/run/each/exec/prepare(sql, values...)`;
- better-sqlite3 and `node:sqlite`: `db.prepare(sql).get/all/run/iterate(values...)`, `exec`;
- pg: `query(sql, values)` and `query({text, values})`; mysql2: `query`/`execute`, also with
  `{sql, values}`; `knex.raw(sql, bindings)`; `sequelize.query(sql, {replacements})`;
- Prisma: `$queryRawUnsafe`/`$executeRawUnsafe(sql, ...values)` (text built by the code) and the
  tagged templates `$queryRaw`/`$executeRaw`, which bind their `${}` values, as the ``sql`...` ``
  tags of Drizzle, sql-template-tag and slonik do;
- plus the call names the project configures (`extra-calls`).

Three forms tree-sitter-typescript 0.23 misreads are read as what they are: `await
db.query<User>(...)` (its callee comes out as `await db.query`), ``sql<Row>`...` `` (two
comparisons) and ``prisma.$queryRaw<T[]>`...` `` (a made-up `!` around the callee).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from dbheal_lsp.languages.javascript.names import declared_parts
from dbheal_lsp.languages.javascript.parse import JsSource
from dbheal_lsp.languages.javascript.values import unwrapped

if TYPE_CHECKING:
    from tree_sitter import Node

__all__ = [
    "BOUND_TAGS",
    "DEFAULT_CALLS",
    "PREPARED_METHODS",
    "SqlCall",
    "sql_call",
    "tag_call",
    "with_values",
]

#: Methods whose first argument (or its `text`/`sql` key) is SQL.
DEFAULT_CALLS = frozenset(
    {
        "all",
        "get",
        "run",
        "each",
        "exec",
        "prepare",
        "query",
        "execute",
        "raw",
        "$queryRawUnsafe",
        "$executeRawUnsafe",
    }
)
#: Template tags that bind each `${}` value as a parameter.
BOUND_TAGS = frozenset({"sql", "SQL", "$queryRaw", "$executeRaw"})
#: Methods of a prepared statement that run it with the values they are given.
PREPARED_METHODS = frozenset({"get", "all", "run", "iterate", "each"})
# The keys of a query object that hold its SQL and its values.
_SQL_KEYS = ("text", "sql")
_VALUE_KEYS = ("values", "replacements", "bind")
# Calls whose every argument after the SQL is one value (Prisma's; the others may take a list).
_VARIADIC = frozenset({"$queryRawUnsafe", "$executeRawUnsafe"})
_CALLBACKS = frozenset({"arrow_function", "function_expression", "function"})


@dataclass(frozen=True, eq=False)
class SqlCall:
    """A call that sends SQL: its name, where its parts are, and the values it binds."""

    name: str
    call: Node  # the whole call (the tag and its template, for a tagged template)
    name_node: Node
    sql: Node
    tagged: bool = False  # a tag that binds its `${}` values
    # The values bound by position, when the code writes them out (an array literal, or the
    # arguments after the SQL); None when they are not known (a name, a named object).
    values: tuple[Node, ...] | None = None
    values_node: Node | None = None  # the literal or first argument that gives them
    passes_values: bool = True  # False: the call gives no value at all


def _callee(function: Node) -> Node:
    """The called expression without `await` (misread #1), `!` and type arguments (misread
    #3), parentheses and type wrappers."""
    while True:
        function = unwrapped(function)
        if function.type in ("await_expression", "instantiation_expression"):
            if not function.named_child_count:
                return function
            function = function.named_children[0]
            continue
        return function


def _name_of(callee: Node) -> Node | None:
    if callee.type == "member_expression":
        return callee.child_by_field_name("property")
    if callee.type == "identifier":
        return callee
    return None


def sql_call(node: Node, source: JsSource, calls: frozenset[str]) -> SqlCall | None:
    """Return the SQL call that the call expression `node` is, or None."""
    function, arguments = (
        node.child_by_field_name("function"),
        node.child_by_field_name("arguments"),
    )
    if function is None or arguments is None:
        return None
    name_node = _name_of(_callee(function))
    if name_node is None:
        return None
    name = source.text_of(name_node)
    if name == "exec" and _regex_receiver(_callee(function), source):
        return None  # `pattern.exec(text)`: a regular expression's, whatever the text
    if arguments.type == "template_string":
        if name in BOUND_TAGS:
            return SqlCall(name, node, name_node, arguments, tagged=True)
        return None
    given = [a for a in arguments.named_children if a.type != "comment"]
    if name not in calls or not given:
        return None
    sql, rest = given[0], given[1:]
    if unwrapped(sql).type == "object":
        sql_value = _pair(unwrapped(sql), _SQL_KEYS, source)
        if sql_value is None:
            return None
        values = _pair(unwrapped(sql), _VALUE_KEYS, source)
        rest = [values] if values is not None else []
        sql = sql_value
    elif name == "prepare":
        runs = _prepared_run(node, source)
        if runs is None:  # prepared here, run elsewhere: the values are not known
            return SqlCall(name, node, name_node, sql, values=None)
        rest = [a for a in runs.named_children if a.type != "comment"]
    return with_values(SqlCall(name, node, name_node, sql), rest, source)


def with_values(call: SqlCall, rest: list[Node], source: JsSource) -> SqlCall:
    """`call` with the values of the arguments after its SQL (a last callback left out)."""
    if rest and unwrapped(rest[-1]).type in _CALLBACKS:
        rest = rest[:-1]
    if not rest:
        return SqlCall(
            call.name, call.call, call.name_node, call.sql, values=(), passes_values=False
        )
    first = unwrapped(rest[0])
    if first.type == "object" and len(rest) == 1:
        options = _pair(first, _VALUE_KEYS, source)  # sequelize's {replacements}, knex's...
        if options is None:
            return call  # named values: not read here
        first, rest = unwrapped(options), [options]
    # `(sql, [values], callback)`: a callback passed by its name follows the values' array.
    if first.type == "array" and (len(rest) == 1 or (len(rest) == 2 and _is_name(rest[1]))):
        elements = tuple(e for e in first.named_children if e.type != "comment")
        if any(e.type == "spread_element" for e in elements):
            return call
        return SqlCall(
            call.name, call.call, call.name_node, call.sql, values=elements, values_node=first
        )
    if any(unwrapped(a).type in ("spread_element", "object", "array") for a in rest):
        return call  # spread, or a mix of values and lists: not known here
    if len(rest) == 1 and _is_name(rest[0]) and call.name not in _VARIADIC:
        return call  # `query(sql, values)`: the list in a name
    if call.name not in _VARIADIC | {"prepare"} and _is_name(rest[-1]):
        return call  # `db.get(sql, id, done)`: the last name may be a callback

    return SqlCall(
        call.name, call.call, call.name_node, call.sql, values=tuple(rest), values_node=rest[0]
    )


def _regex_receiver(callee: Node, source: JsSource) -> bool:
    """Whether the method is called on a regular expression (written there, or a name that
    holds one)."""
    receiver = callee.child_by_field_name("object") if callee.type == "member_expression" else None
    if receiver is None:
        return False
    receiver = unwrapped(receiver)
    if receiver.type == "identifier":
        parts = declared_parts(receiver, source)
        receiver = unwrapped(parts[0]) if parts else receiver
    if receiver.type == "new_expression":
        made = receiver.child_by_field_name("constructor")
        return made is not None and source.text_of(made) == "RegExp"
    return receiver.type == "regex"


def _is_name(node: Node) -> bool:
    return unwrapped(node).type in ("identifier", "member_expression")


def _prepared_run(prepare: Node, source: JsSource) -> Node | None:
    """The arguments of `db.prepare(sql).get(...)` (or all, run, iterate), if it is run there."""
    member = prepare.parent
    if member is None or member.type != "member_expression":
        return None
    prop = member.child_by_field_name("property")
    run = member.parent
    if prop is None or run is None or run.type != "call_expression":
        return None
    if source.text_of(prop) not in PREPARED_METHODS:
        return None
    return run.child_by_field_name("arguments")


def _pair(obj: Node, keys: tuple[str, ...], source: JsSource) -> Node | None:
    """The value of the first of `keys` in the object literal `obj` (`{text}` shorthand too)."""
    for pair in obj.named_children:
        if pair.type == "pair":
            key = pair.child_by_field_name("key")
            if key is not None and source.text_of(key).strip("'\"") in keys:
                return pair.child_by_field_name("value")
        elif pair.type == "shorthand_property_identifier" and source.text_of(pair) in keys:
            return pair  # `{ text, values }`: the name of that name
    return None


def tag_call(node: Node, source: JsSource) -> SqlCall | None:
    """``sql<Row>`...` ``, which tree-sitter-typescript reads as `(sql < Row) > `...``
    (misread #2): the tag and its template, when `node` is that outer comparison."""
    left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
    operator = node.child_by_field_name("operator")
    if left is None or right is None or operator is None or source.text_of(operator) != ">":
        return None
    if right.type != "template_string" or left.type != "binary_expression":
        return None
    inner_operator = left.child_by_field_name("operator")
    tag = left.child_by_field_name("left")
    if tag is None or inner_operator is None or source.text_of(inner_operator) != "<":
        return None
    name_node = _name_of(_callee(tag))
    if name_node is None or source.text_of(name_node) not in BOUND_TAGS:
        return None
    return SqlCall(source.text_of(name_node), node, name_node, right, tagged=True)
