"""The editor on a project whose database is a PostgreSQL server: the real language server over
stdio (tests/lsp/client.py) gives diagnostics, hover and completion from the live catalog, and
never shows the URL's password."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types as lsp

from tests.databases.postgres.test_cli import PASSWORD, with_password
from tests.lsp.client import WAIT, diagnostics, hover_at, open_doc, session

pytestmark = pytest.mark.asyncio

APP = (
    "def show(cur, uid):\n"
    '    cur.execute("SELECT id, emial FROM accounts WHERE id = %s", (uid,))\n'
    '    cur.execute("SELECT id, owner FROM accounts WHERE owner ILIKE %s", (uid,))\n'
    '    cur.execute("SELECT id FROM ")\n'
)


@pytest.fixture
def project(pg_conn: Any, pg_url: str, tmp_path: Path) -> Path:
    pg_conn.execute(
        "CREATE TABLE accounts (id serial PRIMARY KEY, owner varchar(80) NOT NULL, email text)"
    )
    pg_conn.execute("CREATE TABLE ledger (id int, account_id int)")
    (tmp_path / "pyproject.toml").write_text(
        f'[tool.dbheal]\ndatabase = "{with_password(pg_url)}"\n'
    )
    (tmp_path / "app.py").write_text(APP)
    return tmp_path


async def test_diagnostics_hover_and_completion_come_from_the_server(project: Path) -> None:
    path = project / "app.py"
    async with session(project, "visual-studio-code") as client:
        uri = open_doc(client, path)
        found = await diagnostics(
            client, uri, lambda items: any(d.code == "MISSING_COLUMN" for d in items)
        )
        missing = next(d for d in found if d.code == "MISSING_COLUMN")
        assert missing.range.start.line == 1
        assert missing.range.start.character == APP.splitlines()[1].index("emial")
        assert "did you mean 'email'" in missing.message
        assert all(PASSWORD not in d.message for d in found)

        line = APP.splitlines()[2]
        hover = await hover_at(client, uri, 2, line.index("owner ILIKE") + 1)
        assert hover is not None and isinstance(hover.contents, lsp.MarkupContent)
        assert "accounts.owner" in hover.contents.value
        assert "character varying(80)" in hover.contents.value
        assert PASSWORD not in hover.contents.value

        column = APP.splitlines()[3].index("FROM ") + len("FROM ")
        result = await asyncio.wait_for(
            client.text_document_completion_async(
                lsp.CompletionParams(
                    text_document=lsp.TextDocumentIdentifier(uri=uri),
                    position=lsp.Position(line=3, character=column),
                    context=lsp.CompletionContext(
                        trigger_kind=lsp.CompletionTriggerKind.TriggerCharacter,
                        trigger_character=" ",
                    ),
                )
            ),
            WAIT,
        )
        assert isinstance(result, lsp.CompletionList)
        tables = {i.label for i in result.items if i.kind == lsp.CompletionItemKind.Class}
        assert {"accounts", "ledger"} <= tables
