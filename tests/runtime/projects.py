"""A project for the runtime wrapper's tests, on real SQLite files and real migrations.

Each test gets a project in tmp_path: migrations/001..004 and app.db, which only had 001 run
(users, without the email column that 003 adds; no orders, no items). Processes are real
subprocesses running small application scripts written into the project.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dbheal_lsp import runtime
from dbheal_lsp.fixes.state import StateStore
from dbheal_lsp.records import RuntimeEvent
from dbheal_lsp.runtime import connect

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
