"""The language server end to end: `python -m dbheal_lsp` over stdio, driven by pytest-lsp.

Every session runs the real server on a fresh copy of the demo (tests/conftest.py `copy_shop`)
with the recorded client capabilities of VS Code (push diagnostics, UTF-16 positions) or Neovim
0.11 (pull diagnostics, UTF-8 positions). Waits are for notifications or answers, with generous
deadlines for a slow CI machine; nothing asserts how long anything took.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
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

from tests.conftest import copy_shop

SERVER = [sys.executable, "-m", "dbheal_lsp"]
# VS Code 1.65 (push, UTF-16) and Neovim 0.11 (UTF-8; it can pull diagnostics but cannot be
# told to pull again, so it gets pushes), as pytest-lsp recorded them; and "neovim-pull", Neovim
# 0.11 with workspace/diagnostic/refresh support, as vscode-languageclient 9 has it: it pulls.
CLIENTS = ["visual-studio-code", "neovim"]
ALL_CLIENTS = [*CLIENTS, "neovim-pull"]
WAIT = 120.0  # seconds: the longest any single wait may take before the test fails
SEVERITY = {"critical": 1, "high": 2, "medium": 3, "low": 4}
RULES = "https://github.com/dbheal/dbheal/blob/main/docs/rules.md#"

pytestmark = pytest.mark.asyncio


# --- the test client ---------------------------------------------------------------------------


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
                language_id="python" if path.suffix == ".py" else "sql",
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


# --- diagnostics ---------------------------------------------------------------------------------


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


@pytest.mark.parametrize("client_name", ALL_CLIENTS)
async def test_startup_scan_reports_progress_and_files_not_open(
    tmp_path: Path, client_name: str
) -> None:
    shop = copy_shop(tmp_path)
    async with session(shop, client_name) as client:
        done = await until(
            lambda: [
                values
                for values in client.progress_reports.values()
                if values and isinstance(values[-1], lsp.WorkDoneProgressEnd)
            ],
            "the start-up scan's progress to end",
        )
        values = done[0]
        assert isinstance(values[0], lsp.WorkDoneProgressBegin)
        assert any(isinstance(v, lsp.WorkDoneProgressReport) for v in values)
        reports_uri = uri_of(shop / "app/reports.py")
        drift_uri = uri_of(shop / "migrations/005_order_tracking.sql")
        if client.pulls:
            report = await asyncio.wait_for(
                client.workspace_diagnostic_async(
                    lsp.WorkspaceDiagnosticParams(previous_result_ids=[])
                ),
                WAIT,
            )
            by_uri = {
                item.uri: item.items
                for item in report.items
                if isinstance(item, lsp.WorkspaceFullDocumentDiagnosticReport)
            }
        else:
            await until(
                lambda: reports_uri in client.diagnostics and drift_uri in client.diagnostics,
                "workspace diagnostics",
            )
            by_uri = dict(client.diagnostics)
        assert {d.code for d in by_uri[reports_uri]} == {
            "SELECT_STAR",
            "SQL_INJECTION",
            "MISSING_TABLE",
            "DYNAMIC_IDENTIFIER",
            "PARAMETER_MISMATCH",
        }
        assert {d.code for d in by_uri[drift_uri]} == {"SCHEMA_DRIFT"}
        assert all(d.severity == lsp.DiagnosticSeverity.Warning for d in by_uri[drift_uri])


@pytest.mark.parametrize(
    ("client_name", "pulls"),
    [("visual-studio-code", False), ("neovim", False), ("neovim-pull", True)],
)
async def test_pull_is_advertised_only_to_a_client_that_can_be_refreshed(
    tmp_path: Path, client_name: str, pulls: bool
) -> None:
    shop = copy_shop(tmp_path)
    async with session(shop, client_name) as client:
        assert client.pulls is pulls
        uri = open_doc(client, shop / "app/routes/profile.py")
        if pulls:
            await diagnostics(client, uri, lambda d: bool(d))
            await asyncio.sleep(1.0)
            assert [p for p in client.published if p.uri == uri] == []  # never both
        else:
            await diagnostics(client, uri, lambda d: bool(d), version=1)


@pytest.mark.parametrize("client_name", ALL_CLIENTS)
async def test_pull_diagnostics_full_then_unchanged(tmp_path: Path, client_name: str) -> None:
    shop = copy_shop(tmp_path)
    async with session(shop, client_name) as client:
        uri = open_doc(client, shop / "app/store/orders.py")
        params = lsp.DocumentDiagnosticParams(text_document=lsp.TextDocumentIdentifier(uri=uri))
        first = await asyncio.wait_for(client.text_document_diagnostic_async(params), WAIT)
        assert isinstance(first, lsp.RelatedFullDocumentDiagnosticReport)
        assert {d.code for d in first.items} == {"MISSING_COLUMN", "SQL_INJECTION", "MISSING_INDEX"}
        assert first.result_id
        params.previous_result_id = first.result_id
        second = await asyncio.wait_for(client.text_document_diagnostic_async(params), WAIT)
        assert isinstance(second, lsp.RelatedUnchangedDocumentDiagnosticReport)
        assert second.result_id == first.result_id
        # The whole workspace, the open file with its version.
        report = await asyncio.wait_for(
            client.workspace_diagnostic_async(
                lsp.WorkspaceDiagnosticParams(previous_result_ids=[])
            ),
            WAIT,
        )
        items = {item.uri: item for item in report.items}
        assert items[uri].version == 1
        assert uri_of(shop / "app/routes/auth.py") in items


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


# --- code actions and commands -------------------------------------------------------------------


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


@pytest.mark.parametrize("client_name", CLIENTS)
async def test_apply_fix_command_edits_through_the_editor(tmp_path: Path, client_name: str) -> None:
    shop = copy_shop(tmp_path)
    path = shop / "app/routes/auth.py"
    text = path.read_text(encoding="utf-8")
    async with session(shop, client_name) as client:
        uri = open_doc(client, path)
        found = await diagnostics(client, uri, lambda d: bool(of_type(d, "TYPE_MISMATCH")))
        (mismatch,) = of_type(found, "TYPE_MISMATCH")
        answer = await execute(
            client,
            lsp.Command(
                title="fix",
                command="dbheal.applyFix",
                arguments=[{"uri": uri, "issue": mismatch.data, "fix": "remove_cast"}],
            ),
        )
        assert answer["applied"] is True
        (request,) = client.applied
        fixed = apply_edits(text, edits_of(request.edit, uri), client.encoding)
        assert "int(user_id)" not in fixed.splitlines()[86]
        assert path.read_text(encoding="utf-8") == text  # the editor owns the file, not the server
        since = len(client.published)
        change_doc(client, uri, fixed, 2)
        save_doc(client, uri)
        after = await diagnostics(client, uri, since=since, version=None if client.pulls else 2)
        assert not of_type(after, "TYPE_MISMATCH")
        assert of_type(after, "SELECT_STAR")


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


@pytest.mark.parametrize("client_name", ALL_CLIENTS)
async def test_queue_then_apply_migration_clears_missing_table(
    tmp_path: Path, client_name: str
) -> None:
    shop = copy_shop(tmp_path)
    async with session(shop, client_name) as client:
        uri = open_doc(client, shop / "app/routes/profile.py")
        found = await diagnostics(client, uri, lambda d: len(of_type(d, "MISSING_TABLE")) == 2)
        actions = await code_actions(client, uri, of_type(found, "MISSING_TABLE")[0])
        queue = next(a for a in actions if a.title.startswith("Queue migration"))
        assert queue.command is not None
        entry = await execute(client, queue.command)
        assert entry["kind"] == "create_table" and entry["status"] == "queued"
        listed = await execute(client, lsp.Command(title="list", command="dbheal.listQueue"))
        assert [e["id"] for e in listed] == [entry["id"]]

        since = len(client.published)
        outcome = await execute(
            client,
            lsp.Command(
                title="apply", command="dbheal.applyMigration", arguments=[{"queueId": entry["id"]}]
            ),
        )
        assert outcome["applied"] is True, outcome
        (question,) = client.questions
        assert "CREATE TABLE IF NOT EXISTS user_preferences" in question.message
        assert "Dry run: would succeed" in question.message
        assert [a.title for a in question.actions or []] == ["Apply", "Cancel"]
        after = await diagnostics(
            client, uri, lambda d: not of_type(d, "MISSING_TABLE"), since=since
        )
        if client.pulls:
            assert client.diagnostic_refresh_count > 0  # told to pull again
        assert of_type(after, "SELECT_STAR")
        with sqlite3.connect(shop / "shop.db") as conn:
            assert conn.execute(
                "SELECT name FROM sqlite_master WHERE name = 'user_preferences'"
            ).fetchone()

        history = await execute(client, lsp.Command(title="h", command="dbheal.showHistory"))
        assert history[0]["outcome"] == "applied" and history[0]["kind"] == "schema"
        # The server's own writes do not come back through the watcher as a change.
        await asyncio.sleep(3)
        from dbheal_lsp.fixes.state import StateStore

        with StateStore(shop) as store:
            assert [s.trigger for s in store.scans() if s.trigger == "watch"] == []

        # Rolled back: the table is gone again, and so is the diagnostic's absence.
        since = len(client.published)
        undone = await execute(
            client, lsp.Command(title="r", command="dbheal.rollback", arguments=[history[0]["id"]])
        )
        assert undone["rollback_of"] == history[0]["id"]
        await diagnostics(client, uri, lambda d: len(of_type(d, "MISSING_TABLE")) == 2, since=since)


@pytest.mark.parametrize("client_name", CLIENTS)
async def test_cancelled_migration_changes_nothing(tmp_path: Path, client_name: str) -> None:
    shop = copy_shop(tmp_path)
    async with session(shop, client_name) as client:
        client.answer = "Cancel"
        uri = open_doc(client, shop / "app/store/orders.py")
        found = await diagnostics(client, uri, lambda d: bool(of_type(d, "MISSING_INDEX")))
        actions = await code_actions(client, uri, of_type(found, "MISSING_INDEX")[0])
        apply = next(a for a in actions if a.title.startswith("Apply migration"))
        assert apply.command is not None
        outcome = await execute(client, apply.command)
        assert outcome["applied"] is False
        assert 'CREATE INDEX "idx_orders_customer_email"' in client.questions[0].message
        with sqlite3.connect(shop / "shop.db") as conn:
            assert not conn.execute(
                "SELECT 1 FROM sqlite_master WHERE name = 'idx_orders_customer_email'"
            ).fetchone()


def make_items_project(root: Path) -> Path:
    """A project whose int() cast into a TEXT column is fixed best by changing the column."""
    (root / "app").mkdir(parents=True)
    (root / "migrations").mkdir()
    (root / "pyproject.toml").write_text(
        '[tool.dbheal]\ndatabase = "app.db"\nmigrations = "migrations"\n'
    )
    ddl = (
        "CREATE TABLE items (id INTEGER PRIMARY KEY, code TEXT NOT NULL, name TEXT);\n"
        "CREATE INDEX idx_items_code ON items (code);\n"
    )
    (root / "migrations" / "001_items.sql").write_text(ddl)
    (root / "app" / "items.py").write_text(
        "def get_item(db, code):\n"
        '    return db.execute("SELECT id, name FROM items WHERE code = ?", (int(code),)).fetchone()\n'
    )
    with sqlite3.connect(root / "app.db") as conn:
        conn.executescript(ddl)
        conn.executemany("INSERT INTO items (code, name) VALUES (?, ?)", [("1", "a"), ("2", "b")])
    return root


@pytest.mark.parametrize("client_name", CLIENTS)
async def test_both_action_changes_the_column_and_removes_the_cast(
    tmp_path: Path, client_name: str
) -> None:
    root = make_items_project(tmp_path / "items")
    path = root / "app" / "items.py"
    text = path.read_text()
    async with session(root, client_name) as client:
        uri = open_doc(client, path)
        found = await diagnostics(client, uri, lambda d: bool(of_type(d, "TYPE_MISMATCH")))
        actions = await code_actions(client, uri, of_type(found, "TYPE_MISMATCH")[0])
        both = next(a for a in actions if "remove the int() cast" in a.title)
        assert both.command is not None
        since = len(client.published)
        outcome = await execute(client, both.command)
        assert outcome["applied"] is True, outcome
        assert "Change the type of items.code to INTEGER" in client.questions[0].message
        # The cast goes through the editor (the file is open), the column through the database.
        (request,) = client.applied
        fixed = apply_edits(text, edits_of(request.edit, uri), client.encoding)
        assert "(code,)" in fixed and "int(code)" not in fixed
        with sqlite3.connect(root / "app.db") as conn:
            declared = {row[1]: row[2] for row in conn.execute("PRAGMA table_info(items)")}
        assert declared["code"] == "INTEGER"
        assert (root / "migrations" / "002_change_items_code_to_integer.sql").is_file()
        change_doc(client, uri, fixed, 2)
        save_doc(client, uri)
        after = await diagnostics(client, uri, lambda d: not d, since=since)
        assert after == []


# --- hover, completion, configuration --------------------------------------------------------------


@pytest.mark.parametrize("client_name", CLIENTS)
async def test_hover_on_a_column_shows_its_type(tmp_path: Path, client_name: str) -> None:
    shop = copy_shop(tmp_path)
    path = shop / "app/store/catalog.py"
    line = path.read_text(encoding="utf-8").splitlines()[50]
    async with session(shop, client_name) as client:
        uri = open_doc(client, path)
        column = line.index("sku = ?")
        hover = await hover_at(client, uri, 50, column + 1)
        assert hover is not None
        assert isinstance(hover.contents, lsp.MarkupContent)
        assert hover.contents.kind == lsp.MarkupKind.Markdown
        assert "products.sku" in hover.contents.value and "TEXT" in hover.contents.value
        assert hover.range is not None and hover.range.start.character == column


@pytest.mark.parametrize("client_name", CLIENTS)
async def test_completion_after_from_lists_the_tables(tmp_path: Path, client_name: str) -> None:
    shop = copy_shop(tmp_path)
    path = shop / "app/reports.py"
    text = (
        path.read_text(encoding="utf-8")
        + '\n\ndef extra(db):\n    return db.execute("SELECT id FROM ")\n'
    )
    async with session(shop, client_name) as client:
        uri = open_doc(client, path, text)
        row = text.count("\n") - 1
        column = text.splitlines()[row].index("FROM ") + len("FROM ")
        result = await asyncio.wait_for(
            client.text_document_completion_async(
                lsp.CompletionParams(
                    text_document=lsp.TextDocumentIdentifier(uri=uri),
                    position=lsp.Position(line=row, character=column),
                    context=lsp.CompletionContext(
                        trigger_kind=lsp.CompletionTriggerKind.TriggerCharacter,
                        trigger_character=" ",
                    ),
                )
            ),
            WAIT,
        )
        assert isinstance(result, lsp.CompletionList)
        tables = {i.label: i for i in result.items if i.kind == lsp.CompletionItemKind.Class}
        assert {"users", "products", "orders", "sessions"} <= set(tables)
        assert "user_preferences" in tables  # defined by a migration not applied yet
        assert "not applied" in (tables["user_preferences"].detail or "")


async def test_check_on_change_after_a_configuration_change(tmp_path: Path) -> None:
    shop = copy_shop(tmp_path)
    path = shop / "app/db.py"
    text = path.read_text(encoding="utf-8")
    async with session(shop, "visual-studio-code") as client:
        uri = open_doc(client, path)
        assert await diagnostics(client, uri, version=1) == []
        typo = (
            text
            + '\n\ndef broken(db):\n    return db.execute("SELECT nmae FROM users").fetchall()\n'
        )
        # Saved-only (the default): a change alone is not checked.
        since = len(client.published)
        change_doc(client, uri, typo, 2)
        await asyncio.sleep(1.0)
        assert [p for p in client.published[since:] if p.uri == uri] == []

        client.set_configuration({"checkOn": "change", "debounceMs": 50}, section="dbheal")
        client.workspace_did_change_configuration(lsp.DidChangeConfigurationParams(settings=None))
        # The server pulls workspace/configuration first: type until it checks without a save.
        version = 2
        while not [p for p in client.published[since:] if p.uri == uri]:
            version += 1
            change_doc(client, uri, typo + "\n" * version, version)
            await asyncio.sleep(0.5)
            assert version < 2 * WAIT, "never checked on change"
        found = await diagnostics(client, uri, version=version)
        assert [d.code for d in found] == ["MISSING_COLUMN"]
        assert client.messages == []


@pytest.mark.parametrize("client_name", CLIENTS)
async def test_invalid_settings_give_one_warning_and_defaults(
    tmp_path: Path, client_name: str
) -> None:
    shop = copy_shop(tmp_path)
    options = {
        "dbheal": {"checkOn": "typing", "debounceMs": -5, "severity": {"SELECT_STAR": "high"}}
    }
    async with session(shop, client_name, options=options) as client:
        uri = open_doc(client, shop / "app/routes/profile.py")
        found = await diagnostics(client, uri, lambda d: bool(of_type(d, "SELECT_STAR")))
        warnings = [m for m in client.messages if m.type == lsp.MessageType.Warning]
        assert len(warnings) == 1, client.messages
        assert (
            "dbheal.checkOn" in warnings[0].message and "dbheal.debounceMs" in warnings[0].message
        )
        # The valid setting still applies: the severity map, over [tool.dbheal].
        assert of_type(found, "SELECT_STAR")[0].severity == lsp.DiagnosticSeverity.Warning


async def test_two_workspace_folders_are_two_projects(tmp_path: Path) -> None:
    first = copy_shop(tmp_path / "a")
    second = copy_shop(tmp_path / "b")
    with sqlite3.connect(second / "shop.db") as conn:  # b has migration 004 applied
        conn.executescript((second / "migrations" / "004_user_preferences.sql").read_text())
    async with session(first, "visual-studio-code", folders=[first, second]) as client:
        uri_a = open_doc(client, first / "app/routes/profile.py")
        uri_b = open_doc(client, second / "app/routes/profile.py")
        in_a = await diagnostics(client, uri_a, version=1)
        in_b = await diagnostics(client, uri_b, version=1)
        assert len(of_type(in_a, "MISSING_TABLE")) == 2
        assert of_type(in_b, "MISSING_TABLE") == []


# --- what happens outside the editor ---------------------------------------------------------------


async def test_database_changed_outside_rechecks_open_documents(tmp_path: Path) -> None:
    shop = copy_shop(tmp_path)
    async with session(shop, "visual-studio-code") as client:
        uri = open_doc(client, shop / "app/routes/profile.py")
        await diagnostics(client, uri, lambda d: len(of_type(d, "MISSING_TABLE")) == 2)
        await until(
            lambda: any(
                v and isinstance(v[-1], lsp.WorkDoneProgressEnd)
                for v in client.progress_reports.values()
            ),
            "start-up scan",
        )
        since = len(client.published)
        with sqlite3.connect(shop / "shop.db") as conn:
            conn.executescript((shop / "migrations" / "004_user_preferences.sql").read_text())
        await diagnostics(client, uri, lambda d: not of_type(d, "MISSING_TABLE"), since=since)
        drift = uri_of(shop / "migrations/004_user_preferences.sql")
        await until(
            lambda: drift in client.diagnostics and not client.diagnostics[drift],
            "the drift of 004 to clear",
        )


async def test_file_written_outside_the_editor_is_checked(tmp_path: Path) -> None:
    shop = copy_shop(tmp_path)
    async with session(shop, "visual-studio-code") as client:
        await until(
            lambda: any(
                v and isinstance(v[-1], lsp.WorkDoneProgressEnd)
                for v in client.progress_reports.values()
            ),
            "start-up scan",
        )
        new = shop / "app" / "late.py"
        new.write_text(
            'def late(db):\n    return db.execute("SELECT nmae FROM users").fetchall()\n'
        )
        uri = uri_of(new)
        await until(lambda: client.diagnostics.get(uri), "diagnostics of a file written outside")
        assert [d.code for d in client.diagnostics[uri]] == ["MISSING_COLUMN"]
        new.unlink()
        await until(lambda: not client.diagnostics[uri], "the deleted file's diagnostics to clear")


# --- what a user may type ------------------------------------------------------------------------------


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


async def test_pull_of_a_document_closed_during_its_check_is_answered(tmp_path: Path) -> None:
    shop = copy_shop(tmp_path)
    text = big_source()
    async with session(shop, "neovim-pull") as client:
        assert client.pulls
        uri = open_doc(client, shop / "app" / "big.py", text)
        pending = asyncio.ensure_future(
            client.text_document_diagnostic_async(
                lsp.DocumentDiagnosticParams(text_document=lsp.TextDocumentIdentifier(uri=uri))
            )
        )
        await asyncio.sleep(0.2)
        client.text_document_did_close(
            lsp.DidCloseTextDocumentParams(text_document=lsp.TextDocumentIdentifier(uri=uri))
        )
        report = await asyncio.wait_for(pending, WAIT)
        assert isinstance(report, lsp.RelatedFullDocumentDiagnosticReport)


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
