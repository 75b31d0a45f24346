"""Tests of the slots for interpolated values and whether each can carry SQL (languages/python/slots.py)."""

from __future__ import annotations

import ast

import pytest

from dbheal_lsp.analysis.statement import Slot
from dbheal_lsp.languages.python.slots import new_slot
from tests.languages.python.test_filecontext import function_scope, read_file

SOURCE = '''
import os

def count(rows) -> int:
    return len(rows)

def f(conn, flag, user, rows, ids):
    if flag:
        order = "ASC"
    else:
        order = "DESC"
    size = len(rows) * 2
    marks = ", ".join("?" for _ in ids)
    ask = os.environ["Q"]
    conn.execute(
        f"""SELECT {order} {size} {count(rows)} {marks} {user} {int(user)} {ask} {'id'}
        WHERE a = '{user.replace("'", "''")}' AND b = '{user.replace('"', '""')}'"""
    )
'''


def slots() -> list[Slot]:
    """Return a new slot for each value interpolated in SOURCE's f-string, in order."""
    ctx = read_file(SOURCE)
    scope = function_scope(ctx, "f")
    ctx.scope = scope
    fstring = next(n for n in ast.walk(scope.node) if isinstance(n, ast.JoinedStr))
    values = [v.value for v in fstring.values if isinstance(v, ast.FormattedValue)]
    return [new_slot(v, "fstring", ctx) for v in values]


def can_carry_sql(slot: Slot) -> bool:
    info = slot.value
    return not (info.constant or info.numeric_cast or info.safe_identifier or info.program_data)


def test_slots_are_numbered_in_order() -> None:
    assert [s.index for s in slots()] == list(range(10))
    assert {s.kind for s in slots()} == {"fstring"}


@pytest.mark.parametrize(
    ("position", "source", "constant", "number"),
    [
        (0, "order", True, False),  # every branch assigns literal text
        (1, "size", False, True),  # arithmetic on len()
        (2, "count(rows)", False, True),  # a function of the module annotated -> int
        (3, "marks", True, False),  # a list of placeholders
        (5, "int(user)", False, True),
        (7, "'id'", True, False),
    ],
)
def test_values_that_cannot_carry_sql(
    position: int, source: str, constant: bool, number: bool
) -> None:
    slot = slots()[position]
    assert slot.value.source == source
    assert (slot.value.constant, slot.value.numeric_cast) == (constant, number)
    assert not can_carry_sql(slot)


def test_parameters_and_outside_text_can_carry_sql() -> None:
    found = slots()
    assert found[4].value.source == "user" and can_carry_sql(found[4])
    assert found[6].value.source == "ask" and can_carry_sql(found[6])


def test_a_number_conversion_cannot_carry_sql() -> None:
    ctx = read_file(SOURCE)
    ctx.scope = function_scope(ctx, "f")
    user = ast.parse("user", mode="eval").body
    ast.copy_location(user, next(n for n in ast.walk(ctx.scope.node) if isinstance(n, ast.Name)))
    slot = new_slot(user, "percent", ctx, number=True)
    assert slot.value.numeric_cast and not slot.value.constant


def test_text_whose_quotes_are_escaped_is_marked() -> None:
    escaped, doubled = slots()[8:]
    assert escaped.value.quote_escaped
    assert not doubled.value.quote_escaped  # double quotes do not end an SQL string
