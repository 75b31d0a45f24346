"""Tests of finding migration files and splitting them into statements (analysis/migration_files.py)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from dbheal_lsp.analysis.migration_files import (
    migration_files,
    read_script,
    split_statements,
    up_part,
)
from dbheal_lsp.databases.sqlite.replay import replay_migrations
from dbheal_lsp.model import Origin
from tests.databases.sqlite.test_replay import write


def test_migration_files_in_natural_order(tmp_path: Path) -> None:
    for name in [
        "10_c.sql",
        "2_b.sql",
        "1_a.sql",
        "010_y.sql",
        "002_x.sql",
        "README.md",
        ".hidden.sql",
        "3_init.up.sql",
        "3_init.down.sql",
        "V11__flyway.SQL",
    ]:
        (tmp_path / name).write_text("")
    write(tmp_path, "2020-01-01-000000_diesel/up.sql", "")
    write(tmp_path, "2020-01-01-000000_diesel/down.sql", "")
    (tmp_path / "notes").mkdir()

    names = [p.relative_to(tmp_path).as_posix() for p in migration_files(tmp_path)]
    assert names == [
        "1_a.sql",
        "2_b.sql",
        "002_x.sql",
        "3_init.up.sql",
        "10_c.sql",
        "010_y.sql",
        "2020-01-01-000000_diesel/up.sql",
        "V11__flyway.SQL",
    ]


def test_split_statements_respects_strings_comments_and_triggers() -> None:
    script = textwrap.dedent(
        """\
        -- a comment; not a statement
        CREATE TABLE "semi;colon" (a TEXT DEFAULT 'x;y', [b;c] INT, `d;e` INT);
        /* block ; comment */ INSERT INTO "semi;colon" (a) VALUES ('it''s; fine');

        CREATE TRIGGER t AFTER INSERT ON "semi;colon"
        BEGIN
            UPDATE "semi;colon" SET a = 'z;'; -- inner ; comment
            DELETE FROM "semi;colon" WHERE a = ';';
        END;
        ;;
        SELECT 1 -- no final semicolon
        """
    )
    statements = split_statements(script)
    assert [line for line, _ in statements] == [2, 3, 5, 11]
    assert statements[0][1] == (
        "CREATE TABLE \"semi;colon\" (a TEXT DEFAULT 'x;y', [b;c] INT, `d;e` INT)"
    )
    assert statements[1][1].startswith("INSERT INTO")
    assert statements[2][1].startswith("CREATE TRIGGER t")
    assert statements[2][1].endswith("END")
    assert "DELETE FROM" in statements[2][1]
    assert statements[3][1] == "SELECT 1 -- no final semicolon"
    assert split_statements("-- only\n/* comments */\n") == []


def test_up_part_of_goose_file_keeps_line_numbers() -> None:
    text = textwrap.dedent(
        """\
        -- +goose Up
        CREATE TABLE a (x);
        -- +goose StatementBegin
        CREATE TRIGGER t AFTER INSERT ON a BEGIN
            SELECT 1;
        END;
        -- +goose StatementEnd
        -- +goose Down
        DROP TABLE a;
        """
    )
    up = up_part(text)
    assert up.count("\n") == text.count("\n")
    assert "DROP TABLE" not in up
    assert [line for line, _ in split_statements(up)] == [2, 4]
    assert up_part("CREATE TABLE plain (x);\n") == "CREATE TABLE plain (x);\n"


def test_read_script_drops_a_bom_and_replaces_bad_bytes(tmp_path: Path) -> None:
    path = tmp_path / "001.sql"
    path.write_bytes(b"\xef\xbb\xbfCREATE TABLE a (x); -- caf\xe9\n")
    assert read_script(path) == "CREATE TABLE a (x); -- caf\ufffd\n"


def test_read_script_refuses_a_link_out_of_the_project(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    secret = tmp_path / "secret.sql"
    secret.write_text("CREATE TABLE secret (x);\n")
    link = project / "001.sql"
    link.symlink_to(secret)
    assert "secret" in read_script(link)  # no project root given: read
    with pytest.raises(OSError):
        read_script(link, project)


# --- the up part of each tool's files, replayed ------------------------------------------


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Work in tmp_path so that migration folders can be given as relative paths."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_goose_migration_runs_only_up(in_tmp: Path) -> None:
    write(
        in_tmp,
        "migrations/20240101_init.sql",
        """
        -- +goose Up
        -- +goose StatementBegin
        CREATE TABLE accounts (id INTEGER PRIMARY KEY, total INT);
        CREATE TRIGGER accounts_touch AFTER UPDATE ON accounts BEGIN
            UPDATE accounts SET total = total + 1 WHERE id = new.id;
            SELECT 1;
        END;
        -- +goose StatementEnd

        -- +goose Down
        DROP TRIGGER accounts_touch;
        DROP TABLE accounts;
        """,
    )
    result = replay_migrations(Path("migrations"))
    assert result.errors == ()
    table = result.schema.table("accounts")
    assert table is not None
    assert table.origin == Origin("migrations/20240101_init.sql", 3)
    trigger = result.schema.triggers["accounts_touch"]
    assert trigger.sql is not None and "SELECT 1;" in trigger.sql
    assert result.schema.source == "migrations"


def test_dbmate_migration_runs_only_up(in_tmp: Path) -> None:
    write(
        in_tmp,
        "db/migrations/20240101000000_create_users.sql",
        """
        -- migrate:up
        CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);

        -- migrate:down
        DROP TABLE users;
        """,
    )
    write(
        in_tmp,
        "db/migrations/20240102000000_add_email.sql",
        """
        -- migrate:up transaction:false
        ALTER TABLE users ADD COLUMN email TEXT;
        -- migrate:down
        ALTER TABLE users DROP COLUMN email;
        """,
    )
    result = replay_migrations(Path("db/migrations"))
    assert result.errors == ()
    users = result.schema.table("users")
    assert users is not None
    assert users.column_names == ("id", "name", "email")
    email = users.column("email")
    assert email is not None
    assert email.origin == Origin("db/migrations/20240102000000_add_email.sql", 2)


def test_golang_migrate_down_files_are_ignored(in_tmp: Path) -> None:
    write(in_tmp, "migrations/000001_init.up.sql", "CREATE TABLE items (id INTEGER);\n")
    write(in_tmp, "migrations/000001_init.down.sql", "DROP TABLE items;\n")
    write(in_tmp, "migrations/000002_more.up.sql", "CREATE TABLE more (id INTEGER);\n")
    write(in_tmp, "migrations/000002_more.down.sql", "DROP TABLE more;\n")
    result = replay_migrations(Path("migrations"))
    assert result.errors == ()
    assert [p.name for p in result.files] == ["000001_init.up.sql", "000002_more.up.sql"]
    assert set(result.schema.tables) == {"items", "more"}


def test_natural_order_decides_replay_order(tmp_path: Path) -> None:
    # In plain string order "10_" would run before "2_" and fail.
    write(tmp_path, "2_create.sql", "CREATE TABLE a (x);\n")
    write(tmp_path, "10_alter.sql", "ALTER TABLE a ADD COLUMN y;\n")
    result = replay_migrations(tmp_path)
    assert result.errors == ()
    table = result.schema.table("a")
    assert table is not None and table.column_names == ("x", "y")
