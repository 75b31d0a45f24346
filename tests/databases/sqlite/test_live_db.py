"""Tests of the live database: read-only open, clear errors, the cached schema (databases/sqlite/live_db.py)."""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

import pytest

from dbheal_lsp.databases.database import SchemaError
from dbheal_lsp.databases.sqlite.live_db import LiveDatabase
from tests.analysis.test_schema import make_db


def test_read_only_open_changes_nothing(tmp_path: Path) -> None:
    path = make_db(tmp_path / "app.db")
    before_bytes = path.read_bytes()
    old = time.time_ns() - 10_000_000_000
    os.utime(path, ns=(old, old))
    before_mtime = path.stat().st_mtime_ns

    db = LiveDatabase(path)
    assert db.schema().table("customers") is not None
    conn = db.connect()
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        conn.execute("CREATE TABLE intruder (a)")
    conn.close()
    db.close()

    assert path.read_bytes() == before_bytes
    assert path.stat().st_mtime_ns == before_mtime
    assert sorted(p.name for p in tmp_path.iterdir()) == ["app.db"]


def test_path_with_spaces_question_mark_and_hash(tmp_path: Path) -> None:
    folder = tmp_path / "my data #1?"
    folder.mkdir()
    path = make_db(folder / "app ?x=1#frag.db", "CREATE TABLE t (a);")
    with LiveDatabase(path) as db:
        assert db.schema().table("t") is not None
    assert sorted(p.name for p in folder.iterdir()) == ["app ?x=1#frag.db"]


def test_schema_is_cached_until_schema_version_changes(tmp_path: Path) -> None:
    path = make_db(tmp_path / "app.db", "CREATE TABLE a (x);")
    with LiveDatabase(path) as db:
        first = db.schema()
        assert first.source == "database"
        assert db.schema() is first

        writer = sqlite3.connect(path)
        writer.execute("INSERT INTO a VALUES (1)")
        writer.commit()
        assert db.schema() is first  # data changes do not re-read the schema

        writer.execute("CREATE TABLE b (y)")
        writer.commit()
        writer.close()
        second = db.schema()
        assert second is not first
        assert second.table("b") is not None
        assert second.version != first.version
        assert db.schema() is second


def test_replaced_file_is_read_again(tmp_path: Path) -> None:
    path = make_db(tmp_path / "app.db", "CREATE TABLE a (x);")
    other = make_db(tmp_path / "other.db", "CREATE TABLE z (x);")
    with LiveDatabase(path) as db:
        assert db.schema().table("a") is not None
        os.replace(other, path)
        schema = db.schema()
        assert schema.table("z") is not None and schema.table("a") is None
        path.unlink()
        with pytest.raises(SchemaError, match="database file not found"):
            db.schema()


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.db"
    with pytest.raises(SchemaError) as info:
        LiveDatabase(path).schema()
    assert info.value.message == f"database file not found: {path}"
    assert str(info.value) == info.value.message
    assert not path.exists()


def test_text_file_is_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("CREATE TABLE users (id INTEGER);\n")
    with pytest.raises(SchemaError) as info:
        LiveDatabase(path).schema()
    assert info.value.message == f"{path} is not a SQLite database"


def test_random_bytes_are_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "noise.db"
    path.write_bytes(b"\x00\xff" + os.urandom(8190))
    with pytest.raises(SchemaError, match=r"is not a SQLite database$"):
        LiveDatabase(path).schema()


def test_zero_byte_file_is_an_empty_database(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    path.touch()
    schema = LiveDatabase(path).schema()
    assert schema.is_empty and schema.source == "database" and schema.ddl == ()
    assert path.stat().st_size == 0


def test_corrupt_database(tmp_path: Path) -> None:
    path = make_db(tmp_path / "broken.db")
    data = bytearray(path.read_bytes())
    # Keep the 100-byte header, garble the schema page that follows it.
    data[100:1000] = b"\xa5" * 900
    path.write_bytes(bytes(data))
    with pytest.raises(SchemaError, match=r"^database file is corrupt: .*broken\.db"):
        LiveDatabase(path).schema()


def test_locked_by_exclusive_writer(tmp_path: Path) -> None:
    path = make_db(tmp_path / "app.db", "CREATE TABLE a (x);")
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN EXCLUSIVE")
    try:
        db = LiveDatabase(path, busy_timeout=0.2)
        started = time.monotonic()
        with pytest.raises(SchemaError) as info:
            db.schema()
        assert time.monotonic() - started < 5
        assert info.value.message == f"database is locked by another connection: {path}"
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert db.schema().table("a") is not None
    db.close()


def test_locked_after_schema_was_cached(tmp_path: Path) -> None:
    path = make_db(tmp_path / "app.db", "CREATE TABLE a (x);")
    with LiveDatabase(path, busy_timeout=0.1) as db:
        db.schema()
        writer = sqlite3.connect(path, isolation_level=None)
        writer.execute("BEGIN EXCLUSIVE")
        try:
            with pytest.raises(SchemaError, match="database is locked by another connection"):
                db.schema()
        finally:
            writer.execute("ROLLBACK")
            writer.close()
        assert db.schema().table("a") is not None


def _schema_error_as_nobody(path: Path) -> str:
    """Read `path` in a forked child that has dropped root: chmod does not stop root."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: become nobody, try, report the message, exit at once
        os.close(read_end)
        message = "no error"
        try:
            os.setgid(65534)
            os.setuid(65534)
            LiveDatabase(path).schema()
        except SchemaError as exc:
            message = exc.message
        except BaseException as exc:  # the parent asserts on whatever happened
            message = f"unexpected {type(exc).__name__}: {exc}"
        os.write(write_end, message.encode())
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        message = pipe.read().decode()
    os.waitpid(pid, 0)
    return message


def test_unreadable_file(tmp_path: Path) -> None:
    path = make_db(tmp_path / "secret.db", "CREATE TABLE a (x);")
    path.chmod(0)
    try:
        if os.geteuid() == 0:
            message = _schema_error_as_nobody(path)
        else:
            with pytest.raises(SchemaError) as info:
                LiveDatabase(path).schema()
            message = info.value.message
        assert message == f"permission denied: cannot read database file {path}"
    finally:
        path.chmod(0o644)


def test_directory_is_not_a_database(tmp_path: Path) -> None:
    with pytest.raises(SchemaError) as info:
        LiveDatabase(tmp_path).schema()
    assert info.value.message == f"{tmp_path} is a directory, not a SQLite database file"
