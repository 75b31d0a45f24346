"""The SQLite back end's database backups: consistent while the app writes, restored in place."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from dbheal_lsp.backups import BackupError
from dbheal_lsp.databases.sqlite.backup import DatabaseBusyError, backup_database, restore_database


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
