"""Rolling fixes back (`fixes/rollback.py`): dependents, refusals, inverses and restores, over a real project folder and database."""

from __future__ import annotations

import multiprocessing
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from dbheal_lsp.backups import database_backup_path
from dbheal_lsp.codec import to_json
from dbheal_lsp.databases.sqlite.backup import backup_database
from dbheal_lsp.databases.sqlite.fingerprint import remember_after_fix
from dbheal_lsp.fixes.fix_backups import backup_fix
from dbheal_lsp.fixes.lock import database_lock
from dbheal_lsp.fixes.rollback import RollbackError, dependents, plan_rollback, rollback
from dbheal_lsp.fixes.state import StateStore
from dbheal_lsp.model import MigrationPlan, PlanStep
from dbheal_lsp.records import FixRecord, utc_now
from tests.fixes.recorded_fixes import apply_code_fix, apply_schema_fix, checksum


def test_rollback_is_refused_while_a_later_fix_depends_on_it(project: Path) -> None:
    db = project / "app.sqlite"
    original = checksum(db)
    with StateStore(project) as store:
        first = apply_schema_fix(store, project, "CREATE INDEX users_email ON users (email);")
        after_first = checksum(db)
        code = apply_code_fix(store, project, {"app/views.py": b"import models\n"})
        second = apply_schema_fix(store, project, "ALTER TABLE users ADD COLUMN nick TEXT;")
        third = apply_schema_fix(store, project, "UPDATE users SET nick = 'n';")

        assert [f.id for f in dependents(store, first.id)] == [third.id, second.id]
        assert dependents(store, code.id) == []
        with pytest.raises(RollbackError) as refused:
            rollback(store, project, first.id)
        assert f"roll back {third.id}, then {second.id} first" in str(refused.value)
        assert checksum(db) != original  # nothing was touched

        undo_third = rollback(store, project, third.id)
        undo_second = rollback(store, project, second.id)
        assert checksum(db) == after_first
        # The rollback records themselves are not later fixes that block the first one.
        assert dependents(store, first.id) == []
        undo_first = rollback(store, project, first.id)
        assert checksum(db) == original

        stored_first = store.fix(first.id)
        assert stored_first is not None and stored_first.outcome == "rolled_back"
        assert stored_first.rolled_back_at == undo_first.created_at
        for undo, fix in ((undo_first, first), (undo_second, second), (undo_third, third)):
            assert undo.rollback_of == fix.id
            assert undo.kind == fix.kind == "schema"
            assert undo.outcome == "applied"
            assert undo.database == "app.sqlite"
            assert undo.verify.ok and undo.verify.checks
            assert undo.issue_fingerprint == fix.issue_fingerprint
        # Rollbacks do not count as fixes of the issue for loop prevention.
        assert store.times_fixed("fp", 3600) == 3
        assert (project / "app" / "views.py").read_bytes() == b"import models\n"


def test_an_open_connection_sees_the_rolled_back_database(project: Path) -> None:
    db = project / "app.sqlite"
    app = sqlite3.connect(db)
    assert app.execute("SELECT count(*) FROM users").fetchone()[0] == 50
    with StateStore(project) as store:
        fix = apply_schema_fix(store, project, "DELETE FROM users WHERE id > 10;")
        assert app.execute("SELECT count(*) FROM users").fetchone()[0] == 10
        rollback(store, project, fix.id)
    assert app.execute("SELECT count(*) FROM users").fetchone()[0] == 50
    app.close()


def test_rollback_never_drops_values_written_since_without_being_told(project: Path) -> None:
    db = project / "app.sqlite"
    with StateStore(project) as store:
        fix = apply_schema_fix(store, project, "ALTER TABLE users ADD COLUMN nick TEXT;")
        conn = sqlite3.connect(db)
        conn.execute("INSERT INTO users (email, nick) VALUES ('late@x.org', 'late')")
        conn.commit()
        conn.close()
        written = checksum(db)
        # Dropping the column would delete 'late': refused, nothing changed.
        with pytest.raises(RollbackError, match=r"users\.nick holds 1 value written since"):
            rollback(store, project, fix.id)
        assert checksum(db) == written
        # Told to, the backup is restored; the rows it drops are in the rollback's own backup.
        undo = rollback(store, project, fix.id, restore_backup=True)
    assert undo.backup_dir is not None and undo.backup_dir in undo.message
    assert "restored the database backup as asked; restoring dropped 1 row in users" in undo.message
    kept = database_backup_path(project, undo.backup_dir, "app.sqlite")
    conn = sqlite3.connect(kept)
    assert conn.execute("SELECT nick FROM users WHERE email = 'late@x.org'").fetchone() == ("late",)
    conn.close()
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT count(*) FROM users WHERE email = 'late@x.org'").fetchone() == (0,)
    conn.close()


def test_rollback_of_code_files_restores_exact_bytes(project: Path) -> None:
    models = project / "app" / "models.py"
    before = models.read_bytes()
    with StateStore(project) as store:
        fix = apply_code_fix(
            store,
            project,
            {
                "app/models.py": b"def load(db, uid):\n"
                b"    return db.execute('SELECT * FROM users WHERE id = ?', (uid,))\n",
                "app/views.py": None,  # the fix deleted it
                "migrations/0002_nick.sql": b"ALTER TABLE users ADD nick TEXT;\n",  # and made it
            },
        )
        assert models.read_bytes() != before
        undo = rollback(store, project, fix.id)
    assert models.read_bytes() == before
    assert (project / "app" / "views.py").read_text(encoding="utf-8") == "import models  # é\n"
    assert not (project / "migrations" / "0002_nick.sql").exists()
    assert undo.kind == "code" and undo.database is None and undo.verify.ok
    assert undo.files == fix.files


def test_a_code_fix_on_the_same_file_is_a_dependent(project: Path) -> None:
    with StateStore(project) as store:
        first = apply_code_fix(store, project, {"app/models.py": b"one\n"})
        other = apply_code_fix(store, project, {"app/views.py": b"other\n"})
        second = apply_code_fix(store, project, {"app/models.py": b"two\n", "x.py": b""})
        assert dependents(store, first.id) == [second]
        assert dependents(store, other.id) == []
        with pytest.raises(RollbackError, match=f"roll back {second.id} first"):
            rollback(store, project, first.id)
        rollback(store, project, second.id)
        assert (project / "app" / "models.py").read_bytes() == b"one\n"
        rollback(store, project, first.id)
    assert (project / "app" / "models.py").read_bytes().startswith(b"def load(db, uid):\r\n")


def test_rollback_refusals(project: Path) -> None:
    with StateStore(project) as store:
        with pytest.raises(RollbackError, match="no such fix"):
            rollback(store, project, "20990101T000000-beef")
        failed = apply_schema_fix(store, project, "SELECT 1;", outcome="failed")
        with pytest.raises(RollbackError, match="was not applied"):
            rollback(store, project, failed.id)
        fix = apply_schema_fix(store, project, "CREATE TABLE t (x);")
        undo = rollback(store, project, fix.id)
        with pytest.raises(RollbackError, match="already rolled back"):
            rollback(store, project, fix.id)
        with pytest.raises(RollbackError, match="itself the rollback of"):
            rollback(store, project, undo.id)
        gone = apply_schema_fix(store, project, "CREATE TABLE u (x);")
        assert gone.backup_dir is not None
        database_backup_path(project, gone.backup_dir, "app.sqlite").unlink()
        with pytest.raises(RollbackError, match=r"database backup .* is missing"):
            rollback(store, project, gone.id)
        stored = store.fix(gone.id)
        assert stored is not None and stored.outcome == "applied"


def test_a_failed_rollback_changes_nothing_and_is_recorded(project: Path) -> None:
    db = project / "app.sqlite"
    with StateStore(project) as store:
        fix_id = store.new_fix_id()
        saved = backup_fix(project, fix_id, database="app.sqlite", files=["app/views.py"])
        (project / "app" / "views.py").write_text("fixed\n")
        conn = sqlite3.connect(db)
        conn.execute("DELETE FROM users")
        conn.commit()
        conn.close()
        remember_after_fix(db, project / saved.backup_dir)  # nothing written since
        fix = store.record_fix(
            FixRecord(
                id=fix_id,
                created_at=utc_now(),
                kind="both",
                title="both",
                database="app.sqlite",
                files=("app/views.py",),
                backup_dir=saved.backup_dir,
            )
        )
        damaged = database_backup_path(project, saved.backup_dir, "app.sqlite")
        data = bytearray(damaged.read_bytes())
        data[4096:8192] = b"\xff" * 4096
        damaged.write_bytes(bytes(data))
        with pytest.raises(RollbackError, match=r"damaged.*nothing was changed"):
            rollback(store, project, fix.id)
        assert (project / "app" / "views.py").read_text() == "fixed\n"
        conn = sqlite3.connect(db)
        assert conn.execute("SELECT count(*) FROM users").fetchone()[0] == 0
        conn.close()
        stored = store.fix(fix.id)
        assert stored is not None and stored.outcome == "applied"
        attempts = [f for f in store.fixes() if f.rollback_of == fix.id]
        assert [a.outcome for a in attempts] == ["failed"]


def _hold(root: str, db: str, held: Any, release: Any) -> None:
    with database_lock(Path(db), 10, root=Path(root)):
        held.set()
        release.wait(30)


def test_rollback_waits_for_the_database_lock(project: Path) -> None:
    context = multiprocessing.get_context("spawn")
    held, release = context.Event(), context.Event()
    holder = context.Process(
        target=_hold, args=(str(project), str(project / "app.sqlite"), held, release)
    )
    with StateStore(project) as store:
        fix = apply_schema_fix(store, project, "CREATE TABLE t (x);")
        holder.start()
        try:
            assert held.wait(30)
            with pytest.raises(
                RollbackError, match=r"another dbheal process is changing .*try again"
            ):
                rollback(store, project, fix.id, lock_timeout=0.2)
            stored = store.fix(fix.id)
            assert stored is not None and stored.outcome == "applied"
        finally:
            release.set()
            holder.join(30)
        assert rollback(store, project, fix.id, lock_timeout=10).rollback_of == fix.id


def test_rollback_of_a_flat_backup_deletes_the_migration_the_fix_wrote(project: Path) -> None:
    """The orchestrator's layout: the database copy directly in the fix's folder, and a new
    migration file written after the backup, listed in the record's files."""
    db = project / "app.sqlite"
    original = checksum(db)
    with StateStore(project) as store:
        fix_id = store.new_fix_id()
        folder = project / ".dbheal" / "backups" / fix_id
        backup_database(db, folder)
        conn = sqlite3.connect(db)
        conn.execute("ALTER TABLE users ADD COLUMN nick TEXT")
        conn.commit()
        conn.close()
        migration = project / "migrations" / "002_add_nick.sql"
        migration.parent.mkdir()
        migration.write_text("ALTER TABLE users ADD COLUMN nick TEXT;\n")
        plan = MigrationPlan(
            id="add_column:users.nick",
            kind="add_column",
            title="Add users.nick",
            description="",
            table="users",
            column="nick",
            steps=(PlanStep("ALTER TABLE users ADD COLUMN nick TEXT"),),
            expected="",
        )
        fix = store.record_fix(
            FixRecord(
                id=fix_id,
                created_at=utc_now(),
                kind="schema",
                title="Add users.nick",
                plan_json=to_json(plan),
                database="app.sqlite",
                files=("migrations/002_add_nick.sql",),
                backup_dir=f".dbheal/backups/{fix_id}",
            )
        )
        undo = rollback(store, project, fix.id)
    assert checksum(db) == original
    assert not migration.exists()
    assert "delete migrations/002_add_nick.sql" in undo.plan_text
    assert undo.verify.ok, undo.verify
    assert undo.backup_dir is not None
    kept = project / undo.backup_dir / "files" / "migrations" / "002_add_nick.sql"
    assert kept.read_text() == "ALTER TABLE users ADD COLUMN nick TEXT;\n"


# --- rollback by restoring the whole database file --------------------------------------------


def _write(db: Path, *statements: str) -> None:
    conn = sqlite3.connect(db)
    for sql in statements:
        conn.execute(sql)
    conn.commit()
    conn.close()


def _count(db: Path, sql: str) -> int:
    conn = sqlite3.connect(db)
    try:
        return int(conn.execute(sql).fetchone()[0])
    finally:
        conn.close()


def test_a_fix_without_an_inverse_is_restored_when_nothing_was_written_since(
    project: Path,
) -> None:
    db = project / "app.sqlite"
    with StateStore(project) as store:
        fix = apply_schema_fix(store, project, "DELETE FROM users WHERE id > 40;")
        preview = plan_rollback(store, project, fix.id)
        assert preview.method == "restore"
        assert "nothing was written to it since" in preview.text(project)
        undo = rollback(store, project, fix.id)
    assert _count(db, "SELECT count(*) FROM users") == 50
    assert "nothing had been written to the database since the fix" in undo.message
    assert undo.verify.ok, undo.verify


def test_a_restore_that_would_drop_rows_is_refused_naming_them(project: Path) -> None:
    db = project / "app.sqlite"
    _write(db, "CREATE TABLE audit (id INTEGER PRIMARY KEY, what TEXT)")
    with StateStore(project) as store:
        fix = apply_schema_fix(store, project, "DELETE FROM users WHERE id > 40;")
        _write(
            db,
            "INSERT INTO users (id, email, age) VALUES (100, 'late1@x.org', '1')",
            "INSERT INTO users (id, email, age) VALUES (101, 'late2@x.org', '2')",
            "INSERT INTO audit (what) VALUES ('signup')",
            "UPDATE users SET age = 'x' WHERE id = 1",
        )
        written = checksum(db)
        with pytest.raises(RollbackError) as refused:
            plan_rollback(store, project, fix.id)
        message = str(refused.value)
        assert "the database changed since the fix" in message
        assert (
            "restoring would drop 2 rows in users and 1 in audit written since the fix; and "
            "overwrite 1 row in users written or changed since the fix"
        ) in message
        assert f"dbheal rollback {fix.id} --restore-backup" in message
        with pytest.raises(RollbackError, match="2 rows in users and 1 in audit"):
            rollback(store, project, fix.id)
        assert checksum(db) == written  # nothing changed
        stored = store.fix(fix.id)
        assert stored is not None and stored.outcome == "applied"

        undo = rollback(store, project, fix.id, restore_backup=True)
    assert _count(db, "SELECT count(*) FROM users") == 50
    assert _count(db, "SELECT count(*) FROM audit") == 0
    assert undo.backup_dir is not None
    assert f"Those rows are kept in the backup {undo.backup_dir}" in undo.message
    kept = database_backup_path(project, undo.backup_dir, "app.sqlite")
    assert _count(kept, "SELECT count(*) FROM users WHERE email LIKE 'late%'") == 2
    assert _count(kept, "SELECT count(*) FROM audit") == 1


def test_a_fix_recorded_without_a_fingerprint_counts_as_changed(project: Path) -> None:
    db = project / "app.sqlite"
    with StateStore(project) as store:
        fix = apply_schema_fix(store, project, "DELETE FROM users WHERE id > 40;")
        assert fix.backup_dir is not None
        (project / fix.backup_dir / "after-fix.json").unlink()  # as an older dbheal left it
        with pytest.raises(RollbackError, match="no record of the database as the fix left it"):
            rollback(store, project, fix.id)
        assert _count(db, "SELECT count(*) FROM users") == 40
        rollback(store, project, fix.id, restore_backup=True)
    assert _count(db, "SELECT count(*) FROM users") == 50
