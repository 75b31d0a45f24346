"""The test client of the language server: `python -m dbheal_lsp` over stdio, driven by pytest-lsp.

The tests of tests/lsp start a session of the real server with `session` and wait with the helpers
here. Every session runs the real server on a fresh copy of the demo (tests/conftest.py `copy_shop`)
with the recorded client capabilities of VS Code (push diagnostics, UTF-16 positions) or Neovim
0.11 (pull diagnostics, UTF-8 positions). Waits are for notifications or answers, with generous
deadlines for a slow CI machine; nothing asserts how long anything took.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any, Union

import pytest
from lsprotocol import types as lsp
from pygls.protocol import default_converter
from pygls.uris import from_fs_path
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, register_lsp_features

SERVER = [sys.executable, "-m", "dbheal_lsp"]
# VS Code 1.65 (push, UTF-16) and Neovim 0.11 (UTF-8; it can pull diagnostics but cannot be
# told to pull again, so it gets pushes), as pytest-lsp recorded them; and "neovim-pull", Neovim
# 0.11 with workspace/diagnostic/refresh support, as vscode-languageclient 9 has it: it pulls.
CLIENTS = ["visual-studio-code", "neovim"]
ALL_CLIENTS = [*CLIENTS, "neovim-pull"]
WAIT = 120.0  # seconds: the longest any single wait may take before the test fails
SEVERITY = {"critical": 1, "high": 2, "medium": 3, "low": 4}
RULES = "https://github.com/dbheal/dbheal/blob/main/docs/rules.md#"
# The language id VS Code gives a file, by its ending.
LANGUAGE_IDS = {
    ".py": "python",
    ".sql": "sql",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".jsx": "javascriptreact",
    ".ts": "typescript",
    ".mts": "typescript",
    ".cts": "typescript",
    ".tsx": "typescriptreact",
}


class Client(LanguageClient):
    """pytest-lsp's client, remembering every publication, edit and question of the server."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.published: list[lsp.PublishDiagnosticsParams] = []
        self.applied: list[lsp.ApplyWorkspaceEditParams] = []
        self.questions: list[lsp.ShowMessageRequestParams] = []
        self.answer: str | None = "Apply"
        self.encoding = "utf-16"
        self.pulls = False
        self.name = ""
        self.shut_down = False
        self.server_capabilities: lsp.ServerCapabilities | None = None  # from initialize


def _publish(client: Client, params: lsp.PublishDiagnosticsParams) -> None:
    client.published.append(params)
    client.diagnostics[params.uri] = params.diagnostics


def _apply_edit(
    client: Client, params: lsp.ApplyWorkspaceEditParams
) -> lsp.ApplyWorkspaceEditResult:
    client.applied.append(params)
    return lsp.ApplyWorkspaceEditResult(applied=True)


def _question(client: Client, params: lsp.ShowMessageRequestParams) -> lsp.MessageActionItem | None:
    client.questions.append(params)
    for action in params.actions or []:
        if action.title == client.answer:
            return action
    return None


def make_client(kind: type[Client] | None = None) -> Client:
    """Return a test client (of class `kind`, default Client) that answers as an editor does."""
    client = (kind or Client)(converter_factory=default_converter)
    converter = client.protocol._converter

    def action_or_command(data: Any, _: type) -> lsp.Command | lsp.CodeAction:
        # lsprotocol reads any object with a "command" key as a Command, so a CodeAction that
        # carries one would lose its kind and title; an editor looks at the key's type.
        if isinstance(data.get("command"), str):
            return converter.structure(data, lsp.Command)
        return converter.structure(data, lsp.CodeAction)

    converter.register_structure_hook(Union[lsp.Command, lsp.CodeAction], action_or_command)  # noqa: UP007
    features = dict(DEFAULT_CLIENT_FEATURES)
    features[lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS] = _publish
    features[lsp.WORKSPACE_APPLY_EDIT] = _apply_edit
    features[lsp.WINDOW_SHOW_MESSAGE_REQUEST] = _question
    register_lsp_features(client, features)
    return client


@contextlib.asynccontextmanager
async def session(
    root: Path,
    client_name: str,
    *,
    folders: Sequence[Path] | None = None,
    options: dict[str, Any] | None = None,
    configuration: dict[str, Any] | None = None,
    caps: lsp.ClientCapabilities | None = None,
    process_id: int | None = None,
    factory: Callable[[], Client] = make_client,
) -> AsyncIterator[Client]:
    """Start the server, initialize it as `client_name` would, and shut it down after."""
    config = ClientServerConfig(server_command=SERVER, client_factory=factory)
    client = await config.start()
    assert isinstance(client, Client)
    client.name = client_name
    if configuration is not None:
        client.set_configuration(configuration, section="dbheal")
    folders = list(folders or [root])
    result = await asyncio.wait_for(
        client.initialize_session(
            lsp.InitializeParams(
                capabilities=caps or capabilities(client_name),
                root_uri=uri_of(folders[0]),
                process_id=process_id,
                workspace_folders=[
                    lsp.WorkspaceFolder(uri=uri_of(f), name=f.name) for f in folders
                ],
                initialization_options=options,
            )
        ),
        WAIT,
    )
    client.server_capabilities = result.capabilities
    client.encoding = str(result.capabilities.position_encoding or "utf-16")
    client.pulls = result.capabilities.diagnostic_provider is not None
    try:
        yield client
    finally:
        if not client.shut_down:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.shutdown_session(), WAIT)
        await asyncio.wait_for(client.stop(), WAIT)  # type: ignore[no-untyped-call]


def capabilities(client_name: str) -> lsp.ClientCapabilities:
    if client_name == "neovim-pull":
        caps = client_capabilities("neovim")
        assert caps.workspace is not None
        caps.workspace.diagnostics = lsp.DiagnosticWorkspaceClientCapabilities(refresh_support=True)
        return caps
    return client_capabilities(client_name)


def uri_of(path: Path) -> str:
    uri = from_fs_path(str(path))
    assert uri is not None
    return str(uri)


async def until(predicate: Callable[[], Any], what: str, timeout: float = WAIT) -> Any:
    """Wait until `predicate()` is truthy and return it; fail with `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


def open_doc(client: Client, path: Path, text: str | None = None, version: int = 1) -> str:
    uri = uri_of(path)
    client.text_document_did_open(
        lsp.DidOpenTextDocumentParams(
            text_document=lsp.TextDocumentItem(
                uri=uri,
                language_id=LANGUAGE_IDS.get(path.suffix, "plaintext"),
                version=version,
                text=path.read_text(encoding="utf-8") if text is None else text,
            )
        )
    )
    return uri


def change_doc(client: Client, uri: str, text: str, version: int) -> None:
    client.text_document_did_change(
        lsp.DidChangeTextDocumentParams(
            text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[lsp.TextDocumentContentChangeWholeDocument(text=text)],
        )
    )


def save_doc(client: Client, uri: str) -> None:
    client.text_document_did_save(
        lsp.DidSaveTextDocumentParams(text_document=lsp.TextDocumentIdentifier(uri=uri))
    )


async def diagnostics(
    client: Client,
    uri: str,
    accept: Callable[[Sequence[lsp.Diagnostic]], bool] = lambda _: True,
    *,
    since: int = 0,
    version: int | None = None,
) -> list[lsp.Diagnostic]:
    """The document's diagnostics once `accept` takes them: the newest push since `since`
    (of `version`, if given), or a pull (for clients that pull)."""
    if client.pulls:
        deadline = time.monotonic() + WAIT
        while True:
            report = await asyncio.wait_for(
                client.text_document_diagnostic_async(
                    lsp.DocumentDiagnosticParams(text_document=lsp.TextDocumentIdentifier(uri=uri))
                ),
                WAIT,
            )
            assert isinstance(report, lsp.RelatedFullDocumentDiagnosticReport)
            if accept(report.items):
                return list(report.items)
            if time.monotonic() > deadline:
                pytest.fail(f"pulled diagnostics of {uri} never accepted: {report.items}")
            await asyncio.sleep(0.2)

    def newest() -> list[lsp.Diagnostic] | None:
        for params in reversed(client.published[since:]):
            if params.uri != uri:
                continue
            if version is not None and params.version != version:
                return None
            return list(params.diagnostics) if accept(params.diagnostics) else None
        return None

    found = await until(
        lambda: (newest(),) if newest() is not None else None, f"diagnostics of {uri}"
    )
    return list(found[0])


def check_json(root: Path, rel: str) -> list[dict[str, Any]]:
    """What `dbheal check --format json` reports for one file of the project."""
    proc = subprocess.run(
        [*SERVER, "check", "--format", "json", "--no-cache", rel],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode in (0, 1), proc.stderr
    return [i for i in json.loads(proc.stdout) if i["path"] == rel]


def character(line: str, column: int, encoding: str) -> int:
    """The LSP character of a 1-based code-point column, computed independently of the server."""
    prefix = line[: column - 1]
    if encoding == "utf-8":
        return len(prefix.encode("utf-8"))
    if encoding == "utf-32":
        return len(prefix)
    return len(prefix.encode("utf-16-le")) // 2


def offset(text: str, position: lsp.Position, encoding: str) -> int:
    lines = text.splitlines(keepends=True)
    start = sum(len(line) for line in lines[: position.line])
    line = lines[position.line] if position.line < len(lines) else ""
    units = 0
    for i, char in enumerate(line):
        if units >= position.character:
            return start + i
        units += {"utf-8": len(char.encode()), "utf-32": 1}.get(
            encoding, 2 if ord(char) > 0xFFFF else 1
        )
    return start + len(line.rstrip("\r\n"))


def apply_edits(text: str, edits: Sequence[lsp.TextEdit], encoding: str) -> str:
    spans = sorted(
        (
            (offset(text, e.range.start, encoding), offset(text, e.range.end, encoding), e.new_text)
            for e in edits
        ),
        reverse=True,
    )
    for start, end, new in spans:
        text = text[:start] + new + text[end:]
    return text


def edits_of(edit: lsp.WorkspaceEdit, uri: str) -> list[lsp.TextEdit]:
    if edit.document_changes:
        return [
            e
            for change in edit.document_changes
            if isinstance(change, lsp.TextDocumentEdit) and change.text_document.uri == uri
            for e in change.edits
            if isinstance(e, lsp.TextEdit)
        ]
    return list((edit.changes or {}).get(uri, []))


async def code_actions(
    client: Client, uri: str, diagnostic: lsp.Diagnostic, only: list[str] | None = None
) -> list[lsp.CodeAction]:
    result = await asyncio.wait_for(
        client.text_document_code_action_async(
            lsp.CodeActionParams(
                text_document=lsp.TextDocumentIdentifier(uri=uri),
                range=diagnostic.range,
                context=lsp.CodeActionContext(diagnostics=[diagnostic], only=only),
            )
        ),
        WAIT,
    )
    return [a for a in result or [] if isinstance(a, lsp.CodeAction)]


async def hover_at(client: Client, uri: str, line: int, character: int) -> lsp.Hover | None:
    return await asyncio.wait_for(
        client.text_document_hover_async(
            lsp.HoverParams(
                text_document=lsp.TextDocumentIdentifier(uri=uri),
                position=lsp.Position(line=line, character=character),
            )
        ),
        WAIT,
    )


async def resolved(client: Client, action: lsp.CodeAction) -> lsp.CodeAction:
    if action.edit is None and action.data is not None:
        action = await asyncio.wait_for(client.code_action_resolve_async(action), WAIT)
    return action


async def execute(client: Client, command: lsp.Command) -> Any:
    return await asyncio.wait_for(
        client.workspace_execute_command_async(
            lsp.ExecuteCommandParams(command=command.command, arguments=command.arguments)
        ),
        WAIT,
    )


def of_type(items: Sequence[lsp.Diagnostic], kind: str) -> list[lsp.Diagnostic]:
    return [d for d in items if d.code == kind]
