"""TYPE_MISMATCH: a value whose type is evident in the code meets a column of another affinity,
or the code casts a result column to a number that the database declares TEXT."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from dbheal_lsp.analysis.comparisons import ValueRef
from dbheal_lsp.analysis.oracle import Facts, parse
from dbheal_lsp.analysis.placeholders import Placeholder
from dbheal_lsp.analysis.sqlmask import masked
from dbheal_lsp.analysis.statement import ValueInfo, is_stand_in
from dbheal_lsp.model import Issue, IssueType, Severity
from dbheal_lsp.rules._issue import issue
from dbheal_lsp.rules.rule import Rule

# An operator that compares as text whatever the column's type: no cast would change it.
_PATTERN_OPERATOR = re.compile(r"\b(?:LIKE|GLOB|MATCH|REGEXP)\s*$", re.IGNORECASE)

_COMPATIBLE: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "INTEGER": frozenset({"INTEGER", "REAL", "NUMERIC"}),
        "REAL": frozenset({"REAL", "NUMERIC"}),
        "NUMERIC": frozenset({"INTEGER", "REAL", "NUMERIC"}),
        # Dates and times are commonly stored as text in DATETIME (NUMERIC affinity) columns.
        "TEXT": frozenset({"TEXT", "NUMERIC"}),
        "BLOB": frozenset({"BLOB"}),
    }
)


def type_mismatches(facts: Facts) -> Iterator[Issue]:
    """TYPE_MISMATCH: the database's own type error, values that meet columns, then result
    columns read as numbers."""
    yield from _server_mismatch(facts)
    yield from _value_mismatches(facts)
    yield from _result_mismatches(facts)


def _server_mismatch(facts: Facts) -> Iterator[Issue]:
    """The database rejects the types a value meets (a PostgreSQL server's verdict), at the
    token where it places the error."""
    verdict = facts.verdict
    if verdict.kind != "type":
        return
    text = facts.rendered.text
    start = verdict.offset if verdict.offset is not None else 0
    start = min(max(start, 0), max(len(text) - 1, 0))
    end = start + max(len(verdict.name or ""), 1)
    yield issue(facts, RULE, start, end, f"the database rejects the types here: {verdict.message}")


def _value_mismatches(facts: Facts) -> Iterator[Issue]:
    """A value whose type is evident in the code meets a column of another affinity."""
    if facts.refs is None:
        return
    for comparison in facts.refs.comparisons:
        column = comparison.column
        table = column.table
        if table is None:
            continue
        col = table.column(column.name)
        if col is None or col.affinity == "BLOB":
            continue
        for value in _values_of(facts, comparison.value):
            if value.code_type is None:
                continue
            if col.affinity in _COMPATIBLE.get(value.code_type, frozenset({value.code_type})):
                continue
            if _is_clean_up(facts, comparison.value, value):
                continue
            yield _type_mismatch(
                facts,
                table.name,
                col.name,
                col.declared_type or col.affinity,
                value,
                comparison.context,
            )
            break  # one finding per comparison


def _result_mismatches(facts: Facts) -> Iterator[Issue]:
    """On a read: the code casts a result column to a number (`int(version)`)
    that the database declares TEXT (a type changed under the code, or a leftover cast)."""
    casts = facts.statement.result_casts
    if not casts or facts.refs is None or facts.refs.kind != "select":
        return
    tree = parse(facts.rendered.text, facts.settings.dialect)
    import sqlglot.expressions as exp

    if not isinstance(tree, exp.Select):
        return  # a UNION or a CTE's outer query: which table a result column is from is not read
    items = tree.expressions
    for cast in casts:
        if cast.column >= len(items) or isinstance(items[cast.column], exp.Star):
            continue
        item = items[cast.column].unalias()
        if not isinstance(item, exp.Column):
            continue
        ref = next((c for c in facts.refs.columns if c.name.lower() == item.name.lower()), None)
        if ref is None or ref.status != "ok" or ref.table is None:
            continue
        col = ref.table.column(ref.name)
        if col is None or col.affinity != "TEXT":
            continue
        yield issue(
            facts,
            RULE,
            ref.start,
            ref.end,
            f"{ref.table.name}.{col.name} is {col.declared_type or col.affinity} in the database, "
            f"but the code reads it as a number: {cast.helper}({cast.source}) at line "
            f"{cast.span.line}; the column type is wrong or the {cast.helper}() cast is a leftover",
            table=ref.table.name,
            column_name=col.name,
            db_type=col.declared_type or col.affinity,
            code_type="int" if cast.helper == "int" else "float",
            # No "remove the cast" fix: without it the code would compute with text.
            helper=None,
        )


def _is_clean_up(facts: Facts, ref: ValueRef, value: _Value) -> bool:
    """Return whether a text value meets a column in a way no cast would make right.

    `int_col = ''` finds rows an old version stored as empty text, and `LIKE`/`GLOB` compare as
    text whatever the column's type: clean-up queries, not mismatches.
    """
    if value.source.strip() in ("''", '""'):
        return True
    before = masked(facts.rendered.text)[: ref.start]
    return _PATTERN_OPERATOR.search(before) is not None


@dataclass(frozen=True)
class _Value:
    code_type: str | None
    helper: str | None
    source: str
    span: Any  # Span in the Python file, or None for a SQL literal
    start: int
    end: int


def _values_of(facts: Facts, value: ValueRef) -> Iterator[_Value]:
    """Yield the values `value` stands for: a literal, or each value bound to a placeholder
    (several when a prepared query is run more than once: languages/python/deferred.py)."""
    if value.kind == "literal" or value.placeholder is None:
        found = _value_of(facts, value)
        if found is not None:
            yield found
        return
    ph = value.placeholder
    for info in _bound_values(facts, ph):
        yield _Value(info.code_type, info.helper, info.source, info.span, ph.start, ph.end)


def _value_of(facts: Facts, value: ValueRef) -> _Value | None:
    if value.kind == "literal":
        if value.start < 0:
            return None
        slot = facts.rendered.slot_at(value.start, value.end)
        if slot is None:
            for sr in facts.rendered.slots:
                if value.start <= sr.start and sr.end <= value.end:
                    slot = sr
        if slot is not None:
            text_info = slot.slot.value
            return _Value("TEXT", None, text_info.source, text_info.span, value.start, value.end)
        # Shown as the SQL spells it: `'ten'`, and `''` rather than nothing at all.
        spelled = facts.rendered.text[value.start : value.end].strip() or value.text
        return _Value(value.literal_type, None, spelled, None, value.start, value.end)
    ph = value.placeholder
    if ph is None:
        return None
    info = _bound_value(facts, ph)
    if info is None:
        return None
    return _Value(info.code_type, info.helper, info.source, info.span, ph.start, ph.end)


def _bound_value(facts: Facts, ph: Placeholder) -> ValueInfo | None:
    return next(_bound_values(facts, ph), None)


def _bound_values(facts: Facts, ph: Placeholder) -> Iterator[ValueInfo]:
    """Yield each value bound to placeholder `ph` (a stand-in: the interpolated number)."""
    if ph.name and is_stand_in(ph.name):
        for sr in facts.rendered.slots:
            if sr.stand_in == ph.name:
                # Interpolated text becomes SQL text: `= " + str(n)` makes a number literal.
                # Only a numeric cast says what SQL type the text will spell.
                if sr.slot.value.numeric_cast:
                    yield sr.slot.value
                return
        return
    for p in facts.statement.parameters or ():
        if ph.name is not None and p.name == ph.name:
            yield p.value
        if ph.name is None and p.position == ph.position:
            yield p.value


def _type_mismatch(
    facts: Facts, table: str, column: str, db_type: str, value: _Value, context: str
) -> Issue:
    verb = {"compare": "compares", "insert": "inserts", "set": "assigns"}.get(context, "uses")
    shown = f"{value.helper}()" if value.helper else value.source
    source = value.source or "a value"  # never an empty word in a message
    message = (
        f"{table}.{column} is {db_type} in the database, but the code {verb} "
        f"{source} ({value.code_type}" + (f", made by {shown}" if value.helper else "") + ")"
    )
    span = value.span
    call = facts.statement.call_span
    if span is not None and not call.line <= span.line <= call.end_line:
        # Bound by a later run of the prepared query (languages/python/deferred.py): shown at
        # the placeholder, where the statement is, with the line that binds the value.
        message += f" bound at line {span.line}"
        span = None
    if value.helper:
        message += f"; the {value.helper}() cast is redundant or the column type is wrong"
    return issue(
        facts,
        RULE,
        value.start,
        value.end,
        message,
        span_override=span,
        table=table,
        column_name=column,
        db_type=db_type,
        code_type=value.code_type,
        helper=value.helper,
    )


RULE = Rule(
    IssueType.TYPE_MISMATCH,
    "TypeMismatch",
    Severity.MEDIUM,
    "Value's type disagrees with the column's declared type.",
    "The code compares or stores a value whose Python type disagrees with the declared "
    "type of the column; SQLite's type affinity converts or keeps it silently, which "
    "usually means wrong results rather than an error.",
    ("correctness", "sql"),
    type_mismatches,
)
