"""The PostgreSQL judge on a real server: each verdict at the right token, nothing executed,
nothing left prepared or open, PostgreSQL's own syntax never a false alarm."""

from __future__ import annotations

from typing import Any

import pytest

from dbheal_lsp.analysis.placeholders import normalize_placeholders
from dbheal_lsp.databases.postgres.judge import PostgresJudge

SCHEMA = """
CREATE TABLE users (id integer PRIMARY KEY, name text NOT NULL, email text, data jsonb,
                    tags text[], created timestamptz DEFAULT now());
CREATE INDEX users_email ON users (email);
INSERT INTO users (id, name) VALUES (1, 'ann');
"""


@pytest.fixture
def judge(pg_conn: Any) -> Any:
    pg_conn.execute(SCHEMA)
    import psycopg

    conn = psycopg.connect(pg_conn.info.dsn, autocommit=True, prepare_threshold=None)
    judge = PostgresJudge(conn, "public")
    yield judge
    judge.close()


def _verdict(judge: PostgresJudge, sql: str) -> Any:
    # The checker hands the judge its text with placeholders in SQLite's spelling.
    return judge.verdict(normalize_placeholders(sql))


def test_unknown_table_column_and_syntax_name_their_token(judge: PostgresJudge) -> None:
    table = _verdict(judge, "SELECT 'héllo wörld €' AS x FROM nope")
    assert (table.kind, table.name) == ("no_table", "nope")
    column = _verdict(judge, "SELECT 'ünïcødé' || naem FROM users WHERE id = %s")
    assert (column.kind, column.name) == ("no_column", "naem")
    qualified = _verdict(judge, "SELECT u.naem FROM users u")
    assert (qualified.kind, qualified.name, qualified.qualifier) == ("no_column", "naem", "u")
    syntax = _verdict(judge, "SELECT 'é€' AS a, id FORM users")
    assert (syntax.kind, syntax.name) == ("syntax", "users")


def test_type_mismatch_names_the_operator_at_its_position(judge: PostgresJudge) -> None:
    # The non-ASCII text before the error checks that the 1-based position is in characters.
    sql = "SELECT 'déjà vu €' FROM users WHERE id = 2 AND name = 1"
    verdict = _verdict(judge, sql)
    assert verdict.kind == "type"
    assert "text = integer" in verdict.message
    assert verdict.name == "=" and verdict.offset == sql.index("= 1")
    literal = "SELECT 'ß' FROM users WHERE id = 'abc'"
    bad = _verdict(judge, literal)
    assert (bad.kind, bad.name, bad.offset) == ("type", "'abc'", literal.index("'abc'"))


def test_insert_with_unknown_column(judge: PostgresJudge) -> None:
    verdict = _verdict(judge, "INSERT INTO users (id, nmae) VALUES (%s, %s)")
    assert (verdict.kind, verdict.name, verdict.qualifier) == ("no_column", "nmae", "users")


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT id::text, created::date FROM users WHERE id = %s::int",
        "SELECT id FROM users WHERE name ILIKE %s",
        "INSERT INTO users (id, name) VALUES (%s, %s) RETURNING id, created",
        "INSERT INTO users (id, name) VALUES (%(id)s, %(name)s) "
        "ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name",
        "SELECT id FROM users WHERE %s = ANY(tags) AND tags @> ARRAY['a']",
        "SELECT data->>'k', data #> '{a,b}' FROM users WHERE data ? 'k' AND data ?| ARRAY['a']",
        "SELECT id FROM users WHERE data @> %s::jsonb LIMIT %s OFFSET %s",
        "UPDATE users SET name = %s WHERE id = %s RETURNING *",
        "DELETE FROM users WHERE id = ANY(%s)",
        "WITH x AS (SELECT id FROM users) SELECT count(*) FILTER (WHERE id > 1) FROM x",
    ],
)
def test_postgres_only_syntax_is_no_false_alarm(judge: PostgresJudge, sql: str) -> None:
    assert _verdict(judge, sql).kind == "ok", sql


def test_nothing_is_executed_nor_left_behind(judge: PostgresJudge) -> None:
    assert _verdict(judge, "DELETE FROM users").kind == "ok"
    assert _verdict(judge, "UPDATE users SET name = 'x'").kind == "ok"
    conn = judge.conn
    assert conn.execute("SELECT name FROM users").fetchall() == [("ann",)]
    assert conn.execute("SELECT count(*) FROM pg_prepared_statements").fetchone() == (0,)
    assert not judge.in_transaction


def test_plan_says_which_filters_no_index_serves(judge: PostgresJudge) -> None:
    plan = judge.plan("SELECT id FROM users WHERE name = $1", ())
    assert plan == ["SCAN users"]
    served = judge.plan("SELECT id FROM users WHERE email = $1", ())
    assert served and served[0].startswith("SEARCH users USING INDEX users_email")
    assert judge.plan_with_index(
        "SELECT id FROM users WHERE name = $1", (), "users", ("name",), "i"
    )
    assert judge.conn.execute("SELECT count(*) FROM pg_prepared_statements").fetchone() == (0,)
    assert not judge.in_transaction


def test_script_ddl_is_seen_by_later_statements_then_undone(judge: PostgresJudge) -> None:
    with judge.undone("dbheal_script"):
        assert judge.run("CREATE TABLE notes (id int, body text)").kind == "ran"
        assert _verdict(judge, "SELECT body FROM notes").kind == "ok"
        assert _verdict(judge, "SELECT nope FROM notes").kind == "no_column"
        assert judge.run("ALTER TABLE users ADD COLUMN x int").kind == "refused"
        assert judge.in_transaction
    assert _verdict(judge, "SELECT body FROM notes").kind == "no_table"
    assert judge.has_objects()


def test_a_table_locked_by_a_migration_is_not_judged_and_does_not_hang(
    judge: PostgresJudge, pg_conn: Any
) -> None:
    import psycopg

    from dbheal_lsp.databases.postgres.connect import connect

    waiting = connect(pg_conn.info.dsn)
    locker = psycopg.connect(pg_conn.info.dsn)  # a transaction left open, as a migration's
    try:
        locker.execute("LOCK TABLE users IN ACCESS EXCLUSIVE MODE")
        locked = PostgresJudge(waiting)
        verdict = locked.verdict("SELECT name FROM users")
        assert verdict.kind == "ok" and verdict.message.startswith("not judged: ")
        assert "lock timeout" in verdict.message
        # The next statements on the locked table are not each waited for: a file of fifty
        # would otherwise hold the editor's check for fifty lock timeouts.
        assert waiting.execute("SHOW lock_timeout").fetchone()[0] == "20ms"
        assert locked.verdict("SELECT email FROM users").message.startswith("not judged: ")
    finally:
        locker.rollback()
        locker.close()
        waiting.close()
