"""folders.py end to end: the project of a file is found from the file, above the editor's
root, and two projects in one session each keep their own.

The real server over stdio, driven by tests/lsp/client.py (with test_clients.py's session, which
keeps the server's stderr).
"""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path

import pytest
from lsprotocol import types as lsp

from tests.conftest import copy_shop
from tests.lsp.client import SERVER, diagnostics, hover_at, of_type, open_doc
from tests.lsp.test_clients import CATALOG, actions_for, expected_of, got_of, infos, session

pytestmark = pytest.mark.asyncio


async def test_a_project_above_the_editor_root_is_found_from_the_file(tmp_path: Path) -> None:
    shop = copy_shop(tmp_path)  # pyproject.toml with [tool.dbheal] in shop/, code in shop/app/
    want = expected_of(shop, CATALOG, "utf-8")
    assert len(want) == 6
    # `dbheal check` run from app/ finds the project above it, and so the same issues.
    from_app = subprocess.run(
        [*SERVER, "check", "--format", "json", "--no-cache", "store/catalog.py"],
        cwd=shop / "app",
        capture_output=True,
        text=True,
        check=False,
    )
    assert from_app.stdout.count('"type"') == 6, from_app.stdout
    line = (shop / CATALOG).read_text(encoding="utf-8").splitlines()[50]
    async with session(shop / "app") as client:  # Neovim's root marker picked app/
        uri = open_doc(client, shop / CATALOG)
        found = await diagnostics(client, uri, lambda d: len(d) == len(want))
        assert got_of(found) == want
        hover = await hover_at(client, uri, 50, line.index("sku = ?") + 1)
        assert hover is not None and isinstance(hover.contents, lsp.MarkupContent)
        assert "products.sku" in hover.contents.value and "TEXT" in hover.contents.value
        (mismatch,) = of_type(found, "TYPE_MISMATCH")
        titles = [a.title for a in await actions_for(client, uri, mismatch.range, [mismatch])]
        assert any("cast" in t.lower() for t in titles), titles
        assert any(t.startswith("Queue migration: Change the type") for t in titles), titles
        # A second file of the same project: the same project, and no second note.
        other = open_doc(client, shop / "app/routes/profile.py")
        await diagnostics(client, other, lambda d: len(of_type(d, "MISSING_TABLE")) == 2)
        notes = infos(client, "hides")
        assert len(notes) == 1, [m.message for m in client.log_messages]
        assert notes[0].type == lsp.MessageType.Info
        assert str(shop) in notes[0].message


async def test_two_projects_in_one_session_each_use_their_own(tmp_path: Path) -> None:
    first = copy_shop(tmp_path / "a")
    second = copy_shop(tmp_path / "b")
    with sqlite3.connect(second / "shop.db") as conn:  # only the second one lacks a table
        conn.execute("DROP TABLE sessions")
    async with session(tmp_path / "a" / "shop" / "app") as client:
        one = open_doc(client, first / "app/routes/auth.py")
        two = open_doc(client, second / "app/routes/auth.py")
        found_two = await diagnostics(client, two, lambda d: bool(of_type(d, "MISSING_TABLE")))
        found_one = await diagnostics(client, one)
        assert of_type(found_one, "MISSING_TABLE") == []
        assert any("sessions" in d.message for d in of_type(found_two, "MISSING_TABLE"))


async def test_a_node_project_with_dbheal_toml_is_found_and_its_edit_reloaded(
    tmp_path: Path,
) -> None:
    """examples/accounts-node keeps its settings in dbheal.toml: opened from routes/ (the
    editor's root), the project above is found as `dbheal check` finds it, and saving an edited
    dbheal.toml reloads the settings (here a severity) without a restart."""
    import shutil
    import sys

    from tests.lsp.client import save_doc
    from tests.test_examples import NODE_DEMO

    node = tmp_path / "accounts-node"
    shutil.copytree(NODE_DEMO, node, ignore=shutil.ignore_patterns("*.db", ".dbheal"))
    subprocess.run([sys.executable, str(node / "make_db.py")], check=True, capture_output=True)
    async with session(node / "routes") as client:
        uri = open_doc(client, node / "routes" / "auth.js")
        found = await diagnostics(client, uri, lambda d: len(d) == 2)
        assert sorted(str(d.code) for d in found) == ["SELECT_STAR", "TYPE_MISMATCH"]
        (star,) = of_type(found, "SELECT_STAR")
        assert star.severity == lsp.DiagnosticSeverity.Hint  # low
        settings = node / "dbheal.toml"
        text = settings.read_text(encoding="utf-8") + '\n[severity]\nSELECT_STAR = "high"\n'
        settings.write_text(text, encoding="utf-8")
        toml_uri = open_doc(client, settings)
        save_doc(client, toml_uri)
        found = await diagnostics(
            client,
            uri,
            lambda d: any(
                x.code == "SELECT_STAR" and x.severity == lsp.DiagnosticSeverity.Warning for x in d
            ),
        )
        assert len(found) == 2
