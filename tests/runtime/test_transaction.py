"""Tests of one heal's transaction (dbheal_lsp.runtime.transaction): the loop window, and
the savepoint inside the application's transaction."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from dbheal_lsp.runtime import transaction
from tests.runtime.projects import Project, healed, start_workers


def test_a_table_healed_and_missing_again_is_not_healed_within_the_window(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    conn = project.connect(isolation_level=None)
    assert conn.execute("SELECT count(*) FROM orders").fetchone() == (0,)
    project.drop("DROP TABLE orders")
    with pytest.raises(sqlite3.OperationalError, match=r"^no such table: orders$"):
        conn.execute("SELECT count(*) FROM orders")
    assert ("table", "orders") not in project.objects()
    first, second = project.events()
    assert first.outcome == "healed"
    assert second.action == "create_table orders refused"
    assert re.match(r"not healed: healed \d+ s ago in this process", second.outcome)
    assert "loop prevention (window 60 s)" in second.outcome
    # Once the window has passed, it is healed again.
    monkeypatch.setattr(transaction, "HEAL_WINDOW_SECONDS", 0.0)
    assert conn.execute("SELECT count(*) FROM orders").fetchone() == (0,)
    assert len(healed(project.events())) == 2
    conn.close()


def test_a_heal_by_another_process_counts_for_the_window(project: Project, tmp_path: Path) -> None:
    conn = project.connect()
    assert conn.execute("SELECT count(*) FROM orders").fetchone() == (0,)
    conn.close()
    project.drop("DROP TABLE orders")
    [result] = start_workers(project, 1, tmp_path)
    assert result == {"ok": False, "type": "OperationalError", "error": "no such table: orders"}
    last = project.events()[-1]
    assert last.outcome.startswith("not healed: healed at ")
    assert "(by another process) and missing again; loop prevention" in last.outcome


def visible_to_others(project: Project) -> tuple[int, bool]:
    other = sqlite3.connect(project.db, timeout=5)
    users = int(other.execute("SELECT count(*) FROM users").fetchone()[0])
    has_orders = other.execute(
        "SELECT count(*) FROM sqlite_master WHERE name = 'orders'"
    ).fetchone() == (1,)
    other.close()
    return users, has_orders


def test_a_heal_inside_the_applications_transaction_commits_with_it(project: Project) -> None:
    conn = project.connect()
    conn.execute("INSERT INTO users (name) VALUES ('cy')")  # sqlite3's implicit BEGIN
    assert conn.in_transaction
    conn.execute("INSERT INTO orders (user_id, total) VALUES (3, 2.0)")
    assert conn.in_transaction
    # Nothing committed early: another connection sees neither the user nor the table.
    assert visible_to_others(project) == (2, False)
    conn.commit()
    assert visible_to_others(project) == (3, True)
    assert conn.execute("SELECT user_id, total, status FROM orders").fetchall() == [(3, 2.0, "new")]
    [event] = project.events()
    assert event.outcome.startswith("healed inside the application's open transaction")
    conn.close()


def test_a_heal_inside_an_explicit_transaction_goes_with_its_rollback(project: Project) -> None:
    conn = project.connect(isolation_level=None)
    conn.execute("BEGIN")
    conn.execute("INSERT INTO users (name) VALUES ('cy')")
    assert conn.execute("SELECT count(*) FROM orders").fetchone() == (0,)
    assert conn.in_transaction
    conn.execute("INSERT INTO users (name) VALUES ('di')")  # the transaction goes on
    conn.execute("ROLLBACK")
    assert visible_to_others(project) == (2, False)  # all of it, nothing lost half-way
    conn.close()


def test_a_heal_outside_a_transaction_leaves_none_open(project: Project) -> None:
    conn = project.connect()
    assert conn.execute("SELECT count(*) FROM orders").fetchone() == (0,)
    assert not conn.in_transaction
    assert visible_to_others(project) == (2, True)
    conn.close()
