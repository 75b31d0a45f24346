"""Which values of a column convert losslessly to a new type, decided by pure SQL expressions so
that a million rows are scanned by SQLite without a Python call per row; `lossy_report` lists
those that would not.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from types import MappingProxyType

from dbheal_lsp.analysis.schema import Table, type_affinity
from dbheal_lsp.databases import schema_fixes
from dbheal_lsp.databases.sqlite.catalog import schema_from_connection
from dbheal_lsp.databases.sqlite.create_table import parse_create_table, quote_name
from dbheal_lsp.model import LossyReport

ON_LOSSY = schema_fixes.ON_LOSSY  # the seam's: the same words for every back end

# How the verify_copy step of a plan names its treatment of lossy values (see `lossy_mode`).
LOSSY_WORDS = MappingProxyType({"refuse": "refused", "null": "set to NULL", "keep": "kept"})
EXAMPLE_WIDTH = 60
# --- which values convert losslessly ----------------------------------------------------------


def target_affinity(new_type: str, strict: bool) -> str:
    if strict and new_type.strip().upper() == "ANY":
        return "BLOB"  # ANY in a STRICT table stores every value as it is
    return type_affinity(new_type)


def lossless_sql(expr: str, affinity: str) -> str:
    """Return a SQL expression that is 1 when the value of `expr` converts without loss.

    INTEGER: integers, integral reals and canonical integer text ('42', not '007', ' 7', '',
    '12.5' or 'abc'). REAL and NUMERIC: numbers whose value survives, and text SQLite reads as a
    number. TEXT: text, integers, and reals whose text reads back as the same real. BLOB (no
    type): everything. NULL always converts.
    """
    if affinity == "BLOB":
        return "1"
    if affinity == "INTEGER":
        real = f"{expr} = CAST({expr} AS INTEGER)"
        # The text must be exactly what SQLite would print for the integer; BINARY so that a
        # column collation such as RTRIM or NOCASE cannot hide a difference.
        text = f"{expr} = CAST(CAST({expr} AS INTEGER) AS TEXT) COLLATE BINARY"
        integer = "1"
    elif affinity in ("REAL", "NUMERIC"):
        # Unary + drops the column's affinity, so the comparison applies NUMERIC affinity to
        # the text exactly as storing it in the new column would: only numeric text converts.
        real = "1"
        text = f"+{expr} = CAST({expr} AS {affinity})"
        integer = f"CAST({expr} AS REAL) = {expr}" if affinity == "REAL" else "1"
    else:  # TEXT
        real = f"CAST(CAST({expr} AS TEXT) AS REAL) = {expr}"
        text = "1"
        integer = "1"
    by_type = (
        f"CASE typeof({expr}) WHEN 'null' THEN 1 WHEN 'integer' THEN {integer} "
        f"WHEN 'real' THEN {real} WHEN 'text' THEN {text} ELSE 0 END"
    )
    if affinity == "INTEGER":
        # Most values are lossless, and for them this one comparison is true whatever their
        # storage class (text compares as text, numbers as numbers): it halves the cost of a
        # scan, and the full test by type only runs for the rest (OR stops at the first true).
        return f"({text} OR {by_type})"
    return f"({by_type})"


def converted_sql(expr: str, affinity: str) -> str:
    """Return `expr` converted to the new affinity (what storing a lossless value yields)."""
    return expr if affinity == "BLOB" else f"CAST({expr} AS {affinity})"


# --- reading the table ------------------------------------------------------------------------


def rebuilt_table(conn: sqlite3.Connection, table: str) -> Table:
    found = schema_from_connection(conn, "database").table(table)
    if found is not None and found.is_view:
        # A view's columns are its tables' columns: changing a table's type rebuilds the views
        # that read it (see the module docstring), and the view's type follows.
        raise ValueError(
            f"{found.name} is a view: its column types are those of the tables it reads; "
            "change the type there and the view is rebuilt with it"
        )
    if found is None:
        raise ValueError(f"no such table: {table}")
    if not found.sql or found.sql.lstrip()[:14].upper().startswith("CREATE VIRTUAL"):
        raise ValueError(f"{found.name} is a virtual table: its type cannot be changed")
    return found


def is_strict(table: Table) -> bool:
    return "STRICT" in parse_create_table(table.sql or "").options


def _rowid_name(table: Table) -> str | None:
    """Return a name that reaches the rowid of `table` (not shadowed by a column), or None."""
    if not table.has_rowid:
        return None
    for name in ("rowid", "_rowid_", "oid"):
        if table.column(name) is None:
            return name
    return None


@dataclass(frozen=True)
class CopyLayout:
    """How rows of X are copied into new_X and matched again to verify the copy."""

    columns: tuple[str, ...]  # stored (not generated) columns, copied by name
    rowid: str | None  # copy the rowid through this name as well (None: it comes with a column)
    key: tuple[str, ...]  # names an old row and its copy share: the rowid, an alias or the PK


def copy_layout(old: Table, new: Table, column: str) -> CopyLayout:
    columns = tuple(c.name for c in old.columns if not c.is_generated)
    if not old.has_rowid:
        return CopyLayout(columns, None, old.primary_key)
    old_alias, new_alias = old.rowid_alias, new.rowid_alias
    if new_alias is not None:
        # Copying the INTEGER PRIMARY KEY copies the rowid; when the converted column has just
        # become that key, the rowids change, so rows are matched on the key instead.
        return CopyLayout(columns, None, (new_alias,))
    rowid = _rowid_name(old)
    if rowid is not None:
        return CopyLayout(columns, rowid, (rowid,))
    if old_alias is not None and old.primary_key:
        return CopyLayout(columns, None, old.primary_key)
    raise ValueError(
        f"{old.name} has columns named rowid, _rowid_ and oid: its rows cannot be matched"
    )


def _key_value(table: Table) -> str | None:
    """Return the SQL name whose value identifies a row in a LossyReport (rowid-like)."""
    rowid = _rowid_name(table)
    if rowid is not None:
        return rowid
    key = table.primary_key
    if len(key) == 1:
        column = table.column(key[0])
        if column is not None and column.affinity == "INTEGER":
            return key[0]
    return None


def _example(value: object) -> str:
    text = repr(value)
    return text if len(text) <= EXAMPLE_WIDTH else text[: EXAMPLE_WIDTH - 3] + "..."


def lossy_report(
    conn: sqlite3.Connection, table: str, column: str, new_type: str, limit: int = 10
) -> LossyReport:
    """Return which rows of `table.column` would not convert losslessly to `new_type`.

    One statement reads the table once: the row count comes from the b-tree and only lossy
    rows reach Python. `first_rowids` holds the rowids of the first `limit` of them (the
    INTEGER primary key of a WITHOUT ROWID table; empty when there is no such key) and
    `examples` the repr() of their values. Raises ValueError for an unknown table or column.
    """
    model = rebuilt_table(conn, table)
    found = model.column(column)
    if found is None:
        raise ValueError(f"{model.name} has no column {column!r}")
    affinity = target_affinity(new_type, is_strict(model))
    name = quote_name(model.name)
    expr = quote_name(found.name)
    key_name = _key_value(model)
    key = quote_name(key_name) if key_name else "NULL"
    # A compound SELECT is one statement, so the count and the rows come from one snapshot;
    # NOT INDEXED keeps rowid order even where an index on the column would cover the scan.
    rows = conn.execute(
        f"SELECT 1, (SELECT count(*) FROM {name}), NULL "
        f"UNION ALL SELECT 0, {key}, {expr} FROM {name} NOT INDEXED "
        f"WHERE NOT {lossless_sql(expr, affinity)}"
    )
    total = 0
    lossy = 0
    rowids: list[int] = []
    examples: list[str] = []
    for is_total, value_key, value in rows:
        if is_total:
            total = int(value_key)
            continue
        lossy += 1
        if len(examples) < limit:
            examples.append(_example(value))
            if isinstance(value_key, int):
                rowids.append(value_key)
    return LossyReport(
        table=model.name,
        column=found.name,
        new_type=new_type.strip(),
        total_rows=total,
        lossy_count=lossy,
        first_rowids=tuple(rowids),
        examples=tuple(examples),
    )
