"""A slow document never holds up another one's diagnostics: the real server over stdio.

Two documents that take a long time to check (many statements, each with tens of thousands of
placeholders: linear work, but a lot of it) are opened first, then a clean document with one
real finding. The clean document's diagnostics must arrive, and be right, while the slow ones
are still being checked; a generous deadline is the only failure mode (nothing is timed).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from lsprotocol import types as lsp

from tests.conftest import copy_shop
from tests.lsp.client import Client, diagnostics, open_doc, session, until

pytestmark = pytest.mark.asyncio

# Several times what the clean document needs here, yet shorter than the slow documents take
# when checked whole one after the other (what held the clean one up before: 45+ s here).
CLEAN_WAIT = 35.0
SLOW_WAIT = 180.0

SLOW_STATEMENTS = 45
PLACEHOLDERS = 30_000


def slow_text(doc: int) -> str:
    """A module whose every statement takes seconds to check (each its own, each wrong).

    No two statements of any two slow documents are alike: the checker reuses what it found
    for the same SQL text, which would make the second document quick.
    """
    marks = ", ".join("?" for _ in range(PLACEHOLDERS))
    body = "".join(
        f'    db.execute("SELECT nope_{doc}_{n} FROM users WHERE id IN ({marks})", ids)\n'
        for n in range(SLOW_STATEMENTS)
    )
    return f"import sqlite3\n\ndb = sqlite3.connect('shop.db')\n\n\ndef slow(ids):\n{body}"


CLEAN = (
    "import sqlite3\n\n"
    "db = sqlite3.connect('shop.db')\n\n\n"
    "def find(user_id):\n"
    '    return db.execute("SELECT emial FROM users WHERE id = ?", (user_id,)).fetchone()\n'
)


def _published(client: Client, uri: str) -> list[lsp.Diagnostic] | None:
    for params in reversed(client.published):
        if params.uri == uri:
            return list(params.diagnostics)
    return None


@pytest.mark.parametrize("client_name", ["visual-studio-code"])
async def test_a_clean_document_is_not_held_up_by_two_slow_ones(
    tmp_path: Path, client_name: str
) -> None:
    root = copy_shop(tmp_path)
    async with session(root, client_name) as client:
        # The slow documents exist only in the editor: the start-up scan does not see them.
        slow_uris = [
            open_doc(client, root / "app" / f"slow_{n}.py", slow_text(n), version=1) for n in (1, 2)
        ]
        clean_uri = open_doc(client, root / "app" / "clean.py", CLEAN, version=1)

        found = await until(
            lambda: _published(client, clean_uri),
            "the clean document's diagnostics while two slow ones are checked",
            timeout=CLEAN_WAIT,
        )
        assert [d.code for d in found] == ["MISSING_COLUMN"]
        (diagnostic,) = found
        assert diagnostic.range.start.line == 6
        assert "emial" in diagnostic.message and "email" in diagnostic.message

        # The slow documents still get what was checked within their budget: their findings.
        for uri in slow_uris:
            items = await until(
                lambda uri=uri: _published(client, uri), f"diagnostics of {uri}", SLOW_WAIT
            )
            assert items and {d.code for d in items} == {"MISSING_COLUMN"}


@pytest.mark.parametrize("client_name", ["neovim-pull"])
async def test_a_pulled_clean_document_is_answered_while_slow_ones_are_checked(
    tmp_path: Path, client_name: str
) -> None:
    root = copy_shop(tmp_path)
    async with session(root, client_name) as client:
        assert client.pulls
        pulls = []
        for n in (1, 2):
            uri = open_doc(client, root / "app" / f"slow_{n}.py", slow_text(n), version=1)
            # Pulled first and answered later, as an editor pulls every visible document.
            params = lsp.DocumentDiagnosticParams(text_document=lsp.TextDocumentIdentifier(uri=uri))
            pulls.append(asyncio.ensure_future(client.text_document_diagnostic_async(params)))
        await asyncio.sleep(0.5)  # the slow pulls are in the server's hands first
        clean_uri = open_doc(client, root / "app" / "clean.py", CLEAN, version=1)
        found = await asyncio.wait_for(diagnostics(client, clean_uri), CLEAN_WAIT)
        assert [d.code for d in found] == ["MISSING_COLUMN"]
        assert found[0].range.start.line == 6
        for pull in pulls:  # and the slow ones are answered too, with their findings
            report = await asyncio.wait_for(pull, SLOW_WAIT)
            assert isinstance(report, lsp.RelatedFullDocumentDiagnosticReport)
            assert report.items and {d.code for d in report.items} == {"MISSING_COLUMN"}
