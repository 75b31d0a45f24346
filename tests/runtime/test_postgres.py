"""The runtime wrapper on a real PostgreSQL server: the application's statement on a missing
table or column is healed from the migrations and retried, inside its own transaction (a
savepoint keeps the transaction alive), and any other error is the application's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest

from dbheal_lsp.fixes.state import StateStore
from dbheal_lsp.runtime.postgres import HealingPsycopg, install_sqlalchemy_postgres, wrap_psycopg
from tests.databases.postgres.conftest import pg_conn, pg_url, postgres_server
from tests.databases.postgres.fixes_project import MIGRATION_1, MIGRATION_2, columns, tables

__all__ = ["pg_conn", "pg_url", "postgres_server"]  # the server's fixtures, used here too


def _migrations(tmp_path: Path) -> Path:
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "001_users.sql").write_text(MIGRATION_1)
    (folder / "002_orders.sql").write_text(MIGRATION_2)
    return folder


def test_a_missing_table_is_created_and_the_insert_retried(
    pg_url: str, pg_conn: Any, tmp_path: Path
) -> None:
    pg_conn.execute(MIGRATION_1)
    with psycopg.connect(pg_url) as raw:
        app = wrap_psycopg(raw, migrations=_migrations(tmp_path), root=tmp_path)
        assert isinstance(app, HealingPsycopg)
        app.execute("INSERT INTO users (email) VALUES ('a@x')")  # before the error: kept
        app.execute("INSERT INTO orders (user_id, total) VALUES (%s, %s)", (1, 5))
        app.commit()
    assert "orders" in tables(pg_conn)
    assert pg_conn.execute("SELECT user_id, total FROM orders").fetchall() == [(1, 5)]
    assert pg_conn.execute("SELECT email FROM users").fetchall() == [("a@x",)]
    (event,) = StateStore(tmp_path).events()  # recorded as SQLite's heals are
    assert event.error == 'relation "orders" does not exist'
    assert event.action == "Create table orders from 002_orders.sql"
    assert event.outcome == "healed; retried once"


def test_a_missing_column_is_added_for_a_select_through_a_cursor(
    pg_url: str, pg_conn: Any, tmp_path: Path
) -> None:
    pg_conn.execute(MIGRATION_1)
    pg_conn.execute("INSERT INTO users (email) VALUES ('a@x')")
    with psycopg.connect(pg_url, autocommit=True) as raw:
        app = wrap_psycopg(raw, migrations=_migrations(tmp_path))
        with app.cursor() as cursor:
            rows = cursor.execute("SELECT nickname FROM users").fetchall()
    assert rows == [(None,)]
    assert "nickname" in columns(pg_conn, "users")


def test_other_errors_are_the_applications_and_its_transaction_goes_on(
    pg_url: str, pg_conn: Any, tmp_path: Path
) -> None:
    pg_conn.execute(MIGRATION_1)
    with psycopg.connect(pg_url) as raw:
        app = wrap_psycopg(raw, migrations=_migrations(tmp_path), root=tmp_path)
        with pytest.raises(psycopg.errors.UndefinedTable):
            app.execute("SELECT * FROM defined_nowhere")
        with pytest.raises(psycopg.errors.UniqueViolation):
            app.execute("INSERT INTO users (id, email) VALUES (1, 'a'), (1, 'b')")
        app.execute("INSERT INTO users (email) VALUES ('still works')")
        app.commit()
    assert pg_conn.execute("SELECT email FROM users").fetchall() == [("still works",)]
    (event,) = StateStore(tmp_path).events()
    assert event.outcome == "not healed: no migration defines it"


def test_executemany_on_a_missing_table_heals_and_writes_every_row(
    pg_url: str, pg_conn: Any, tmp_path: Path
) -> None:
    pg_conn.execute(MIGRATION_1)
    with psycopg.connect(pg_url) as raw:
        app = wrap_psycopg(raw, migrations=_migrations(tmp_path), root=tmp_path)
        with app.cursor() as cursor:
            rows = ((user, user * 10) for user in (1, 2, 3))  # a generator, read once
            cursor.executemany("INSERT INTO orders (user_id, total) VALUES (%s, %s)", rows)
        app.commit()
    assert pg_conn.execute("SELECT user_id, total FROM orders ORDER BY 1").fetchall() == [
        (1, 10),
        (2, 20),
        (3, 30),
    ]
    (event,) = StateStore(tmp_path).events()
    assert event.action == "Create table orders from 002_orders.sql"


def test_a_sqlalchemy_engine_heals_inside_its_transaction(
    pg_url: str, pg_conn: Any, tmp_path: Path
) -> None:
    import sqlalchemy

    pg_conn.execute(MIGRATION_1)
    url = pg_url.replace("postgresql://", "postgresql+psycopg://", 1)
    engine = sqlalchemy.create_engine(url)
    migrations = _migrations(tmp_path)
    install_sqlalchemy_postgres(engine, migrations=migrations, root=tmp_path)
    install_sqlalchemy_postgres(engine, migrations=migrations, root=tmp_path)  # does nothing
    try:
        with engine.begin() as conn:
            conn.execute(sqlalchemy.text("INSERT INTO users (email) VALUES ('a@x')"))
            conn.execute(
                sqlalchemy.text("INSERT INTO orders (user_id, total) VALUES (:u, :t)"),
                [{"u": 1, "t": 5}, {"u": 2, "t": 6}],
            )
            nick = conn.execute(sqlalchemy.text("SELECT nickname FROM users")).all()
        assert nick == [(None,)]
        with engine.connect() as conn, pytest.raises(sqlalchemy.exc.ProgrammingError):
            conn.execute(sqlalchemy.text("SELECT * FROM defined_nowhere"))
    finally:
        engine.dispose()
    assert pg_conn.execute("SELECT user_id, total FROM orders ORDER BY 1").fetchall() == [
        (1, 5),
        (2, 6),
    ]
    assert "nickname" in columns(pg_conn, "users")
    assert [e.outcome for e in StateStore(tmp_path).events()] == [
        "not healed: no migration defines it",
        "healed; retried once",
        "healed; retried once",
    ]
    with pytest.raises(ValueError, match="postgresql\\+psycopg"):
        install_sqlalchemy_postgres(sqlalchemy.create_engine("sqlite://"), migrations=tmp_path)


def test_mode_report_records_and_raises_as_without_the_wrapper(
    pg_url: str, pg_conn: Any, tmp_path: Path
) -> None:
    pg_conn.execute(MIGRATION_1)
    with psycopg.connect(pg_url) as raw:
        app = wrap_psycopg(raw, migrations=_migrations(tmp_path), root=tmp_path, mode="report")
        with pytest.raises(psycopg.errors.UndefinedTable):
            app.execute("INSERT INTO orders (user_id, total) VALUES (1, 5)")
        # No savepoint in mode report: the transaction is aborted, as it would be unwrapped.
        assert raw.info.transaction_status == psycopg.pq.TransactionStatus.INERROR
        raw.rollback()
    assert "orders" not in tables(pg_conn)
    (event,) = StateStore(tmp_path).events()
    assert event.error == 'relation "orders" does not exist'
    assert event.outcome == "reported (mode report): not healed"


def test_dbheal_runtime_off_leaves_the_connection_as_it_is(
    pg_url: str, pg_conn: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An operator's switch: DBHEAL_RUNTIME=off wins over the code's mode="heal".
    monkeypatch.setenv("DBHEAL_RUNTIME", "off")
    pg_conn.execute(MIGRATION_1)
    with psycopg.connect(pg_url) as raw:
        app = wrap_psycopg(raw, migrations=_migrations(tmp_path), root=tmp_path, mode="heal")
        assert app is raw
        with pytest.raises(psycopg.errors.UndefinedTable):
            app.execute("INSERT INTO orders (user_id, total) VALUES (1, 5)")
    assert "orders" not in tables(pg_conn)
    assert StateStore(tmp_path).events() == []


def test_a_table_another_worker_created_meanwhile_is_only_retried(
    pg_url: str, pg_conn: Any, tmp_path: Path
) -> None:
    # Two workers of the application meet the missing table at once: the other one creates it
    # first. This one's statement only needs to run again, not fail on "already exists".
    pg_conn.execute(MIGRATION_1)
    with psycopg.connect(pg_url, autocommit=True) as raw:
        app = wrap_psycopg(raw, migrations=_migrations(tmp_path), root=tmp_path)
        assert isinstance(app, HealingPsycopg)
        cursor = raw.cursor()
        insert = "INSERT INTO orders (user_id, total) VALUES (1, 5)"
        tries = []

        def call() -> Any:
            tries.append(1)
            try:
                return cursor.execute(insert)
            finally:
                if len(tries) == 1:  # the other worker's heal lands right after our error
                    pg_conn.execute(MIGRATION_2)

        app.run(call, insert)
    assert len(tries) == 2
    assert pg_conn.execute("SELECT user_id, total FROM orders").fetchall() == [(1, 5)]
    (event,) = StateStore(tmp_path).events()
    assert event.outcome == "created meanwhile by another connection; retried once"
