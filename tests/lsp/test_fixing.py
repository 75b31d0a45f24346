"""fixing.py end to end: a fix made from the editor: a code fix through the editor's buffer,
the migration shown and applied only on the user's yes, the queued migration asked for.

The real server over stdio on a copy of the demo, driven by tests/lsp/client.py.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from lsprotocol import types as lsp

from tests.conftest import copy_shop
from tests.lsp.client import (
    CLIENTS,
    apply_edits,
    change_doc,
    code_actions,
    diagnostics,
    edits_of,
    execute,
    of_type,
    open_doc,
    save_doc,
    session,
)

pytestmark = pytest.mark.asyncio


@pytest.mark.parametrize("client_name", CLIENTS)
async def test_apply_fix_command_edits_through_the_editor(tmp_path: Path, client_name: str) -> None:
    shop = copy_shop(tmp_path)
    path = shop / "app/routes/auth.py"
    text = path.read_text(encoding="utf-8")
    async with session(shop, client_name) as client:
        uri = open_doc(client, path)
        found = await diagnostics(client, uri, lambda d: bool(of_type(d, "TYPE_MISMATCH")))
        (mismatch,) = of_type(found, "TYPE_MISMATCH")
        answer = await execute(
            client,
            lsp.Command(
                title="fix",
                command="dbheal.applyFix",
                arguments=[{"uri": uri, "issue": mismatch.data, "fix": "remove_cast"}],
            ),
        )
        assert answer["applied"] is True
        (request,) = client.applied
        fixed = apply_edits(text, edits_of(request.edit, uri), client.encoding)
        assert "int(user_id)" not in fixed.splitlines()[86]
        assert path.read_text(encoding="utf-8") == text  # the editor owns the file, not the server
        since = len(client.published)
        change_doc(client, uri, fixed, 2)
        save_doc(client, uri)
        after = await diagnostics(client, uri, since=since, version=None if client.pulls else 2)
        assert not of_type(after, "TYPE_MISMATCH")
        assert of_type(after, "SELECT_STAR")


@pytest.mark.parametrize("client_name", CLIENTS)
async def test_cancelled_migration_changes_nothing(tmp_path: Path, client_name: str) -> None:
    shop = copy_shop(tmp_path)
    async with session(shop, client_name) as client:
        client.answer = "Cancel"
        uri = open_doc(client, shop / "app/store/orders.py")
        found = await diagnostics(client, uri, lambda d: bool(of_type(d, "MISSING_INDEX")))
        actions = await code_actions(client, uri, of_type(found, "MISSING_INDEX")[0])
        apply = next(a for a in actions if a.title.startswith("Apply migration"))
        assert apply.command is not None
        outcome = await execute(client, apply.command)
        assert outcome["applied"] is False
        assert 'CREATE INDEX "idx_orders_customer_email"' in client.questions[0].message
        with sqlite3.connect(shop / "shop.db") as conn:
            assert not conn.execute(
                "SELECT 1 FROM sqlite_master WHERE name = 'idx_orders_customer_email'"
            ).fetchone()


def make_items_project(root: Path) -> Path:
    """A project whose int() cast into a TEXT column is fixed best by changing the column."""
    (root / "app").mkdir(parents=True)
    (root / "migrations").mkdir()
    (root / "pyproject.toml").write_text(
        '[tool.dbheal]\ndatabase = "app.db"\nmigrations = "migrations"\n'
    )
    ddl = (
        "CREATE TABLE items (id INTEGER PRIMARY KEY, code TEXT NOT NULL, name TEXT);\n"
        "CREATE INDEX idx_items_code ON items (code);\n"
    )
    (root / "migrations" / "001_items.sql").write_text(ddl)
    (root / "app" / "items.py").write_text(
        "def get_item(db, code):\n"
        '    return db.execute("SELECT id, name FROM items WHERE code = ?", (int(code),)).fetchone()\n'
    )
    with sqlite3.connect(root / "app.db") as conn:
        conn.executescript(ddl)
        conn.executemany("INSERT INTO items (code, name) VALUES (?, ?)", [("1", "a"), ("2", "b")])
    return root


@pytest.mark.parametrize("client_name", CLIENTS)
async def test_both_action_changes_the_column_and_removes_the_cast(
    tmp_path: Path, client_name: str
) -> None:
    root = make_items_project(tmp_path / "items")
    path = root / "app" / "items.py"
    text = path.read_text()
    async with session(root, client_name) as client:
        uri = open_doc(client, path)
        found = await diagnostics(client, uri, lambda d: bool(of_type(d, "TYPE_MISMATCH")))
        actions = await code_actions(client, uri, of_type(found, "TYPE_MISMATCH")[0])
        both = next(a for a in actions if "remove the int() cast" in a.title)
        assert both.command is not None
        since = len(client.published)
        outcome = await execute(client, both.command)
        assert outcome["applied"] is True, outcome
        assert "Change the type of items.code to INTEGER" in client.questions[0].message
        # The cast goes through the editor (the file is open), the column through the database.
        (request,) = client.applied
        fixed = apply_edits(text, edits_of(request.edit, uri), client.encoding)
        assert "(code,)" in fixed and "int(code)" not in fixed
        with sqlite3.connect(root / "app.db") as conn:
            declared = {row[1]: row[2] for row in conn.execute("PRAGMA table_info(items)")}
        assert declared["code"] == "INTEGER"
        assert (root / "migrations" / "002_change_items_code_to_integer.sql").is_file()
        change_doc(client, uri, fixed, 2)
        save_doc(client, uri)
        after = await diagnostics(client, uri, lambda d: not d, since=since)
        assert after == []


async def test_apply_without_a_queue_id_asks_which_queued_migration(tmp_path: Path) -> None:
    shop = copy_shop(tmp_path)
    async with session(shop, "visual-studio-code") as client:
        uri = open_doc(client, shop / "app/routes/profile.py")
        found = await diagnostics(client, uri, lambda d: len(of_type(d, "MISSING_TABLE")) == 2)
        actions = await code_actions(client, uri, of_type(found, "MISSING_TABLE")[0])
        queue = next(a for a in actions if a.title.startswith("Queue migration"))
        assert queue.command is not None
        entry = await execute(client, queue.command)
        # The queued migration is picked; its SQL is then shown, and the user does not apply it.
        client.answer = f"{entry['id']}: {entry['title']}"
        outcome = await execute(client, lsp.Command(title="a", command="dbheal.applyMigration"))
        assert outcome == {"applied": False, "message": "cancelled"}
        pick, confirm = client.questions
        assert pick.message == "dbheal: which queued migration?"
        assert [a.title for a in pick.actions or []] == [client.answer]
        assert "CREATE TABLE IF NOT EXISTS user_preferences" in confirm.message
