"""Tests of where the application is (dbheal_lsp.runtime.callsite): its file, line and project."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from tests.runtime.projects import make_project

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
