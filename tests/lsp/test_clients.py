"""What real editors expose (issue 12, part 1): the real server over stdio, driven by pytest-lsp.

Each test plays one client's habit that the server used to get wrong: code actions asked without
`data` or without diagnostics (ALE, Kate), a didChange for a URI never opened (Neovim 0.7 after
`:saveas`), plain-text-only clients (ALE, YouCompleteMe), untitled buffers,
workspace/didChangeWatchedFiles (VS Code), saves that are not changes outside the editor. An editor
root below the project is test_folders.py's; the client's processId and the message types of the
server's log lines are test_server.py's (both use this module's stderr-keeping `session`).
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import sys
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types as lsp

from tests.conftest import copy_shop
from tests.lsp.client import (
    SEVERITY,
    WAIT,
    Client,
    capabilities,
    character,
    check_json,
    diagnostics,
    hover_at,
    make_client,
    of_type,
    open_doc,
    until,
    uri_of,
)
from tests.lsp.client import session as server_session
from tests.lsp.test_documents import SESSIONS_TS

pytestmark = pytest.mark.asyncio

CATALOG = "app/store/catalog.py"
MARKDOWN = ("**", "`", "```")


class StderrClient(Client):
    """The test client, also keeping every line the server writes to stderr (an editor such as
    Neovim files each of them in its log as an error)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.stderr_lines: list[str] = []

    async def start_io(self, cmd: str, *args: Any, **kwargs: Any) -> None:
        await super().start_io(cmd, *args, **kwargs)
        if self._stderr_forwarder is not None:  # ours reads the pipe instead of pytest-lsp's
            self._stderr_forwarder.cancel()
            self._stderr_forwarder = asyncio.create_task(self._keep_stderr())

    async def _keep_stderr(self) -> None:
        server = self._server
        if server is None or server.stderr is None:
            return
        while line := await server.stderr.readline():
            self.stderr_lines.append(line.decode("utf-8", "replace"))
            sys.stderr.buffer.write(line)


@contextlib.asynccontextmanager
async def session(
    root: Path,
    client_name: str = "neovim",
    *,
    caps: lsp.ClientCapabilities | None = None,
    process_id: int | None = None,
    options: dict[str, Any] | None = None,
) -> AsyncIterator[StderrClient]:
    """Start the server, initialize it with `root` as the only root the editor gives, stop it."""
    async with server_session(
        root,
        client_name,
        options=options,
        caps=caps,
        process_id=process_id,
        factory=lambda: make_client(StderrClient),
    ) as client:
        assert isinstance(client, StderrClient)
        yield client


def expected_of(root: Path, rel: str, encoding: str) -> list[tuple[Any, ...]]:
    """What `dbheal check` reports for `rel`, as sortable (code, severity, range, message)."""
    lines = (root / rel).read_text(encoding="utf-8").splitlines()
    return sorted(
        (
            i["type"],
            SEVERITY[i["severity"]],
            i["line"] - 1,
            character(lines[i["line"] - 1], i["column"], encoding),
            i["end_line"] - 1,
            character(lines[i["end_line"] - 1], i["end_column"], encoding),
            i["message"],
        )
        for i in check_json(root, rel)
    )


def got_of(found: list[lsp.Diagnostic]) -> list[tuple[Any, ...]]:
    """The diagnostics as expected_of gives `dbheal check`'s issues."""
    return sorted(
        (
            d.code,
            d.severity,
            d.range.start.line,
            d.range.start.character,
            d.range.end.line,
            d.range.end.character,
            d.message,
        )
        for d in found
    )


async def actions_for(
    client: Client, uri: str, range_: lsp.Range, diagnostics: list[lsp.Diagnostic]
) -> list[lsp.CodeAction]:
    result = await asyncio.wait_for(
        client.text_document_code_action_async(
            lsp.CodeActionParams(
                text_document=lsp.TextDocumentIdentifier(uri=uri),
                range=range_,
                context=lsp.CodeActionContext(diagnostics=diagnostics),
            )
        ),
        WAIT,
    )
    return [a for a in result or [] if isinstance(a, lsp.CodeAction)]


def infos(client: Client, needle: str) -> list[lsp.LogMessageParams]:
    return [m for m in client.log_messages if needle in m.message]


# --- 2. code actions without `data` ----------------------------------------------------------


async def test_code_actions_without_data_or_diagnostics_are_recomputed(tmp_path: Path) -> None:
    shop = copy_shop(tmp_path)
    async with session(shop) as client:
        uri = open_doc(client, shop / CATALOG)
        found = await diagnostics(client, uri, lambda d: bool(of_type(d, "TYPE_MISMATCH")))
        (mismatch,) = of_type(found, "TYPE_MISMATCH")
        with_data = [a.title for a in await actions_for(client, uri, mismatch.range, [mismatch])]
        assert len(with_data) >= 3
        # ALE: the diagnostic comes back without `data` (and without `source`, as Kate does).
        bare = lsp.Diagnostic(
            range=mismatch.range,
            message=mismatch.message,
            code=mismatch.code,
            severity=mismatch.severity,
        )
        no_data = [a.title for a in await actions_for(client, uri, mismatch.range, [bare])]
        assert no_data == with_data
        # The cursor on the token, no diagnostics at all in the context.
        start = mismatch.range.start
        cursor = lsp.Range(start=start, end=start)
        none = [a.title for a in await actions_for(client, uri, cursor, [])]
        assert none == with_data


# --- 3. a didChange for a document never opened ----------------------------------------------


async def test_change_of_a_document_never_opened_is_an_open(tmp_path: Path) -> None:
    shop = copy_shop(tmp_path)
    copy = shop / "app/store/catalog_copy.py"  # `:saveas` wrote it; no didOpen followed
    copy.write_text((shop / CATALOG).read_text(encoding="utf-8"), encoding="utf-8")
    text = copy.read_text(encoding="utf-8")
    text += '\n\ndef late(db):\n    return db.execute("SELECT nmae FROM users").fetchall()\n'

    async with session(shop) as client:
        uri = uri_of(copy)
        client.text_document_did_change(
            lsp.DidChangeTextDocumentParams(
                text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=2),
                content_changes=[lsp.TextDocumentContentChangeWholeDocument(text=text)],
            )
        )
        # The new text is checked (the file on disk has one misspelt column, the text two).
        found = await diagnostics(client, uri, version=2)
        assert len(of_type(found, "MISSING_COLUMN")) == 2, found
        # An incremental change to another file never opened applies to its text on disk.
        other = shop / "app/reports.py"
        other_uri = uri_of(other)
        client.text_document_did_change(
            lsp.DidChangeTextDocumentParams(
                text_document=lsp.VersionedTextDocumentIdentifier(uri=other_uri, version=2),
                content_changes=[
                    lsp.TextDocumentContentChangePartial(
                        range=lsp.Range(
                            start=lsp.Position(line=0, character=0),
                            end=lsp.Position(line=0, character=0),
                        ),
                        text="# edited\n",
                    )
                ],
            )
        )
        await until(
            lambda: any(p.uri == other_uri and p.version == 2 for p in client.published),
            "reports.py checked as changed",
        )
        errors = [m.message for m in client.messages if m.type == lsp.MessageType.Error]
        assert errors == []


# --- 4. plain-text clients -------------------------------------------------------------------


def plaintext_caps() -> lsp.ClientCapabilities:
    """Neovim's capabilities, but accepting only plain text in hover and completion docs (ALE)."""
    caps = capabilities("neovim")
    assert caps.text_document is not None
    caps.text_document.hover = lsp.HoverClientCapabilities(
        content_format=[lsp.MarkupKind.PlainText]
    )
    caps.text_document.completion = lsp.CompletionClientCapabilities(
        completion_item=lsp.ClientCompletionItemOptions(
            documentation_format=[lsp.MarkupKind.PlainText]
        )
    )
    return caps


async def complete(client: Client, uri: str, row: int, column: int) -> lsp.CompletionList:
    result = await asyncio.wait_for(
        client.text_document_completion_async(
            lsp.CompletionParams(
                text_document=lsp.TextDocumentIdentifier(uri=uri),
                position=lsp.Position(line=row, character=column),
            )
        ),
        WAIT,
    )
    assert isinstance(result, lsp.CompletionList)
    return result


async def test_plain_text_clients_get_no_markdown(tmp_path: Path) -> None:
    shop = copy_shop(tmp_path)
    path = shop / CATALOG
    text = (
        path.read_text(encoding="utf-8")
        + '\n\ndef extra(db):\n    db.execute("SELECT  FROM products")\n'
    )
    line = text.splitlines()[50]
    async with session(shop, caps=plaintext_caps()) as client:
        uri = open_doc(client, path, text)
        hover = await hover_at(client, uri, 50, line.index("sku = ?") + 1)
        assert hover is not None and isinstance(hover.contents, lsp.MarkupContent)
        assert hover.contents.kind == lsp.MarkupKind.PlainText
        assert "products.sku" in hover.contents.value and "TEXT" in hover.contents.value
        assert not any(m in hover.contents.value for m in MARKDOWN), hover.contents.value
        row = text.count("\n") - 1
        result = await complete(client, uri, row, text.splitlines()[row].index("SELECT ") + 7)
        docs = [i.documentation for i in result.items if i.documentation]
        assert docs, [i.label for i in result.items]
        for doc in docs:
            value = doc.value if isinstance(doc, lsp.MarkupContent) else doc
            if isinstance(doc, lsp.MarkupContent):
                assert doc.kind == lsp.MarkupKind.PlainText
            assert not any(m in value for m in MARKDOWN), value


# --- 5. untitled buffers ---------------------------------------------------------------------


async def test_untitled_buffers_are_checked_with_the_workspace_settings(tmp_path: Path) -> None:
    shop = copy_shop(tmp_path)
    text = (shop / CATALOG).read_text(encoding="utf-8")
    text += '\n\ndef extra(db):\n    return db.execute("SELECT id FROM ")\n'
    uri = "untitled:Untitled-1"
    async with session(shop) as client:
        client.text_document_did_open(
            lsp.DidOpenTextDocumentParams(
                text_document=lsp.TextDocumentItem(
                    uri=uri, language_id="python", version=1, text=text
                )
            )
        )
        found = await diagnostics(client, uri, lambda d: bool(of_type(d, "TYPE_MISMATCH")))
        assert of_type(found, "MISSING_COLUMN")  # the typo of line 58, as in the saved file
        line = text.splitlines()[50]
        hover = await hover_at(client, uri, 50, line.index("sku = ?") + 1)
        assert hover is not None and isinstance(hover.contents, lsp.MarkupContent)
        assert "products.sku" in hover.contents.value
        (mismatch,) = of_type(found, "TYPE_MISMATCH")
        titles = [a.title for a in await actions_for(client, uri, mismatch.range, [mismatch])]
        assert any("cast" in t.lower() for t in titles), titles
        row = text.count("\n") - 1
        result = await complete(client, uri, row, text.splitlines()[row].index("FROM ") + 5)
        assert {"users", "products"} <= {i.label for i in result.items}


async def test_an_untitled_typescript_buffer_is_read_as_typescript(tmp_path: Path) -> None:
    shop = copy_shop(tmp_path)
    uri = "untitled:Untitled-2"
    async with session(shop) as client:
        client.text_document_did_open(
            lsp.DidOpenTextDocumentParams(
                text_document=lsp.TextDocumentItem(
                    uri=uri, language_id="typescript", version=1, text=SESSIONS_TS
                )
            )
        )
        found = await diagnostics(client, uri, lambda d: bool(d))
        # `as Session[]` and the type annotations parse: it was read as TypeScript.
        assert [d.code for d in found] == ["MISSING_COLUMN"], found
        line = SESSIONS_TS.splitlines()[4]
        start = character(line, line.index("tokn") + 1, client.encoding)  # after é and 🍵
        assert found[0].range.start == lsp.Position(line=4, character=start)


# --- 6. workspace/didChangeWatchedFiles ------------------------------------------------------


async def test_watched_file_changes_from_the_client_recheck_open_documents(
    tmp_path: Path,
) -> None:
    shop = copy_shop(tmp_path)
    elsewhere = tmp_path / "notes"  # the editor's root: the project has no watcher of ours
    elsewhere.mkdir()
    async with session(elsewhere, "visual-studio-code") as client:
        uri = open_doc(client, shop / "app/routes/profile.py")
        await diagnostics(client, uri, lambda d: len(of_type(d, "MISSING_TABLE")) == 2)
        # A migration renamed: the missing tables now point at the new file.
        old = shop / "migrations" / "004_user_preferences.sql"
        moved = old.rename(shop / "migrations" / "006_user_preferences.sql")
        since = len(client.published)
        client.workspace_did_change_watched_files(
            lsp.DidChangeWatchedFilesParams(
                changes=[
                    lsp.FileEvent(uri=uri_of(old), type=lsp.FileChangeType.Deleted),
                    lsp.FileEvent(uri=uri_of(moved), type=lsp.FileChangeType.Created),
                ]
            )
        )

        def points_at_moved(found: Sequence[lsp.Diagnostic]) -> bool:
            missing = of_type(found, "MISSING_TABLE")
            return len(missing) == 2 and all(
                m.related_information and m.related_information[0].location.uri == uri_of(moved)
                for m in missing
            )

        await diagnostics(client, uri, points_at_moved, since=since)
        # The database changed: the tables it now has are no longer missing.
        with sqlite3.connect(shop / "shop.db") as conn:
            conn.executescript(moved.read_text())
        since = len(client.published)
        client.workspace_did_change_watched_files(
            lsp.DidChangeWatchedFilesParams(
                changes=[
                    lsp.FileEvent(uri=uri_of(shop / "shop.db"), type=lsp.FileChangeType.Changed)
                ]
            )
        )
        await diagnostics(client, uri, lambda d: not of_type(d, "MISSING_TABLE"), since=since)
        assert not [line for line in client.stderr_lines if "unknown method" in line]
        assert not infos(client, "unknown method")


# --- 7. a save is not a change outside the editor ------------------------------------------


async def test_saving_an_open_document_is_not_a_change_outside_the_editor(tmp_path: Path) -> None:
    # Kate shows every log line: a save of the file being edited must not read "changed outside
    # the editor"; a file written by another program must.
    shop = copy_shop(tmp_path)
    auth = shop / "app/routes/auth.py"
    async with session(shop) as client:
        uri = open_doc(client, auth)
        await diagnostics(client, uri, lambda d: bool(of_type(d, "TYPE_MISMATCH")))
        await until(lambda: infos(client, "workspace folder(s)"), "the start-up line")
        auth.write_text(auth.read_text(encoding="utf-8") + "\n# saved\n", encoding="utf-8")
        client.text_document_did_save(
            lsp.DidSaveTextDocumentParams(text_document=lsp.TextDocumentIdentifier(uri=uri))
        )
        other = shop / "app/routes/profile.py"
        other.write_text(other.read_text(encoding="utf-8") + "\n# edited elsewhere\n")
        (outside,) = await until(
            lambda: infos(client, "changed outside the editor"), "the other file's change"
        )
        assert "(1 source file(s))" in outside.message, outside.message
