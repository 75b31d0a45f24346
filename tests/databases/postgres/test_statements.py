"""A PostgreSQL script split where psql splits it: `$$` bodies, E'' strings, nested comments."""

from __future__ import annotations

from dbheal_lsp.databases.postgres.statements import complete_statement, split_statements


def test_a_dollar_quoted_function_body_is_one_statement() -> None:
    script = (
        "-- 003: touch updated_at\n"
        "CREATE FUNCTION touch() RETURNS trigger AS $$\n"
        "BEGIN\n"
        "  NEW.updated_at := now();\n"
        "  RETURN NEW;\n"
        "END;\n"
        "$$ LANGUAGE plpgsql;\n"
        "CREATE FUNCTION two() RETURNS int AS $body$ SELECT 1; SELECT 2 $body$ LANGUAGE sql;\n"
    )
    statements = split_statements(script)
    assert [line for line, _ in statements] == [2, 8]
    assert statements[0][1].endswith("$$ LANGUAGE plpgsql")
    assert "NEW.updated_at := now();" in statements[0][1]
    assert statements[1][1].endswith("$body$ LANGUAGE sql")


def test_strings_names_and_comments_hide_their_semicolons() -> None:
    script = (
        "SELECT E'it\\'s; here', 'a''b;c', \"odd;name\" FROM t;\n"
        "/* outer /* inner; */ still a comment; */ SELECT $tag$ $$ ; $tag$;\n"
        "SELECT a$b, x FROM t WHERE y = $1\n"
    )
    assert split_statements(script) == [
        (1, "SELECT E'it\\'s; here', 'a''b;c', \"odd;name\" FROM t"),
        (2, "SELECT $tag$ $$ ; $tag$"),
        (3, "SELECT a$b, x FROM t WHERE y = $1"),
    ]


def test_a_standard_sql_function_body_and_parentheses_are_one_statement() -> None:
    script = (
        "CREATE OR REPLACE FUNCTION pick(x int) RETURNS int LANGUAGE sql\n"
        "BEGIN ATOMIC\n  SELECT CASE WHEN x > 0 THEN 1 ELSE 0 END;\n  SELECT 2;\nEND;\n"
        "BEGIN;\nCOMMIT;\n"
    )
    assert [sql.split()[0] for _, sql in split_statements(script)] == ["CREATE", "BEGIN", "COMMIT"]
    assert split_statements("CREATE RULE r AS ON INSERT TO t DO (SELECT 1; SELECT 2);") == [
        (1, "CREATE RULE r AS ON INSERT TO t DO (SELECT 1; SELECT 2)")
    ]


def test_a_plain_string_keeps_its_backslash() -> None:
    # standard_conforming_strings: in '...' a backslash is a character, so the quote ends it.
    assert split_statements("SELECT 'C:\\';SELECT 2") == [(1, "SELECT 'C:\\'"), (1, "SELECT 2")]


def test_complete_statement() -> None:
    assert complete_statement("DO $$ BEGIN PERFORM 1; END $$;")
    assert not complete_statement("DO $$ BEGIN PERFORM 1;")
    assert not complete_statement("SELECT 1")
    assert not complete_statement("-- only a comment;")
