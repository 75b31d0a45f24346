"""Open documents end to end: what a user may type, big files, closes and bursts of saves.

The real server over stdio on a copy of the demo, driven by tests/lsp/client.py.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from lsprotocol import types as lsp

from tests.conftest import copy_shop
from tests.lsp.client import (
    ALL_CLIENTS,
    CLIENTS,
    WAIT,
    change_doc,
    diagnostics,
    hover_at,
    open_doc,
    save_doc,
    session,
    until,
)

pytestmark = pytest.mark.asyncio


@pytest.mark.parametrize("client_name", CLIENTS)
async def test_half_typed_file_gives_no_diagnostics_and_no_error(
    tmp_path: Path, client_name: str
) -> None:
    shop = copy_shop(tmp_path)
    path = shop / "app/routes/auth.py"
    broken = path.read_text(encoding="utf-8") + '\n\ndef half(db:\n    db.execute("SELECT * FROM"\n'
    async with session(shop, client_name) as client:
        uri = open_doc(client, path, broken)
        assert await diagnostics(client, uri, version=None if client.pulls else 1) == []
        hover = await hover_at(client, uri, 0, 0)
        assert hover is None
        assert not [m for m in client.messages if m.type == lsp.MessageType.Error]


def big_source(lines: int = 9000) -> str:
    head = '"""A generated module of about a megabyte."""\n\n'
    body = "".join(
        f"def lookup_{i}(db, key):\n"
        f'    return db.execute("SELECT id, name, price_cents FROM products WHERE id = ?", (key,)).fetchone()\n\n'
        for i in range(lines)
    )
    return (
        head + body + 'def last(db):\n    return db.execute("SELECT nmae FROM users").fetchall()\n'
    )


@pytest.mark.parametrize("client_name", CLIENTS)
async def test_a_megabyte_file_is_checked_and_the_server_keeps_answering(
    tmp_path: Path, client_name: str
) -> None:
    shop = copy_shop(tmp_path)
    text = big_source()
    assert len(text.encode()) > 1_000_000
    path = shop / "app" / "big.py"
    path.write_text(text)
    async with session(shop, client_name) as client:
        small = open_doc(client, shop / "app/routes/profile.py")
        uri = open_doc(client, path, text)
        pending = asyncio.ensure_future(diagnostics(client, uri, lambda d: bool(d)))
        # While the big file is checked, other requests are answered.
        hover = await hover_at(client, small, 14, 40)
        assert hover is not None
        found = await asyncio.wait_for(pending, WAIT)
        assert [(d.code, d.range.start.line) for d in found] == [
            ("MISSING_COLUMN", text.count("\n") - 1)
        ]


async def test_a_document_closed_during_its_check_gets_no_late_result(tmp_path: Path) -> None:
    shop = copy_shop(tmp_path)
    text = big_source()
    path = shop / "app" / "big.py"
    async with session(shop, "visual-studio-code") as client:
        uri = open_doc(client, path, text)
        client.text_document_did_close(
            lsp.DidCloseTextDocumentParams(text_document=lsp.TextDocumentIdentifier(uri=uri))
        )
        closed_at = await until(
            lambda: next((n + 1 for n, p in enumerate(client.published) if p.uri == uri), None),
            "the close to clear the diagnostics",
        )
        # A document of the same folder checked after it: its check waits for the big one's.
        other = open_doc(client, shop / "app/routes/profile.py")
        await diagnostics(client, other, lambda d: bool(d), version=1)
        await asyncio.sleep(1.0)
        late = [p for p in client.published[closed_at:] if p.uri == uri and p.diagnostics]
        assert late == []
        assert list(client.diagnostics[uri]) == []


async def test_pull_of_a_document_closed_during_its_check_is_answered(tmp_path: Path) -> None:
    shop = copy_shop(tmp_path)
    text = big_source()
    async with session(shop, "neovim-pull") as client:
        assert client.pulls
        uri = open_doc(client, shop / "app" / "big.py", text)
        pending = asyncio.ensure_future(
            client.text_document_diagnostic_async(
                lsp.DocumentDiagnosticParams(text_document=lsp.TextDocumentIdentifier(uri=uri))
            )
        )
        await asyncio.sleep(0.2)
        client.text_document_did_close(
            lsp.DidCloseTextDocumentParams(text_document=lsp.TextDocumentIdentifier(uri=uri))
        )
        report = await asyncio.wait_for(pending, WAIT)
        assert isinstance(report, lsp.RelatedFullDocumentDiagnosticReport)


@pytest.mark.parametrize("client_name", ALL_CLIENTS)
async def test_a_hundred_saves_publish_only_the_latest(tmp_path: Path, client_name: str) -> None:
    shop = copy_shop(tmp_path)
    path = shop / "app/db.py"
    base = path.read_text(encoding="utf-8")
    good = base + '\n\ndef extra(db):\n    return db.execute("SELECT id FROM users").fetchall()\n'
    bad = base + '\n\ndef extra(db):\n    return db.execute("SELECT nmae FROM users").fetchall()\n'
    async with session(shop, client_name) as client:
        uri = open_doc(client, path)
        await diagnostics(client, uri, version=None if client.pulls else 1)
        since = len(client.published)
        for version in range(2, 102):
            change_doc(client, uri, bad if version % 2 else good, version)
            save_doc(client, uri)
        # The server answers at once, busy or not.
        hover = await hover_at(client, uri, 0, 0)
        assert hover is None
        final = await diagnostics(
            client, uri, lambda d: len(d) == 1, since=since, version=None if client.pulls else 101
        )
        assert [d.code for d in final] == ["MISSING_COLUMN"]  # version 101 is the bad text
        if not client.pulls:
            versions = [p.version or 0 for p in client.published[since:] if p.uri == uri]
            assert versions == sorted(versions)
            assert versions[-1] == 101
            for p in client.published[since:]:
                if p.uri == uri:
                    assert len(p.diagnostics) == (1 if (p.version or 0) % 2 else 0)
        # Shut down while the last checks may still run: answered, and the server exits.
        await asyncio.wait_for(client.shutdown_async(None), WAIT)
        client.exit(None)
        client.shut_down = True
