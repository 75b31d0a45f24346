"""Changing a column's type by rebuilding its table, as SQLite's own procedure says.

SQLite cannot change a column's type in place. Section 7 of https://www.sqlite.org/lang_altertable.html
("Making Other Kinds Of Table Schema Changes") gives the general procedure, which this module
turns into a `MigrationPlan` for the executor (`fixes/apply.py`):

1. ``PRAGMA foreign_keys=OFF`` outside the transaction (the plan's ``foreign_keys_off``), then
   ``BEGIN`` (the executor does both).
2. ``CREATE TABLE new_X`` from X's own CREATE statement with only the column's type replaced
   (`create_table.new_create_sql`: text surgery, so constraints, comments and formatting survive).
3. ``INSERT INTO new_X (...) SELECT ... FROM X``: the new column's affinity converts the values;
   rowids are copied, and ``sqlite_sequence`` keeps X's AUTOINCREMENT counter.
4. A ``verify_copy`` step: every row of new_X is compared with its row in X (`copy_check.verify_copy`).
5. Views that read X (and views and triggers that read those) are dropped, because renaming a
   table makes SQLite re-check every view and trigger, and one that names the missing X fails.
6. ``DROP TABLE X``, ``ALTER TABLE new_X RENAME TO X``.
7. Every index, trigger and view that was dropped is created again from its saved SQL, in the
   original order of ``sqlite_master``.
8. The executor checks ``PRAGMA quick_check`` and ``PRAGMA foreign_key_check``, then commits.

Which values are lossy is decided by pure SQL expressions (`lossless.lossy_report`), so that a million
rows are scanned by SQLite without a Python call per row.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Sequence

from dbheal_lsp.analysis.schema import Table
from dbheal_lsp.analysis.sqllex import (
    tokenize,
)
from dbheal_lsp.databases.sqlite.catalog import schema_from_connection
from dbheal_lsp.databases.sqlite.create_table import (
    TEMP_PREFIX,
    new_create_sql,
    parse_create_table,
    quote_name,
    sql_literal,
)
from dbheal_lsp.databases.sqlite.lossless import (
    LOSSY_WORDS,
    ON_LOSSY,
    CopyLayout,
    copy_layout,
    lossless_sql,
    rebuilt_table,
    target_affinity,
)
from dbheal_lsp.model import MigrationPlan, PlanStep


def _scratch_table(create_sql: str, name: str) -> Table:
    """Return the table `create_sql` makes, created in an empty in-memory database."""
    # `create_sql` is the database's own text, edited: it runs in the analysis sandbox, and
    # only if it is a CREATE statement.
    from dbheal_lsp.databases.sqlite.sandbox import first_keyword, open_sandbox

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
            for mode, words in LOSSY_WORDS.items():
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
    old = rebuilt_table(conn, table)
    target = old.column(column)
    if target is None:
        raise ValueError(f"{old.name} has no column {column!r}")
    if target.is_generated and on_lossy == "null":
        raise ValueError(f"{old.name}.{target.name} is generated: its values cannot be nulled")
    temp = TEMP_PREFIX + old.name
    master: list[tuple[str, str, str, str | None]] = conn.execute(
        "SELECT type, name, tbl_name, sql FROM main.sqlite_master ORDER BY rowid"
    ).fetchall()
    if any(name.lower() == temp.lower() for _, name, _, _ in master):
        raise ValueError(f"{temp} already exists: drop it or rename it first")
    create = new_create_sql(old.sql or "", target.name, new_type)
    new = _scratch_table(create, temp)
    layout = copy_layout(old, new, target.name)
    if on_lossy == "null" and (new.rowid_alias or "").lower() == target.name.lower():
        # NULL stored into an INTEGER PRIMARY KEY becomes a new rowid, not a NULL.
        raise ValueError(f"{target.name} becomes the INTEGER PRIMARY KEY: it cannot hold NULL")
    affinity = target_affinity(new_type, "STRICT" in parse_create_table(create).options)

    steps = [PlanStep(create), *_copy_steps(old, temp, target.name, layout, affinity, on_lossy)]
    if parse_create_table(create).autoincrement:
        steps += _sequence_steps(old.name, temp)
    steps.append(_verify_copy_step(old.name, temp, on_lossy))
    swap, recreated = _swap_steps(master, old.name, temp)
    steps += swap
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


def _verify_copy_step(table: str, temp: str, on_lossy: str) -> PlanStep:
    """The step that compares the copy with `table`, naming what it does with lossy values
    (`lossy_mode` reads it back)."""
    words = LOSSY_WORDS["refuse" if on_lossy == "abort" else on_lossy]
    return PlanStep(
        f"compare every row of {quote_name(table)} with {quote_name(temp)}; lossy values {words}",
        "verify_copy",
    )


def _copy_steps(
    old: Table, temp: str, column: str, layout: CopyLayout, affinity: str, on_lossy: str
) -> list[PlanStep]:
    """The INSERT that copies every row of `old` into `temp` (lossy values NULL when asked)."""
    into = ([layout.rowid] if layout.rowid else []) + list(layout.columns)
    select = []
    for name in into:
        expr = quote_name(name)
        if name.lower() == column.lower() and on_lossy == "null":
            expr = f"CASE WHEN {lossless_sql(expr, affinity)} THEN {expr} END"
        select.append(expr)
    return [
        PlanStep(
            f"INSERT INTO {quote_name(temp)} ({', '.join(quote_name(n) for n in into)}) "
            f"SELECT {', '.join(select)} FROM {quote_name(old.name)}"
        )
    ]


def _sequence_steps(old: str, temp: str) -> list[PlanStep]:
    """Carry X's AUTOINCREMENT counter over to new_X.

    The copy sets new_X's counter to its largest rowid; X's may be higher (deleted rows), and
    AUTOINCREMENT promises never to reuse a rowid."""
    old_lit, new_lit = sql_literal(old), sql_literal(temp)
    return [
        PlanStep(
            f"INSERT INTO sqlite_sequence (name, seq) SELECT {new_lit}, seq "
            f"FROM sqlite_sequence WHERE name = {old_lit} AND NOT EXISTS "
            f"(SELECT 1 FROM sqlite_sequence WHERE name = {new_lit})"
        ),
        PlanStep(
            f"UPDATE sqlite_sequence SET seq = (SELECT max(seq) FROM sqlite_sequence "
            f"WHERE name IN ({old_lit}, {new_lit})) WHERE name = {new_lit}"
        ),
    ]


_Master = Sequence[tuple[str, str, str, str | None]]


def _dependents(master: _Master, table: str) -> tuple[set[str], list[str], list[str]]:
    """What depends on `table`: every name that goes with it (lower-cased), and the views and
    triggers of other tables to drop first.

    Its indexes and triggers are dropped with it; then the views that read it, the views and
    triggers that read those views, and triggers of other tables that read it."""
    gone = {table.lower()}
    views: list[str] = []
    triggers: list[str] = []
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
                    views.append(name)
                elif tbl_name.lower() not in gone:
                    triggers.append(name)
    return gone, views, triggers


def _swap_steps(master: _Master, table: str, temp: str) -> tuple[list[PlanStep], dict[str, int]]:
    """Drop what depends on `table` and the table, rename `temp` to it, and create again every
    index, trigger and view that went, in sqlite_master's order; with the count of each kind."""
    gone, views, triggers = _dependents(master, table)
    steps = [PlanStep(f"DROP TRIGGER {quote_name(name)}") for name in triggers]
    steps += [PlanStep(f"DROP VIEW {quote_name(name)}") for name in reversed(views)]
    steps.append(PlanStep(f"DROP TABLE {quote_name(table)}"))
    steps.append(PlanStep(f"ALTER TABLE {quote_name(temp)} RENAME TO {quote_name(table)}"))
    recreated = {"index": 0, "trigger": 0, "view": 0}
    for kind, name, tbl_name, sql in master:
        if not sql or kind not in recreated:
            continue
        if (kind == "index" and tbl_name.lower() == table.lower()) or name.lower() in gone:
            steps.append(PlanStep(sql))
            recreated[kind] += 1
    return steps, recreated
