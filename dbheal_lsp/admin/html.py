"""HTML that is escaped by construction.

Every page of the admin is built with `el()`: a string child or attribute value is always
escaped, and only `Markup` — what `el()`, `escape()` and `json_script()` return — is inserted as
it is. There is no way to pass a file name, a message or SQL into a page as markup, so what comes
from the code can only ever show as text.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Mapping

__all__ = ["Child", "Markup", "el", "escape", "join", "json_for_script", "json_script"]


class Markup(str):
    """Text that is already HTML. Only this module makes it."""

    __slots__ = ()


Child = str | int | float | None | Iterable["Child"]

_NAME = re.compile(r"[a-zA-Z][a-zA-Z0-9:-]*\Z")
_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
)
# Elements whose content the HTML parser does not decode: a child there would not be text.
_RAW_TEXT = frozenset({"script", "style"})


def escape(value: object) -> Markup:
    """Return `value` as HTML text (`Markup` is returned unchanged)."""
    if isinstance(value, Markup):
        return value
    return Markup(html.escape(str(value), quote=True))


def join(children: Iterable[Child]) -> Markup:
    """Return the children as one piece of HTML, each string escaped."""
    out: list[str] = []
    _append(out, children)
    return Markup("".join(out))


def _append(out: list[str], child: Child) -> None:
    if child is None or child is False:
        return
    if isinstance(child, (str, int, float)):
        out.append(escape(child))
        return
    for item in child:
        _append(out, item)


def el(tag: str, attrs: Mapping[str, object] | None = None, *children: Child) -> Markup:
    """Return the element `<tag attrs>children</tag>`, attribute values and text escaped.

    An attribute whose value is None or False is left out, True writes the bare name. Tag and
    attribute names come from this package's code, never from data, and are checked anyway.
    """
    if not _NAME.match(tag):
        raise ValueError(f"not an element name: {tag!r}")
    parts = [f"<{tag}"]
    for name, value in (attrs or {}).items():
        if not _NAME.match(name) or name.lower().startswith("on"):
            raise ValueError(f"not an allowed attribute name: {name!r}")
        if value is None or value is False:
            continue
        if value is True:
            parts.append(f" {name}")
        else:
            parts.append(f' {name}="{escape(value)}"')
    parts.append(">")
    if tag in _VOID:
        if children:
            raise ValueError(f"<{tag}> cannot have children")
        return Markup("".join(parts))
    if tag in _RAW_TEXT and children:
        raise ValueError(f"<{tag}> content must be made by json_script()")
    _append(parts, children)
    parts.append(f"</{tag}>")
    return Markup("".join(parts))


def json_for_script(data: object) -> str:
    """Return `data` as JSON that is safe inside a `<script>` element: `<`, `>` and `&` (and the
    two JavaScript line separators) are written as \\u escapes, so no text can close the element
    or open a comment."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return (
        text.replace("&", "\\u0026")
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def json_script(element_id: str, data: object) -> Markup:
    """Return `<script type="application/json" id=...>` holding `data` for the page's script."""
    return Markup(
        f'<script type="application/json" id="{escape(element_id)}">{json_for_script(data)}'
        "</script>"
    )
