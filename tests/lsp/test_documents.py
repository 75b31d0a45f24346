"""documents.py end to end: the diagnostics of open documents (the same as `dbheal check`, at
the migration that defines a missing table, at the line a runtime event came from), what a user
may type, big files, closes and bursts of saves.

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
    RULES,
    SEVERITY,
    WAIT,
    change_doc,
    character,
    check_json,
    diagnostics,
    hover_at,
    of_type,
    open_doc,
    save_doc,
    session,
    until,
    uri_of,
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


@pytest.mark.parametrize("client_name", ALL_CLIENTS)
async def test_open_and_save_give_the_issues_of_dbheal_check(
    tmp_path: Path, client_name: str
) -> None:
    shop = copy_shop(tmp_path)
    rel = "app/store/catalog.py"  # line 58 has é, è and 🍵 before the misspelt column
    expected = check_json(shop, rel)
    assert len(expected) == 6  # examples/shop/EXPECTED.md rows 7-11 and 25
    lines = (shop / rel).read_text(encoding="utf-8").splitlines()
    async with session(shop, client_name) as client:
        uri = open_doc(client, shop / rel)
        found = await diagnostics(
            client, uri, lambda d: len(d) == len(expected), version=None if client.pulls else 1
        )
        got = sorted(
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
        want = sorted(
            (
                i["type"],
                SEVERITY[i["severity"]],
                i["line"] - 1,
                character(lines[i["line"] - 1], i["column"], client.encoding),
                i["end_line"] - 1,
                character(lines[i["end_line"] - 1], i["end_column"], client.encoding),
                i["message"],
            )
            for i in expected
        )
        assert got == want
        for d in found:
            assert d.source == "dbheal"
            assert isinstance(d.data, dict) and d.data["fingerprint"]
            if client_name == "visual-studio-code":
                assert d.code_description is not None
                assert d.code_description.href == RULES + str(d.code).lower()
        # EXPECTED.md row 10: UTF-16 unit 114 (VS Code), UTF-8 byte 119 (Neovim's choice).
        (typo,) = of_type(found, "MISSING_COLUMN")
        assert typo.range.start.line == 57
        assert typo.range.start.character == {"utf-16": 114, "utf-8": 119}[client.encoding]

        since = len(client.published)
        save_doc(client, uri)
        again = await diagnostics(client, uri, since=since)
        assert sorted(d.message for d in again) == sorted(d.message for d in found)


@pytest.mark.parametrize("client_name", CLIENTS)
async def test_missing_table_points_at_the_migration_that_defines_it(
    tmp_path: Path, client_name: str
) -> None:
    shop = copy_shop(tmp_path)
    async with session(shop, client_name) as client:
        uri = open_doc(client, shop / "app/routes/profile.py")
        found = await diagnostics(client, uri, lambda d: len(of_type(d, "MISSING_TABLE")) == 2)
        for missing in of_type(found, "MISSING_TABLE"):
            assert missing.severity == lsp.DiagnosticSeverity.Error
            (related,) = missing.related_information or []
            assert related.location.uri == uri_of(shop / "migrations/004_user_preferences.sql")
            assert related.location.range.start.line == 3  # 004_user_preferences.sql:4
        (star,) = of_type(found, "SELECT_STAR")
        assert star.severity == lsp.DiagnosticSeverity.Hint


@pytest.mark.parametrize("client_name", CLIENTS)
async def test_runtime_events_show_at_the_line_that_raised_them(
    tmp_path: Path, client_name: str
) -> None:
    from dbheal_lsp.fixes.state import StateStore

    shop = copy_shop(tmp_path)
    with StateStore(shop) as store:
        store.record_event(
            "no such column: discount", "SELECT discount FROM orders", path="app/db.py", line=22
        )
    async with session(shop, client_name) as client:
        uri = open_doc(client, shop / "app/db.py")
        found = await diagnostics(client, uri, lambda d: bool(of_type(d, "MISSING_COLUMN")))
        (event,) = of_type(found, "MISSING_COLUMN")
        assert event.range.start.line == 21
        assert "at run time" in event.message
        assert event.severity == lsp.DiagnosticSeverity.Error


# A TypeScript file of the demo's project: a non-ASCII character and an emoji come before the
# SQL on the line of the misspelt column (`tokn`), so each client's column unit counts.
SESSIONS_TS = """\
// The "signed-in devices" page.
import { db } from "./db";

export function sessionsFor(userId: string): Session[] {
  const label = "Café 🍵"; return db.prepare("SELECT id, tokn, created_at FROM sessions WHERE user_id = ?").all(userId) as Session[];
}
"""


@pytest.mark.parametrize("client_name", CLIENTS)
async def test_a_typescript_file_is_checked_on_open_with_hover_at_its_columns(
    tmp_path: Path, client_name: str
) -> None:
    shop = copy_shop(tmp_path)
    path = shop / "web" / "sessions.ts"
    path.parent.mkdir()
    path.write_text(SESSIONS_TS, encoding="utf-8")
    line = SESSIONS_TS.splitlines()[4]
    async with session(shop, client_name) as client:
        uri = open_doc(client, path)
        found = await diagnostics(client, uri, lambda d: bool(d))
        assert [d.code for d in found] == ["MISSING_COLUMN"]
        (missing,) = found
        assert "sessions.tokn" in missing.message and "'token'" in missing.message
        # Code point 56 (0-based): UTF-16 counts the emoji as two units, UTF-8 `é` as two bytes
        # and the emoji as four.
        start = line.index("tokn")
        assert start == 56
        expected = {"utf-16": 57, "utf-8": 60, "utf-32": 56}[client.encoding]
        assert expected == character(line, start + 1, client.encoding)
        assert missing.range == lsp.Range(
            start=lsp.Position(line=4, character=expected),
            end=lsp.Position(line=4, character=expected + 4),
        )
        # Hover over `user_id`: the column of sessions, TEXT in the database.
        at = character(line, line.index("user_id") + 3, client.encoding)
        hover = await hover_at(client, uri, 4, at)
        assert hover is not None
        assert isinstance(hover.contents, lsp.MarkupContent)
        assert "sessions.user_id" in hover.contents.value
        assert "TEXT" in hover.contents.value
        start_char = character(line, line.index("user_id") + 1, client.encoding)
        assert hover.range == lsp.Range(
            start=lsp.Position(line=4, character=start_char),
            end=lsp.Position(line=4, character=start_char + len("user_id")),
        )


def _change_part(client: object, uri: str, text: str, old: str, new: str, version: int) -> str:
    """Send the client's incremental change replacing the first `old` of `text` by `new` (a
    range in the client's position encoding); return the new text."""
    start = text.index(old)
    end = start + len(old)

    def position(at: int) -> lsp.Position:
        line = text.count("\n", 0, at)
        line_start = text.rfind("\n", 0, at) + 1
        line_text = text[line_start:].split("\n", 1)[0]
        encoding = getattr(client, "encoding", "utf-16")
        return lsp.Position(
            line=line, character=character(line_text, at - line_start + 1, encoding)
        )

    client.text_document_did_change(  # type: ignore[attr-defined]
        lsp.DidChangeTextDocumentParams(
            text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[
                lsp.TextDocumentContentChangePartial(
                    range=lsp.Range(start=position(start), end=position(end)), text=new
                )
            ],
        )
    )
    return text[:start] + new + text[end:]


@pytest.mark.parametrize("client_name", CLIENTS)
async def test_a_typescript_document_edited_in_place_keeps_right_diagnostics(
    tmp_path: Path, client_name: str
) -> None:
    """Incremental changes to an open `.ts` document (each re-parsed from the last tree):
    after every one, the diagnostics are those of the edited text, at its columns, through a
    half-typed state that must give none and no error."""
    shop = copy_shop(tmp_path)
    path = shop / "web" / "sessions.ts"
    path.parent.mkdir()
    path.write_text(SESSIONS_TS, encoding="utf-8")
    async with session(shop, client_name) as client:
        uri = open_doc(client, path)
        text = SESSIONS_TS

        async def after(version: int, codes: list[str]) -> list[lsp.Diagnostic]:
            save_doc(client, uri)
            return await diagnostics(
                client,
                uri,
                lambda d: sorted(x.code for x in d) == codes,  # type: ignore[type-var]
                version=None if client.pulls else version,
            )

        await after(1, ["MISSING_COLUMN"])
        # A line added above: the finding moves down one line, same column.
        text = _change_part(client, uri, text, "// The", "// Edited 🙂\n// The", 2)
        (moved,) = await after(2, ["MISSING_COLUMN"])
        line = text.splitlines()[5]
        assert moved.range.start == lsp.Position(
            line=5, character=character(line, line.index("tokn") + 1, client.encoding)
        )
        # Half-typed: the call loses its closing parenthesis; nothing is reported, no error.
        text = _change_part(client, uri, text, ".all(userId)", ".all(userId", 3)
        assert await after(3, []) == []
        text = _change_part(client, uri, text, ".all(userId", ".all(userId)", 4)
        await after(4, ["MISSING_COLUMN"])
        # The misspelt column corrected, another misspelt further right on the same line.
        text = _change_part(client, uri, text, "tokn", "token", 5)
        text = _change_part(client, uri, text, "created_at", "created_att", 6)
        (second,) = await after(6, ["MISSING_COLUMN"])
        assert "sessions.created_att" in second.message
        line = text.splitlines()[5]
        start = character(line, line.index("created_att") + 1, client.encoding)
        assert second.range == lsp.Range(
            start=lsp.Position(line=5, character=start),
            end=lsp.Position(line=5, character=start + len("created_att")),
        )
        assert text == path.read_text(encoding="utf-8").replace("tokn", "token").replace(
            "created_at", "created_att"
        ).replace("// The", "// Edited 🙂\n// The")
        assert not [m for m in client.messages if m.type == lsp.MessageType.Error]
