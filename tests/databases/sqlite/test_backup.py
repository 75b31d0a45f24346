"""Tests of database and file backups, on real SQLite files and real files."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import stat
import subprocess
import threading
import time
from pathlib import Path

import pytest

from dbheal_lsp.databases.sqlite.backup import (
    MANIFEST_NAME,
    BackupError,
    DatabaseBusyError,
    backup_database,
    backup_files,
    backup_fix,
    database_backup_path,
    fix_backup_dir,
    restore_database,
    restore_files,
)
from dbheal_lsp.files import UnsafeStateDir


def make_db(path: Path, *, wal: bool = True, rows: int = 200) -> None:
    conn = sqlite3.connect(path)
    if wal:
        conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("CREATE TABLE accounts (id INTEGER PRIMARY KEY, owner TEXT, balance INTEGER)")
    conn.execute("CREATE INDEX accounts_owner ON accounts (owner)")
    conn.executemany(
        "INSERT INTO accounts (owner, balance) VALUES (?, ?)",
        [(f"owner {n} ü", 100) for n in range(rows)],
    )
    conn.commit()
    conn.close()


def checksum(path_or_conn: Path | sqlite3.Connection) -> str:
    """A checksum of the schema and of every row, in a stable order."""
    conn = sqlite3.connect(path_or_conn) if isinstance(path_or_conn, Path) else path_or_conn
    digest = hashlib.sha256()
    tables = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name"
    ).fetchall()
    for name, sql in tables:
        digest.update(repr((name, sql)).encode())
        if str(sql).startswith("CREATE TABLE"):
            for row in conn.execute(f'SELECT * FROM "{name}" ORDER BY rowid'):
                digest.update(repr(row).encode())
    if isinstance(path_or_conn, Path):
        conn.close()
    return digest.hexdigest()


# --- databases --------------------------------------------------------------------------------


def test_backup_database_copies_everything(tmp_path: Path) -> None:
    db = tmp_path / "app.sqlite"
    make_db(db, wal=False)
    before = sorted(os.listdir(tmp_path))
    copy = backup_database(db, tmp_path / "backup")
    assert copy == tmp_path / "backup" / "app.sqlite"
    assert checksum(copy) == checksum(db)
    # Nothing new beside the application's database, nothing left over beside the copy.
    assert sorted(os.listdir(tmp_path)) == [*before, "backup"]
    assert os.listdir(tmp_path / "backup") == ["app.sqlite"]
    conn = sqlite3.connect(copy)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    conn.close()


def test_backup_of_a_missing_database_creates_nothing(tmp_path: Path) -> None:
    with pytest.raises(BackupError, match="no such database file"):
        backup_database(tmp_path / "missing.sqlite", tmp_path / "backup")
    assert not (tmp_path / "missing.sqlite").exists()


def test_backup_is_consistent_while_another_connection_writes(tmp_path: Path) -> None:
    db = tmp_path / "app.sqlite"
    make_db(db, rows=2000)
    stop = threading.Event()
    transfers = 0

    def writer() -> None:
        # Transfers keep the total constant: a backup that saw half a transaction would not.
        nonlocal transfers
        conn = sqlite3.connect(db, timeout=10)
        while not stop.is_set():
            with conn:
                conn.execute(
                    "UPDATE accounts SET balance = balance - 7 WHERE id = ?",
                    (1 + transfers % 2000,),
                )
                conn.execute(
                    "UPDATE accounts SET balance = balance + 7 WHERE id = ?",
                    (1 + (transfers * 7) % 2000,),
                )
                conn.execute("INSERT INTO accounts (owner, balance) VALUES ('new', 0)")
            transfers += 1
        conn.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while transfers < 20:
            time.sleep(0.01)
        before = transfers
        copies = [backup_database(db, tmp_path / f"backup{n}") for n in range(5)]
        during = transfers - before
    finally:
        stop.set()
        thread.join()
    assert during > 0  # the writer went on while the copies were taken
    for copy in copies:
        conn = sqlite3.connect(copy)
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        total, news = conn.execute(
            "SELECT sum(balance), sum(owner = 'new') FROM accounts"
        ).fetchone()
        assert total == 2000 * 100
        assert news > 0
        conn.close()


def test_restore_puts_the_rows_back_and_open_connections_see_them(tmp_path: Path) -> None:
    db = tmp_path / "app.sqlite"
    make_db(db)
    original = checksum(db)
    app = sqlite3.connect(db)  # the application's connection, open throughout
    assert app.execute("SELECT count(*) FROM accounts").fetchone()[0] == 200
    copy = backup_database(db, tmp_path / "backup")

    app.execute("DELETE FROM accounts WHERE id > 50")
    app.execute("ALTER TABLE accounts ADD COLUMN note TEXT")
    app.execute("CREATE TABLE extra (x)")
    app.commit()
    assert checksum(db) != original

    restore_database(copy, db)
    assert checksum(db) == original
    assert app.execute("SELECT count(*) FROM accounts").fetchone()[0] == 200
    assert [r[1] for r in app.execute("PRAGMA table_info(accounts)")] == ["id", "owner", "balance"]
    assert checksum(app) == original
    assert app.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    app.close()


def test_restore_into_a_rollback_journal_database(tmp_path: Path) -> None:
    db = tmp_path / "app.sqlite"
    make_db(db, wal=False)
    original = checksum(db)
    copy = backup_database(db, tmp_path / "backup")
    app = sqlite3.connect(db)
    app.execute("UPDATE accounts SET balance = 0")
    app.commit()
    restore_database(copy, db)
    assert app.execute("SELECT sum(balance) FROM accounts").fetchone()[0] == 20000
    assert checksum(db) == original
    app.close()


@pytest.mark.parametrize("wal", [True, False])
def test_restore_refuses_a_database_locked_beyond_the_timeout(tmp_path: Path, wal: bool) -> None:
    db = tmp_path / "app.sqlite"
    make_db(db, wal=wal)
    copy = backup_database(db, tmp_path / "backup")
    app = sqlite3.connect(db, isolation_level=None)
    app.execute("BEGIN IMMEDIATE")
    app.execute("DELETE FROM accounts")
    started = time.monotonic()
    with pytest.raises(DatabaseBusyError, match=r"locked for 0\.3 s.*try again"):
        restore_database(copy, db, timeout=0.3)
    assert time.monotonic() - started < 5
    app.execute("COMMIT")
    assert app.execute("SELECT count(*) FROM accounts").fetchone()[0] == 0
    restore_database(copy, db, timeout=0.3)  # free now
    assert app.execute("SELECT count(*) FROM accounts").fetchone()[0] == 200
    app.close()


def test_restore_refuses_a_damaged_or_missing_backup(tmp_path: Path) -> None:
    db = tmp_path / "app.sqlite"
    make_db(db)
    copy = backup_database(db, tmp_path / "backup")
    with pytest.raises(BackupError, match="does not exist"):
        restore_database(tmp_path / "nope.sqlite", db)
    data = bytearray(copy.read_bytes())
    data[4096 : 4096 * 3] = b"\xff" * (4096 * 2)  # wreck the pages after the first
    copy.write_bytes(bytes(data))
    conn = sqlite3.connect(db)
    conn.execute("DELETE FROM accounts WHERE id > 10")
    conn.commit()
    conn.close()
    with pytest.raises(BackupError, match="damaged"):
        restore_database(copy, db)
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT count(*) FROM accounts").fetchone()[0] == 10  # untouched
    conn.close()


# --- files ------------------------------------------------------------------------------------


def test_backup_and_restore_files_exact_bytes_and_metadata(tmp_path: Path) -> None:
    root = tmp_path / "project"
    (root / "app" / "sub").mkdir(parents=True)
    contents = {
        "app/models.py": "x = 'ünïcode'\r\nprint(x)\r\n".encode(),
        "app/sub/raw.bin": bytes(range(256)),
        "main.py": b"",
    }
    for rel, data in contents.items():
        (root / rel).write_bytes(data)
    os.chmod(root / "main.py", 0o755)
    os.utime(root / "app/models.py", (1_600_000_000, 1_600_000_000))
    dest = tmp_path / "backup"

    copies = backup_files(root, list(contents), dest)
    assert copies == [dest / rel for rel in contents]
    for rel, data in contents.items():
        assert (dest / rel).read_bytes() == data
    assert (dest / "app/models.py").stat().st_mtime == 1_600_000_000
    assert (dest / "main.py").stat().st_mode & 0o777 == 0o755

    for rel in contents:
        (root / rel).write_bytes(b"changed by a fix\n")
    os.chmod(root / "main.py", 0o644)
    restored = restore_files(root, dest, list(contents))
    assert restored == [root / rel for rel in contents]
    for rel, data in contents.items():
        assert (root / rel).read_bytes() == data
    assert (root / "main.py").stat().st_mode & 0o777 == 0o755
    # No temporary files left beside the sources.
    assert sorted(p.name for p in (root / "app").iterdir()) == ["models.py", "sub"]


def test_a_file_the_fix_created_is_deleted_on_restore(tmp_path: Path) -> None:
    root = tmp_path / "project"
    root.mkdir()
    dest = tmp_path / "backup"
    assert backup_files(root, ["migrations/0004_add_nick.sql"], dest) == []
    manifest = json.loads((dest / MANIFEST_NAME).read_text())
    assert manifest["files"] == {"migrations/0004_add_nick.sql": {"present": False}}
    (root / "migrations").mkdir()
    (root / "migrations/0004_add_nick.sql").write_text("ALTER TABLE users ADD nick TEXT;")
    restore_files(root, dest, ["migrations/0004_add_nick.sql"])
    assert not (root / "migrations/0004_add_nick.sql").exists()


def test_a_second_backup_into_the_same_folder_keeps_the_first_copy(tmp_path: Path) -> None:
    root = tmp_path / "project"
    root.mkdir()
    (root / "a.py").write_text("first")
    dest = tmp_path / "backup"
    backup_files(root, ["a.py"], dest)
    (root / "a.py").write_text("second")
    assert backup_files(root, ["a.py", "b.py"], dest) == [dest / "a.py"]
    (root / "a.py").write_text("third")
    restore_files(root, dest, ["a.py"])
    assert (root / "a.py").read_text() == "first"


def test_restore_checks_every_backup_before_touching_a_file(tmp_path: Path) -> None:
    root = tmp_path / "project"
    root.mkdir()
    for name in ("a.py", "b.py"):
        (root / name).write_text(f"original {name}")
    dest = tmp_path / "backup"
    backup_files(root, ["a.py", "b.py"], dest)
    for name in ("a.py", "b.py"):
        (root / name).write_text("fixed")
    (dest / "b.py").write_text("tampered")
    with pytest.raises(BackupError, match=r"b\.py: its backup .* was changed"):
        restore_files(root, dest, ["a.py", "b.py"])
    assert (root / "a.py").read_text() == "fixed"
    (dest / "b.py").unlink()
    with pytest.raises(BackupError, match=r"b\.py: it has no backup"):
        restore_files(root, dest, ["a.py", "b.py"])
    assert (root / "a.py").read_text() == "fixed"


@pytest.mark.parametrize("bad", ["/etc/passwd", "../outside.py", "a/../../x.py", MANIFEST_NAME])
def test_paths_outside_the_root_are_refused(tmp_path: Path, bad: str) -> None:
    with pytest.raises(BackupError):
        backup_files(tmp_path, [bad], tmp_path / "backup")
    with pytest.raises(BackupError):
        restore_files(tmp_path, tmp_path / "backup", [bad])


# --- a fix's folder ---------------------------------------------------------------------------


def test_backup_fix_layout(tmp_path: Path) -> None:
    make_db(tmp_path / "app.sqlite")
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "views.py").write_text("print('hi')\n")
    result = backup_fix(
        tmp_path, "20261124T001512-3f9a", database="app.sqlite", files=["app/views.py"]
    )
    assert result.backup_dir == ".dbheal/backups/20261124T001512-3f9a"
    assert result.database == ".dbheal/backups/20261124T001512-3f9a/database/app.sqlite"
    assert result.files == (".dbheal/backups/20261124T001512-3f9a/files/app/views.py",)
    assert fix_backup_dir(tmp_path, "20261124T001512-3f9a") == tmp_path / result.backup_dir
    assert database_backup_path(tmp_path, result.backup_dir, "app.sqlite") == (
        tmp_path / result.database
    )
    assert checksum(tmp_path / result.database) == checksum(tmp_path / "app.sqlite")
    with pytest.raises(BackupError, match="not a fix id"):
        fix_backup_dir(tmp_path, "../x")


# --- .dbheal/ is dbheal's own -------------------------------------------------------------------


def test_backups_are_private_and_ignored_by_git(tmp_path: Path) -> None:
    make_db(tmp_path / "app.sqlite")
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "views.py").write_text("print('hi')\n")

    result = backup_fix(
        tmp_path, "20261124T001512-3f9a", database="app.sqlite", files=["app/views.py"]
    )

    folder = tmp_path / result.backup_dir
    for path in (tmp_path / ".dbheal", tmp_path / ".dbheal" / "backups", folder):
        assert stat.S_IMODE(path.stat().st_mode) == 0o700, path
    assert stat.S_IMODE((folder / "database").stat().st_mode) == 0o700
    assert (tmp_path / ".dbheal" / ".gitignore").read_text() == "*\n"
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    status = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert ".dbheal" not in status


def test_a_backup_into_a_linked_backups_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "project").mkdir()
    make_db(tmp_path / "project" / "app.sqlite")
    neighbour = tmp_path / "neighbour"
    neighbour.mkdir()
    (tmp_path / "project" / ".dbheal").mkdir()
    (tmp_path / "project" / ".dbheal" / "backups").symlink_to(neighbour)

    with pytest.raises(UnsafeStateDir, match=r"refuses to use a linked \.dbheal"):
        backup_fix(tmp_path / "project", "20261124T001512-3f9a", database="app.sqlite")
    assert list(neighbour.iterdir()) == []
