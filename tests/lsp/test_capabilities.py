"""capabilities.py: what the server reads of a client's capabilities."""

from __future__ import annotations

from lsprotocol import types as lsp

from dbheal_lsp.lsp.capabilities import ClientFeatures


def test_client_features_from_capabilities() -> None:
    from pytest_lsp import client_capabilities

    vscode = ClientFeatures.of(client_capabilities("visual-studio-code"), "utf-16")
    assert vscode.document_changes and vscode.resolve_edit and not vscode.pull_diagnostics
    caps = client_capabilities("neovim")
    neovim = ClientFeatures.of(caps, "utf-8")
    # Neovim 0.11 can pull but cannot be told to pull again: it gets pushes.
    assert not neovim.pull_diagnostics and neovim.encoding == "utf-8"
    assert not neovim.code_description
    assert caps.workspace is not None
    caps.workspace.diagnostics = lsp.DiagnosticWorkspaceClientCapabilities(refresh_support=True)
    assert ClientFeatures.of(caps, lsp.PositionEncodingKind.Utf8).pull_diagnostics
    assert ClientFeatures.of(caps, lsp.PositionEncodingKind.Utf8).encoding == "utf-8"
    assert ClientFeatures.of(None, "latin-1").encoding == "utf-16"
