"""The parameterize fix of a JS/TS SQL_INJECTION: every interpolated value of the call's SQL
template is bound as a parameter in the driver's style (`binding.py`).

A `${...}` that holds no value from outside stays as written: a literal, an UPPER_CASE
constant, a name declared with text written in the code (a table name), a configured identifier
helper's result. If any other `${...}` cannot be bound (it is not where SQL takes a value),
there is no fix at all: half a fix would still be an injection.
"""

from __future__ import annotations

from dbheal_lsp.languages.javascript.binding import Bound, bind
from dbheal_lsp.languages.javascript.edits import Candidate
from dbheal_lsp.languages.javascript.fix_target import Target
from dbheal_lsp.languages.javascript.values import Helpers, unwrapped, value_info

__all__ = ["parameterize"]

_SHOWN = 30  # characters of each bound value a title quotes


def parameterize(target: Target, helpers: Helpers) -> Candidate | None:
    """The parameterize candidate of the call's statement, or None when it is not safe."""
    template = unwrapped(target.call.sql)
    if template.type != "template_string":
        return None
    source = target.source
    bound: list[Bound] = []
    for child in template.children:
        if child.type != "template_substitution" or child.named_child_count != 1:
            continue
        expression = child.named_children[0]
        info = value_info(expression, source, helpers)
        if info.constant or info.safe_identifier:
            continue
        bound.append(Bound(child, source.text_of(expression)))
    edits = bind(target, bound)
    if edits is None:
        return None
    shown = ", ".join(_short(b.value) for b in bound)
    what = "a bound parameter" if len(bound) == 1 else "bound parameters"
    return Candidate("parameterize", f"Pass {shown} as {what}", tuple(edits))


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"
