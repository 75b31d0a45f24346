"""Tests of the values replaying migrations gives (analysis/migrations.py)."""

from __future__ import annotations

from types import MappingProxyType

from dbheal_lsp.analysis.migrations import MigrationError, MigrationResult, MigrationStatement
from dbheal_lsp.analysis.schema import object_key
from dbheal_lsp.model import Origin
from tests.analysis.test_schema import schema_of

DDL = (
    "CREATE TABLE Users (id INTEGER PRIMARY KEY, email TEXT)",
    "CREATE INDEX users_email ON Users (email)",
    "CREATE TRIGGER stamp AFTER INSERT ON Users BEGIN SELECT 1; END",
)


def test_a_migration_error_names_its_file_and_line() -> None:
    assert str(MigrationError("m/001.sql", 4, "syntax error")) == "m/001.sql:4: syntax error"
    assert str(MigrationError("m", 0, "migrations folder not found")) == (
        "m: migrations folder not found"
    )


def test_a_statement_is_found_by_table_and_column_in_any_case() -> None:
    create = MigrationStatement("m/001.sql", 1, DDL[0], "create_table", "Users")
    index = MigrationStatement("m/001.sql", 2, DDL[1], "create_index", "Users")
    result = MigrationResult(
        schema_of(";\n".join(DDL), "migrations"),
        table_statements=MappingProxyType({object_key("Users"): (create, index)}),
        column_statements=MappingProxyType({(object_key("Users"), object_key("email")): create}),
    )
    assert result.statements_for_table("USERS") == (create, index)
    assert result.statements_for_table("orders") == ()
    assert result.column_statement("users", "EMAIL") is create
    assert result.column_statement("users", "name") is None
    assert create.origin == Origin("m/001.sql", 1)


def test_ddl_for_table_gives_its_create_index_and_trigger_statements() -> None:
    result = MigrationResult(schema_of(";\n".join(DDL), "migrations"))
    ddl = result.ddl_for_table("users")
    assert [sql.split()[1] for sql in ddl] == ["TABLE", "INDEX", "TRIGGER"]
    assert ddl[0] == DDL[0]
    assert result.ddl_for_table("orders") == ()
