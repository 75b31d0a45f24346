"""Changing a column's type by rebuilding its table, as SQLite's own procedure says.

SQLite cannot change a column's type in place. Section 7 of https://www.sqlite.org/lang_altertable.html
("Making Other Kinds Of Table Schema Changes") gives the general procedure, which this module
turns into a `MigrationPlan` for the executor (`fixes/apply.py`):

1. ``PRAGMA foreign_keys=OFF`` outside the transaction (the plan's ``foreign_keys_off``), then
   ``BEGIN`` (the executor does both).
2. ``CREATE TABLE new_X`` from X's own CREATE statement with only the column's type replaced
   (`new_create_sql`: text surgery, so constraints, comments and formatting survive).
3. ``INSERT INTO new_X (...) SELECT ... FROM X``: the new column's affinity converts the values;
   rowids are copied, and ``sqlite_sequence`` keeps X's AUTOINCREMENT counter.
4. A ``verify_copy`` step: every row of new_X is compared with its row in X (`verify_copy`).
5. Views that read X (and views and triggers that read those) are dropped, because renaming a
   table makes SQLite re-check every view and trigger, and one that names the missing X fails.
6. ``DROP TABLE X``, ``ALTER TABLE new_X RENAME TO X``.
7. Every index, trigger and view that was dropped is created again from its saved SQL, in the
   original order of ``sqlite_master``.
8. The executor checks ``PRAGMA quick_check`` and ``PRAGMA foreign_key_check``, then commits.

Which values are lossy is decided by pure SQL expressions (`lossy_report`), so that a million
rows are scanned by SQLite without a Python call per row.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

from dbheal_lsp.analysis.schema import Column, Table, schema_from_connection, type_affinity
from dbheal_lsp.analysis.sqllex import (
    TABLE_CONSTRAINT_WORDS,
    Token,
    is_word_char,
    significant_tokens,
    tokenize,
    unquote,
)
from dbheal_lsp.model import LossyReport, MigrationPlan, PlanStep, VerifyCheck, VerifyReport

#: What to do with values that do not convert losslessly: refuse to apply (the default; "abort"
#: is a synonym), store NULL instead, or keep them as SQLite's affinity leaves them.
ON_LOSSY = ("refuse", "abort", "null", "keep")

_TEMP_PREFIX = "new_"
# How the verify_copy step of a plan names its treatment of lossy values (see `lossy_mode`).
_LOSSY_WORDS = {"refuse": "refused", "null": "set to NULL", "keep": "kept"}
_EXAMPLE_WIDTH = 60

# Words that end a column's type: the first word of a column constraint (CREATE TABLE grammar).
_COLUMN_CONSTRAINT_WORDS = frozenset(
    {
        "CONSTRAINT",
        "PRIMARY",
        "NOT",
        "NULL",
        "UNIQUE",
        "CHECK",
        "DEFAULT",
        "COLLATE",
        "REFERENCES",
        "GENERATED",
        "AS",
    }
)


def quote_name(name: str) -> str:
    """Return `name` as a double-quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def _quote_like(token: Token, name: str) -> str:
    """Return `name` quoted the way `token` was, so the rewritten statement keeps its style."""
    if token.kind == "word" and all(is_word_char(ch) for ch in name):
        return name  # a bare word with "new_" before it is still a bare word, never a keyword
    first = token.text[0]
    if first == "[" and "]" not in name:
        return f"[{name}]"
    if first in "'`":
        return first + name.replace(first, first * 2) + first
    return quote_name(name)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


# --- CREATE TABLE surgery ---------------------------------------------------------------------


@dataclass(frozen=True)
class _ColumnDef:
    name: str
    name_token: Token
    type_span: tuple[int, int] | None  # offsets of the declared type in the statement


@dataclass(frozen=True)
class _CreateTable:
    name_token: Token
    columns: tuple[_ColumnDef, ...]
    options: frozenset[str]  # upper-case words after the column list: WITHOUT, ROWID, STRICT
    autoincrement: bool


def _matching_paren(tokens: Sequence[Token], open_at: int) -> int:
    """Return the index of the ")" that closes the "(" at `open_at` (len(tokens) if none)."""
    depth = 0
    for index in range(open_at, len(tokens)):
        text = tokens[index].text
        if text == "(":
            depth += 1
        elif text == ")":
            depth -= 1
            if depth == 0:
                return index
    return len(tokens)


def _parse_create_table(sql: str) -> _CreateTable:
    tokens = significant_tokens(sql)
    end = Token("punct", "", len(sql), len(sql))

    def at(index: int) -> Token:
        return tokens[index] if index < len(tokens) else end

    pos = 0
    if at(pos).word != "CREATE":
        raise ValueError("not a CREATE TABLE statement")
    pos += 1
    if at(pos).word in ("TEMP", "TEMPORARY"):
        pos += 1
    if at(pos).word != "TABLE":
        raise ValueError("not a CREATE TABLE statement")
    pos += 1
    if at(pos).word == "IF" and at(pos + 1).word == "NOT" and at(pos + 2).word == "EXISTS":
        pos += 3
    name_token = at(pos)
    pos += 1
    if at(pos).text == "." and at(pos + 1).is_name:
        name_token = at(pos + 1)
        pos += 2
    if not name_token.is_name:
        raise ValueError("CREATE TABLE without a table name")
    if at(pos).text != "(":
        raise ValueError("CREATE TABLE ... AS SELECT has no column definitions to change")
    close = _matching_paren(tokens, pos)
    if close >= len(tokens):
        raise ValueError("CREATE TABLE with unbalanced parentheses")

    # Split the column list at its top-level commas.
    parts: list[list[Token]] = [[]]
    depth = 0
    for token in tokens[pos + 1 : close]:
        if token.text == "(":
            depth += 1
        elif token.text == ")":
            depth -= 1
        if token.text == "," and depth == 0:
            parts.append([])
        else:
            parts[-1].append(token)

    columns = []
    for part in parts:
        if not part or part[0].word in TABLE_CONSTRAINT_WORDS:
            continue
        columns.append(_ColumnDef(part[0].name, part[0], _type_span(part)))
    options = frozenset(t.word for t in tokens[close + 1 :] if t.word)
    autoincrement = any(t.word == "AUTOINCREMENT" for t in tokens[pos:close])
    return _CreateTable(name_token, tuple(columns), options, autoincrement)


def _type_span(part: Sequence[Token]) -> tuple[int, int] | None:
    """Return where the declared type of the column definition `part` is, or None."""
    index = 1
    while (
        index < len(part)
        and part[index].is_name
        and part[index].word not in _COLUMN_CONSTRAINT_WORDS
    ):
        index += 1
    if index == 1:
        return None
    last = part[index - 1]
    if index < len(part) and part[index].text == "(":
        close = _matching_paren(part, index)
        last = part[min(close, len(part) - 1)]
    return part[1].start, last.end


def _check_type(new_type: str) -> str:
    """Return `new_type` stripped, or raise ValueError if it is not a plain SQLite type name."""
    text = new_type.strip()
    tokens = [t for t in tokenize(text) if t.kind != "space"]
    names = 0
    while names < len(tokens) and tokens[names].kind == "word":
        if tokens[names].word in _COLUMN_CONSTRAINT_WORDS:
            break
        names += 1
    rest = "".join(t.text for t in tokens[names:])
    if names == 0 or (rest and not re.fullmatch(r"\([+-]?[0-9.]+(,[+-]?[0-9.]+)?\)", rest)):
        raise ValueError(f"not a column type: {new_type!r}")
    return text


def new_create_sql(create_sql: str, column: str, new_type: str, *, rename: bool = True) -> str:
    """Return `create_sql` with only the declared type of `column` replaced by `new_type`.

    Everything else is kept as written: constraints, defaults, COLLATE, CHECK, generated
    columns, table constraints, WITHOUT ROWID, STRICT, comments and formatting. A column
    without a type gets one. With `rename` (the default) the table is also renamed to
    ``new_<table>``, the rebuild's temporary name, quoted as the original name was.
    Raises ValueError if the statement is not a CREATE TABLE with that column.
    """
    new_type = _check_type(new_type)
    parsed = _parse_create_table(create_sql)
    wanted = unquote(column.strip()).lower()
    found = [c for c in parsed.columns if c.name.lower() == wanted]
    if not found:
        raise ValueError(f"the table has no column {column!r}")
    target = found[0]
    edits: list[tuple[int, int, str]] = []
    if target.type_span is None:
        edits.append((target.name_token.end, target.name_token.end, " " + new_type))
    else:
        edits.append((*target.type_span, new_type))
    if rename:
        token = parsed.name_token
        edits.append((token.start, token.end, _quote_like(token, _TEMP_PREFIX + token.name)))
    result = create_sql
    for start, end, text in sorted(edits, reverse=True):
        result = result[:start] + text + result[end:]
    return result


# --- which values convert losslessly ----------------------------------------------------------


def _target_affinity(new_type: str, strict: bool) -> str:
    if strict and new_type.strip().upper() == "ANY":
        return "BLOB"  # ANY in a STRICT table stores every value as it is
    return type_affinity(new_type)


def _lossless_sql(expr: str, affinity: str) -> str:
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


def _converted_sql(expr: str, affinity: str) -> str:
    """Return `expr` converted to the new affinity (what storing a lossless value yields)."""
    return expr if affinity == "BLOB" else f"CAST({expr} AS {affinity})"


# --- reading the table ------------------------------------------------------------------------


def _find_table(conn: sqlite3.Connection, table: str) -> Table:
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


def _is_strict(table: Table) -> bool:
    return "STRICT" in _parse_create_table(table.sql or "").options


def _rowid_name(table: Table) -> str | None:
    """Return a name that reaches the rowid of `table` (not shadowed by a column), or None."""
    if not table.has_rowid:
        return None
    for name in ("rowid", "_rowid_", "oid"):
        if table.column(name) is None:
            return name
    return None


@dataclass(frozen=True)
class _Layout:
    """How rows of X are copied into new_X and matched again to verify the copy."""

    columns: tuple[str, ...]  # stored (not generated) columns, copied by name
    rowid: str | None  # copy the rowid through this name as well (None: it comes with a column)
    key: tuple[str, ...]  # names an old row and its copy share: the rowid, an alias or the PK


def _layout(old: Table, new: Table, column: str) -> _Layout:
    columns = tuple(c.name for c in old.columns if not c.is_generated)
    if not old.has_rowid:
        return _Layout(columns, None, old.primary_key)
    old_alias, new_alias = old.rowid_alias, new.rowid_alias
    if new_alias is not None:
        # Copying the INTEGER PRIMARY KEY copies the rowid; when the converted column has just
        # become that key, the rowids change, so rows are matched on the key instead.
        return _Layout(columns, None, (new_alias,))
    rowid = _rowid_name(old)
    if rowid is not None:
        return _Layout(columns, rowid, (rowid,))
    if old_alias is not None and old.primary_key:
        return _Layout(columns, None, old.primary_key)
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
    return text if len(text) <= _EXAMPLE_WIDTH else text[: _EXAMPLE_WIDTH - 3] + "..."


def lossy_report(
    conn: sqlite3.Connection, table: str, column: str, new_type: str, limit: int = 10
) -> LossyReport:
    """Return which rows of `table.column` would not convert losslessly to `new_type`.

    One statement reads the table once: the row count comes from the b-tree and only lossy
    rows reach Python. `first_rowids` holds the rowids of the first `limit` of them (the
    INTEGER primary key of a WITHOUT ROWID table; empty when there is no such key) and
    `examples` the repr() of their values. Raises ValueError for an unknown table or column.
    """
    model = _find_table(conn, table)
    found = model.column(column)
    if found is None:
        raise ValueError(f"{model.name} has no column {column!r}")
    affinity = _target_affinity(new_type, _is_strict(model))
    name = quote_name(model.name)
    expr = quote_name(found.name)
    key_name = _key_value(model)
    key = quote_name(key_name) if key_name else "NULL"
    # A compound SELECT is one statement, so the count and the rows come from one snapshot;
    # NOT INDEXED keeps rowid order even where an index on the column would cover the scan.
    rows = conn.execute(
        f"SELECT 1, (SELECT count(*) FROM {name}), NULL "
        f"UNION ALL SELECT 0, {key}, {expr} FROM {name} NOT INDEXED "
        f"WHERE NOT {_lossless_sql(expr, affinity)}"
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


# --- the plan ---------------------------------------------------------------------------------


def _scratch_table(create_sql: str, name: str) -> Table:
    """Return the table `create_sql` makes, created in an empty in-memory database."""
    # `create_sql` is the database's own text, edited: it runs in the analysis sandbox, and
    # only if it is a CREATE statement.
    from dbheal_lsp.analysis.sandbox import first_keyword, open_sandbox

    if first_keyword(create_sql) != "CREATE":
        raise ValueError("the new table's statement is not a CREATE TABLE statement")
    scratch = open_sandbox()
    try:
        scratch.run(create_sql)
        table = schema_from_connection(scratch, "scratch").table(name)
    except sqlite3.Error as exc:
        raise ValueError(f"the new CREATE TABLE statement is not valid: {exc}") from None
    finally:
        scratch.close()
    if table is None:
        raise ValueError("the new CREATE TABLE statement makes no table")
    return table


def _references(sql: str, names: set[str]) -> bool:
    """Return whether `sql` names one of `names` (lower-case) anywhere, as a token."""
    return any(t.is_name and t.name.lower() in names for t in tokenize(sql))


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def lossy_mode(plan: MigrationPlan) -> str:
    """Return what a change_type `plan` was made to do with lossy values.

    "null": its copy stores NULL for them; "keep" and "refuse": its copy stores them as they
    are (with "refuse", the executor refuses to go on when there are some).
    """
    for step in plan.steps:
        if step.kind == "verify_copy":
            for mode, words in _LOSSY_WORDS.items():
                if step.sql.endswith(f"lossy values {words}"):
                    return mode
    return "refuse"


def change_type_plan(
    conn: sqlite3.Connection,
    table: str,
    column: str,
    new_type: str,
    *,
    on_lossy: str = "refuse",
    issue_fingerprint: str = "",
    check_sql: Sequence[str] = (),
) -> MigrationPlan:
    """Return the plan that changes `table.column` to `new_type` by rebuilding the table.

    The steps follow SQLite's procedure (see the module docstring). `on_lossy` decides the
    copy: "null" stores NULL for values that would not convert losslessly; otherwise values
    are copied as they are and the column's affinity converts them ("refuse" and "abort" let
    the executor refuse when there are lossy values, "keep" keeps them). Raises ValueError if
    the table, the column or the type is unusable, or if ``new_<table>`` already exists.
    """
    if on_lossy not in ON_LOSSY:
        raise ValueError(f"on_lossy must be one of {', '.join(ON_LOSSY)}, not {on_lossy!r}")
    # Read first: if the schema changes while it is being read, the plan is refused as stale.
    schema_version = int(conn.execute("PRAGMA schema_version").fetchone()[0])
    old = _find_table(conn, table)
    target = old.column(column)
    if target is None:
        raise ValueError(f"{old.name} has no column {column!r}")
    if target.is_generated and on_lossy == "null":
        raise ValueError(f"{old.name}.{target.name} is generated: its values cannot be nulled")
    temp = _TEMP_PREFIX + old.name
    master: list[tuple[str, str, str, str | None]] = conn.execute(
        "SELECT type, name, tbl_name, sql FROM main.sqlite_master ORDER BY rowid"
    ).fetchall()
    if any(name.lower() == temp.lower() for _, name, _, _ in master):
        raise ValueError(f"{temp} already exists: drop it or rename it first")
    create = new_create_sql(old.sql or "", target.name, new_type)
    new = _scratch_table(create, temp)
    layout = _layout(old, new, target.name)
    if on_lossy == "null" and (new.rowid_alias or "").lower() == target.name.lower():
        # NULL stored into an INTEGER PRIMARY KEY becomes a new rowid, not a NULL.
        raise ValueError(f"{target.name} becomes the INTEGER PRIMARY KEY: it cannot hold NULL")
    affinity = _target_affinity(new_type, "STRICT" in _parse_create_table(create).options)

    q_old, q_new = quote_name(old.name), quote_name(temp)
    into = ([layout.rowid] if layout.rowid else []) + list(layout.columns)
    select = []
    for name in into:
        expr = quote_name(name)
        if name.lower() == target.name.lower() and on_lossy == "null":
            expr = f"CASE WHEN {_lossless_sql(expr, affinity)} THEN {expr} END"
        select.append(expr)
    steps = [
        PlanStep(create),
        PlanStep(
            f"INSERT INTO {q_new} ({', '.join(quote_name(n) for n in into)}) "
            f"SELECT {', '.join(select)} FROM {q_old}"
        ),
    ]
    if _parse_create_table(create).autoincrement:
        # The copy sets new_X's counter to its largest rowid; X's may be higher (deleted rows),
        # and AUTOINCREMENT promises never to reuse a rowid, so carry X's counter over.
        old_lit, new_lit = _literal(old.name), _literal(temp)
        steps.append(
            PlanStep(
                f"INSERT INTO sqlite_sequence (name, seq) SELECT {new_lit}, seq "
                f"FROM sqlite_sequence WHERE name = {old_lit} AND NOT EXISTS "
                f"(SELECT 1 FROM sqlite_sequence WHERE name = {new_lit})"
            )
        )
        steps.append(
            PlanStep(
                f"UPDATE sqlite_sequence SET seq = (SELECT max(seq) FROM sqlite_sequence "
                f"WHERE name IN ({old_lit}, {new_lit})) WHERE name = {new_lit}"
            )
        )
    words = _LOSSY_WORDS["refuse" if on_lossy == "abort" else on_lossy]
    steps.append(
        PlanStep(f"compare every row of {q_old} with {q_new}; lossy values {words}", "verify_copy")
    )

    # What depends on X: its indexes and triggers (dropped with it), the views that read it,
    # the views and triggers that read those views, and triggers of other tables that read X.
    table_key = old.name.lower()
    gone = {table_key}
    dropped_views: list[str] = []
    dropped_triggers: list[str] = []
    changed = True
    while changed:
        changed = False
        for kind, name, tbl_name, sql in master:
            key = name.lower()
            if kind not in ("view", "trigger") or not sql or key in gone:
                continue
            if tbl_name.lower() in gone or _references(sql, gone):
                gone.add(key)
                changed = True
                if kind == "view":
                    dropped_views.append(name)
                elif tbl_name.lower() not in gone:
                    dropped_triggers.append(name)
    for name in dropped_triggers:
        steps.append(PlanStep(f"DROP TRIGGER {quote_name(name)}"))
    for name in reversed(dropped_views):
        steps.append(PlanStep(f"DROP VIEW {quote_name(name)}"))
    steps.append(PlanStep(f"DROP TABLE {q_old}"))
    steps.append(PlanStep(f"ALTER TABLE {q_new} RENAME TO {q_old}"))
    recreated = {"index": 0, "trigger": 0, "view": 0}
    for kind, name, tbl_name, sql in master:
        if not sql or kind not in recreated:
            continue
        if (kind == "index" and tbl_name.lower() == table_key) or name.lower() in gone:
            steps.append(PlanStep(sql))
            recreated[kind] += 1

    words = f"{recreated['index']} index(es), {recreated['trigger']} trigger(s) and " + (
        f"{recreated['view']} view(s)"
    )
    return MigrationPlan(
        id=f"change_type:{issue_fingerprint or f'{old.name}.{target.name}'}",
        kind="change_type",
        title=f"Change the type of {old.name}.{target.name} to {new_type.strip()}",
        description=(
            f"Rebuild {old.name} by SQLite's table rebuild procedure: create {temp} with "
            f"{target.name} declared {new_type.strip()}, copy every row"
            + (" (values that do not convert losslessly become NULL)" if on_lossy == "null" else "")
            + f", verify the copy, drop {old.name}, rename {temp} to {old.name} and recreate "
            f"its {words}."
        ),
        table=old.name,
        steps=tuple(steps),
        expected=(
            f"{old.name}.{target.name} is declared {new_type.strip()}; every row, index, "
            f"trigger, view and foreign key is kept"
        ),
        issue_fingerprint=issue_fingerprint,
        column=target.name,
        new_type=new_type.strip(),
        schema_version=schema_version,
        migration_name=f"change_{_slug(old.name)}_{_slug(target.name)}_to_{_slug(new_type)}",
        foreign_keys_off=True,
        check_sql=tuple(check_sql),
    )


# --- verifying the copy -----------------------------------------------------------------------


@dataclass(frozen=True)
class CopyComparison:
    """What comparing a table with its rebuilt copy found (`compare_copy`)."""

    report: VerifyReport
    rows: int  # rows of the old table
    lossy_count: int  # values of the converted column that do not convert losslessly


# A lossy row adds this to the per-row sum of `compare_copy`, a bad row adds 1: one sum then
# counts both, so the costly lossless test runs once per row.
_LOSSY_UNIT = 1 << 32


@dataclass(frozen=True)
class _Pair:
    """A table and its rebuilt copy, as the verification reads them side by side."""

    old: Table
    new: Table
    target: Column
    layout: _Layout
    affinity: str

    @property
    def join(self) -> str:
        return " AND ".join(f"{_both(k)[1]} = {_both(k)[0]}" for k in self.layout.key)

    @property
    def source(self) -> str:
        # NOT INDEXED: read X in its own order, so that the lookups into new_X (filled in that
        # order) walk its b-tree forwards instead of jumping about.
        return (
            f"{quote_name(self.old.name)} AS o NOT INDEXED "
            f"LEFT JOIN {quote_name(self.new.name)} AS n ON {self.join}"
        )


def _both(name: str) -> tuple[str, str]:
    """Return how the old row (o) and its copy (n) name the column `name`."""
    return f"o.{quote_name(name)}", f"n.{quote_name(name)}"


def _pair(conn: sqlite3.Connection, plan: MigrationPlan) -> _Pair:
    """Return the plan's table and its copy ``new_<table>``; raise ValueError if one is missing."""
    try:
        schema = schema_from_connection(conn, "database")
    except sqlite3.Error as exc:
        raise ValueError(f"cannot read the schema: {exc}") from None
    old = schema.table(plan.table)
    new = schema.table(_TEMP_PREFIX + (old.name if old else plan.table))
    target = old.column(plan.column) if old is not None and plan.column else None
    if old is None or new is None or target is None:
        raise ValueError(
            f"{plan.table}, its column or its copy {_TEMP_PREFIX}{plan.table} is missing"
        )
    layout = _layout(old, new, target.name)
    affinity = _target_affinity(plan.new_type or "", _is_strict(new))
    return _Pair(old, new, target, layout, affinity)


def _exactly(old: str, new: str) -> str:
    """Return a SQL condition: the two values are the same byte for byte (type and value).

    Unary + takes the columns' affinities away, so that neither side is converted to compare
    them; BINARY, so that a column's collation cannot hide a difference.
    """
    return f"(typeof({new}) = typeof({old}) AND +{new} = +{old} COLLATE BINARY)"


@dataclass(frozen=True)
class RewrittenValues:
    """Lossy values that the copy did not keep as they were (`rewritten_values`)."""

    count: int
    lossy: int  # lossy values in all
    examples: tuple[str, ...]  # "id 3: '007' would become 7 (integer)", in key order


def rewritten_values(
    conn: sqlite3.Connection, plan: MigrationPlan, limit: int = 10
) -> RewrittenValues:
    """Return the lossy values that the new column's affinity changed in the copy.

    Run after the copy, inside the rebuild's transaction. A value counts when its copy
    differs from it in storage class or in value ('007' became 7, '1e3' became 1000,
    '12.5' became the real 12.5): "keep" cannot keep such a value, since SQLite converts it
    again on any write to a column of that affinity. Raises ValueError if the copy is missing.
    """
    pair = _pair(conn, plan)
    o_col, n_col = _both(pair.target.name)
    keys = list(pair.layout.key)
    key_sql = " || ', ' || ".join(f"quote({_both(k)[0]})" for k in keys)
    rows = conn.execute(
        f"SELECT 1, count(*), NULL, NULL, NULL, NULL FROM {pair.source} "
        f"WHERE NOT {_lossless_sql(o_col, pair.affinity)} "
        f"UNION ALL SELECT 0, {key_sql}, quote({o_col}), quote({n_col}), typeof({n_col}), "
        f"typeof({o_col}) FROM {pair.source} WHERE NOT {_lossless_sql(o_col, pair.affinity)} "
        f"AND NOT {_exactly(o_col, n_col)}"
    )
    label = ", ".join(keys)
    count = lossy = 0
    examples: list[str] = []
    for is_total, key, before, after, after_type, before_type in rows:
        if is_total:
            lossy = int(key)
            continue
        count += 1
        if len(examples) < limit:
            shown = after if after_type == before_type else f"{after} ({after_type})"
            examples.append(f"{label} {key}: {_clip(before)} would become {_clip(shown)}")
    return RewrittenValues(count, lossy, tuple(examples))


def _clip(text: str) -> str:
    return text if len(text) <= _EXAMPLE_WIDTH else text[: _EXAMPLE_WIDTH - 3] + "..."


def compare_copy(conn: sqlite3.Connection, plan: MigrationPlan) -> CopyComparison:
    """Compare every row of the plan's table with its copy in ``new_<table>``, in one pass.

    See `verify_copy`; this also returns the row count and the number of lossy values seen,
    so that the executor needs no separate scan to find them.
    """
    try:
        pair = _pair(conn, plan)
    except ValueError as exc:
        return CopyComparison(VerifyReport((VerifyCheck("copy", False, str(exc)),)), 0, 0)
    old, new, target, layout, affinity = pair.old, pair.new, pair.target, pair.layout, pair.affinity
    both = _both
    same = [f"{both(layout.key[0])[1]} IS NOT NULL"]  # the row has a copy
    same += [
        f"{o} IS {n} COLLATE BINARY"
        for o, n in map(both, layout.columns)
        if o != both(target.name)[0]
    ]
    o_col, n_col = both(target.name)
    equal = f"{n_col} IS {_converted_sql(o_col, affinity)} COLLATE BINARY"
    if lossy_mode(plan) == "null":
        kept = f"{n_col} IS NULL"
    else:
        # Here only its NULL-ness: whether the copy kept it byte for byte ('abc' stays, '007'
        # would be 7) is asked only when there are lossy values (`rewritten_values`), so that
        # a clean copy pays nothing for it.
        kept = f"({n_col} IS NULL) = ({o_col} IS NULL)"
    per_row = (
        f"CASE WHEN NOT ({' AND '.join(same)}) THEN 1 "
        f"WHEN {_lossless_sql(o_col, affinity)} THEN (CASE WHEN {equal} THEN 0 ELSE 1 END) "
        f"ELSE {_LOSSY_UNIT} + (CASE WHEN {kept} THEN 0 ELSE 1 END) END"
    )
    source = pair.source
    row = conn.execute(
        f"SELECT count(*), sum({per_row}), (SELECT count(*) FROM {quote_name(new.name)}) "
        f"FROM {source}"
    ).fetchone()
    old_rows, total, new_rows = int(row[0]), int(row[1] or 0), int(row[2])
    bad, lossy_seen = total % _LOSSY_UNIT, total // _LOSSY_UNIT
    checks = [
        VerifyCheck(
            "copy: row count",
            old_rows == new_rows,
            f"{old_rows} row(s) in {old.name}, {new_rows} in {new.name}",
        )
    ]
    detail = f"all {old_rows} row(s) equal"
    if bad:
        key_sql = ", ".join(f"quote({both(k)[0]})" for k in layout.key)
        first = conn.execute(
            f"SELECT {key_sql} FROM {source} WHERE ({per_row}) % {_LOSSY_UNIT} LIMIT 1"
        ).fetchone()
        detail = (
            f"{bad} row(s) differ from their copy; the first has {', '.join(layout.key)} = "
            f"{', '.join(str(v) for v in first or ())}"
        )
    checks.append(VerifyCheck("copy: rows equal", bad == 0, detail))
    return CopyComparison(VerifyReport(tuple(checks)), old_rows, lossy_seen)


def verify_copy(
    conn: sqlite3.Connection, plan: MigrationPlan, lossy: LossyReport | None
) -> VerifyReport:
    """Compare every row of the plan's table with its copy in ``new_<table>``, in one pass.

    Run inside the rebuild's transaction, before the old table is dropped. Checks that the row
    counts are equal, that every unchanged stored column is identical (``IS``, binary collation)
    and that every converted value equals its source converted to the new type. A lossy value
    must be NULL when the plan nulls them, and keep its NULL-ness when the plan keeps them
    (whether it is kept byte for byte is `rewritten_values`' question, which the executor asks
    when there are lossy values to keep). With `lossy`, the number of lossy values seen must be
    the number it reported.
    """
    found = compare_copy(conn, plan)
    checks = list(found.report.checks)
    if lossy is not None:
        checks.append(
            VerifyCheck(
                "copy: lossy values",
                found.lossy_count == lossy.lossy_count,
                f"{found.lossy_count} lossy value(s) seen, {lossy.lossy_count} reported",
            )
        )
    return VerifyReport(tuple(checks))
