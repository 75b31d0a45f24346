"""What happens outside the editor: the database and files changed on disk.

The real server over stdio on a copy of the demo, driven by tests/lsp/client.py.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from lsprotocol import types as lsp

from tests.conftest import copy_shop
from tests.lsp.client import (
    diagnostics,
    of_type,
    open_doc,
    session,
    until,
    uri_of,
)

pytestmark = pytest.mark.asyncio


async def test_database_changed_outside_rechecks_open_documents(tmp_path: Path) -> None:
    shop = copy_shop(tmp_path)
    async with session(shop, "visual-studio-code") as client:
        uri = open_doc(client, shop / "app/routes/profile.py")
        await diagnostics(client, uri, lambda d: len(of_type(d, "MISSING_TABLE")) == 2)
        await until(
            lambda: any(
                v and isinstance(v[-1], lsp.WorkDoneProgressEnd)
                for v in client.progress_reports.values()
            ),
            "start-up scan",
        )
        since = len(client.published)
        with sqlite3.connect(shop / "shop.db") as conn:
            conn.executescript((shop / "migrations" / "004_user_preferences.sql").read_text())
        await diagnostics(client, uri, lambda d: not of_type(d, "MISSING_TABLE"), since=since)
        drift = uri_of(shop / "migrations/004_user_preferences.sql")
        await until(
            lambda: drift in client.diagnostics and not client.diagnostics[drift],
            "the drift of 004 to clear",
        )


async def test_file_written_outside_the_editor_is_checked(tmp_path: Path) -> None:
    shop = copy_shop(tmp_path)
    async with session(shop, "visual-studio-code") as client:
        await until(
            lambda: any(
                v and isinstance(v[-1], lsp.WorkDoneProgressEnd)
                for v in client.progress_reports.values()
            ),
            "start-up scan",
        )
        new = shop / "app" / "late.py"
        new.write_text(
            'def late(db):\n    return db.execute("SELECT nmae FROM users").fetchall()\n'
        )
        uri = uri_of(new)
        await until(lambda: client.diagnostics.get(uri), "diagnostics of a file written outside")
        assert [d.code for d in client.diagnostics[uri]] == ["MISSING_COLUMN"]
        new.unlink()
        await until(lambda: not client.diagnostics[uri], "the deleted file's diagnostics to clear")


async def test_typescript_files_written_outside_the_editor_are_checked(tmp_path: Path) -> None:
    shop = copy_shop(tmp_path)
    async with session(shop, "visual-studio-code") as client:
        await until(
            lambda: any(
                v and isinstance(v[-1], lsp.WorkDoneProgressEnd)
                for v in client.progress_reports.values()
            ),
            "start-up scan",
        )
        # One in a folder the watcher already watches, one in a folder that appears with it.
        late = shop / "app" / "late.ts"
        late.write_text('export const late = (db: Db) => db.query("SELECT nmae FROM users");\n')
        (shop / "web").mkdir()
        wish = shop / "web" / "wish.mjs"
        wish.write_text(
            'export const wish = (db) => db.prepare("SELECT id FROM wishlist").all();\n'
        )
        for path, code in ((late, "MISSING_COLUMN"), (wish, "MISSING_TABLE")):
            uri = uri_of(path)
            await until(lambda u=uri: client.diagnostics.get(u), f"diagnostics of {path.name}")
            assert [d.code for d in client.diagnostics[uri]] == [code]
        late.unlink()
        await until(lambda: not client.diagnostics[uri_of(late)], "late.ts's diagnostics to clear")
