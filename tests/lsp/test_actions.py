"""Code actions end to end: quick fixes and "fix all".

The real server over stdio on a copy of the demo, driven by tests/lsp/client.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types as lsp

from tests.conftest import copy_shop
from tests.lsp.client import (
    CLIENTS,
    apply_edits,
    change_doc,
    code_actions,
    diagnostics,
    edits_of,
    of_type,
    open_doc,
    resolved,
    save_doc,
    session,
)

pytestmark = pytest.mark.asyncio


@pytest.mark.parametrize("client_name", CLIENTS)
async def test_type_mismatch_offers_cast_fix_schema_commands_and_both(
    tmp_path: Path, client_name: str
) -> None:
    shop = copy_shop(tmp_path)
    path = shop / "app/store/catalog.py"
    text = path.read_text(encoding="utf-8")
    async with session(shop, client_name) as client:
        uri = open_doc(client, path)
        found = await diagnostics(client, uri, lambda d: bool(of_type(d, "TYPE_MISMATCH")))
        (mismatch,) = of_type(found, "TYPE_MISMATCH")
        actions = await code_actions(client, uri, mismatch)
        titles = [a.title for a in actions]
        assert all(a.kind == lsp.CodeActionKind.QuickFix for a in actions), titles
        cast = await resolved(client, actions[0])
        assert "cast" in cast.title.lower() and cast.is_preferred
        assert cast.edit is not None
        edits = edits_of(cast.edit, uri)
        assert len(edits) == 1
        fixed = apply_edits(text, edits, client.encoding)
        line = fixed.splitlines()[50]
        assert "(sku,)" in line and "int(sku)" not in line
        assert [x for i, x in enumerate(fixed.splitlines()) if i != 50] == [
            x for i, x in enumerate(text.splitlines()) if i != 50
        ]
        commands = {a.command.command for a in actions if a.command is not None}
        assert commands == {"dbheal.queueMigration", "dbheal.applyMigration"}
        both = [
            a
            for a in actions
            if a.command
            and a.command.arguments
            and isinstance(a.command.arguments[0], dict)
            and a.command.arguments[0].get("withCastFix")
        ]
        assert len(both) == 1 and "remove the int() cast" in both[0].title
        assert any(t.startswith("Queue migration: Change the type of products.sku") for t in titles)


async def test_fix_all_applies_every_safe_code_fix(tmp_path: Path) -> None:
    shop = copy_shop(tmp_path)
    path = shop / "app/store/catalog.py"
    text = path.read_text(encoding="utf-8")
    async with session(shop, "visual-studio-code") as client:
        uri = open_doc(client, path)
        found = await diagnostics(client, uri, lambda d: len(d) == 6)
        actions = await code_actions(client, uri, found[0], only=["source.fixAll"])
        (fix_all,) = actions
        assert fix_all.kind == "source.fixAll.dbheal"
        fix_all = await resolved(client, fix_all)
        assert fix_all.edit is not None
        fixed = apply_edits(text, edits_of(fix_all.edit, uri), client.encoding)
        compile(fixed, "catalog.py", "exec")
        assert "(int(sku),)" not in fixed  # the cast removed
        assert "= '{category}'" not in fixed  # the injection parameterized
        assert "categroy" in fixed  # a rename is not "safe": a person confirms a typo
        since = len(client.published)
        change_doc(client, uri, fixed, 2)
        save_doc(client, uri)
        after = await diagnostics(client, uri, since=since, version=2)
        assert not of_type(after, "TYPE_MISMATCH") and not of_type(after, "SQL_INJECTION")
