"""pull.py end to end: pull diagnostics (textDocument/diagnostic, workspace/diagnostic),
advertised only to a client that can be told to pull again, answered for a document closed
meanwhile.

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
    WAIT,
    diagnostics,
    open_doc,
    session,
    uri_of,
)
from tests.lsp.test_documents import big_source

pytestmark = pytest.mark.asyncio


@pytest.mark.parametrize(
    ("client_name", "pulls"),
    [("visual-studio-code", False), ("neovim", False), ("neovim-pull", True)],
)
async def test_pull_is_advertised_only_to_a_client_that_can_be_refreshed(
    tmp_path: Path, client_name: str, pulls: bool
) -> None:
    shop = copy_shop(tmp_path)
    async with session(shop, client_name) as client:
        assert client.pulls is pulls
        uri = open_doc(client, shop / "app/routes/profile.py")
        if pulls:
            await diagnostics(client, uri, lambda d: bool(d))
            await asyncio.sleep(1.0)
            assert [p for p in client.published if p.uri == uri] == []  # never both
        else:
            await diagnostics(client, uri, lambda d: bool(d), version=1)


@pytest.mark.parametrize("client_name", ALL_CLIENTS)
async def test_pull_diagnostics_full_then_unchanged(tmp_path: Path, client_name: str) -> None:
    shop = copy_shop(tmp_path)
    async with session(shop, client_name) as client:
        uri = open_doc(client, shop / "app/store/orders.py")
        params = lsp.DocumentDiagnosticParams(text_document=lsp.TextDocumentIdentifier(uri=uri))
        first = await asyncio.wait_for(client.text_document_diagnostic_async(params), WAIT)
        assert isinstance(first, lsp.RelatedFullDocumentDiagnosticReport)
        assert {d.code for d in first.items} == {"MISSING_COLUMN", "SQL_INJECTION", "MISSING_INDEX"}
        assert first.result_id
        params.previous_result_id = first.result_id
        second = await asyncio.wait_for(client.text_document_diagnostic_async(params), WAIT)
        assert isinstance(second, lsp.RelatedUnchangedDocumentDiagnosticReport)
        assert second.result_id == first.result_id
        # The whole workspace, the open file with its version.
        report = await asyncio.wait_for(
            client.workspace_diagnostic_async(
                lsp.WorkspaceDiagnosticParams(previous_result_ids=[])
            ),
            WAIT,
        )
        items = {item.uri: item for item in report.items}
        assert items[uri].version == 1
        assert uri_of(shop / "app/routes/auth.py") in items


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
