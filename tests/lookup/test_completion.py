"""lookup/completion.py: what completion proposes at each place of a statement: tables, the columns
in scope, keywords.

The shop of conftest.py: a real SQLite file and migrations under `tmp_path`.
"""

from __future__ import annotations

import pytest

from dbheal_lsp.analysis.project import Project
from tests.lookup.conftest import (
    ORDERS_COLUMNS,
    USERS_COLUMNS,
    complete,
    cursor,
    labels,
    module,
)


def test_completion_after_from_lists_tables_with_the_migrations_only_one(project: Project) -> None:
    source = module('    db.execute("SELECT * FROM ")\n')
    items = complete(project, source, cursor(source, '")'))
    assert labels(items, "table") == ["orders", "users", "audit_log"]
    assert not labels(items, "column") and not labels(items, "keyword")
    by_label = {c.label: c for c in items}
    assert by_label["users"].detail == "table, 6 columns"
    assert by_label["audit_log"].detail == "table, 2 columns — not applied"
    assert "defined in migrations/004_audit.sql:4" in by_label["audit_log"].documentation


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM us",  # a partly typed name
        "SELECT * FROM users u JOIN ",
        "SELECT * FROM users u LEFT OUTER JOIN ",
        "SELECT * FROM users, ",
        "INSERT INTO ",
        "INSERT OR REPLACE INTO ",
        "UPDATE ",
        "DELETE FROM ",
        "DROP TABLE IF EXISTS ",
        "CREATE INDEX idx ON ",
    ],
)
def test_completion_of_table_names(project: Project, sql: str) -> None:
    source = module(f'    db.execute("{sql}")\n')
    items = complete(project, source, cursor(source, '")'))
    assert labels(items, "table") == ["orders", "users", "audit_log"], sql
    assert not labels(items, "column")


def test_completion_after_alias_dot_lists_that_table_only(project: Project) -> None:
    source = module('    db.execute("SELECT u. FROM users u JOIN orders o ON o.user_id = u.id")\n')
    items = complete(project, source, cursor(source, "u. FROM", 2))
    assert [c.label for c in items] == USERS_COLUMNS
    assert {c.kind for c in items} == {"column"}
    by_label = {c.label: c for c in items}
    assert by_label["name"].detail == "TEXT NOT NULL — users"
    assert by_label["id"].detail == "INTEGER PRIMARY KEY — users"
    assert "`users.name`" in by_label["name"].documentation
    # With part of the name typed, and for the other alias.
    source = module(
        '    db.execute("SELECT o.to FROM users u JOIN orders o ON o.user_id = u.id")\n'
    )
    items = complete(project, source, cursor(source, "o.to", 4))
    assert [c.label for c in items] == ORDERS_COLUMNS
    assert items[3].detail == "REAL NOT NULL — orders"


def test_completion_in_where_lists_columns_in_scope_then_tables(project: Project) -> None:
    source = module(
        '    db.execute("SELECT * FROM users u JOIN orders o ON o.user_id = u.id WHERE ")\n'
    )
    items = complete(project, source, cursor(source, '")'))
    assert labels(items, "column") == USERS_COLUMNS + ORDERS_COLUMNS
    assert "message" not in labels(items, "column")  # audit_log is not in scope
    kinds = [c.kind for c in items]
    assert kinds.index("table") > max(i for i, k in enumerate(kinds) if k == "column")
    assert "AND" in labels(items, "keyword")


def test_completion_in_the_select_list_sees_tables_named_later(project: Project) -> None:
    source = module('    db.execute("SELECT  FROM orders")\n')
    items = complete(project, source, cursor(source, "SELECT ", 7))
    assert labels(items, "column") == ORDERS_COLUMNS


def test_completion_in_insert_and_update_lists_the_target_columns(project: Project) -> None:
    source = module('    db.execute("INSERT INTO orders () VALUES (?)", (1,))\n')
    items = complete(project, source, cursor(source, "()", 1))
    assert labels(items, "column") == ORDERS_COLUMNS
    source = module('    db.execute("UPDATE users SET  WHERE id = ?", (uid,))\n')
    items = complete(project, source, cursor(source, "SET ", 4))
    assert labels(items, "column") == USERS_COLUMNS


def test_completion_after_a_table_name_proposes_keywords(project: Project) -> None:
    source = module('    db.execute("SELECT * FROM users u ")\n')
    items = complete(project, source, cursor(source, '")'))
    assert items and {c.kind for c in items} == {"keyword"}
    assert "WHERE" in labels(items, "keyword")
