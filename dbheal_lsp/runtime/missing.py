"""What an OperationalError says is missing, and what heals it: a table or a column, the
migration's plan for it, and why there is none.

Importing this module imports only the standard library; the migrations' model and the plans
are imported on the first error.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Literal, NamedTuple

if TYPE_CHECKING:
    from dbheal_lsp.analysis.migrations import MigrationResult
    from dbheal_lsp.analysis.schema import Schema, Table
    from dbheal_lsp.model import MigrationPlan, Origin

__all__ = ["NotHealed", "Problem", "Target", "check_defined", "find_target", "problem_of"]

# Patterns (compiled by `re` on the first error, not at import).
_NO_TABLE = r"no such table: (.+)\Z"
_NO_COLUMN = r"no such column: (.+)\Z"
_HAS_NO_COLUMN = r"table (.+) has no column named (.+)\Z"


class Problem(NamedTuple):
    """A missing table (`name`), or a missing column `name` of the table or alias `qualifier`
    (`exact` when the qualifier is certainly the table, as in "table T has no column named C")."""

    kind: Literal["table", "column"]
    name: str
    qualifier: str = ""
    exact: bool = False

    @property
    def table(self) -> str | None:
        """The table to record with the event: the missing one, or the column's if known."""
        if self.kind == "table":
            return self.name
        return self.qualifier if self.exact else None


def problem_of(message: str) -> Problem | None:
    """Return what the message of an OperationalError says is missing, if it says so."""
    match = re.match(_NO_TABLE, message, re.DOTALL)
    if match:
        name = match.group(1)
        if name[:5].lower() == "main.":
            name = name[5:]
        return Problem("table", name)
    match = re.match(_NO_COLUMN, message, re.DOTALL)
    if match:
        qualifier, _, column = match.group(1).rpartition(".")
        return Problem("column", column, qualifier.rpartition(".")[2])
    match = re.match(_HAS_NO_COLUMN, message, re.DOTALL)
    if match:
        table = match.group(1)
        if table[:5].lower() == "main.":
            table = table[5:]
        return Problem("column", match.group(2), table, exact=True)
    return None


class Target:
    """One thing to heal: a table or a column, its plan (None when it exists now) and where the
    migration defines it (file:line relative to the project root)."""

    __slots__ = ("column", "kind", "origin", "plan", "table")

    def __init__(
        self,
        kind: Literal["table", "column"],
        table: str,
        column: str | None,
        plan: MigrationPlan | None,
        origin: str = "",
    ) -> None:
        self.kind = kind
        self.table = table
        self.column = column
        self.plan = plan
        self.origin = origin

    @property
    def action(self) -> str:
        """What healing it does, as the event's action starts: "create_table T" or
        "add_column T.C" (what the loop window looks for in the state file)."""
        if self.kind == "table":
            return f"create_table {self.table}"
        return f"add_column {self.table}.{self.column}"

    @property
    def key(self) -> str:
        """The target's name in the loop window and among the heals of one call."""
        return self.action.lower()

    def describe(self) -> str:
        """The event's action: "create_table T from migrations/004_x.sql:3 (3 statements)"."""
        steps = len(self.plan.steps) if self.plan is not None else 0
        plural = "" if steps == 1 else "s"
        return f"{self.action} from {self.origin} ({steps} statement{plural})"


class NotHealed(Exception):
    """A reason, recorded as the outcome, why the error is raised again."""

    def __init__(self, outcome: str, action: str = "none") -> None:
        super().__init__(outcome)
        self.outcome = outcome
        self.action = action


def check_defined(problem: Problem, migrations: MigrationResult) -> None:
    """Raise NotHealed when no migration defines what is missing, before any lock is taken
    or transaction begun (the failing query of a table nobody migrates costs no write lock)."""
    if problem.kind == "table":
        if migrations.schema.table(problem.name) is None:
            raise NotHealed(f"not healed: no migration defines table {problem.name}")
        return
    column = problem.name.lower()
    if not any(
        c == column and s.kind == "add_column" for (_, c), s in migrations.column_statements.items()
    ):
        raise NotHealed(_no_column_adder(problem))


def _no_column_adder(problem: Problem) -> str:
    of = f" of table {problem.qualifier}" if problem.exact else ""
    return (
        f"not healed: no migration adds a column {problem.name}{of} (ALTER TABLE ... ADD "
        "COLUMN) to a table of the statement"
    )


def find_target(
    problem: Problem,
    migrations: MigrationResult,
    live: Schema,
    conn: sqlite3.Connection,
    sql: str,
    root: Path,
) -> Target:
    """Return what to heal for `problem` (with no plan when it exists now), or raise
    NotHealed saying why nothing can be. `sql` is the failed statement, `live` the schema of
    `conn`'s database now; origins are relative to the project `root`."""
    if problem.kind == "table":
        return _table_target(problem.name, migrations, live, conn, root)
    return _column_target(problem, migrations, live, conn, sql, root)


def _table_target(
    name: str, migrations: MigrationResult, live: Schema, conn: sqlite3.Connection, root: Path
) -> Target:
    from dbheal_lsp.databases.sqlite.plans import create_table_plan

    present = live.table(name)
    if present is not None:
        return Target("table", present.name, None, None)
    defined = migrations.schema.table(name)
    if defined is None:
        raise NotHealed(f"not healed: no migration defines table {name}")
    plan = create_table_plan(name, conn, live, migrations)
    creating = next(
        (
            s
            for s in migrations.statements_for_table(name)
            if s.kind in ("create_table", "create_view")
        ),
        None,
    )
    if plan is None or creating is None:
        raise NotHealed(f"not healed: cannot plan table {name} from the migrations")
    return Target("table", defined.name, None, plan, _origin(root, creating.origin))


def _column_target(
    problem: Problem,
    migrations: MigrationResult,
    live: Schema,
    conn: sqlite3.Connection,
    sql: str,
    root: Path,
) -> Target:
    from dbheal_lsp.databases.sqlite.plans import add_column_plan

    column = problem.name
    candidates = _column_tables(problem, migrations, live, sql)
    if not candidates:
        raise NotHealed(_no_column_adder(problem))
    missing = [t for t in candidates if t.column(column) is None]
    if not missing:
        return Target("column", candidates[0].name, column, None)
    if len(missing) > 1:
        names = ", ".join(sorted(t.name for t in missing))
        raise NotHealed(f"not healed: column {column} is ambiguous (tables {names})")
    table = missing[0]
    plan = add_column_plan(table.name, column, conn, live, migrations)
    adding = migrations.column_statement(table.name, column)
    if plan is None or adding is None:
        raise NotHealed(f"not healed: cannot plan column {table.name}.{column}")
    return Target("column", table.name, column, plan, _origin(root, adding.origin))


def _column_tables(
    problem: Problem, migrations: MigrationResult, live: Schema, sql: str
) -> list[Table]:
    """The tables the column can be of: those a migration adds it to (ALTER TABLE ... ADD
    COLUMN), narrowed to the one the message names, else to those the statement names."""
    column = problem.name
    candidates = [
        t
        for t in live.tables.values()
        if not t.is_view
        and (s := migrations.column_statement(t.name, column)) is not None
        and s.kind == "add_column"
    ]
    named = [t for t in candidates if t.name.lower() == problem.qualifier.lower()]
    if named or problem.exact:
        return named
    if len(candidates) > 1:
        return [t for t in candidates if _mentions(sql, t.name)]
    return candidates


def _mentions(sql: str, name: str) -> bool:
    return re.search(rf"(?<![\w$]){re.escape(name)}(?![\w$])", sql, re.IGNORECASE) is not None


def _origin(root: Path, origin: Origin) -> str:
    from dbheal_lsp.files import relative_path

    return f"{relative_path(origin.path, root)}:{origin.line}"
