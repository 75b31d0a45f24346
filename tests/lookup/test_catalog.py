"""lookup/catalog.py: the schemas hover and completion read as one, the database's and the
migrations' (tables and columns not applied yet, a database that cannot be read).

The shop of conftest.py: a real SQLite file and migrations under `tmp_path`.
"""

from __future__ import annotations

from pathlib import Path

from dbheal_lsp.analysis.project import Project
from tests.lookup.conftest import (
    USERS_COLUMNS,
    build,
    complete,
    cursor,
    hover,
    labels,
    module,
    token,
)


def test_hover_table_only_in_migrations_is_not_applied(project: Project) -> None:
    source = module('    db.execute("SELECT message FROM audit_log")\n')
    found = token(project, source, "audit_log")
    assert (found.kind, found.name) == ("table", "audit_log")
    text = hover(project, source, "audit_log")
    assert "not in the database" in text.lower()
    assert "defined in migrations/004_audit.sql:4" in text
    assert "- `message` TEXT NOT NULL" in text
    # Its column is found in the migrations too, and says so.
    column = hover(project, source, "message")
    assert "`audit_log.message`" in column
    assert "defined in migrations/004_audit.sql:6" in column
    assert "Not in the database" in column


def test_completion_of_columns_a_migration_adds_but_the_database_lacks(tmp_path: Path) -> None:
    project = build(tmp_path)
    (tmp_path / "migrations" / "005_users_phone.sql").write_text(
        "ALTER TABLE users ADD COLUMN phone TEXT;\n", encoding="utf-8"
    )
    source = module('    db.execute("SELECT  FROM users")\n')
    items = complete(project, source, cursor(source, "SELECT ", 7))
    assert labels(items, "column") == [*USERS_COLUMNS, "phone"]
    phone = items[len(USERS_COLUMNS)]
    assert phone.detail == "TEXT — users (not applied)"
    assert "defined in migrations/005_users_phone.sql:1" in phone.documentation


def test_an_unreadable_database_falls_back_to_the_migrations(tmp_path: Path) -> None:
    project = build(tmp_path)
    (tmp_path / "app.db").write_bytes(b"this is not a database, not at all....")
    source = module('    db.execute("SELECT * FROM ")\n')
    items = complete(project, source, cursor(source, '")'))
    assert set(labels(items, "table")) == {"users", "orders", "audit_log"}
