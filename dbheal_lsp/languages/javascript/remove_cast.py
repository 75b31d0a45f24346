"""The remove_cast fix of a JS/TS TYPE_MISMATCH made by a cast (`parseInt`, `Number`,
`String`, `.toString()`...): the cast goes, the value stays.

Inside the SQL template the cast is what keeps SQL out of the value
(``${parseInt(userId)}``): dropping it alone would open an injection, so the value is bound
instead (`binding.py`). Among the values the call passes (`[parseInt(id)]`), and in a tag that
binds its values (``sql`... ${parseInt(id)}` ``, Prisma's `$queryRaw`), the cast is simply
replaced by its argument.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dbheal_lsp.languages.javascript.binding import Bound, bind
from dbheal_lsp.languages.javascript.concat_binding import bind_concatenation, operands
from dbheal_lsp.languages.javascript.edits import ByteEdit, Candidate
from dbheal_lsp.languages.javascript.fix_target import Target
from dbheal_lsp.languages.javascript.values import CASTS, callee_name, unwrapped
from dbheal_lsp.model import Issue

if TYPE_CHECKING:
    from tree_sitter import Node

__all__ = ["CAST_HELPERS", "remove_cast"]

#: The helpers whose call the fix removes.
CAST_HELPERS = frozenset(CASTS) | {"String", "toString"}
# Casts whose second argument does not change what is bound once the cast is gone.
_RADIX = frozenset({"parseInt", "Number.parseInt"})


def remove_cast(target: Target, issue: Issue) -> Candidate | None:
    """The remove_cast candidate of `issue`, or None."""
    helper = issue.helper or ""
    node = target.node(issue.span)
    if helper not in CAST_HELPERS or node is None:
        return None
    cast = unwrapped(node)
    argument = _argument(target, cast, helper)
    if argument is None or _has_comment(cast):
        return None
    source = target.source
    value = source.text_of(argument)
    where = f" ({issue.table}.{issue.column_name} is {issue.db_type})" if issue.table else ""
    substitution = node.parent
    template = unwrapped(target.call.sql)
    if substitution is not None and substitution.type == "template_substitution":
        if substitution.parent is None or substitution.parent.id != template.id:
            return None  # a template inside a value, not the SQL's own
        if target.call.tagged:  # ``sql`...${parseInt(x)}` ``: bound already
            edit = ByteEdit(cast.start_byte, cast.end_byte, value)
            return Candidate("remove_cast", f"Remove the {helper}() cast{where}", (edit,))
        edits = bind(target, [Bound(substitution, value)])
        if edits is None:
            return None
        title = f"Remove the {helper}() cast and pass {_short(value)} as a bound parameter{where}"
        return Candidate("remove_cast", title, tuple(edits))
    chain = operands(target.call.sql, target) or []
    if any(o.id == node.id for o in chain):  # `"... = " + parseInt(id)`: bound instead
        edits = bind_concatenation(target, [(node, value)])
        if edits is None:
            return None
        title = f"Remove the {helper}() cast and pass {_short(value)} as a bound parameter{where}"
        return Candidate("remove_cast", title, tuple(edits))
    if not _among_values(target, node):
        return None  # neither interpolated in the SQL nor a value the call binds
    edit = ByteEdit(cast.start_byte, cast.end_byte, value)
    return Candidate("remove_cast", f"Remove the {helper}() cast{where}", (edit,))


def _argument(target: Target, cast: Node, helper: str) -> Node | None:
    """The value the cast `cast` is applied to, when it is a plain call of `helper`."""
    if cast.type != "call_expression":
        return None
    function = cast.child_by_field_name("function")
    arguments = cast.child_by_field_name("arguments")
    if function is None or arguments is None or arguments.type != "arguments":
        return None
    name, _ = callee_name(function, target.source)
    given = [a for a in arguments.named_children if a.type != "comment"]
    if helper == "toString":  # `x.toString()`: the value is the object
        inner = unwrapped(function)
        if given or inner.type != "member_expression" or not name.endswith("toString"):
            return None
        return inner.child_by_field_name("object")
    if name != helper or not given or len(given) > (2 if helper in _RADIX else 1):
        return None
    if given[0].type == "spread_element":
        return None
    return given[0]


def _has_comment(node: Node) -> bool:
    stack = [node]
    while stack:
        here = stack.pop()
        if here.type == "comment":
            return True
        stack.extend(here.children)
    return False


def _among_values(target: Target, node: Node) -> bool:
    values = target.call.values or ()
    return any(v.start_byte <= node.start_byte and node.end_byte <= v.end_byte for v in values)


def _short(text: str, limit: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
