"""Settings and workspace folders end to end.

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
    CLIENTS,
    WAIT,
    change_doc,
    diagnostics,
    of_type,
    open_doc,
    session,
)

pytestmark = pytest.mark.asyncio


async def test_check_on_change_after_a_configuration_change(tmp_path: Path) -> None:
    shop = copy_shop(tmp_path)
    path = shop / "app/db.py"
    text = path.read_text(encoding="utf-8")
    async with session(shop, "visual-studio-code") as client:
        uri = open_doc(client, path)
        assert await diagnostics(client, uri, version=1) == []
        typo = (
            text
            + '\n\ndef broken(db):\n    return db.execute("SELECT nmae FROM users").fetchall()\n'
        )
        # Saved-only (the default): a change alone is not checked.
        since = len(client.published)
        change_doc(client, uri, typo, 2)
        await asyncio.sleep(1.0)
        assert [p for p in client.published[since:] if p.uri == uri] == []

        client.set_configuration({"checkOn": "change", "debounceMs": 50}, section="dbheal")
        client.workspace_did_change_configuration(lsp.DidChangeConfigurationParams(settings=None))
        # The server pulls workspace/configuration first: type until it checks without a save.
        version = 2
        while not [p for p in client.published[since:] if p.uri == uri]:
            version += 1
            change_doc(client, uri, typo + "\n" * version, version)
            await asyncio.sleep(0.5)
            assert version < 2 * WAIT, "never checked on change"
        found = await diagnostics(client, uri, version=version)
        assert [d.code for d in found] == ["MISSING_COLUMN"]
        assert client.messages == []


@pytest.mark.parametrize("client_name", CLIENTS)
async def test_invalid_settings_give_one_warning_and_defaults(
    tmp_path: Path, client_name: str
) -> None:
    shop = copy_shop(tmp_path)
    options = {
        "dbheal": {"checkOn": "typing", "debounceMs": -5, "severity": {"SELECT_STAR": "high"}}
    }
    async with session(shop, client_name, options=options) as client:
        uri = open_doc(client, shop / "app/routes/profile.py")
        found = await diagnostics(client, uri, lambda d: bool(of_type(d, "SELECT_STAR")))
        warnings = [m for m in client.messages if m.type == lsp.MessageType.Warning]
        assert len(warnings) == 1, client.messages
        assert (
            "dbheal.checkOn" in warnings[0].message and "dbheal.debounceMs" in warnings[0].message
        )
        # The valid setting still applies: the severity map, over [tool.dbheal].
        assert of_type(found, "SELECT_STAR")[0].severity == lsp.DiagnosticSeverity.Warning


async def test_two_workspace_folders_are_two_projects(tmp_path: Path) -> None:
    first = copy_shop(tmp_path / "a")
    second = copy_shop(tmp_path / "b")
    with sqlite3.connect(second / "shop.db") as conn:  # b has migration 004 applied
        conn.executescript((second / "migrations" / "004_user_preferences.sql").read_text())
    async with session(first, "visual-studio-code", folders=[first, second]) as client:
        uri_a = open_doc(client, first / "app/routes/profile.py")
        uri_b = open_doc(client, second / "app/routes/profile.py")
        in_a = await diagnostics(client, uri_a, version=1)
        in_b = await diagnostics(client, uri_b, version=1)
        assert len(of_type(in_a, "MISSING_TABLE")) == 2
        assert of_type(in_b, "MISSING_TABLE") == []
