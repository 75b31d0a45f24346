"""The inverse of a fix on PostgreSQL: drop what it made while nothing was written to it since,
the old type back from the backup's manifest, refused when data written since would be lost."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dbheal_lsp.databases.postgres.backup import take_backup
from dbheal_lsp.databases.postgres.inverse import inverse_plan
from dbheal_lsp.databases.schema_fixes import InverseRefused, NoInverse
from dbheal_lsp.model import MigrationPlan, PlanStep


def _plan(kind: str, *sql: str, column: str | None = None) -> MigrationPlan:
    steps = tuple(PlanStep(s) for s in sql)
    return MigrationPlan(f"{kind}:x", kind, "Fix", "", "t", steps, "", column=column)


def test_an_added_column_and_index_are_dropped_newest_first(pg_conn: Any, tmp_path: Path) -> None:
    pg_conn.execute("CREATE TABLE t (id int PRIMARY KEY, note text DEFAULT 'x')")
    pg_conn.execute("CREATE INDEX idx_t_note ON t (note)")
    pg_conn.execute("INSERT INTO t (id) VALUES (1)")  # the default only: nothing written since
    plan = _plan(
        "add_column",
        "ALTER TABLE t ADD COLUMN note text DEFAULT 'x'",
        "CREATE INDEX idx_t_note ON t (note)",
    )
    inverse = inverse_plan(pg_conn, "public", [plan], fix_id="f1", backup=tmp_path / "none")
    assert [s.sql for s in inverse.plan.steps] == [
        'DROP INDEX "public"."idx_t_note"',
        'ALTER TABLE "t" DROP COLUMN "note"',
    ]
    assert [u.label for u in inverse.undoes] == ["index idx_t_note", "column t.note"]


def test_values_written_since_refuse_the_inverse(pg_conn: Any, tmp_path: Path) -> None:
    pg_conn.execute("CREATE TABLE t (id int PRIMARY KEY, note text)")
    pg_conn.execute("INSERT INTO t VALUES (1, 'kept')")
    plan = _plan("add_column", "ALTER TABLE t ADD COLUMN note text")
    with pytest.raises(InverseRefused, match=r"column t.note holds 1 value\(s\)"):
        inverse_plan(pg_conn, "public", [plan], fix_id="f1", backup=tmp_path / "none")
    with pytest.raises(NoInverse, match="no inverse of 'CREATE VIEW v AS SELECT 1'"):
        inverse_plan(
            pg_conn,
            "public",
            [_plan("x", "CREATE VIEW v AS SELECT 1")],
            fix_id="f",
            backup=tmp_path,
        )


def test_a_type_change_goes_back_to_the_type_in_the_backup(
    pg_url: str, pg_conn: Any, tmp_path: Path
) -> None:
    pg_conn.execute("CREATE TABLE t (id int PRIMARY KEY, qty text)")
    pg_conn.execute("INSERT INTO t VALUES (1, '5')")
    copy = take_backup(pg_conn, pg_url, "public", tmp_path / "f" / "database" / "s.pgserver", ["t"])
    pg_conn.execute("ALTER TABLE t ALTER COLUMN qty TYPE integer USING qty::integer")
    plan = _plan("change_type", "ALTER ...", column="qty")
    inverse = inverse_plan(pg_conn, "public", [plan], fix_id="f", backup=copy)
    assert (
        inverse.plan.steps[0].sql
        == 'ALTER TABLE "t" ALTER COLUMN "qty" TYPE text USING "qty"::text'
    )
    assert inverse.undoes[0].old_type == "text"
