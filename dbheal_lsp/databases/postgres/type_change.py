"""A column's type change on PostgreSQL: the `ALTER TABLE ... ALTER COLUMN ... TYPE ... USING`
plan, and the dry run that finds the values it would fail on or change.

PostgreSQL 15 has no `pg_input_is_valid`, and a cast in a WHERE clause is not protected by an
AND before it (the planner reorders AND): each value is tested by a guarded expression, a regular
expression (and a range) for the target type inside CASE, so the cast runs only on values that
pass it. A value is lossy when it would not convert (the ALTER would fail on it) or when it
would change (its text after the cast differs: '007' becomes 7, 2.5 becomes 3). NULL is never
lossy. The type change takes an ACCESS EXCLUSIVE lock and rewrites the table: the plan says so,
with the table's size and row estimate.
"""

from __future__ import annotations

import re
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from dbheal_lsp.model import LossyReport, MigrationPlan, PlanStep

if TYPE_CHECKING:
    import psycopg

__all__ = [
    "NULL_MARK",
    "change_type_plan",
    "converts_expression",
    "lossy_report",
    "quote",
    "table_size",
]

#: The comment in a USING expression that stores NULL for values that would not convert.
NULL_MARK = "/* dbheal: lossy values become NULL */"
_INTEGER = r"^\s*[+-]?[0-9]+\s*$"
_DECIMAL = r"^\s*[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)?\s*$"
_BOOLEAN = r"^\s*(t|tr|tru|true|f|fa|fal|fals|false|y|ye|yes|n|no|on|of|off|1|0)\s*$"
_UUID = r"^\s*\{?[0-9a-fA-F]{8}-?([0-9a-fA-F]{4}-?){3}[0-9a-fA-F]{12}\}?\s*$"
_INTEGER_RANGES = MappingProxyType(
    {
        "smallint": (-32768, 32767),
        "integer": (-2147483648, 2147483647),
        "bigint": (-9223372036854775808, 9223372036854775807),
    }
)
_ALIASES = MappingProxyType(
    {
        "int": "integer",
        "int4": "integer",
        "int2": "smallint",
        "int8": "bigint",
        "float8": "double precision",
        "float": "double precision",
        "float4": "real",
        "decimal": "numeric",
        "bool": "boolean",
        "varchar": "character varying",
    }
)
_VARCHAR = re.compile(r"^(?:character varying|varchar)\s*\((\d+)\)$", re.IGNORECASE)


def quote(name: str) -> str:
    """`name` as a quoted identifier."""
    return '"' + name.replace('"', '""') + '"'


def _canonical(new_type: str) -> str:
    text = " ".join(new_type.lower().split())
    return _ALIASES.get(text, text)


def converts_expression(column: str, new_type: str) -> str:
    """A boolean expression that is true when the column's value converts to `new_type`
    (never raising, whatever the value); ValueError for a type it has no test for."""
    text = f"{quote(column)}::text"
    kind = _canonical(new_type)
    if kind in _INTEGER_RANGES:
        low, high = _INTEGER_RANGES[kind]
        # The regular expression first (CASE runs in order), then the range on numeric.
        return (
            f"(CASE WHEN {text} ~ '{_INTEGER}' THEN "
            f"{text}::numeric BETWEEN {low} AND {high} ELSE false END)"
        )
    if kind in ("numeric", "real", "double precision"):
        limit = "1e37" if kind == "real" else "1e307"
        bound = "" if kind == "numeric" else f"abs({text}::numeric) < {limit}"
        return f"(CASE WHEN {text} ~ '{_DECIMAL}' THEN {bound or 'true'} ELSE false END)"
    if kind == "boolean":
        return f"({text} ~* '{_BOOLEAN}')"
    if kind == "uuid":
        return f"({text} ~ '{_UUID}')"
    if kind in ("text", "character varying"):
        return "true"
    varchar = _VARCHAR.match(kind)
    if varchar:
        return f"(char_length({text}) <= {int(varchar.group(1))})"
    raise ValueError(f"dbheal cannot check values for a change to {new_type} on PostgreSQL")


def _lossy_condition(column: str, new_type: str) -> str:
    """True for a non-NULL value that would not convert, or would change on the way."""
    converts = converts_expression(column, new_type)
    text = f"{quote(column)}::text"
    changed = f"CASE WHEN {converts} THEN ({quote(column)}::{new_type})::text <> {text} END"
    return f"{quote(column)} IS NOT NULL AND (NOT {converts} OR {changed})"


def using_expression(column: str, new_type: str, on_lossy: str) -> str:
    """The USING expression of the change: the plain cast, or NULL for values that would not
    convert (`on_lossy` "null")."""
    cast = f"{quote(column)}::{new_type}"
    if on_lossy != "null":
        return cast
    # NULL for every lossy value: one that would not convert, and one that would change.
    kept = f"CASE WHEN ({cast})::text = {quote(column)}::text THEN {cast} END"
    return f"CASE WHEN {converts_expression(column, new_type)} THEN {kept} END {NULL_MARK}"


def lossy_report(
    conn: psycopg.Connection[Any], schema: str, table: str, column: str, new_type: str, limit: int
) -> LossyReport:
    """Count the values of `table.column` that would not convert losslessly to `new_type`, with
    the first `limit` of them (by ctid) and what each would become; ValueError for an unknown
    column or a type without a test."""
    current = column_type(conn, schema, table, column)
    if current is None:
        raise ValueError(f"no column {table}.{column}")
    where = _lossy_condition(column, new_type)
    relation = f"{quote(schema)}.{quote(table)}"
    row = conn.execute(
        f"SELECT count(*), count(*) FILTER (WHERE {where}) FROM {relation}"
    ).fetchone()
    total, lossy = (int(row[0]), int(row[1])) if row else (0, 0)
    examples: list[str] = []
    if lossy:
        converts = converts_expression(column, new_type)
        shown = f"CASE WHEN {converts} THEN ({quote(column)}::{new_type})::text END"
        sample = conn.execute(
            f"SELECT ctid::text, {quote(column)}::text, {shown} FROM {relation} "
            f"WHERE {where} LIMIT {int(limit)}"
        ).fetchall()
        for ctid, value, after in sample:
            fate = "would not convert" if after is None else f"would become {after}"
            examples.append(f"ctid {ctid}: {value!r} {fate} ({new_type})")
    return LossyReport(table, column, new_type, total, lossy, (), tuple(examples))


def column_type(conn: psycopg.Connection[Any], schema: str, table: str, column: str) -> str | None:
    """The column's type as the server prints it, or None when there is no such column."""
    row = conn.execute(
        "SELECT format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
        "JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relname = %s AND a.attname = %s AND a.attnum > 0 "
        "AND NOT a.attisdropped",
        (schema, table, column),
    ).fetchone()
    return str(row[0]) if row else None


def table_size(conn: psycopg.Connection[Any], schema: str, table: str) -> tuple[int, int]:
    """The table's size with its indexes and TOAST (bytes) and the server's row estimate."""
    row = conn.execute(
        "SELECT pg_total_relation_size(c.oid), greatest(c.reltuples, 0)::bigint FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relname = %s",
        (schema, table),
    ).fetchone()
    return (int(row[0]), int(row[1])) if row else (0, 0)


def change_type_plan(
    conn: psycopg.Connection[Any],
    schema: str,
    table: str,
    column: str,
    new_type: str,
    *,
    on_lossy: str = "refuse",
    lock_timeout: float = 5.0,
    fingerprint: str = "",
    version: int = -1,
    check_sql: tuple[str, ...] = (),
) -> MigrationPlan:
    """The plan changing `table.column` to `new_type` by one ALTER TABLE in the fix's
    transaction (ValueError: no such column, or a type dbheal cannot check values for)."""
    old = column_type(conn, schema, table, column)
    if old is None:
        raise ValueError(f"no column {table}.{column}")
    converts_expression(column, new_type)  # a type whose values cannot be checked: no plan
    size, rows = table_size(conn, schema, table)
    alter = (
        f"ALTER TABLE {quote(table)} ALTER COLUMN {quote(column)} TYPE {new_type} "
        f"USING {using_expression(column, new_type, on_lossy)}"
    )
    treated = (
        "values that would not convert become NULL"
        if on_lossy == "null"
        else "refused if any value would not convert or would change"
    )
    return MigrationPlan(
        id=f"change_type:{fingerprint or f'{table}.{column}'}",
        kind="change_type",
        title=f"Change {table}.{column} from {old} to {new_type}",
        description=(
            f"ALTER TABLE ... ALTER COLUMN ... TYPE in one transaction: it takes an ACCESS "
            f"EXCLUSIVE lock on {table} and rewrites it ({_size(size)}, about {rows} rows), "
            f"waiting at most {lock_timeout:g} s for the lock (lock_timeout); {treated}."
        ),
        table=table,
        steps=(PlanStep(alter),),
        expected=f"column {table}.{column} is {new_type}",
        issue_fingerprint=fingerprint,
        column=column,
        new_type=new_type,
        schema_version=version,
        migration_name=f"change_{table}_{column}_to_{new_type.split('(')[0].replace(' ', '_')}",
        check_sql=check_sql,
    )


def _size(size: int) -> str:
    """`size` bytes in words: "812 bytes", "17.3 MB"."""
    if size < 1024:
        return f"{size} bytes"
    amount = float(size)
    for unit in ("kB", "MB", "GB"):
        amount /= 1024
        if amount < 1024 or unit == "GB":
            break
    return f"{amount:.1f} {unit}"
