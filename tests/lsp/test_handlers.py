"""handlers.py: every LSP method a client may send, given what the real server advertises in
its initialize result, has a handler registered, and every command it advertises is registered.

A capability advertised without its handler is an editor feature that silently does nothing (the
client sends the request, the server answers "method not found").
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import attrs
import pytest
from lsprotocol import types as lsp

from dbheal_lsp.lsp.server import create_server
from tests.conftest import copy_shop
from tests.lsp.client import ALL_CLIENTS, session

# What a client sends once the server advertises a capability.
METHODS_OF: Mapping[str, tuple[str, ...]] = {
    "text_document_sync": (
        lsp.TEXT_DOCUMENT_DID_OPEN,
        lsp.TEXT_DOCUMENT_DID_CHANGE,
        lsp.TEXT_DOCUMENT_DID_SAVE,
        lsp.TEXT_DOCUMENT_DID_CLOSE,
    ),
    "diagnostic_provider": (lsp.TEXT_DOCUMENT_DIAGNOSTIC, lsp.WORKSPACE_DIAGNOSTIC),
    "code_action_provider": (lsp.TEXT_DOCUMENT_CODE_ACTION, lsp.CODE_ACTION_RESOLVE),
    "hover_provider": (lsp.TEXT_DOCUMENT_HOVER,),
    "completion_provider": (lsp.TEXT_DOCUMENT_COMPLETION,),
    "workspace": (lsp.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS,),
    "execute_command_provider": (),  # its commands are checked one by one
    "position_encoding": (),  # a setting, no method
}


def _advertised(capabilities: lsp.ServerCapabilities) -> set[str]:
    """Return the names of the capabilities the server set (left None: not advertised)."""
    fields = attrs.fields(lsp.ServerCapabilities)
    return {f.name for f in fields if getattr(capabilities, f.name) not in (None, False)}


@pytest.mark.asyncio
@pytest.mark.parametrize("client_name", ALL_CLIENTS)
async def test_every_advertised_method_and_command_has_a_handler(
    tmp_path: Path, client_name: str
) -> None:
    shop = copy_shop(tmp_path)
    async with session(shop, client_name) as client:
        capabilities = client.server_capabilities
    assert capabilities is not None
    advertised = _advertised(capabilities)
    assert advertised - set(METHODS_OF) == set(), "a capability this test does not know"
    registered = create_server().protocol.fm
    for name in advertised:
        for method in METHODS_OF[name]:
            assert method in registered.features, f"{name} is advertised, {method} not handled"
    commands = capabilities.execute_command_provider
    assert commands is not None and commands.commands
    assert set(commands.commands) == set(registered.commands)
    # A pulling client's answer is handled: the editor shows findings only through it.
    assert ("diagnostic_provider" in advertised) is (client_name == "neovim-pull")
