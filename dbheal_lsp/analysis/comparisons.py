"""The values a statement sets its columns against: compared with, inserted into, assigned.

TYPE_MISMATCH and PARAMETER_MISMATCH read these: a column of the schema meeting a placeholder
or a literal (`col = ?`, `col IN (1, 2)`, an INSERT value, an UPDATE SET). Only columns that
resolved to a schema table count; a value sqlglot cannot place keeps offsets of -1.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from dbheal_lsp.analysis.columnrefs import ColumnRef, Source, offsets, resolve
from dbheal_lsp.analysis.placeholders import Placeholder, SqlglotText


@dataclass(frozen=True)
class ValueRef:
    """A value compared with, inserted into or assigned to a column."""

    kind: Literal["placeholder", "literal", "stand_in"]
    start: int
    end: int
    placeholder: Placeholder | None = None
    literal_type: str | None = None
    text: str = ""


@dataclass(frozen=True)
class Comparison:
    """A column meeting a value: `col = ?`, `col IN (...)`, an INSERT value or an UPDATE SET."""

    column: ColumnRef
    value: ValueRef
    context: Literal["compare", "insert", "set"]


def value_of(st: SqlglotText, node: Any) -> ValueRef | None:
    """Return the placeholder or literal sqlglot's `node` is (through parentheses and a minus)."""
    from sqlglot import exp

    while isinstance(node, exp.Paren):
        node = node.this
    if isinstance(node, exp.Placeholder):
        name = node.name
        ph = st.by_name.get(name)
        if ph is not None:
            return ValueRef("placeholder", ph.start, ph.end, ph)
        return ValueRef("placeholder", -1, -1, Placeholder(-1, -1, None, name), text=name)
    if isinstance(node, exp.Literal):
        literal_type = (
            "TEXT"
            if node.is_string
            else ("REAL" if "." in node.this or "e" in node.this.lower() else "INTEGER")
        )
        found = offsets(st, node)
        start, end = found if found else (-1, -1)
        return ValueRef("literal", start, end, literal_type=literal_type, text=node.this)
    if isinstance(node, exp.Neg) and isinstance(node.this, exp.Literal):
        return value_of(st, node.this)
    return None


def comparison(
    st: SqlglotText, left: Any, right: Any, chain: list[dict[str, Source]]
) -> Comparison | None:
    """Return the comparison of a schema column with a value, either way round, if it is one."""
    from sqlglot import exp

    if isinstance(right, exp.Column) and not isinstance(left, exp.Column):
        left, right = right, left
    if not isinstance(left, exp.Column):
        return None
    value = value_of(st, right)
    if value is None:
        return None
    ref = resolve(st, left, chain, set())
    if ref is not None and ref.status == "ok" and ref.table is not None:
        return Comparison(ref, value, "compare")
    return None
