"""The editor's fix actions on a PostgreSQL server: the real language server over stdio
(tests/lsp/client.py), a project whose database is the test cluster. A MISSING_TABLE whose
migration was not applied offers the schema fix; running it (workspace/executeCommand, answered
"Apply") creates the table on the server, and the diagnostic clears. The password never shows.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.databases.postgres.conftest import pg_conn, pg_url, postgres_server  # noqa: F401
from tests.databases.postgres.fixes_project import nothing_left_behind, shop, tables
from tests.databases.postgres.test_cli import PASSWORD, with_password
from tests.lsp.client import code_actions, diagnostics, execute, of_type, open_doc, session

pytestmark = pytest.mark.asyncio


async def test_the_schema_fix_of_a_missing_table_creates_it_on_the_server(
    pg_conn: Any,  # noqa: F811
    pg_url: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    root = shop(tmp_path, with_password(pg_url), pg_conn)
    async with session(root, "visual-studio-code") as client:
        uri = open_doc(client, root / "app" / "db.py")
        found = await diagnostics(client, uri, lambda d: bool(of_type(d, "MISSING_TABLE")))
        (missing,) = of_type(found, "MISSING_TABLE")
        assert "002_orders.sql" in missing.message
        actions = await code_actions(client, uri, missing)
        titles = [a.title for a in actions]
        apply = next(a for a in actions if a.title.startswith("Apply migration"))
        assert "orders" in apply.title, titles
        assert apply.command is not None
        assert all(PASSWORD not in t for t in titles)

        since = len(client.published)
        outcome = await execute(client, apply.command)
        assert outcome["applied"] is True, outcome
        (question,) = client.questions
        assert "CREATE TABLE orders" in question.message
        assert "Dry run: would succeed" in question.message
        assert PASSWORD not in question.message
        after = await diagnostics(
            client, uri, lambda d: not of_type(d, "MISSING_TABLE"), since=since
        )
        assert not of_type(after, "MISSING_TABLE")
        assert all(PASSWORD not in d.message for d in after)

    assert "orders" in tables(pg_conn)
    assert pg_conn.execute("SELECT to_regclass('public.idx_orders_user')").fetchone() == (
        "idx_orders_user",
    )
    assert nothing_left_behind(pg_conn) == []
