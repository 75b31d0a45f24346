"""The language server and `[tool.dbheal]` include/exclude: a pattern that matches no file is
one warning message in the editor, not repeated by later scans, and the files an exclude
pattern names (in the shared glob dialect) get no diagnostics.

The real server over stdio on a copy of the demo, driven by tests/lsp/client.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types as lsp

from tests.conftest import copy_shop
from tests.lsp.client import WAIT, execute, session, until, uri_of

pytestmark = pytest.mark.asyncio


async def test_a_pattern_that_matches_no_file_is_one_warning(tmp_path: Path) -> None:
    shop = copy_shop(tmp_path)
    pyproject = shop / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    pyproject.write_text(
        text.replace('exclude = ["make_db.py"]', 'exclude = ["make_db.py", "legacy", "routes"]'),
        encoding="utf-8",
    )
    async with session(shop, "visual-studio-code") as client:

        def unmatched() -> list[lsp.ShowMessageParams]:
            return [m for m in client.messages if "matches no file" in m.message]

        found = await until(unmatched, "the warning about the pattern", WAIT)
        assert found[0].type == lsp.MessageType.Warning
        assert "exclude pattern 'legacy' matches no file" in found[0].message
        assert "'routes'" not in found[0].message  # app/routes exists: a bare folder name

        # A second scan of the whole workspace says nothing new.
        await execute(client, lsp.Command(title="scan", command="dbheal.scanWorkspace"))
        assert len(unmatched()) == 1

        # `routes` excludes app/routes/ (a bare folder name, at any depth): no file there has
        # diagnostics, although the demo plants issues in them.
        routes = uri_of(shop / "app" / "routes")
        assert not [p for p in client.published if p.uri.startswith(routes) and p.diagnostics]
        assert [p for p in client.published if p.diagnostics]  # the other modules were checked
