"""The parameterize fix: deciding which slots of the statement become placeholders.

Every value slot of the statement is bound in one edit. A slot quoted in SQL loses its quotes; a
quoted SQL string with more than the value in it becomes one placeholder bound to an f-string of
that text. Anything that is not plainly a value (a name, a piece of SQL, a list) rules the fix
out.
"""

from __future__ import annotations

import ast
import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dbheal_lsp.analysis.value_context import value_context
from dbheal_lsp.languages.python.codefix.call import (
    IDENTIFIER,
    Candidate,
    Context,
    node_code,
    parse_call,
    shorten,
)
from dbheal_lsp.languages.python.codefix.placeholders import (
    Placeholder,
    Preference,
    bind,
    choose_style,
    existing_params,
    existing_placeholders,
)
from dbheal_lsp.languages.python.codefix.rewrite import edit_items, rebuild_call, rebuild_sql
from dbheal_lsp.languages.python.codefix.sql_argument import Item, SqlArgument, read_sql

if TYPE_CHECKING:
    import libcst as cst

    from dbheal_lsp.analysis.statement import Rendered, Statement


@dataclass(frozen=True)
class Plan:
    """The call with its statement parameterized, and what it binds."""

    new_call: cst.Call
    values: list[str]  # what is bound, for the title


def parameterize(ctx: Context, preference: Preference) -> Candidate | None:
    """The parameterize candidate for an SQL_INJECTION issue, or None when it is not safe."""
    call = parse_call(ctx)
    if call is None:
        return None
    plan = plan_parameterize(ctx, call, preference, {})
    if plan is None:
        return None
    new_call = apply_plan(call, plan)
    span = ctx.issue.statement_span
    assert span is not None
    shown = ", ".join(shorten(v, 30) for v in plan.values)
    title = (
        f"Pass {shown} as a bound parameter"
        if len(plan.values) == 1
        else f"Pass {shown} as bound parameters"
    )
    return Candidate(
        "parameterize",
        f"parameterize:{span.line}:{span.column}-{span.end_line}:{span.end_column}",
        title,
        node_code(new_call, ctx.newline),
    )


def apply_plan(root: cst.Call, plan: Plan) -> cst.BaseExpression:
    """Run the parameterize transformer: the root call becomes the one the plan built."""
    import libcst as cst

    class Parameterize(cst.CSTTransformer):
        """Swap the sending call for its parameterized form (built by `plan_parameterize`)."""

        def visit_Call(self, node: cst.Call) -> bool:
            return False  # the plan already rebuilt everything below the root

        def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
            return plan.new_call if original_node is root else updated_node

    result = root.visit(Parameterize())
    assert isinstance(result, cst.BaseExpression)
    return result


def plan_parameterize(
    ctx: Context,
    call: cst.Call,
    preference: Preference,
    override: dict[int, cst.BaseExpression],
) -> Plan | None:
    """Return the call with its statement parameterized, or None when that is not safe.

    `override` binds a slot (by its order among the statement's slots) to another value: the
    cast's argument when a cast is removed together with the interpolation.
    """
    reading = _read_call(ctx, call)
    if reading is None:
        return None
    existing = existing_placeholders(reading.sql.items, reading.rendered, reading.offsets)
    if existing is None:
        return None
    params = existing_params(call, ctx.statement.call, existing, preference)
    if params is None:
        return None
    decided = _slot_placeholders(reading, override)
    if decided is None or not decided[1]:
        return None
    new, values = decided
    placeholders = sorted([*existing.placeholders, *new], key=lambda p: p.start)
    if not _placeholders_fit(reading, placeholders):
        return None
    family, paramstyle = choose_style(reading.sql, existing, params, preference, placeholders)
    if family is None or paramstyle is None:
        return None
    new_params = bind(placeholders, paramstyle, params, reading.sql)
    if new_params is None:
        return None
    if not edit_items(reading.sql, placeholders, existing, family, params):
        return None
    new_sql = rebuild_sql(reading.sql)
    if new_sql is None:
        return None
    new_call = rebuild_call(call, new_sql, new_params, params)
    return None if new_call is None else Plan(new_call, values)


@dataclass(frozen=True)
class _Reading:
    """The call's SQL argument, read and found to agree with the analysis of the call."""

    sql: SqlArgument
    rendered: Rendered
    slot_items: tuple[int, ...]  # the index in sql.items of each slot, in order
    offsets: tuple[int, ...]  # each item's offset in the rendered text, then the end


def _read_call(ctx: Context, call: cst.Call) -> _Reading | None:
    """Read the SQL argument of `call`; None for a call or an argument not handled."""
    from dbheal_lsp.analysis.statement import render

    statement = ctx.statement
    if statement.call in ("executemany", "executescript") or not call.args:
        return None
    sql_arg = call.args[0]
    if sql_arg.keyword is not None or sql_arg.star:
        return None
    sql = read_sql(sql_arg.value)
    if sql is None or not _aligned(sql.items, statement):
        return None
    rendered = render(statement)
    slot_items = tuple(i for i, item in enumerate(sql.items) if item.char is None)
    if len(slot_items) != len(rendered.slots):
        return None
    if any(sr.role in ("identifier", "fragment") for sr in rendered.slots):
        return None  # a name, or a piece of SQL: no placeholder can stand there
    offsets = _item_offsets(sql.items, rendered)
    if offsets is None:
        return None
    return _Reading(sql, rendered, slot_items, tuple(offsets))


def _slot_placeholders(
    reading: _Reading, override: dict[int, cst.BaseExpression]
) -> tuple[list[Placeholder], list[str]] | None:
    """The new placeholders and the source of what each binds; None when a slot rules it out.

    A constant (a literal, a module constant) stays interpolated unless `override` binds it.
    """
    items = reading.sql.items
    literals = _string_literals(items)
    placeholders: list[Placeholder] = []
    done_literals: set[tuple[int, int]] = set()
    values: list[str] = []
    slots = zip(reading.slot_items, reading.rendered.slots, strict=True)
    for order, (index, slot_range) in enumerate(slots):
        info = slot_range.slot.value
        if info.safe_identifier:
            return None  # passed through an identifier helper: meant as a name
        if slot_range.role == "in_string":
            literal = literals.get(index)
            if literal is None or order in override:
                return None
            if info.constant or literal in done_literals:
                continue  # a constant alone stays; a string already replaced as a whole
            done_literals.add(literal)
            decided = _quoted_placeholder(reading.sql, literal, items[index], info.source)
        elif info.constant and order not in override:
            continue
        else:
            decided = _unquoted_placeholder(reading, index, order, override)
        if decided is None:
            return None
        placeholders.append(decided[0])
        values.append(decided[1])
    return placeholders, values


def _quoted_placeholder(
    sql: SqlArgument, literal: tuple[int, int], item: Item, source: str
) -> tuple[Placeholder, str] | None:
    """The placeholder for the quoted SQL string `literal` around the slot `item`."""
    placeholder = _literal_placeholder(sql, literal)
    if placeholder is None:
        return None
    bare = placeholder.value is item.value
    shown = source if bare or placeholder.value is None else node_code(placeholder.value)
    return placeholder, shown


def _unquoted_placeholder(
    reading: _Reading, index: int, order: int, override: dict[int, cst.BaseExpression]
) -> tuple[Placeholder, str] | None:
    """The placeholder for the slot at item `index`, outside quotes in the SQL."""
    item = reading.sql.items[index]
    slot_range = reading.rendered.slots[order]
    # A value outside quotes: it must plainly stand where SQL expects a value.
    if not item.bare or not value_context(reading.rendered.text, slot_range.start, slot_range.end):
        return None
    value = override.get(order, item.value)
    if value is None:
        return None
    if order not in override:
        # Unquoted, SQL read the value's text as a literal (5, not '5'): `+ str(x)` had
        # str() only for the concatenation, and binding x keeps what SQL saw.
        value = _without_str(value)
    placeholder = Placeholder(index, index + 1, value=value, hint=_hint(value), key=item.key)
    shown = slot_range.slot.value.source if value is item.value else node_code(value)
    return placeholder, shown


def _placeholders_fit(reading: _Reading, placeholders: list[Placeholder]) -> bool:
    """Whether the placeholders (sorted) cover what they must and claim no text twice."""
    if reading.sql.kind in ("percent", "format"):
        # The formatting goes away, so no slot may stay interpolated.
        covered = {i for p in placeholders if p.value is not None for i in range(p.start, p.end)}
        if any(i not in covered for i in reading.slot_items):
            return False
    return not _overlapping(placeholders)


def _aligned(items: list[Item], statement: Statement) -> bool:
    """Return whether the model reads the same SQL text and slots as the analysis did."""
    from dbheal_lsp.analysis.statement import TextPiece

    def runs(seq: Iterable[str | None]) -> list[str | None]:
        out: list[str | None] = []
        for part in seq:
            if part is not None and out and out[-1] is not None:
                out[-1] = (out[-1] or "") + part
            elif part != "":
                out.append(part)
        return out

    mine = runs(item.char for item in items)
    theirs = runs(p.text if isinstance(p, TextPiece) else None for p in statement.pieces)
    return mine == theirs


def _item_offsets(items: list[Item], rendered: Rendered) -> list[int] | None:
    """Return the offset in the rendered SQL of each item (a slot: its stand-in's start)."""
    offsets: list[int] = []
    pos = 0
    slots = iter(rendered.slots)
    for item in items:
        offsets.append(pos)
        if item.char is None:
            slot_range = next(slots)
            if slot_range.start != pos:
                return None
            pos = slot_range.end
        else:
            if rendered.text[pos : pos + 1] != item.char:
                return None
            pos += 1
    offsets.append(pos)
    return offsets if pos == len(rendered.text) else None


def _without_str(value: cst.BaseExpression) -> cst.BaseExpression:
    """x for str(x) (one plain argument); any other value as it is."""
    import libcst as cst

    if (
        isinstance(value, cst.Call)
        and isinstance(value.func, cst.Name)
        and value.func.value == "str"
        and len(value.args) == 1
        and value.args[0].keyword is None
        and not value.args[0].star
        and "#" not in node_code(value)
    ):
        return value.args[0].value
    return value


def _hint(value: cst.BaseExpression) -> str | None:
    """A parameter name for `value`: user_id for user_id, user.id or str(user_id)."""
    import libcst as cst

    if isinstance(value, cst.Name):
        name = value.value
    elif isinstance(value, cst.Attribute):
        name = value.attr.value
    elif isinstance(value, cst.Call) and len(value.args) == 1:
        return _hint(value.args[0].value)
    else:
        return None
    return name if IDENTIFIER.match(name) and not name.startswith("__dbheal") else None


def _overlapping(placeholders: list[Placeholder]) -> bool:
    """Whether two placeholders (sorted by start) claim the same SQL text."""
    return any(b.start < a.end for a, b in itertools.pairwise(placeholders))


def _string_literals(items: list[Item]) -> dict[int, tuple[int, int]]:
    """Map each slot inside a single-quoted SQL string to that string's quote items."""
    found: dict[int, tuple[int, int]] = {}
    quote: str | None = None
    start = -1
    inside: list[int] = []
    i = 0
    while i < len(items):
        ch = items[i].char
        if ch is None:
            inside.append(i)
        elif quote is None:
            if ch in "'\"`":  # the quotes `render` tracks, so both read the same strings
                quote, start, inside = ch, i, []
        elif ch == quote:
            if i + 1 < len(items) and items[i + 1].char == quote:
                i += 2  # a doubled quote is one quote character inside the string
                continue
            if quote == "'":
                found.update(dict.fromkeys(inside, (start, i)))
            quote = None
        i += 1
    return found


def _literal_placeholder(model: SqlArgument, literal: tuple[int, int]) -> Placeholder | None:
    """The placeholder replacing a quoted SQL string that holds slots, quotes included."""
    import libcst as cst

    start, end = literal
    content = model.items[start + 1 : end]
    if len(content) == 1 and content[0].char is None and content[0].bare:
        value = content[0].value
        if value is None:
            return None
        return Placeholder(start, end + 1, value=value, hint=_hint(value), key=content[0].key)
    # More than the value: bind the whole text as an f-string that formats it the same way.
    code = _fstring_code(content)
    if code is None:
        return None
    value = cst.parse_expression(code)
    hints = [_hint(i.value) for i in content if i.value is not None]
    return Placeholder(start, end + 1, value=value, hint=next((h for h in hints if h), None))


def _fstring_code(content: list[Item]) -> str | None:
    """Source of an f-string with the value of the SQL string `content` ('' read as ')."""
    fields: list[str] = []
    for item in content:
        if item.char is None:
            code = _field_code(item)
            if code is None:
                return None
            fields.append(code)
    joined = "".join(fields)
    if "\\" in joined or "\n" in joined or "\r" in joined or "#" in joined:
        return None  # not allowed inside an f-string's fields before Python 3.12
    quote = '"' if '"' not in joined else "'"
    if quote in joined:
        return None
    out: list[str] = []
    fields_iter = iter(fields)
    i = 0
    while i < len(content):
        item = content[i]
        if item.char is None:
            out.append(next(fields_iter))
        else:
            ch = item.char
            if ch == "'" and i + 1 < len(content) and content[i + 1].char == "'":
                i += 1  # SQL's '' is one ' in the value
            out.append(_escape_fstring_char(ch, quote))
        i += 1
    code = f"f{quote}{''.join(out)}{quote}"
    try:
        tree = ast.parse(code, mode="eval")
    except SyntaxError:
        return None
    return code if isinstance(tree.body, ast.JoinedStr) else None


def _field_code(item: Item) -> str | None:
    import libcst as cst

    if item.fstring is not None:
        return node_code(item.fstring.node)  # as written: conversion, spec and "=" kept
    if item.value is None:
        return None
    code = node_code(item.value)
    if not isinstance(item.value, (cst.Name, cst.Attribute, cst.Call, cst.Subscript)):
        code = f"({code})"
    conversion = f"!{item.conversion}" if item.conversion else ""
    spec = f":{item.spec}" if item.spec else ""
    return "{" + code + conversion + spec + "}"


def _escape_fstring_char(ch: str, quote: str) -> str:
    if ch in "{}":
        return ch * 2
    if ch == "\\" or ch == quote:
        return "\\" + ch
    if ch.isprintable() or ch == " ":
        return ch
    return repr(ch)[1:-1]
