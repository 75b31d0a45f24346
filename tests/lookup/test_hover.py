"""lookup/hover.py: the Markdown a hover shows for a table or a column: its columns, indexes,
defaults, drift and where it is defined.

The shop of conftest.py: a real SQLite file and migrations under `tmp_path`.
"""

from __future__ import annotations

from pathlib import Path

from dbheal_lsp.analysis.project import Project
from dbheal_lsp.lookup import hover_markdown
from dbheal_lsp.model import Span
from tests.lookup.conftest import (
    build,
    cursor,
    hover,
    module,
    token,
)


def test_hover_table_lists_columns_indexes_and_its_migration(project: Project) -> None:
    source = module('    db.execute("SELECT id FROM users WHERE id = ?", (uid,))\n')
    found = token(project, source, "users")
    assert found.kind == "table"
    assert found.name == found.table == "users"
    line, column = cursor(source, "users")
    assert found.span == Span(line, column, line, column + len("users"))
    text = hover(project, source, "users", 2)
    assert "**table** `users` — 6 columns" in text
    assert "- `id` INTEGER PRIMARY KEY" in text
    assert "- `name` TEXT NOT NULL" in text
    assert "- `status` TEXT NOT NULL DEFAULT 'active'" in text
    assert "Indexes: automatic UNIQUE (email) · `idx_users_name` (name)" in text
    assert "Defined in migrations/001_users.sql:2" in text


def test_hover_table_without_migrations_shows_the_create_statement(tmp_path: Path) -> None:
    project = build(tmp_path, migrations=False)
    source = module('    db.execute("SELECT id FROM orders")\n')
    text = hover(project, source, "orders")
    assert "Defined in the database:" in text
    assert "```sql\nCREATE TABLE orders (" in text
    assert "migrations" not in text


def test_hover_plain_column(project: Project) -> None:
    source = module('    db.execute("SELECT email FROM users WHERE id = ?", (uid,))\n')
    found = token(project, source, "email", 3)
    assert (found.kind, found.name, found.table) == ("column", "email", "users")
    text = hover(project, source, "email")
    assert "**column** `users.email` — TEXT, affinity TEXT" in text
    assert "NOT NULL" in text
    assert "automatic UNIQUE (email; leading)" in text
    assert "Defined in migrations/001_users.sql:5" in text


def test_hover_column_default_and_primary_key(project: Project) -> None:
    source = module('    db.execute("SELECT id, status FROM users")\n')
    status = hover(project, source, "status")
    assert "DEFAULT 'active'" in status
    assert "Indexes: none" in status
    key = hover(project, source, "id,")
    assert "PRIMARY KEY (the rowid: never NULL)" in key
    assert "the table's own b-tree (rowid)" in key
    assert "Defined in migrations/001_users.sql:3" in key


def test_hover_column_whose_type_drifted(project: Project) -> None:
    source = module('    db.execute("SELECT total_cents FROM orders")\n')
    text = hover(project, source, "total_cents")
    assert "**column** `orders.total_cents` — REAL, affinity REAL" in text
    assert "**Drift**: the database declares REAL, the migrations INTEGER" in text
    assert "migrations/002_orders.sql:5" in text
    assert "drift: the migrations declare INTEGER" in hover(project, source, "orders")


def test_hover_on_an_unknown_column_of_a_known_table(project: Project) -> None:
    source = module('    db.execute("SELECT u.nmae FROM users u")\n')
    found = token(project, source, "nmae")
    assert (found.kind, found.table) == ("column", "users")
    assert hover_markdown(project, found) is None
