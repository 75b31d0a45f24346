"""Tests of the front doors of dbheal_lsp.runtime: connect, wrap, install_sqlalchemy, the import."""

from __future__ import annotations

import sqlite3
import textwrap
from pathlib import Path

import pytest

from dbheal_lsp.runtime import (
    HealingConnection,
    HealingCursor,
    HealingProxy,
    connect,
    install_sqlalchemy,
    wrap,
)
from tests.runtime.projects import HEAVY, Project, healed, run_python


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
    assert all(e.path is not None and Path(e.path).name == "test_init.py" for e in events)
