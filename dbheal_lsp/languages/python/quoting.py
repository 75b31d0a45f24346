"""Text the code escapes for an SQL string literal: `x.replace("'", "''")` inside quotes cannot
end the literal, so it is data, whoever wrote it (languages/python/origins.py, languages/python/slots.py)."""

from __future__ import annotations

import ast
import string


def escapes_quotes(node: ast.expr) -> bool:
    """Return whether `node` is text whose single quotes are replaced by something that
    cannot end an SQL string literal: `x.replace("'", "''")` (SQL's own escape), or by a
    character other than a quote (`x.replace("'", "`")`)."""
    if not (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "replace"
        and len(node.args) == 2
        and not node.keywords
    ):
        return False
    old, new = node.args
    return (
        isinstance(old, ast.Constant)
        and old.value == "'"
        and isinstance(new, ast.Constant)
        and isinstance(new.value, str)
        and (new.value == "''" or "'" not in new.value)
    )


def formatted_parts(node: ast.AST) -> list[ast.AST]:
    """Return the template and the values of an f-string or `"...".format(...)` call."""
    if isinstance(node, ast.JoinedStr):
        return [v.value if isinstance(v, ast.FormattedValue) else v for v in node.values]
    assert isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
    return [node.func.value, *node.args, *(k.value for k in node.keywords)]


def escaped_in_quotes(node: ast.AST) -> set[int]:
    """Return the ids of the values an f-string or a literal's `.format(...)` puts inside a
    single-quoted SQL literal of its text, escaped (see escapes_quotes)."""
    placed: list[tuple[str, ast.expr | None]] = []  # (text before, value) in order
    if isinstance(node, ast.JoinedStr):
        text = ""
        for part in node.values:
            if isinstance(part, ast.Constant) and isinstance(part.value, str):
                text += part.value
            elif isinstance(part, ast.FormattedValue):
                placed.append((text, part.value))
    elif (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "format"
        and isinstance(node.func.value, ast.Constant)
        and isinstance(node.func.value.value, str)
    ):
        keywords = {k.arg: k.value for k in node.keywords if k.arg}
        text, automatic = "", 0
        try:
            fields = list(string.Formatter().parse(node.func.value.value))
        except ValueError:
            return set()
        for literal, name, _spec, _conversion in fields:
            text += literal
            if name is None:
                continue
            if name == "":
                index: int | str = automatic
                automatic += 1
            else:
                index = int(name) if name.isdigit() else name
            value = node.args[index] if isinstance(index, int) and index < len(node.args) else None
            placed.append((text, keywords.get(index) if isinstance(index, str) else value))
    return {
        id(value)
        for before, value in placed
        if value is not None and before.count("'") % 2 == 1 and escapes_quotes(value)
    }
