"""pglast's verdicts without a server: syntax at the parser's position, names from the schema,
and no false alarm where the server's answer would be needed."""

from __future__ import annotations

from dbheal_lsp.analysis.schema import Schema
from dbheal_lsp.databases.postgres.offline_judge import OfflineJudge, offline_verdict
from dbheal_lsp.databases.postgres.offline_schema import offline_schema_from_ddl
from dbheal_lsp.model import Origin


def _schema() -> Schema:
    ddl = (
        "CREATE TABLE users (id serial PRIMARY KEY, email text NOT NULL, data jsonb);"
        "CREATE TABLE orders (id int, user_id int, total numeric);"
        "CREATE VIEW totals AS SELECT user_id, sum(total) FROM orders GROUP BY user_id"
    )
    return offline_schema_from_ddl([(ddl, Origin("m.sql", 1))])


def test_a_syntax_error_is_placed_where_the_parser_says() -> None:
    text = "SELECT 'é', id FRM users WHERE id = ?"
    verdict = offline_verdict(text, _schema())
    assert verdict.kind == "syntax"
    assert verdict.name == "users"
    assert verdict.offset == text.index("users")
    assert 'syntax error at or near "users"' in verdict.message


def test_unknown_tables_and_columns_are_named_at_their_place() -> None:
    schema = _schema()
    table = offline_verdict("SELECT id FROM users JOIN userz ON true", schema)
    assert (table.kind, table.name, table.offset) == ("no_table", "userz", 26)
    text = "SELECT u.id, u.emial FROM users u WHERE u.id = $1"
    column = offline_verdict(text, schema)
    assert (column.kind, column.name, column.qualifier) == ("no_column", "emial", "u")
    assert column.offset == text.index("u.emial")
    accented = "SELECT 'é', u.emial FROM users u"
    assert offline_verdict(accented, schema).offset == accented.index("u.emial")
    bare = offline_verdict("SELECT id, user_id FROM users", schema)
    assert (bare.kind, bare.name) == ("no_column", "user_id")
    insert = offline_verdict("INSERT INTO orders (id, totl) VALUES (?, ?)", schema)
    assert (insert.kind, insert.name, insert.qualifier) == ("no_column", "totl", "orders")
    update = offline_verdict("UPDATE users SET mail = :m WHERE id = :id", schema)
    assert (update.kind, update.name) == ("no_column", "mail")


def test_postgres_syntax_and_unknowable_sources_raise_no_alarm() -> None:
    schema = _schema()
    for text in (
        "SELECT id::text, data->>'k', data ? 'k' FROM users WHERE email ILIKE ?",
        "INSERT INTO users (email) VALUES (?) ON CONFLICT (email) DO UPDATE "
        "SET email = excluded.email RETURNING id",
        "WITH x AS (SELECT id AS n FROM users) SELECT n FROM x",
        "SELECT key, value FROM users, jsonb_each(users.data)",
        "SELECT whatever FROM totals",
        "SELECT email AS e FROM users ORDER BY e",
        "SELECT id FROM users WHERE id = ANY(?) AND email = ANY(ARRAY['a'])",
        "SELECT id FROM other_schema.t",
        "CREATE TABLE new_one (x int)",
    ):
        assert offline_verdict(text, schema).kind == "ok", text


def test_the_judge_plans_and_runs_nothing() -> None:
    judge = OfflineJudge(_schema())
    assert judge.dialect == "postgres"
    assert judge.plan("SELECT id FROM users WHERE email = ?", ()) == []
    assert judge.run("CREATE TABLE t (x int)").kind == "refused"
    assert judge.schema("migrations").tables["users"].column_names == ("id", "email", "data")
    assert judge.verdict("").kind == "ok"
