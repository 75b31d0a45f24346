"""Commands end to end: apply a fix, queue, apply and roll back a migration.

The real server over stdio on a copy of the demo, driven by tests/lsp/client.py.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from lsprotocol import types as lsp

from tests.conftest import copy_shop
from tests.lsp.client import (
    ALL_CLIENTS,
    code_actions,
    diagnostics,
    execute,
    of_type,
    open_doc,
    session,
)

pytestmark = pytest.mark.asyncio


@pytest.mark.parametrize("client_name", ALL_CLIENTS)
async def test_queue_then_apply_migration_clears_missing_table(
    tmp_path: Path, client_name: str
) -> None:
    shop = copy_shop(tmp_path)
    async with session(shop, client_name) as client:
        uri = open_doc(client, shop / "app/routes/profile.py")
        found = await diagnostics(client, uri, lambda d: len(of_type(d, "MISSING_TABLE")) == 2)
        actions = await code_actions(client, uri, of_type(found, "MISSING_TABLE")[0])
        queue = next(a for a in actions if a.title.startswith("Queue migration"))
        assert queue.command is not None
        entry = await execute(client, queue.command)
        assert entry["kind"] == "create_table" and entry["status"] == "queued"
        listed = await execute(client, lsp.Command(title="list", command="dbheal.listQueue"))
        assert [e["id"] for e in listed] == [entry["id"]]

        since = len(client.published)
        outcome = await execute(
            client,
            lsp.Command(
                title="apply", command="dbheal.applyMigration", arguments=[{"queueId": entry["id"]}]
            ),
        )
        assert outcome["applied"] is True, outcome
        (question,) = client.questions
        assert "CREATE TABLE IF NOT EXISTS user_preferences" in question.message
        assert "Dry run: would succeed" in question.message
        assert [a.title for a in question.actions or []] == ["Apply", "Cancel"]
        after = await diagnostics(
            client, uri, lambda d: not of_type(d, "MISSING_TABLE"), since=since
        )
        if client.pulls:
            assert client.diagnostic_refresh_count > 0  # told to pull again
        assert of_type(after, "SELECT_STAR")
        with sqlite3.connect(shop / "shop.db") as conn:
            assert conn.execute(
                "SELECT name FROM sqlite_master WHERE name = 'user_preferences'"
            ).fetchone()

        history = await execute(client, lsp.Command(title="h", command="dbheal.showHistory"))
        assert history[0]["outcome"] == "applied" and history[0]["kind"] == "schema"
        # The server's own writes do not come back through the watcher as a change.
        await asyncio.sleep(3)
        from dbheal_lsp.fixes.state import StateStore

        with StateStore(shop) as store:
            assert [s.trigger for s in store.scans() if s.trigger == "watch"] == []

        # Rolled back: the table is gone again, and so is the diagnostic's absence.
        since = len(client.published)
        undone = await execute(
            client, lsp.Command(title="r", command="dbheal.rollback", arguments=[history[0]["id"]])
        )
        assert undone["rollback_of"] == history[0]["id"]
        await diagnostics(client, uri, lambda d: len(of_type(d, "MISSING_TABLE")) == 2, since=since)
