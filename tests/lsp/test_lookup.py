"""Hover and completion end to end.

The real server over stdio on a copy of the demo, driven by tests/lsp/client.py.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from lsprotocol import types as lsp

from tests.conftest import copy_shop
from tests.lsp.client import (
    CLIENTS,
    WAIT,
    hover_at,
    open_doc,
    session,
)

pytestmark = pytest.mark.asyncio


@pytest.mark.parametrize("client_name", CLIENTS)
async def test_hover_on_a_column_shows_its_type(tmp_path: Path, client_name: str) -> None:
    shop = copy_shop(tmp_path)
    path = shop / "app/store/catalog.py"
    line = path.read_text(encoding="utf-8").splitlines()[50]
    async with session(shop, client_name) as client:
        uri = open_doc(client, path)
        column = line.index("sku = ?")
        hover = await hover_at(client, uri, 50, column + 1)
        assert hover is not None
        assert isinstance(hover.contents, lsp.MarkupContent)
        assert hover.contents.kind == lsp.MarkupKind.Markdown
        assert "products.sku" in hover.contents.value and "TEXT" in hover.contents.value
        assert hover.range is not None and hover.range.start.character == column


@pytest.mark.parametrize("client_name", CLIENTS)
async def test_completion_after_from_lists_the_tables(tmp_path: Path, client_name: str) -> None:
    shop = copy_shop(tmp_path)
    path = shop / "app/reports.py"
    text = (
        path.read_text(encoding="utf-8")
        + '\n\ndef extra(db):\n    return db.execute("SELECT id FROM ")\n'
    )
    async with session(shop, client_name) as client:
        uri = open_doc(client, path, text)
        row = text.count("\n") - 1
        column = text.splitlines()[row].index("FROM ") + len("FROM ")
        result = await asyncio.wait_for(
            client.text_document_completion_async(
                lsp.CompletionParams(
                    text_document=lsp.TextDocumentIdentifier(uri=uri),
                    position=lsp.Position(line=row, character=column),
                    context=lsp.CompletionContext(
                        trigger_kind=lsp.CompletionTriggerKind.TriggerCharacter,
                        trigger_character=" ",
                    ),
                )
            ),
            WAIT,
        )
        assert isinstance(result, lsp.CompletionList)
        tables = {i.label: i for i in result.items if i.kind == lsp.CompletionItemKind.Class}
        assert {"users", "products", "orders", "sessions"} <= set(tables)
        assert "user_preferences" in tables  # defined by a migration not applied yet
        assert "not applied" in (tables["user_preferences"].detail or "")
