"""Kate 22.12 and YouCompleteMe (Debian 12), as they talk to the real server over stdio.

Both set-ups in docs/editors.md were tried once by hand in the real editors; these tests replay
what those editors sent that the server answered badly, with the capabilities they declared
(recorded from their `initialize` requests, trimmed to what matters here):

- Kate asks for `textDocument/documentSymbol` on every open and edit, although dbheal does not
  offer it: the answer is the protocol's "method not found", and Kate's Output pane must not
  fill with "internal error" lines (three per request, two of them errors).
- Kate declares no completion capabilities and shows completion documentation as it is: raw
  `**` and backticks. It renders hover markdown (it declares it).
- YouCompleteMe accepts both formats but puts plain text first (its popups show markdown raw).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcMethodNotFound
from pygls.protocol import default_converter

from tests.conftest import copy_shop
from tests.lsp.client import WAIT, diagnostics, hover_at, of_type, open_doc
from tests.lsp.test_clients import MARKDOWN, complete, session

pytestmark = pytest.mark.asyncio

AUTH = "app/routes/auth.py"

# Kate 22.12.3's initialize capabilities (semantic token types left out).
KATE = {
    "textDocument": {
        "codeAction": {
            "codeActionLiteralSupport": {
                "codeActionKind": {"valueSet": ["quickfix", "refactor", "source"]}
            }
        },
        "documentSymbol": {"hierarchicalDocumentSymbolSupport": True},
        "hover": {"contentFormat": ["markdown", "plaintext"]},
        "publishDiagnostics": {"relatedInformation": True},
        "selectionRange": {"dynamicRegistration": False},
        "synchronization": {"didSave": True},
    },
    "window": {"workDoneProgress": True},
}

# ycmd's (Debian 12 package 0+20230103) initialize capabilities, the parts about text.
YCM = {
    "textDocument": {
        "codeAction": {
            "codeActionLiteralSupport": {
                "codeActionKind": {"valueSet": ["", "quickfix", "refactor", "source"]}
            }
        },
        "completion": {
            "completionItem": {"documentationFormat": ["plaintext", "markdown"]},
        },
        "hover": {"contentFormat": ["plaintext", "markdown"]},
        "synchronization": {"didSave": True},
    },
    "workspace": {
        "applyEdit": True,
        "workspaceEdit": {"documentChanges": True},
        "workspaceFolders": True,
    },
}


def caps_of(recorded: dict[str, Any]) -> lsp.ClientCapabilities:
    converter = default_converter()  # type: ignore[no-untyped-call]
    caps = converter.structure(recorded, lsp.ClientCapabilities)
    assert isinstance(caps, lsp.ClientCapabilities)
    return caps


def with_query(path: Path) -> tuple[str, int, int]:
    """auth.py with a new line `db.execute("SELECT id FROM ")`, and the position after FROM."""
    text = (
        path.read_text(encoding="utf-8") + '\n\ndef extra(db):\n    db.execute("SELECT id FROM ")\n'
    )
    row = text.count("\n") - 1
    return text, row, text.splitlines()[row].index("FROM ") + len("FROM ")


def docs_of(result: lsp.CompletionList) -> list[tuple[str, str]]:
    """Each documented item's documentation, as (kind, text)."""
    out = []
    for item in result.items:
        doc = item.documentation
        if isinstance(doc, lsp.MarkupContent):
            out.append((str(doc.kind.value), doc.value))
        elif isinstance(doc, str):
            out.append(("plaintext", doc))
    return out


async def test_kate_document_symbols_are_not_an_internal_error(tmp_path: Path) -> None:
    shop = copy_shop(tmp_path)
    async with session(shop, caps=caps_of(KATE)) as client:
        uri = open_doc(client, shop / AUTH)
        await diagnostics(client, uri, lambda d: len(of_type(d, "SQL_INJECTION")) == 1)
        for _ in range(3):
            with pytest.raises(JsonRpcMethodNotFound):
                await asyncio.wait_for(
                    client.text_document_document_symbol_async(
                        lsp.DocumentSymbolParams(text_document=lsp.TextDocumentIdentifier(uri=uri))
                    ),
                    WAIT,
                )
        # The server still answers what it does offer after those.
        text = (shop / AUTH).read_text(encoding="utf-8")
        row = next(n for n, line in enumerate(text.splitlines()) if "FROM sessions" in line)
        assert await hover_at(client, uri, row, text.splitlines()[row].index("sessions") + 1)
        shown = [m.message for m in client.log_messages if m.type == lsp.MessageType.Error]
        shown += [m.message for m in client.messages if m.type == lsp.MessageType.Error]
        assert shown == []
    # Kate shows every stderr line in its Output pane.
    assert not [line for line in client.stderr_lines if "documentSymbol" in line], (
        client.stderr_lines
    )


# pytest-lsp warns that Kate did not declare plain text: it declared no completion format at
# all, and shows what it gets as it is (checked in Kate 22.12.3).
@pytest.mark.filterwarnings("ignore:Client does not support documentation format")
async def test_kate_completion_docs_are_plain_text_and_hover_markdown(tmp_path: Path) -> None:
    shop = copy_shop(tmp_path)
    path = shop / AUTH
    text, row, column = with_query(path)
    async with session(shop, caps=caps_of(KATE)) as client:
        uri = open_doc(client, path, text)
        result = await complete(client, uri, row, column)
        assert "sessions" in [i.label for i in result.items]
        docs = docs_of(result)
        assert docs, [i.label for i in result.items]
        for kind, value in docs:
            assert kind == "plaintext"
            assert not any(m in value for m in MARKDOWN), value
        line = text.splitlines()[86]
        hover = await hover_at(client, uri, 86, line.index("sessions") + 1)
        assert hover is not None and isinstance(hover.contents, lsp.MarkupContent)
        assert hover.contents.kind == lsp.MarkupKind.Markdown
        assert "**table** `sessions`" in hover.contents.value


async def test_youcompleteme_gets_the_plain_text_it_prefers(tmp_path: Path) -> None:
    shop = copy_shop(tmp_path)
    path = shop / AUTH
    text, row, column = with_query(path)
    async with session(shop, caps=caps_of(YCM)) as client:
        uri = open_doc(client, path, text)
        line = text.splitlines()[86]
        hover = await hover_at(client, uri, 86, line.index("sessions") + 1)
        assert hover is not None and isinstance(hover.contents, lsp.MarkupContent)
        assert hover.contents.kind == lsp.MarkupKind.PlainText
        assert "table sessions" in hover.contents.value and "user_id TEXT" in hover.contents.value
        assert not any(m in hover.contents.value for m in MARKDOWN), hover.contents.value
        result = await complete(client, uri, row, column)
        assert "sessions" in [i.label for i in result.items]
        docs = docs_of(result)
        assert docs and all(kind == "plaintext" for kind, _ in docs), docs
        assert not any(m in value for _, value in docs for m in MARKDOWN), docs
