"""The parameterize fix of a JS/TS SQL_INJECTION: every interpolated value of the call's SQL
template (`binding.py`) or `+` chain (`concat_binding.py`) is bound as a parameter in the
driver's style.

A `${...}` that holds no value from outside stays as written: a literal, an UPPER_CASE
constant, a name declared with text written in the code (a table name), a configured identifier
helper's result. If any other `${...}` cannot be bound (it is not where SQL takes a value),
there is no fix at all: half a fix would still be an injection.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dbheal_lsp.languages.javascript.binding import Bound, bind
from dbheal_lsp.languages.javascript.concat_binding import bind_concatenation, operands
from dbheal_lsp.languages.javascript.edits import Candidate
from dbheal_lsp.languages.javascript.fix_target import Target
from dbheal_lsp.languages.javascript.values import Helpers, unwrapped, value_info

if TYPE_CHECKING:
    from tree_sitter import Node

__all__ = ["parameterize"]

_SHOWN = 30  # characters of each bound value a title quotes


def parameterize(target: Target, helpers: Helpers) -> Candidate | None:
    """The parameterize candidate of the call's statement, or None when it is not safe."""
    template = unwrapped(target.call.sql)
    source = target.source
    if template.type == "template_string":
        bound: list[Bound] = []
        for child in template.children:
            if child.type != "template_substitution" or child.named_child_count != 1:
                continue
            expression = child.named_children[0]
            if _from_outside(expression, target, helpers):
                bound.append(Bound(child, source.text_of(expression)))
        edits = bind(target, bound)
        values = [b.value for b in bound]
    else:
        chain = operands(template, target) or []
        pairs = [
            (o, source.text_of(o))
            for o in chain
            if unwrapped(o).type not in ("string", "template_string")
            and _from_outside(o, target, helpers)
        ]
        edits = bind_concatenation(target, pairs)
        values = [v for _, v in pairs]
    if edits is None:
        return None
    shown = ", ".join(_short(v) for v in values)
    what = "a bound parameter" if len(values) == 1 else "bound parameters"
    return Candidate("parameterize", f"Pass {shown} as {what}", tuple(edits))


def _from_outside(expression: Node, target: Target, helpers: Helpers) -> bool:
    """Whether the value of `expression` may come from outside the code (not a literal, a
    constant, or an identifier helper's quoted name)."""
    info = value_info(expression, target.source, helpers)
    return not (info.constant or info.safe_identifier)


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"
