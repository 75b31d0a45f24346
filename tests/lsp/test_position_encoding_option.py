"""Byte columns for clients that count in bytes and cannot say so (ALE 3.3), through
initializationOptions.positionEncoding; the real server over stdio, driven by pytest-lsp.

ALE sends no `general.positionEncodings`, so the protocol's UTF-16 applies, yet it reads and
sends every column as a byte column of Vim's: on a line with non-ASCII text before a finding its
highlight starts early and a quick fix lands at the wrong columns and breaks the line (see
tests/lsp/test_vim_ale.py). Such a client's set-up names the encoding in its initialization
options, and the server takes that as the client's offer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types as lsp
from lsprotocol.converters import get_converter

from tests.conftest import copy_shop
from tests.lsp.client import (
    apply_edits,
    character,
    code_actions,
    diagnostics,
    edits_of,
    of_type,
    open_doc,
    session,
)

pytestmark = pytest.mark.asyncio

FILE = "app/routes/auth.py"
# A cast after non-ASCII text on its line, where bytes, UTF-16 units and characters differ
# (é is 2 bytes and 1 unit; 𝄞 is 4 bytes and 2 units).
ACCENTED = (
    "\n\ndef session_ids(user_id: str) -> list[sqlite3.Row]:\n"
    '    return get_db().execute(f"SELECT id FROM sessions /* appareils connectés 𝄞 */'
    ' WHERE user_id = {int(user_id)}").fetchall()\n'
)
FIXED = (
    '    return get_db().execute("SELECT id FROM sessions /* appareils connectés 𝄞 */'
    ' WHERE user_id = ?", (user_id,)).fetchall()'
)

# What ALE 3.3.0 sends as its capabilities (autoload/ale/lsp.vim, s:SendInitMessage), in short:
# no `general`, so no positionEncodings.
ALE_CAPABILITIES = {
    "workspace": {"applyEdit": False, "workspaceFolders": False, "configuration": False},
    "textDocument": {
        "synchronization": {"didSave": True},
        "completion": {"completionItem": {"documentationFormat": ["plaintext"]}},
        "hover": {"contentFormat": ["plaintext"]},
        "publishDiagnostics": {"relatedInformation": True},
        "codeAction": {"codeActionLiteralSupport": {"codeActionKind": {"valueSet": []}}},
    },
}


@pytest.mark.parametrize(
    ("options", "encoding"),
    [
        (None, "utf-16"),
        ({"positionEncoding": "utf-8"}, "utf-8"),
        ({"dbheal": {"positionEncoding": "utf-8"}}, "utf-8"),
        ({"positionEncoding": "utf-32"}, "utf-32"),
        ({"positionEncoding": "latin-1"}, "utf-16"),  # not an LSP encoding: the default
        ({"positionEncoding": ["utf-8"]}, "utf-16"),  # not a string: the default
    ],
)
async def test_initialization_options_choose_the_position_encoding(
    tmp_path: Path, options: dict[str, Any] | None, encoding: str
) -> None:
    shop = copy_shop(tmp_path)
    path = shop / FILE
    text = path.read_text(encoding="utf-8") + ACCENTED
    path.write_text(text, encoding="utf-8")
    lines = text.splitlines()
    last = len(lines) - 1
    caps = get_converter().structure(ALE_CAPABILITIES, lsp.ClientCapabilities)
    async with session(shop, "ale", options=options, caps=caps) as client:
        # The server says which encoding it speaks, and speaks it.
        assert client.encoding == encoding
        uri = open_doc(client, path)
        found = await diagnostics(
            client,
            uri,
            lambda d: any(x.range.start.line == last for x in of_type(d, "TYPE_MISMATCH")),
        )
        (mismatch,) = [d for d in of_type(found, "TYPE_MISMATCH") if d.range.start.line == last]
        cast = lines[last].index("int(user_id)") + 1  # 1-based code-point column
        assert mismatch.range.start.character == character(lines[last], cast, encoding)
        assert mismatch.range.end.character == character(
            lines[last], cast + len("int(user_id)"), encoding
        )
        actions = await code_actions(client, uri, mismatch)
        (fix,) = [a for a in actions if a.title.startswith("Remove the int() cast")]
        assert fix.edit is not None
        fixed = apply_edits(text, edits_of(fix.edit, uri), encoding).splitlines()
        assert fixed[last] == FIXED
        assert fixed[:last] == lines[:last]
