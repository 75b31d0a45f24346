"""lookup/sql_context.py: which table a name under the cursor belongs to: aliases, joins, quoted
and schema-qualified names, upserts.

The shop of conftest.py: a real SQLite file and migrations under `tmp_path`.
"""

from __future__ import annotations

from dbheal_lsp.analysis.project import Project
from dbheal_lsp.lookup import SqlToken, token_at
from dbheal_lsp.model import Span
from tests.lookup.conftest import (
    cursor,
    hover,
    module,
    token,
)


def test_hover_column_qualified_by_alias(project: Project) -> None:
    source = module('    db.execute("SELECT u.name FROM users u WHERE u.id = ?", (uid,))\n')
    found = token(project, source, "u.name", 2)
    assert (found.kind, found.name, found.table) == ("column", "name", "users")
    line, column = cursor(source, "u.name", 2)
    assert found.span == Span(line, column, line, column + 4)
    assert "`idx_users_name` (name; leading)" in hover(project, source, "u.name", 2)
    # The alias itself stands for its table, where it is defined and where it is used.
    line, column = cursor(source, "u WHERE")
    assert token(project, source, "u WHERE") == SqlToken(
        "table", "users", "users", Span(line, column, line, column + 1)
    )
    assert token(project, source, "u.id") == SqlToken(
        "table", "users", "users", Span.point(*cursor(source, "u.id"))
    )


def test_hover_column_in_a_join_resolves_each_alias(project: Project) -> None:
    source = module(
        '    db.execute("SELECT u.status, o.status FROM users u '
        'JOIN orders o ON o.user_id = u.id WHERE total_cents > 0")\n'
    )
    assert token(project, source, "u.status", 2).table == "users"
    assert token(project, source, "o.status", 2).table == "orders"
    leading = hover(project, source, "o.user_id", 2)
    assert "`idx_orders_user_status` (user_id, status; leading)" in leading
    second = hover(project, source, "o.status", 2)
    assert "`idx_orders_user_status` (user_id, status; not leading: position 2)" in second
    assert "DEFAULT 'new'" in second
    # Unqualified: the table in scope that has the column.
    assert token(project, source, "total_cents").table == "orders"


def test_hover_on_quoted_and_schema_qualified_names(project: Project) -> None:
    source = module(
        '    db.execute(\'SELECT "email", u.[name] FROM main."users" AS u WHERE `id` = 1\')\n'
    )
    found = token(project, source, '"email"', 1)
    assert (found.kind, found.name, found.table) == ("column", "email", "users")
    line, column = cursor(source, '"email"')
    assert found.span == Span(line, column, line, column + len('"email"'))
    assert token(project, source, "[name]").table == "users"
    table = token(project, source, '"users"')
    assert (table.kind, table.name) == ("table", "users")
    assert table.span == Span.point(*cursor(source, '"users"'), len('"users"'))
    assert token(project, source, "`id`").table == "users"
    assert token_at(project, "app/x.py", source, *cursor(source, "main")) is None


def test_hover_in_an_upsert_resolves_excluded_to_the_target(project: Project) -> None:
    source = module(
        '    db.execute("INSERT INTO users (name, email) VALUES (?, ?) '
        'ON CONFLICT(email) DO UPDATE SET name = excluded.name", ("a", "b"))\n'
    )
    assert token(project, source, "email)").table == "users"
    assert token(project, source, "excluded.name", 9).table == "users"
    assert token(project, source, "excluded").kind == "table"
