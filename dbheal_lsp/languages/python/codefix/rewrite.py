"""Writing the new call: the SQL argument with its edits, the parameters, their commas.

Everything not edited keeps its layout: quotes, prefixes, escapes, parentheses, comments and the
commas between arguments.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, TypeVar

from dbheal_lsp.languages.python.codefix.sql_argument import (
    FieldPart,
    Item,
    Leaf,
    SqlArgument,
    Unit,
    split_literal,
)

if TYPE_CHECKING:
    import libcst as cst

    from dbheal_lsp.languages.python.codefix.placeholders import (
        Existing,
        Family,
        Params,
        Placeholder,
    )

_OPEN_OCTAL = re.compile(r"(?<!\\)(?:\\\\)*\\[0-7]{1,2}\Z")  # a body ending in \1 or \12


def edit_items(
    model: SqlArgument,
    placeholders: list[Placeholder],
    existing: Existing,
    family: Family,
    params: Params,
) -> bool:
    """Mark on units, fields and operands what the new SQL text keeps, drops and inserts."""
    for p in placeholders:
        if p.name is not None and p.value is None:
            continue  # an existing named placeholder: unchanged
        if p.existing is not None and p.text == "".join(
            i.char or "" for i in model.items[p.start : p.end]
        ):
            continue  # an existing positional placeholder that keeps its text
        for item in model.items[p.start : p.end]:
            _drop(item)
        if not _insert(model, p.start, p.text):
            return False
    replaced = {i for p in placeholders for i in range(p.start, p.end)}
    # psycopg reads % in the query once parameters are passed: a literal % must be %%.
    double = family == "psycopg" and params.node is None and not existing.percent_escapes
    for index, item in enumerate(model.items):
        if index in replaced or item.char is None:
            continue
        if item.escape:
            if family == "psycopg" and item.char == "%":
                continue  # "%%" of % formatting is what psycopg wants too
            item.units[0].out = item.char  # "%%" or "{{" of a formatting that is gone
            for unit in item.units[1:]:
                unit.out = ""
        elif double and item.char == "%":
            item.units[0].out = "%%"
    return True


def _drop(item: Item) -> None:
    for unit in item.units:
        unit.out = ""
    if item.fstring is not None:
        item.fstring.removed = True
    if item.operand is not None:
        item.operand.removed = True


def _insert(model: SqlArgument, index: int, text: str) -> bool:
    """Write `text` where item `index` starts; False when there is no string to write it in."""
    item = model.items[index]
    if item.units:
        item.units[0].before += text
    elif item.fstring is not None:
        item.fstring.before += text
    elif item.operand is not None:
        # A + operand: the text goes at the end of the string operand before it.
        position = model.operands.index(item.operand)
        previous = model.operands[position - 1] if position > 0 else None
        if previous is None or not previous.leaves:
            return False
        previous.leaves[-1].tail += text
    else:
        return False
    return True


def rebuild_sql(model: SqlArgument) -> cst.BaseExpression | None:
    """The SQL argument written with its edits; None when nothing of a + chain is left."""
    import libcst as cst

    if model.kind == "concat":
        return _rebuild_concat(model)
    template = _rebuild_string(model.operands[0].node, model.operands[0].leaves or [])
    if template is None:
        return None
    if model.kind == "string":
        return template
    # `template % x` / `template.format(...)`: the template alone, keeping outer parentheses.
    node = model.node
    if isinstance(node, (cst.BinaryOperation, cst.Call)) and node.lpar:
        return template.with_changes(
            lpar=[*node.lpar, *template.lpar], rpar=[*template.rpar, *node.rpar]
        )
    return template


def _rebuild_concat(model: SqlArgument) -> cst.BaseExpression | None:
    import libcst as cst

    kept: list[tuple[cst.BaseBinaryOp | None, cst.BaseExpression]] = []
    merge_next = False
    for i, operand in enumerate(model.operands):
        if operand.leaves is None:
            if operand.removed:
                merge_next = True
                continue
            node: cst.BaseExpression | None = operand.node
        else:
            node = _rebuild_string(operand.node, operand.leaves, drop_empty=True)
        if node is None:
            continue
        operator = model.operators[i - 1] if i > 0 and kept else None
        merged = _merge_strings(kept[-1][1], node) if kept and merge_next else None
        if merged is not None:
            kept[-1] = (kept[-1][0], merged)
        else:
            kept.append((operator, node))
        merge_next = False
    if not kept:
        return None
    result = kept[0][1]
    for operator, node in kept[1:]:
        assert operator is not None
        result = cst.BinaryOperation(left=result, operator=operator, right=node)
    root = model.node
    assert isinstance(root, cst.BinaryOperation)
    if root.lpar:
        result = result.with_changes(
            lpar=[*root.lpar, *result.lpar], rpar=[*result.rpar, *root.rpar]
        )
    return result


def _merge_strings(
    left: cst.BaseExpression, right: cst.BaseExpression
) -> cst.BaseExpression | None:
    """Join the strings that met where a + operand went: "a = ?" and " AND b" -> "a = ? AND b".

    Only plain literals of one prefix and quote merge; in an implicit concatenation it is the
    literals that touch (the last of `left`, the first of `right`) that do.
    """
    import libcst as cst

    if isinstance(left, cst.ConcatenatedString) and not left.lpar:
        last = _merge_strings(left.right, right)
        return None if last is None else left.with_changes(right=last)
    if isinstance(right, cst.ConcatenatedString) and not right.lpar:
        first = _merge_strings(left, right.left)
        if not isinstance(first, (cst.SimpleString, cst.FormattedString)):
            return None
        return right.with_changes(left=first)
    if not isinstance(left, cst.SimpleString) or not isinstance(right, cst.SimpleString):
        return None
    if left.lpar or right.lpar:
        return None
    a, b = split_literal(left.value), split_literal(right.value)
    if a is None or b is None or a[0].lower() != b[0].lower() or a[1] != b[1]:
        return None
    if "r" not in a[0].lower() and _OPEN_OCTAL.search(a[2]) and b[2][:1].isdigit():
        return None  # "\1" then "2" are two characters; "\12" would be one
    return cst.SimpleString(f"{a[0]}{a[1]}{a[2]}{b[2]}{a[1]}")


def _rebuild_string(
    node: cst.BaseExpression, leaves: list[Leaf], *, drop_empty: bool = False
) -> cst.BaseExpression | None:
    """The string expression `node` with its leaves rewritten; None when all is gone."""
    import libcst as cst

    new = {id(leaf.node): _rebuild_leaf(leaf) for leaf in leaves}

    def walk(current: cst.BaseExpression) -> cst.BaseExpression | None:
        if isinstance(current, cst.ConcatenatedString):
            left, right = walk(current.left), walk(current.right)
            if left is None or right is None:
                kept = left or right
                if kept is None:
                    return None
                return kept.with_changes(
                    lpar=[*current.lpar, *kept.lpar], rpar=[*kept.rpar, *current.rpar]
                )
            assert isinstance(left, (cst.SimpleString, cst.FormattedString, cst.ConcatenatedString))
            assert isinstance(
                right, (cst.SimpleString, cst.FormattedString, cst.ConcatenatedString)
            )
            return current.with_changes(left=left, right=right)
        return new[id(current)]

    result = walk(node)
    if result is None and not drop_empty:
        first = leaves[0]
        return cst.SimpleString(f"{_plain_prefix(first.prefix)}{first.quote}{first.quote}")
    return result


def _plain_prefix(prefix: str) -> str:
    return "".join(c for c in prefix if c.lower() != "f")


def _rebuild_leaf(leaf: Leaf) -> cst.SimpleString | cst.FormattedString | None:
    """The leaf with its edits; an f-string left without fields becomes a plain string."""
    import libcst as cst

    fields_left = any(isinstance(p, FieldPart) and not p.removed for p in leaf.parts)
    is_fstring = isinstance(leaf.node, cst.FormattedString)
    if not is_fstring or not fields_left:
        text: list[str] = []
        for part in leaf.parts:
            if isinstance(part, FieldPart):
                text.append(part.before)
                continue
            raw = part.raw if part.out is None else part.out
            if is_fstring and part.out is None and part.raw in ("{{", "}}"):
                raw = part.raw[0]  # no longer an f-string: a brace is just a brace
            text.append(part.before + raw)
        text.append(leaf.tail)
        body = "".join(text)
        if not body:
            return None
        prefix = _plain_prefix(leaf.prefix)
        return cst.SimpleString(
            f"{prefix}{leaf.quote}{body}{leaf.quote}", lpar=leaf.node.lpar, rpar=leaf.node.rpar
        )
    assert isinstance(leaf.node, cst.FormattedString)
    parts: list[cst.BaseFormattedStringContent] = []
    buffer: list[str] = []
    for part in leaf.parts:
        if isinstance(part, Unit):
            buffer.append(part.before + (part.raw if part.out is None else part.out))
            continue
        buffer.append(part.before)
        if part.removed:
            continue
        if "".join(buffer):
            parts.append(cst.FormattedStringText("".join(buffer)))
        buffer = []
        parts.append(part.node)
    buffer.append(leaf.tail)
    if "".join(buffer):
        parts.append(cst.FormattedStringText("".join(buffer)))
    return leaf.node.with_changes(parts=parts)


_T = TypeVar("_T", "cst.Element", "cst.DictElement", "cst.Arg")


def with_commas(
    old: list[_T],
    new: list[_T],
    *,
    tuple_: bool = False,
    opening: cst.BaseParenthesizableWhitespace | None = None,
) -> list[_T]:
    """`new` (old items reused, new ones added) with commas as the old layout had them.

    Items in the middle keep their comma, or take the one between the old first and second
    items, else one that starts a new line indented as the first item when the items are one
    per line (`opening`, the space after the opening bracket, breaks the line), else ", ".
    The last item keeps a trailing comma only where the old layout had one by choice (several
    items, or one per line); a tuple of one needs its comma.
    """
    import libcst as cst

    one_per_line = isinstance(opening, cst.ParenthesizedWhitespace)
    middle: cst.Comma = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    if len(old) > 1 and isinstance(old[0].comma, cst.Comma):
        middle = _uncommented(old[0].comma)
    elif isinstance(opening, cst.ParenthesizedWhitespace):
        middle = cst.Comma(
            whitespace_after=cst.ParenthesizedWhitespace(
                first_line=cst.TrailingWhitespace(),
                empty_lines=[],
                indent=opening.indent,
                last_line=opening.last_line,
            )
        )
    trailing: cst.Comma | cst.MaybeSentinel = cst.MaybeSentinel.DEFAULT
    last_comma = old[-1].comma if old else cst.MaybeSentinel.DEFAULT
    if isinstance(last_comma, cst.Comma) and (
        len(old) > 1
        or one_per_line
        or isinstance(last_comma.whitespace_after, cst.ParenthesizedWhitespace)
    ):
        trailing = last_comma
    out: list[_T] = []
    for i, item in enumerate(new):
        if i < len(new) - 1:
            comma = item.comma
            if not isinstance(comma, cst.Comma) or comma is last_comma:
                comma = middle
            out.append(item.with_changes(comma=comma))
        else:
            comma_last: cst.Comma | cst.MaybeSentinel = trailing
            if tuple_ and len(new) == 1 and not isinstance(trailing, cst.Comma):
                comma_last = cst.Comma()
            out.append(item.with_changes(comma=comma_last))
    return out


def _uncommented(comma: cst.Comma) -> cst.Comma:
    """`comma` without the comment and blank lines after it: a new item takes the layout
    of the first item's comma, not the remark written about that item."""
    import libcst as cst

    after = comma.whitespace_after
    if isinstance(after, cst.ParenthesizedWhitespace):
        return comma.with_changes(
            whitespace_after=after.with_changes(first_line=cst.TrailingWhitespace(), empty_lines=[])
        )
    return comma


def _bracket_space(node: cst.BaseExpression) -> cst.BaseParenthesizableWhitespace | None:
    """The whitespace after the opening bracket of a tuple, list or dict."""
    import libcst as cst

    if isinstance(node, cst.Tuple) and node.lpar:
        return node.lpar[0].whitespace_after
    if isinstance(node, cst.List):
        return node.lbracket.whitespace_after
    if isinstance(node, cst.Dict):
        return node.lbrace.whitespace_after
    return None


def dict_params(
    node: cst.BaseExpression | None, entries: list[tuple[str, cst.BaseExpression]]
) -> cst.Dict | None:
    """The dict `node` the call passes (or a new one) with `entries` added, its layout kept.

    None when the dict holds anything but plain entries (a ** unpacking).
    """
    import libcst as cst

    base = node if isinstance(node, cst.Dict) else cst.Dict([])
    elements = [
        cst.DictElement(cst.SimpleString(_python_str(name)), value) for name, value in entries
    ]
    old_elements = list(base.elements)
    if any(not isinstance(e, cst.DictElement) for e in old_elements):
        return None
    merged = [e for e in old_elements if isinstance(e, cst.DictElement)] + elements
    return base.with_changes(
        elements=with_commas(merged[: len(old_elements)], merged, opening=_bracket_space(base))
    )


def sequence_params(
    node: cst.BaseExpression | None, order: list[cst.BaseExpression]
) -> cst.Tuple | cst.List:
    """The values in `order`: the tuple or list `node` the call passes, its elements reused and
    its layout kept, else a new tuple."""
    import libcst as cst

    if isinstance(node, (cst.Tuple, cst.List)):
        olds = [e for e in node.elements if isinstance(e, cst.Element)]
        by_value = {id(e.value): e for e in olds}
        kept = [by_value.get(id(v), cst.Element(v)) for v in order]
        is_tuple = isinstance(node, cst.Tuple)
        return node.with_changes(
            elements=with_commas(olds, kept, tuple_=is_tuple, opening=_bracket_space(node))
        )
    return cst.Tuple(with_commas([], [cst.Element(v) for v in order], tuple_=True))


def rebuild_call(
    call: cst.Call,
    new_sql: cst.BaseExpression,
    new_params: cst.BaseExpression | list[cst.BaseExpression],
    params: Params,
) -> cst.Call | None:
    """The call with the new SQL and parameters, the rest of its layout unchanged."""
    import libcst as cst

    args = list(call.args)
    sql_arg = args[0].with_changes(value=new_sql)
    if isinstance(new_params, list):  # asyncpg: the values are the call's extra arguments
        values = [a for a in args[1:] if a.keyword is None]
        keywords = [a for a in args[1:] if a.keyword is not None]
        if args[1 : 1 + len(values)] != values:
            return None  # a value after a keyword: not code we can read
        if not values:
            new_args = _after_sql(args[0], sql_arg, [cst.Arg(v) for v in new_params])
            return call.with_changes(args=[*new_args, *keywords])
        by_value = {id(a.value): a for a in values}
        ordered = with_commas(
            values,
            [by_value.get(id(v), cst.Arg(v)) for v in new_params],
            opening=call.whitespace_before_args,
        )
        # What followed the last value (the comma before the keywords, a comment before ")")
        # follows the new last value.
        last = values[-1]
        nothing = cst.SimpleWhitespace("")
        ordered = [
            a.with_changes(comma=last.comma, whitespace_after_arg=last.whitespace_after_arg)
            if i == len(ordered) - 1
            else a.with_changes(whitespace_after_arg=nothing)
            if a.value is last.value
            else a
            for i, a in enumerate(ordered)
        ]
        return call.with_changes(args=[sql_arg, *ordered, *keywords])
    assert isinstance(new_params, cst.BaseExpression)
    if params.index is not None:
        args[params.index] = args[params.index].with_changes(value=new_params)
        args[0] = sql_arg
        return call.with_changes(args=args)
    return call.with_changes(args=[*_after_sql(args[0], sql_arg, [cst.Arg(new_params)]), *args[1:]])


def _after_sql(old_sql: cst.Arg, new_sql: cst.Arg, new_args: list[cst.Arg]) -> list[cst.Arg]:
    """The SQL argument followed by new arguments, which take over what followed the SQL.

    The SQL's comma (a trailing one, with a comment after it) and the space before ")"
    (where a comment sits when there is no comma) go to the last new argument.
    """
    import libcst as cst

    space = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    out = [new_sql.with_changes(comma=space, whitespace_after_arg=cst.SimpleWhitespace(""))]
    out.extend(a.with_changes(comma=space) for a in new_args[:-1])
    out.append(
        new_args[-1].with_changes(
            comma=old_sql.comma, whitespace_after_arg=old_sql.whitespace_after_arg
        )
    )
    return out


def _python_str(text: str) -> str:
    """`text` as a double-quoted Python literal (names: no escapes needed)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
