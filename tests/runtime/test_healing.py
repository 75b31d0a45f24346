"""Tests of the healing classes (dbheal_lsp.runtime.healing): cursors, connections, proxies,
combined factories, the one retry and the error raised unchanged."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap
import traceback
from pathlib import Path
from typing import Any, ClassVar

import pytest

from dbheal_lsp import runtime
from dbheal_lsp.runtime import HealingConnection, HealingCursor, connect, wrap
from tests.runtime.projects import Project, healed


def test_cursors_executemany_executescript_row_factory_and_with(project: Project) -> None:
    with project.connect() as conn:
        cur = conn.cursor()
        cur.executemany("INSERT INTO users (name) VALUES (?)", [("cy",), ("di",)])
        cur.executescript(
            "INSERT INTO users (name) VALUES ('ed'); INSERT INTO users (name) VALUES ('fi');"
        )
        conn.row_factory = sqlite3.Row
        rows = conn.execute("SELECT id, name FROM users ORDER BY id").fetchall()
        assert [r["name"] for r in rows] == ["ann", "bob", "cy", "di", "ed", "fi"]
        assert conn.cursor().execute("SELECT count(*) AS n FROM users").fetchone()["n"] == 6
        conn.execute("INSERT INTO users (name) VALUES ('gus')")
    # The `with` block committed.
    other = sqlite3.connect(project.db)
    assert other.execute("SELECT count(*) FROM users").fetchone() == (7,)
    other.close()
    conn.close()


def test_the_retried_write_returns_its_result_and_the_trigger_runs(project: Project) -> None:
    conn = project.connect()
    cur = conn.execute("INSERT INTO orders (user_id, total) VALUES (?, ?)", (1, 9.5))
    assert cur.rowcount == 1
    assert cur.lastrowid == 1
    conn.commit()
    other = sqlite3.connect(project.db)
    assert other.execute("SELECT id, user_id, total, status FROM orders").fetchall() == [
        (1, 1, 9.5, "new")
    ]
    other.close()
    conn.close()


def test_retries_once_and_then_raises_the_retry_error(project: Project) -> None:
    conn = project.connect()
    with pytest.raises(sqlite3.OperationalError, match=r"^no such table: nope$"):
        conn.execute("SELECT * FROM orders JOIN nope")
    events = project.events()
    assert [(e.table, e.outcome) for e in events] == [
        ("orders", "healed"),
        ("nope", "not healed: no migration defines table nope"),
        (None, "failed: the statement failed again after healing; not retried again"),
    ]
    assert ("table", "orders") in project.objects()
    conn.close()


def test_heals_through_cursors_executemany_and_executescript(project: Project) -> None:
    conn = project.connect()
    cur = conn.cursor()
    assert cur.execute("SELECT count(*) FROM orders").fetchone() == (0,)
    rows = ((n, float(n)) for n in (1, 2, 2))  # a generator: not consumed by the failure
    conn.executemany("INSERT INTO items (order_id, sku) VALUES (?, ?)", rows)
    assert conn.execute("SELECT order_id, sku FROM items").fetchall() == [
        (1, "1.0"),
        (2, "2.0"),
        (2, "2.0"),
    ]
    conn.commit()
    assert [e.table for e in healed(project.events())] == ["orders", "items"]
    conn.close()


def test_connection_and_cursor_factories_are_combined(project: Project) -> None:
    class AppConnection(sqlite3.Connection):
        def shout(self) -> str:
            return "hi"

    class AppCursor(sqlite3.Cursor):
        executed: ClassVar[list[str]] = []

        def execute(self, sql: str, parameters: Any = (), /) -> AppCursor:
            AppCursor.executed.append(sql)
            return super().execute(sql, parameters)

    conn = project.connect(factory=AppConnection)
    assert isinstance(conn, AppConnection) and isinstance(conn, HealingConnection)
    assert conn.shout() == "hi"
    cur = conn.cursor(AppCursor)
    assert isinstance(cur, AppCursor) and isinstance(cur, HealingCursor)
    assert cur.execute("SELECT count(*) FROM orders").fetchone() == (0,)
    # The application's execute ran for the failing call and for the retry.
    assert AppCursor.executed == ["SELECT count(*) FROM orders"] * 2
    assert conn.execute("SELECT count(*) FROM items").fetchone() == (0,)
    positional = connect(
        project.db, 5.0, 0, "DEFERRED", True, AppConnection, project_root=project.root
    )
    assert isinstance(positional, AppConnection) and isinstance(positional, HealingConnection)

    class SlottedConnection(sqlite3.Connection):
        __slots__ = ("tag",)

    class SlottedCursor(sqlite3.Cursor):
        __slots__ = ("tag",)

    slotted = project.connect(factory=SlottedConnection)
    assert isinstance(slotted, SlottedConnection) and isinstance(slotted, HealingConnection)
    slotted_cursor = slotted.cursor(SlottedCursor)
    assert isinstance(slotted_cursor, SlottedCursor) and isinstance(slotted_cursor, HealingCursor)
    slotted.close()
    with pytest.raises(TypeError, match="factory must be a subclass"):
        connect(project.db, factory=lambda *a, **k: sqlite3.connect(*a), project_root=project.root)
    conn.close()
    positional.close()


def test_wrapping_a_healing_connection_handles_each_error_once(project: Project) -> None:
    proxy = wrap(project.connect())
    with pytest.raises(sqlite3.OperationalError, match="no such table: nope"):
        proxy.execute("SELECT * FROM nope")
    assert len(project.events()) == 1
    proxy.close()


def test_the_factory_alone_heals_with_settings_found_at_the_first_error(project: Project) -> None:
    # sqlite3.connect(..., factory=HealingConnection): no arguments of dbheal at all, so the
    # project is the one of the application's file, and its migrations/ folder is found.
    app = project.root / "plain_app.py"
    app.write_text(
        textwrap.dedent(
            """            import sqlite3, sys
            from dbheal_lsp.runtime import HealingConnection

            conn = sqlite3.connect(sys.argv[1], factory=HealingConnection)
            print(conn.execute("SELECT count(*) FROM orders").fetchone()[0])
            """
        ),
        encoding="utf-8",
    )
    result = subprocess.run(
        [sys.executable, str(app), str(project.db)],
        cwd=project.root.parent,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={k: v for k, v in os.environ.items() if k != runtime.ENV_VAR},
    )
    assert (result.returncode, result.stdout) == (0, "0\n"), result.stderr
    [event] = project.events()
    assert (event.path, event.line, event.outcome) == ("plain_app.py", 5, "healed")


def test_without_a_migration_the_original_error_is_raised_unchanged(project: Project) -> None:
    sql = "SELECT * FROM nope WHERE id = ?"
    raw = sqlite3.connect(project.db)
    with pytest.raises(sqlite3.OperationalError) as expected:
        raw.execute(sql, (1,))
    conn = project.connect()
    with pytest.raises(sqlite3.OperationalError) as raised:
        conn.execute(sql, (1,))  # the app's line
    error = raised.value
    assert type(error) is type(expected.value)
    assert str(error) == str(expected.value) == "no such table: nope"
    assert error.args == expected.value.args
    assert vars(error) == vars(expected.value)  # sqlite_errorcode, sqlite_errorname
    assert error.__cause__ is None and error.__context__ is None
    frames = traceback.extract_tb(error.__traceback__)
    assert any(f.filename == __file__ and "the app's line" in (f.line or "") for f in frames)
    assert Path(frames[-1].filename).name == "healing.py"  # raised again by a bare `raise`
    [event] = project.events()
    assert (event.error, event.statement, event.action) == ("no such table: nope", sql, "none")
    assert event.outcome == "not healed: no migration defines table nope"
    raw.close()
    conn.close()


def test_other_errors_pass_untouched(project: Project) -> None:
    conn = project.connect()
    with pytest.raises(sqlite3.OperationalError, match="syntax error"):
        conn.execute("SELEC 1")
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute("INSERT INTO users (id, name) VALUES (1, 'dup')")
    assert not (project.root / ".dbheal").exists()
    conn.close()
