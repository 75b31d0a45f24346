"""The schema read from a real server's catalog: what the rules need, as dbheal's Schema."""

from __future__ import annotations

from typing import Any

from dbheal_lsp.databases.postgres.catalog import affinity, schema_from_catalog

DDL = """
CREATE TABLE teams (id bigint PRIMARY KEY, title varchar(40) NOT NULL);
CREATE TABLE members (
    team_id bigint REFERENCES teams (id) ON DELETE CASCADE,
    user_id integer,
    email text NOT NULL DEFAULT 'x@example.com',
    active boolean,
    blob bytea,
    PRIMARY KEY (user_id, team_id)
);
CREATE INDEX members_active_email ON members (email) WHERE active;
CREATE UNIQUE INDEX members_lower_email ON members (lower(email));
CREATE VIEW active_members AS SELECT user_id, email FROM members WHERE active;
"""


def test_tables_columns_keys_indexes_and_views(pg_conn: Any) -> None:
    pg_conn.execute(DDL)
    schema = schema_from_catalog(pg_conn, "public", "database")
    assert set(schema.tables) == {"teams", "members", "active_members"}
    members = schema.tables["members"]
    assert members.column_names == ("team_id", "user_id", "email", "active", "blob")
    email = members.column("email")
    assert email is not None and email.not_null and email.default == "'x@example.com'::text"
    assert members.primary_key == ("user_id", "team_id")
    title = schema.tables["teams"].column("title")
    assert title is not None and title.declared_type == "character varying(40)"
    assert title.affinity == "TEXT"
    (key,) = members.foreign_keys
    assert (key.columns, key.ref_table, key.ref_columns, key.on_delete) == (
        ("team_id",),
        "teams",
        ("id",),
        "CASCADE",
    )
    partial = schema.indexes["members_active_email"]
    assert partial.partial and partial.columns == ("email",) and not partial.unique
    expression = schema.indexes["members_lower_email"]
    assert expression.unique and expression.columns == ("lower(email)",)
    assert schema.tables["active_members"].is_view
    assert schema.tables["active_members"].column_names == ("user_id", "email")
    assert schema.source == "database" and schema.version


def test_version_changes_with_the_schema(pg_conn: Any) -> None:
    pg_conn.execute(DDL)
    before = schema_from_catalog(pg_conn, "public", "database").version
    pg_conn.execute("ALTER TABLE teams ADD COLUMN motto text")
    assert schema_from_catalog(pg_conn, "public", "database").version != before


def test_affinity_of_postgres_types() -> None:
    assert affinity("integer") == "INTEGER"
    assert affinity("bigint") == "INTEGER"
    assert affinity("text") == "TEXT"
    assert affinity("jsonb") == "TEXT"
    assert affinity("bytea") == "BLOB"
    assert affinity("double precision") == "REAL"
    assert affinity("numeric(10,2)") == "NUMERIC"
