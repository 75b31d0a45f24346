"""A fix's backup on the server: the changed table copied into dbheal_backup, a manifest with
its types and row counts and no password; the fingerprint any committed write changes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from dbheal_lsp.analysis.project import load_project
from dbheal_lsp.databases.postgres.backup import (
    describe_losses,
    drop_copies,
    fingerprint,
    manifest_summary,
    take_backup,
)
from dbheal_lsp.fixes.orchestrator import FixEngine
from dbheal_lsp.model import IssueType
from tests.databases.postgres.fixes_project import nothing_left_behind, shop


def test_the_changed_table_is_copied_and_described(
    pg_url: str, pg_conn: Any, tmp_path: Path
) -> None:
    pg_conn.execute("CREATE TABLE t (id int PRIMARY KEY, name text)")
    pg_conn.execute("INSERT INTO t VALUES (1, 'a'), (2, 'b')")
    copy = tmp_path / "fix-1" / "database" / "server.pgserver"
    url = pg_url.replace("@", ":pw@", 1)
    take_backup(pg_conn, url, "public", copy, ["t", "created_by_the_fix"])
    manifest = json.loads(copy.read_text())
    assert manifest["copies"] == {"t": "dbheal_backup.fix-1_t"}
    assert ":pw@" not in copy.read_text()
    copied = pg_conn.execute('SELECT count(*) FROM dbheal_backup."fix-1_t"').fetchone()
    assert copied[0] == 2
    assert manifest_summary(copy) == {"t": ("id integer, name text", 2)}


def test_the_fingerprint_changes_with_a_write(pg_conn: Any) -> None:
    pg_conn.execute("CREATE TABLE t (id int PRIMARY KEY, name text)")
    pg_conn.execute("INSERT INTO t VALUES (1, 'a')")
    first = fingerprint(pg_conn, "public")
    assert fingerprint(pg_conn, "public") == first
    pg_conn.execute("UPDATE t SET name = 'b'")  # same count: the row's version changes
    assert fingerprint(pg_conn, "public") != first


def test_losses_name_the_rows_written_since() -> None:
    before = {"t": ("id integer", 2)}
    now = {"t": ("id integer", 5), "u": ("id integer", 1)}
    said = describe_losses(before, now)
    assert said == (
        "restoring would drop 3 row(s) in t written since the fix, table u (1 row(s)), which "
        "the backup does not have"
    )


def test_drop_copies_drops_only_the_backup_schema_s_tables(pg_conn: Any, tmp_path: Path) -> None:
    pg_conn.execute("CREATE TABLE t (id int PRIMARY KEY)")
    copy = tmp_path / "fix-2" / "database" / "server.pgserver"
    take_backup(pg_conn, "postgresql://x@/db", "public", copy, ["t"])
    # A manifest is a file in the project: one naming another table drops nothing of it.
    dropped = drop_copies(pg_conn, ["dbheal_backup.fix-2_t", "public.t", "dbheal_backup."])
    assert dropped == ["dbheal_backup.fix-2_t"]
    assert pg_conn.execute("SELECT to_regclass('dbheal_backup.\"fix-2_t\"')").fetchone() == (None,)
    assert pg_conn.execute("SELECT to_regclass('public.t')").fetchone() == ("t",)


def test_prune_drops_the_copies_of_the_backups_it_deletes(
    pg_url: str, pg_conn: Any, tmp_path: Path
) -> None:
    root = shop(tmp_path, pg_url, pg_conn)
    pg_conn.execute("INSERT INTO users (email) VALUES ('a@example.com')")
    engine = FixEngine(load_project(root))
    result = engine.project.check_paths([root], use_cache=False)
    (missing,) = [i for i in result.issues if i.type is IssueType.MISSING_COLUMN]
    (plan,) = engine.schema_plans(missing)
    first = engine.apply_schema(plan, issue=missing)
    assert first.applied and first.record is not None, first.message
    assert _copies(pg_conn) == [f"{first.record.id}_users"]

    # Kept while the fix can be rolled back, whatever its age.
    assert engine.prune(max_age_days=0, keep_per_database=0) == []
    assert _copies(pg_conn) == [f"{first.record.id}_users"]

    undone = engine.rollback(first.record.id)
    assert undone.outcome == "applied", undone.message
    assert _copies(pg_conn) == [f"{first.record.id}_users"]
    pruned = engine.prune(max_age_days=0, keep_per_database=0)
    assert sorted(pruned) == sorted(
        f".dbheal/backups/{fix_id}" for fix_id in (first.record.id, undone.id)
    )
    assert _copies(pg_conn) == []
    assert not (root / ".dbheal" / "backups" / first.record.id).exists()
    assert pg_conn.execute("SELECT count(*) FROM users").fetchone() == (1,)
    assert nothing_left_behind(pg_conn) == []


def test_prune_keeps_the_folder_while_the_server_is_unreachable(
    pg_url: str, pg_conn: Any, tmp_path: Path
) -> None:
    root = shop(tmp_path, pg_url, pg_conn)
    engine = FixEngine(load_project(root))
    (missing,) = [
        i
        for i in engine.project.check_paths([root], use_cache=False).issues
        if i.type is IssueType.MISSING_COLUMN
    ]
    applied = engine.apply_schema(engine.schema_plans(missing)[0], issue=missing)
    assert applied.record is not None
    undone = engine.rollback(applied.record.id)
    server = root / ".dbheal" / "postgres"
    (stands_for,) = server.iterdir()
    real = stands_for.read_text()
    settings = (root / "pyproject.toml").read_text()
    stands_for.write_text("postgresql://nobody@/nowhere?host=/nonexistent&port=1\n")
    # A server the project does not name is never connected to: its copies stay for now.
    (root / "pyproject.toml").write_text("[tool.dbheal]\n")
    # The rollback's folder holds no copy and goes; the fix's stays with its copy.
    pruned = FixEngine(load_project(root)).prune(max_age_days=0, keep_per_database=0)
    assert pruned == [f".dbheal/backups/{undone.id}"]
    assert _copies(pg_conn) == [f"{applied.record.id}_users"]
    assert (root / ".dbheal" / "backups" / applied.record.id).is_dir()
    stands_for.write_text(real)
    (root / "pyproject.toml").write_text(settings)
    pruned = FixEngine(load_project(root)).prune(max_age_days=0, keep_per_database=0)
    assert pruned == [f".dbheal/backups/{applied.record.id}"]
    assert _copies(pg_conn) == []


def _copies(conn: Any) -> list[str]:
    rows = conn.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'dbheal_backup' ORDER BY 1"
    ).fetchall()
    return [str(r[0]) for r in rows]
