"""Tests of the modes, the environment variable and a connection's settings
(dbheal_lsp.runtime.modes)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from dbheal_lsp.fixes.state import StateStore
from dbheal_lsp.runtime import connect, resolve_mode, wrap
from tests.runtime.projects import Project


def test_without_migrations_folder_the_error_is_raised(tmp_path: Path) -> None:
    db = tmp_path / "bare.db"
    conn = connect(db, project_root=tmp_path)
    with pytest.raises(sqlite3.OperationalError, match="no such table: orders"):
        conn.execute("SELECT * FROM orders")
    [event] = StateStore(tmp_path).events()
    assert event.outcome.startswith("not healed: no migrations folder")
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
