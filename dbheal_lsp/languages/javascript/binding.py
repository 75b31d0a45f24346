"""Binding interpolated values: each chosen `${...}` of a call's SQL template becomes a
placeholder (`?`, or pg's `$n`) and its value is passed with the call's values.

A value quoted in the SQL loses its quotes (`'${name}'` -> `?`, bound to `name`); a quoted
string with more in it (`'%${term}%'`) becomes one placeholder bound to a template of that text
(`` `%${term}%` ``), which JavaScript formats exactly as before. An unquoted `${...}` is bound
only where SQL plainly takes a value (not `WHERE ${cond}`, `SELECT a, ${col}`, `IN (${ids})`).

The values go where the call takes them: into its array (`[a]` -> `[a, userId]`), among the
arguments that are its values (`db.get(sql, a)`, `stmt.get(a)`), or a new array after the SQL
(`db.query(sql)` -> `db.query(sql, [userId])`; better-sqlite3's `prepare(sql).get()` ->
`.get(userId)`; pg's `query({ text })` -> `query({ text, values: [userId] })`). With `?` each new value is put among the old ones in the order of the
placeholders; pg's new `$n` are numbered after the highest one and their values appended.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dbheal_lsp.analysis.value_context import value_context
from dbheal_lsp.languages.javascript.edits import ByteEdit
from dbheal_lsp.languages.javascript.fix_target import Target
from dbheal_lsp.languages.javascript.template_sql import (
    TemplateSql,
    enclosing_quote,
    numbered_style,
)
from dbheal_lsp.languages.javascript.values import unwrapped

if TYPE_CHECKING:
    from tree_sitter import Node

__all__ = ["Bound", "bind", "value_edits"]

# Calls that take their values as arguments, one each, never an array.
_VARIADIC = frozenset({"$queryRawUnsafe", "$executeRawUnsafe"})


@dataclass(frozen=True)
class Bound:
    """A `${...}` (its `template_substitution` node) to bind, and the JS expression bound."""

    substitution: Node
    value: str


@dataclass(frozen=True)
class _Slot:
    start: int  # offsets in the template's text of what the placeholder replaces
    end: int
    value: str


def bind(target: Target, bound: Sequence[Bound]) -> list[ByteEdit] | None:
    """The edits that bind `bound` in the call's SQL template, or None when they cannot all
    be bound (the SQL is not a template in the call, a `${...}` is not a value, the call's
    values are not written out, or its placeholders are named)."""
    call = target.call
    template = unwrapped(call.sql)
    if template.type != "template_string" or call.values is None or call.name == "exec":
        return None
    sql = TemplateSql(target.source, template)
    numbered = numbered_style(target.source, sql.masked)
    if numbered is None or not bound:
        return None
    slots = _slots(sql, bound)
    if slots is None:
        return None
    existing = sql.highest_number() if numbered else sql.question_marks()
    if existing != len(call.values):
        return None  # the values do not match the placeholders one for one
    edits: list[ByteEdit] = []
    inserts: list[tuple[int, str]] = []
    for k, slot in enumerate(slots):
        mark = f"${existing + k + 1}" if numbered else "?"
        edits.append(ByteEdit(sql.byte(slot.start), sql.byte(slot.end), mark))
        index = existing if numbered else sql.placeholders_before(slot.start)
        inserts.append((index, slot.value))
    added = value_edits(target, inserts)
    return None if added is None else edits + added


def _slots(sql: TemplateSql, bound: Sequence[Bound]) -> list[_Slot] | None:
    """What each bound `${...}` replaces (itself, or the quoted string it is in), in order."""
    slots: list[_Slot] = []
    for item in sorted(bound, key=lambda b: b.substitution.start_byte):
        where = sql.slots.get(item.substitution.start_byte)
        if where is None:
            return None
        start, end = where
        value = item.value
        quote = enclosing_quote(sql.scan, start)
        if quote is not None:
            mark, open_at, close_at = quote
            if mark != "'" or close_at < end:
                return None  # a quoted name, or a string left open
            inner = sql.interior[open_at + 1 : close_at]
            if "''" in sql.scan[open_at + 1 : close_at]:
                return None  # a doubled quote would be one quote in SQL, two in JavaScript
            if (open_at + 1, close_at) != (start, end):
                if item.value != _expression_text(sql, start, end):
                    return None  # a cast removed inside a longer string: not this fix's
                value = f"`{inner}`"
            start, end = open_at, close_at + 1
            if slots and slots[-1].start == start:
                continue  # another `${...}` of the same quoted string: bound with it
        elif not value_context(sql.scan, start, end):
            return None
        slots.append(_Slot(start, end, value))
    return slots


def _expression_text(sql: TemplateSql, start: int, end: int) -> str:
    """The expression inside the `${...}` at `start` to `end`."""
    return sql.interior[start + 2 : end - 1].strip()


def value_edits(target: Target, inserts: list[tuple[int, str]]) -> list[ByteEdit] | None:
    """The edits that put each value (index among the old values, expression) where the call
    takes its values; None when they cannot be added there."""
    call = target.call
    assert call.values is not None
    values = list(call.values)
    if values:
        edits: list[ByteEdit] = []
        for index in sorted({i for i, _ in inserts}):
            here = [v for i, v in inserts if i == index]
            if index < len(values):
                at = values[index].start_byte
                edits.append(ByteEdit(at, at, "".join(f"{t}, " for t in here)))
            else:
                at = values[-1].end_byte
                edits.append(ByteEdit(at, at, "".join(f", {t}" for t in here)))
        return edits
    texts = ", ".join(v for _, v in inserts)
    holder = call.values_node
    if holder is not None and unwrapped(holder).type == "array":
        at = unwrapped(holder).start_byte + 1  # `[]`
        return [ByteEdit(at, at, texts)]
    if call.passes_values:
        return None
    if call.name == "prepare":
        arguments = _run_arguments(call.call)
        if arguments is None or arguments.named_child_count:
            return None
        at = arguments.start_byte + 1
        return [ByteEdit(at, at, texts)]
    holder = call.sql.parent
    if holder is not None and holder.type == "pair":  # `{ text: sql }`: `values` added
        return [ByteEdit(holder.end_byte, holder.end_byte, f", values: [{texts}]")]
    if holder is None or holder.type != "arguments":
        return None
    at = call.sql.end_byte
    if call.name in _VARIADIC:
        return [ByteEdit(at, at, f", {texts}")]
    return [ByteEdit(at, at, f", [{texts}]")]


def _run_arguments(prepare: Node) -> Node | None:
    """The arguments of the `.get(...)` (or all, run, iterate) that runs `db.prepare(sql)`."""
    member = prepare.parent
    run = member.parent if member is not None else None
    if run is None or run.type != "call_expression":
        return None
    return run.child_by_field_name("arguments")
