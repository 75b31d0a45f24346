"""Tests of the runtime wrapper (dbheal_lsp.runtime) on real SQLite files and real migrations.

Each test gets a project in tmp_path: migrations/001..004 and app.db, which only had 001 run
(users, without the email column that 003 adds; no orders, no items). Processes are real
subprocesses running small application scripts written into the project.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import re
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import pytest

from dbheal_lsp import runtime
from dbheal_lsp.fixes.state import StateStore
from dbheal_lsp.records import RuntimeEvent
from dbheal_lsp.runtime import (
    HealingConnection,
    HealingCursor,
    HealingProxy,
    connect,
    install_sqlalchemy,
    resolve_mode,
    wrap,
)

MIGRATIONS = {
    "001_init.sql": "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL);\n",
    "002_orders.sql": textwrap.dedent(
        """\
        CREATE TABLE orders (
            id INTEGER PRIMARY KEY,
            user_id INTEGER NOT NULL REFERENCES users (id),
            total REAL NOT NULL DEFAULT 0,
            status TEXT
        );
        CREATE INDEX orders_by_user ON orders (user_id);
        CREATE TRIGGER orders_new_status AFTER INSERT ON orders WHEN new.status IS NULL BEGIN
            UPDATE orders SET status = 'new' WHERE id = new.id;
        END;
        """
    ),
    "003_email.sql": textwrap.dedent(
        """\
        ALTER TABLE users ADD COLUMN email TEXT;
        CREATE INDEX users_by_email ON users (email);
        """
    ),
    "004_items.sql": (
        "CREATE TABLE items (id INTEGER PRIMARY KEY, "
        "order_id INTEGER NOT NULL REFERENCES orders (id), sku TEXT NOT NULL);\n"
    ),
}
HEAVY = ("pygls", "lsprotocol", "libcst", "sqlglot")


@dataclass(frozen=True)
class Project:
    root: Path
    db: Path
    migrations: Path

    def connect(self, **kwargs: Any) -> sqlite3.Connection:
        kwargs.setdefault("project_root", self.root)
        return connect(self.db, **kwargs)

    def events(self) -> list[RuntimeEvent]:
        with StateStore(self.root) as store:
            return list(reversed(store.events(1000)))  # oldest first

    def objects(self) -> set[tuple[str, str]]:
        with sqlite3.connect(self.db) as conn:
            rows = conn.execute("SELECT type, name FROM sqlite_master").fetchall()
        conn.close()
        return {(str(t), str(n)) for t, n in rows}

    def drop(self, sql: str) -> None:
        conn = sqlite3.connect(self.db, isolation_level=None)
        conn.execute(sql)
        conn.close()


def make_project(folder: Path, migrations_dir: str = "migrations") -> Project:
    folder.mkdir(parents=True, exist_ok=True)
    migrations = folder / migrations_dir
    migrations.mkdir(parents=True)
    for name, text in MIGRATIONS.items():
        (migrations / name).write_text(text, encoding="utf-8")
    db = folder / "app.db"
    conn = sqlite3.connect(db)
    conn.executescript(MIGRATIONS["001_init.sql"])
    conn.executemany("INSERT INTO users (name) VALUES (?)", [("ann",), ("bob",)])
    conn.commit()
    conn.close()
    return Project(folder.resolve(), db.resolve(), migrations.resolve())


@pytest.fixture(autouse=True)
def _clean_runtime(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv(runtime.ENV_VAR, raising=False)
    runtime._shared.recent.clear()
    yield
    runtime._shared.recent.clear()


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return make_project(tmp_path / "proj")


def healed(events: list[RuntimeEvent]) -> list[RuntimeEvent]:
    """The events of heals that changed the schema."""
    return [e for e in events if e.outcome.startswith("healed") and e.action != "none"]


def run_python(code: str, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != runtime.ENV_VAR}
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


# --- a real connection --------------------------------------------------------------------------


def test_connect_returns_a_real_sqlite3_connection(project: Project) -> None:
    conn = project.connect()
    assert isinstance(conn, sqlite3.Connection)
    assert isinstance(conn, HealingConnection)
    assert isinstance(conn.cursor(), HealingCursor)
    assert isinstance(conn.execute("SELECT 1"), sqlite3.Cursor)
    assert conn.execute("SELECT name FROM users ORDER BY id").fetchall() == [("ann",), ("bob",)]
    assert sqlite3.connect(":memory:").execute("SELECT 1").fetchone() == (1,)
    conn.close()


def test_sqlite3_arguments_pass_through(project: Project) -> None:
    conn = connect(
        f"file:{project.db}?mode=ro",
        2.5,
        sqlite3.PARSE_DECLTYPES,
        None,
        project_root=project.root,
        uri=True,
        check_same_thread=False,
    )
    assert conn.isolation_level is None
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        conn.execute("INSERT INTO users (name) VALUES ('x')")
    conn.close()


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


# --- healing ------------------------------------------------------------------------------------


def test_heals_a_missing_table_with_its_indexes_and_triggers(project: Project) -> None:
    conn = project.connect()
    assert conn.execute("SELECT id, total FROM orders").fetchall() == []
    assert {
        ("table", "orders"),
        ("index", "orders_by_user"),
        ("trigger", "orders_new_status"),
    } <= project.objects()
    conn.close()
    [event] = project.events()
    assert event.error == "no such table: orders"
    assert event.statement == "SELECT id, total FROM orders"
    assert event.action == "create_table orders from migrations/002_orders.sql:1 (3 statements)"
    assert event.outcome == "healed"
    assert event.table == "orders"
    assert event.path is not None and Path(event.path).name == "test_runtime.py"
    assert event.line is not None and event.line > 0


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


def test_heals_a_missing_column(project: Project) -> None:
    conn = project.connect()
    assert conn.execute("SELECT name, email FROM users ORDER BY id").fetchall() == [
        ("ann", None),
        ("bob", None),
    ]
    assert ("index", "users_by_email") in project.objects()
    [event] = project.events()
    assert event.error == "no such column: email"
    assert event.action == "add_column users.email from migrations/003_email.sql:1 (2 statements)"
    assert event.outcome == "healed"
    assert event.table == "users"
    conn.close()


def test_heals_a_column_an_insert_names(project: Project) -> None:
    conn = project.connect(isolation_level=None)
    conn.execute("INSERT INTO users (name, email) VALUES ('cy', 'cy@example.com')")
    assert conn.execute("SELECT email FROM users WHERE name = 'cy'").fetchone() == (
        "cy@example.com",
    )
    [event] = project.events()
    assert event.error == "table users has no column named email"
    assert event.outcome == "healed"
    conn.close()


def test_heals_every_missing_table_of_a_statement_before_its_one_retry(project: Project) -> None:
    conn = project.connect()
    sql = "SELECT o.id, i.sku FROM orders AS o JOIN items AS i ON i.order_id = o.id"
    assert conn.execute(sql).fetchall() == []
    assert [e.table for e in healed(project.events())] == ["orders", "items"]
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


def test_executescript_runs_only_the_rest_of_the_script_again(project: Project) -> None:
    conn = project.connect()
    conn.executescript(
        """
        INSERT INTO users (name) VALUES ('cy');  -- ran before the failure: not run again
        INSERT INTO orders (user_id, total) VALUES (3, 1.5);
        INSERT INTO users (name) VALUES ('di');
        """
    )
    assert conn.execute("SELECT name FROM users ORDER BY id").fetchall() == [
        ("ann",),
        ("bob",),
        ("cy",),
        ("di",),
    ]
    assert conn.execute("SELECT user_id, total FROM orders").fetchall() == [(3, 1.5)]
    assert [e.table for e in healed(project.events())] == ["orders"]
    conn.close()


def test_a_script_that_failed_inside_its_own_transaction_is_not_run_again(
    project: Project,
) -> None:
    conn = project.connect()
    with pytest.raises(sqlite3.OperationalError, match="no such table: orders"):
        conn.executescript(
            "BEGIN; INSERT INTO users (name) VALUES ('cy'); SELECT * FROM orders; COMMIT;"
        )
    assert conn.in_transaction  # as sqlite3 leaves it
    conn.rollback()
    [event] = project.events()
    assert event.outcome.startswith("not healed: the script failed inside a transaction")
    assert ("table", "orders") not in project.objects()
    conn.close()


def test_row_factory_and_text_factory_do_not_disturb_a_heal(project: Project) -> None:
    conn = project.connect()

    def as_dict(cursor: sqlite3.Cursor, row: tuple[Any, ...]) -> dict[str, Any]:
        return {d[0]: v for d, v in zip(cursor.description, row, strict=True)}

    conn.row_factory = as_dict
    conn.text_factory = bytes
    assert conn.execute("SELECT name, email FROM users WHERE id = 1").fetchall() == [
        {"name": b"ann", "email": None}
    ]
    assert conn.text_factory is bytes
    assert [e.table for e in healed(project.events())] == ["users"]
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


def test_wrap_heals_an_existing_connection_through_a_proxy(project: Project) -> None:
    raw = sqlite3.connect(project.db)
    proxy = wrap(raw, project_root=project.root)
    assert isinstance(proxy, HealingProxy)
    assert proxy.__wrapped__ is raw
    assert wrap(proxy) is proxy
    proxy.row_factory = sqlite3.Row  # forwarded
    assert raw.row_factory is sqlite3.Row
    with proxy as same:
        assert same is proxy
        rows = proxy.execute("SELECT count(*) AS n FROM orders").fetchall()
        assert rows[0]["n"] == 0
        proxy.cursor().execute("INSERT INTO items (order_id, sku) VALUES (1, 'a')")
    assert raw.execute("SELECT sku FROM items").fetchall()[0]["sku"] == "a"
    assert [e.table for e in healed(project.events())] == ["orders", "items"]
    with pytest.raises(TypeError):
        wrap("not a connection")  # type: ignore[arg-type]
    raw.close()


def test_wrapping_a_healing_connection_handles_each_error_once(project: Project) -> None:
    proxy = wrap(project.connect())
    with pytest.raises(sqlite3.OperationalError, match="no such table: nope"):
        proxy.execute("SELECT * FROM nope")
    assert len(project.events()) == 1
    proxy.close()


def test_a_memory_database_is_healed_from_the_migrations(project: Project) -> None:
    conn = connect(":memory:", migrations=project.migrations, project_root=project.root)
    conn.executescript(MIGRATIONS["001_init.sql"])
    assert conn.execute("SELECT count(*) FROM orders").fetchone() == (0,)
    assert conn.execute("SELECT email FROM users").fetchall() == []
    assert [e.table for e in healed(project.events())] == ["orders", "users"]
    conn.close()


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


# --- not healed ---------------------------------------------------------------------------------


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
    assert Path(frames[-1].filename).name == "runtime.py"  # raised again by a bare `raise`
    [event] = project.events()
    assert (event.error, event.statement, event.action) == ("no such table: nope", sql, "none")
    assert event.outcome == "not healed: no migration defines table nope"
    raw.close()
    conn.close()


def test_a_column_no_migration_adds_is_not_healed(project: Project) -> None:
    conn = project.connect()
    with pytest.raises(sqlite3.OperationalError, match=r"^no such column: u\.phone$"):
        conn.execute("SELECT u.phone FROM users AS u")
    [event] = project.events()
    assert event.outcome.startswith("not healed: no migration adds a column phone")
    conn.close()


def test_without_migrations_folder_the_error_is_raised(tmp_path: Path) -> None:
    db = tmp_path / "bare.db"
    conn = connect(db, project_root=tmp_path)
    with pytest.raises(sqlite3.OperationalError, match="no such table: orders"):
        conn.execute("SELECT * FROM orders")
    [event] = StateStore(tmp_path).events()
    assert event.outcome.startswith("not healed: no migrations folder")
    conn.close()


def test_other_errors_pass_untouched(project: Project) -> None:
    conn = project.connect()
    with pytest.raises(sqlite3.OperationalError, match="syntax error"):
        conn.execute("SELEC 1")
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute("INSERT INTO users (id, name) VALUES (1, 'dup')")
    assert not (project.root / ".dbheal").exists()
    conn.close()


# --- modes --------------------------------------------------------------------------------------


def test_report_mode_records_and_raises(project: Project) -> None:
    conn = project.connect(mode="report")
    with pytest.raises(sqlite3.OperationalError, match="no such table: orders"):
        conn.execute("SELECT * FROM orders")
    assert ("table", "orders") not in project.objects()
    [event] = project.events()
    assert event.outcome == "reported (mode report): not healed"
    assert event.action.startswith("would create_table orders from migrations/002_orders.sql:1")
    with pytest.raises(sqlite3.OperationalError, match="no such table: nope"):
        conn.execute("SELECT * FROM nope")
    assert project.events()[-1].outcome == (
        "reported (mode report); not healed: no migration defines table nope"
    )
    conn.close()


def test_off_mode_is_plain_sqlite3(project: Project) -> None:
    conn = project.connect(mode="off")
    assert type(conn) is sqlite3.Connection
    with pytest.raises(sqlite3.OperationalError, match="no such table: orders"):
        conn.execute("SELECT * FROM orders")
    assert not (project.root / ".dbheal").exists()
    proxy = wrap(sqlite3.connect(project.db), mode="off", project_root=project.root)
    with pytest.raises(sqlite3.OperationalError, match="no such table: orders"):
        proxy.execute("SELECT * FROM orders")
    assert not (project.root / ".dbheal").exists()
    conn.close()


def test_environment_variable(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DBHEAL_RUNTIME", "report")
    assert resolve_mode() == "report"
    assert resolve_mode("heal") == "heal"  # the argument wins ...
    monkeypatch.setenv("DBHEAL_RUNTIME", "off")
    assert resolve_mode("heal") == "off"  # ... except over off, the operator's switch
    assert type(project.connect(mode="heal")) is sqlite3.Connection
    for text, mode in (("0", "off"), ("false", "off"), ("1", "heal"), (" HEAL ", "heal")):
        monkeypatch.setenv("DBHEAL_RUNTIME", text)
        assert resolve_mode() == mode
    monkeypatch.setenv("DBHEAL_RUNTIME", "bogus")
    assert resolve_mode() == "heal"
    with pytest.raises(ValueError, match="mode must be one of heal, report, off"):
        resolve_mode("fix")

    monkeypatch.setenv("DBHEAL_RUNTIME", "report")
    conn = project.connect()
    with pytest.raises(sqlite3.OperationalError):
        conn.execute("SELECT * FROM orders")
    assert project.events()[-1].outcome.startswith("reported")
    conn.close()


# --- where the application is -------------------------------------------------------------------

APP_MODULE = '''\
"""A small application module: its own file and line must be recorded."""

from dbheal_lsp.runtime import connect


def open_db(path):
    return connect(path)


def count_orders(conn):
    return conn.execute("SELECT count(*) FROM orders").fetchone()[0]  # THE LINE
'''


def load_module(path: Path, name: str) -> Any:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_records_the_applications_file_and_line_and_finds_its_project(tmp_path: Path) -> None:
    # The project is found from the app's file (pyproject.toml with [tool.dbheal]), and its
    # migrations from the setting there: nothing is passed to connect.
    project = make_project(tmp_path / "shop", migrations_dir="db/migrations")
    (project.root / "pyproject.toml").write_text(
        '[project]\nname = "shop"\n\n[tool.dbheal]\nmigrations = "db/migrations"\n',
        encoding="utf-8",
    )
    app = project.root / "shop" / "store.py"
    app.parent.mkdir()
    app.write_text(APP_MODULE, encoding="utf-8")
    line = APP_MODULE.splitlines().index(
        next(text for text in APP_MODULE.splitlines() if "THE LINE" in text)
    )
    module = load_module(app, "shop_store_for_test")
    conn = module.open_db(str(project.db))
    assert module.count_orders(conn) == 0
    conn.close()
    [event] = project.events()
    assert (event.path, event.line) == ("shop/store.py", line + 1)
    assert event.action == "create_table orders from db/migrations/002_orders.sql:1 (3 statements)"


# --- loops --------------------------------------------------------------------------------------


def test_a_table_healed_and_missing_again_is_not_healed_within_the_window(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    conn = project.connect(isolation_level=None)
    assert conn.execute("SELECT count(*) FROM orders").fetchone() == (0,)
    project.drop("DROP TABLE orders")
    with pytest.raises(sqlite3.OperationalError, match=r"^no such table: orders$"):
        conn.execute("SELECT count(*) FROM orders")
    assert ("table", "orders") not in project.objects()
    first, second = project.events()
    assert first.outcome == "healed"
    assert second.action == "create_table orders refused"
    assert re.match(r"not healed: healed \d+ s ago in this process", second.outcome)
    assert "loop prevention (window 60 s)" in second.outcome
    # Once the window has passed, it is healed again.
    monkeypatch.setattr(runtime, "HEAL_WINDOW_SECONDS", 0.0)
    assert conn.execute("SELECT count(*) FROM orders").fetchone() == (0,)
    assert len(healed(project.events())) == 2
    conn.close()


WORKER = """\
import json, os, sys, time
from dbheal_lsp.runtime import connect

db, root, ready, go = sys.argv[1:5]
conn = connect(db, project_root=root)
open(ready, "w").close()
deadline = time.monotonic() + 30
while not os.path.exists(go) and time.monotonic() < deadline:
    time.sleep(0.001)
try:
    rows = conn.execute("SELECT id, user_id FROM orders").fetchall()
    print(json.dumps({"ok": True, "rows": rows}))
except Exception as exc:
    print(json.dumps({"ok": False, "type": type(exc).__name__, "error": str(exc)}))
"""


def start_workers(project: Project, count: int, tmp_path: Path) -> list[dict[str, Any]]:
    """Start `count` processes that query the missing table at the same moment."""
    script = project.root / "worker.py"
    script.write_text(WORKER, encoding="utf-8")
    go = tmp_path / "go"
    processes = []
    readies = []
    for n in range(count):
        ready = tmp_path / f"ready{n}"
        readies.append(ready)
        processes.append(
            subprocess.Popen(
                [
                    sys.executable,
                    str(script),
                    str(project.db),
                    str(project.root),
                    str(ready),
                    str(go),
                ],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env={k: v for k, v in os.environ.items() if k != runtime.ENV_VAR},
            )
        )
    deadline = time.monotonic() + 30
    while not all(r.exists() for r in readies) and time.monotonic() < deadline:
        time.sleep(0.005)
    go.touch()
    results = []
    for process in processes:
        out, err = process.communicate(timeout=60)
        assert process.returncode == 0, err
        results.append(json.loads(out))
    return results


def test_a_heal_by_another_process_counts_for_the_window(project: Project, tmp_path: Path) -> None:
    conn = project.connect()
    assert conn.execute("SELECT count(*) FROM orders").fetchone() == (0,)
    conn.close()
    project.drop("DROP TABLE orders")
    [result] = start_workers(project, 1, tmp_path)
    assert result == {"ok": False, "type": "OperationalError", "error": "no such table: orders"}
    last = project.events()[-1]
    assert last.outcome.startswith("not healed: healed at ")
    assert "(by another process) and missing again; loop prevention" in last.outcome


# --- transactions -------------------------------------------------------------------------------


def visible_to_others(project: Project) -> tuple[int, bool]:
    other = sqlite3.connect(project.db, timeout=5)
    users = int(other.execute("SELECT count(*) FROM users").fetchone()[0])
    has_orders = other.execute(
        "SELECT count(*) FROM sqlite_master WHERE name = 'orders'"
    ).fetchone() == (1,)
    other.close()
    return users, has_orders


def test_a_heal_inside_the_applications_transaction_commits_with_it(project: Project) -> None:
    conn = project.connect()
    conn.execute("INSERT INTO users (name) VALUES ('cy')")  # sqlite3's implicit BEGIN
    assert conn.in_transaction
    conn.execute("INSERT INTO orders (user_id, total) VALUES (3, 2.0)")
    assert conn.in_transaction
    # Nothing committed early: another connection sees neither the user nor the table.
    assert visible_to_others(project) == (2, False)
    conn.commit()
    assert visible_to_others(project) == (3, True)
    assert conn.execute("SELECT user_id, total, status FROM orders").fetchall() == [(3, 2.0, "new")]
    [event] = project.events()
    assert event.outcome.startswith("healed inside the application's open transaction")
    conn.close()


def test_a_heal_inside_an_explicit_transaction_goes_with_its_rollback(project: Project) -> None:
    conn = project.connect(isolation_level=None)
    conn.execute("BEGIN")
    conn.execute("INSERT INTO users (name) VALUES ('cy')")
    assert conn.execute("SELECT count(*) FROM orders").fetchone() == (0,)
    assert conn.in_transaction
    conn.execute("INSERT INTO users (name) VALUES ('di')")  # the transaction goes on
    conn.execute("ROLLBACK")
    assert visible_to_others(project) == (2, False)  # all of it, nothing lost half-way
    conn.close()


def test_a_heal_outside_a_transaction_leaves_none_open(project: Project) -> None:
    conn = project.connect()
    assert conn.execute("SELECT count(*) FROM orders").fetchone() == (0,)
    assert not conn.in_transaction
    assert visible_to_others(project) == (2, True)
    conn.close()


# --- concurrency --------------------------------------------------------------------------------


def test_two_threads_hit_the_missing_table_at_once(project: Project) -> None:
    barrier = threading.Barrier(2)
    results: list[object] = []

    def work() -> None:
        conn = project.connect()
        barrier.wait()
        try:
            results.append(conn.execute("SELECT id FROM orders").fetchall())
        except Exception as exc:  # pragma: no cover - reported by the assertion
            results.append(exc)
        finally:
            conn.close()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert results == [[], []]
    assert len(healed(project.events())) == 1


def test_two_processes_hit_the_missing_table_at_once(project: Project, tmp_path: Path) -> None:
    results = start_workers(project, 2, tmp_path)
    assert results == [{"ok": True, "rows": []}, {"ok": True, "rows": []}]
    assert len(healed(project.events())) == 1
    assert ("table", "orders") in project.objects()


# --- safety -------------------------------------------------------------------------------------


def test_an_unwritable_state_folder_never_breaks_the_application(
    project: Project, caplog: pytest.LogCaptureFixture
) -> None:
    (project.root / ".dbheal").write_text("not a folder", encoding="utf-8")
    conn = project.connect()
    with caplog.at_level(logging.WARNING, logger="dbheal_lsp.runtime"):
        assert conn.execute("SELECT count(*) FROM orders").fetchone() == (0,)
        with pytest.raises(sqlite3.OperationalError, match="no such table: nope"):
            conn.execute("SELECT * FROM nope")
    assert any("cannot record runtime events" in r.getMessage() for r in caplog.records)
    assert ("table", "orders") in project.objects()
    conn.close()


def test_importing_the_runtime_imports_nothing_heavy(project: Project) -> None:
    code = textwrap.dedent(
        f"""\
        import sys
        import dbheal_lsp.runtime
        print(sorted(m for m in {HEAVY!r} if m in sys.modules))
        conn = dbheal_lsp.runtime.connect({str(project.db)!r}, project_root={str(project.root)!r})
        conn.execute("SELECT * FROM orders")  # a heal
        print(sorted(m for m in {HEAVY!r} if m in sys.modules))
        """
    )
    result = run_python(code, project.root)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:2] == ["[]", "[]"]
    [event] = healed(project.events())
    assert (event.path, event.line) == (None, None)  # python -c: no file to point at


# --- SQLAlchemy ---------------------------------------------------------------------------------


def test_sqlalchemy_engine_hook(project: Project) -> None:
    sqlalchemy = pytest.importorskip("sqlalchemy")
    from sqlalchemy import column, create_engine, select, table, text

    engine = create_engine(f"sqlite:///{project.db}")
    install_sqlalchemy(engine, project_root=project.root)
    install_sqlalchemy(engine, project_root=project.root)  # twice: nothing more
    with engine.connect() as db:
        assert db.execute(text("SELECT id, total FROM orders")).all() == []
        db.execute(
            text("INSERT INTO orders (user_id, total) VALUES (:user, :total)"),
            {"user": 2, "total": 4.5},
        )
        db.commit()
        orders = table("orders", column("user_id"), column("total"), column("status"))
        assert db.execute(select(orders)).all() == [(2, 4.5, "new")]
        users = table("users", column("name"), column("email"))
        assert db.execute(select(users.c.name, users.c.email)).all() == [
            ("ann", None),
            ("bob", None),
        ]
        with pytest.raises(sqlalchemy.exc.OperationalError) as raised:
            db.execute(text("SELECT * FROM nope"))
        assert isinstance(raised.value.orig, sqlite3.OperationalError)
        assert str(raised.value.orig) == "no such table: nope"
    engine.dispose()
    events = project.events()
    assert [(e.table, e.outcome) for e in events] == [
        ("orders", "healed"),
        ("users", "healed"),
        ("nope", "not healed: no migration defines table nope"),
    ]
    assert all(e.path is not None and Path(e.path).name == "test_runtime.py" for e in events)
