"""Tests of what an error says is missing and what heals it (dbheal_lsp.runtime.missing)."""

from __future__ import annotations

import sqlite3

import pytest

from tests.runtime.projects import Project


def test_heals_a_missing_column(project: Project) -> None:
    conn = project.connect()
    assert conn.execute("SELECT name, email FROM users ORDER BY id").fetchall() == [
        ("ann", None),
        ("bob", None),
    ]
    assert ("index", "users_by_email") in project.objects()
    [event] = project.events()
    assert event.error == "no such column: email"
    assert event.action == "add_column users.email from migrations/003_email.sql:1 (2 statements)"
    assert event.outcome == "healed"
    assert event.table == "users"
    conn.close()


def test_heals_a_column_an_insert_names(project: Project) -> None:
    conn = project.connect(isolation_level=None)
    conn.execute("INSERT INTO users (name, email) VALUES ('cy', 'cy@example.com')")
    assert conn.execute("SELECT email FROM users WHERE name = 'cy'").fetchone() == (
        "cy@example.com",
    )
    [event] = project.events()
    assert event.error == "table users has no column named email"
    assert event.outcome == "healed"
    conn.close()


def test_a_column_no_migration_adds_is_not_healed(project: Project) -> None:
    conn = project.connect()
    with pytest.raises(sqlite3.OperationalError, match=r"^no such column: u\.phone$"):
        conn.execute("SELECT u.phone FROM users AS u")
    [event] = project.events()
    assert event.outcome.startswith("not healed: no migration adds a column phone")
    conn.close()
