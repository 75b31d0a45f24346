"""The migrations' schema read by pglast without a server: what the rules read of it."""

from __future__ import annotations

from pathlib import Path

from dbheal_lsp.databases.postgres.offline_schema import offline_migrations, offline_schema_from_ddl
from dbheal_lsp.model import Origin


def test_migrations_read_offline_give_tables_columns_and_lines(tmp_path: Path) -> None:
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "001_users.sql").write_text(
        "CREATE TABLE users (\n"
        "  id serial PRIMARY KEY,\n"
        "  email varchar(120) NOT NULL,\n"
        "  created timestamptz DEFAULT now()\n"
        ");\n"
        "CREATE FUNCTION touch() RETURNS trigger AS $$ BEGIN RETURN NEW; END; $$ "
        "LANGUAGE plpgsql;\n"
    )
    (folder / "002_orders.sql").write_text(
        "CREATE TABLE orders (id bigserial PRIMARY KEY,\n"
        "  user_id int REFERENCES users (id) ON DELETE CASCADE, total numeric(10, 2));\n"
        "CREATE INDEX orders_user ON orders (user_id);\n"
        "ALTER TABLE users ADD COLUMN name text NOT NULL DEFAULT '';\n"
        "ALTER TABLE users RENAME COLUMN name TO full_name;\n"
        "ALTER TABLE orders DROP COLUMN total;\n"
        "CREATE VIEW recent AS SELECT o.id, u.email AS who FROM orders o JOIN users u ON true;\n"
        "SELEC 1;\n"
    )
    result = offline_migrations(folder, tmp_path)
    users = result.schema.tables["users"]
    assert users.column_names == ("id", "email", "created", "full_name")
    assert [c.declared_type for c in users.columns] == [
        "integer",
        "character varying(120)",
        "timestamp with time zone",
        "text",
    ]
    assert users.primary_key == ("id",)
    email = users.column("email")
    assert (
        email is not None
        and email.not_null
        and email.origin == Origin(str(folder / "001_users.sql"), 3)
    )
    orders = result.schema.tables["orders"]
    assert orders.column_names == ("id", "user_id")
    assert orders.foreign_keys[0].ref_table == "users"
    assert orders.foreign_keys[0].on_delete == "CASCADE"
    assert result.schema.indexes["orders_user"].columns == ("user_id",)
    assert result.schema.tables["recent"].column_names == ("id", "who")
    assert [(Path(e.path).name, e.line) for e in result.errors] == [("002_orders.sql", 8)]
    added = result.column_statement("users", "name")
    assert added is not None and added.line == 4


def test_code_ddl_read_offline() -> None:
    schema = offline_schema_from_ddl(
        [("CREATE TABLE notes (id int, body text)", Origin("a.py", 2))]
    )
    assert schema.tables["notes"].column_names == ("id", "body")
    assert schema.source == "code"
