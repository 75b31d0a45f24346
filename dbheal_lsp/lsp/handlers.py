"""The pygls registrations: each LSP method and command of the server, and the feature
function that answers it.

A handler only passes the request on (pygls hands it the server as `ls`); a notification's
failure is logged, never raised, so that one bad message never ends the session.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from lsprotocol import types as lsp

from dbheal_lsp.lsp import actions, commands, documents, lookup, pull, workspace
from dbheal_lsp.lsp.convert import COMMANDS, FIX_ALL_KIND

if TYPE_CHECKING:
    from dbheal_lsp.lsp.server import DbhealServer

logger = logging.getLogger("dbheal_lsp.lsp")


def register(server: DbhealServer) -> None:
    """Register every feature and command of dbheal on `server`."""
    server.feature(lsp.INITIALIZE)(_initialize)
    server.feature(lsp.INITIALIZED)(_initialized)
    server.feature(lsp.SHUTDOWN)(_shutdown)
    server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)(_did_open)
    server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)(_did_change)
    server.feature(lsp.TEXT_DOCUMENT_DID_SAVE, lsp.SaveOptions(include_text=False))(_did_save)
    server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)(_did_close)
    server.feature(lsp.WORKSPACE_DID_CHANGE_CONFIGURATION)(_did_change_configuration)
    server.feature(lsp.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)(_did_change_folders)
    server.feature(lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES)(_did_change_watched_files)
    server.feature(
        lsp.TEXT_DOCUMENT_DIAGNOSTIC,
        lsp.DiagnosticOptions(
            identifier="dbheal", inter_file_dependencies=True, workspace_diagnostics=True
        ),
    )(_document_diagnostic)
    server.feature(lsp.WORKSPACE_DIAGNOSTIC)(_workspace_diagnostic)
    server.feature(
        lsp.TEXT_DOCUMENT_CODE_ACTION,
        lsp.CodeActionOptions(
            code_action_kinds=[lsp.CodeActionKind.QuickFix, FIX_ALL_KIND],
            resolve_provider=True,
        ),
    )(_code_action)
    server.feature(lsp.CODE_ACTION_RESOLVE)(_code_action_resolve)
    server.feature(lsp.TEXT_DOCUMENT_HOVER)(_hover)
    server.feature(
        lsp.TEXT_DOCUMENT_COMPLETION,
        lsp.CompletionOptions(trigger_characters=list(lookup.TRIGGER_CHARACTERS)),
    )(_completion)
    for name in COMMANDS:
        server.command(name)(_command_handler(name))


def _guard(what: str, func: Callable[[], None]) -> None:
    """Run a notification's work; log (never raise) what goes wrong."""
    try:
        func()
    except Exception:
        logger.exception("dbheal: %s failed", what)


# --- the session and its documents ----------------------------------------------------------------


def _initialize(ls: DbhealServer, params: lsp.InitializeParams) -> None:
    _guard("initialize", lambda: workspace.initialize(ls, params))


async def _initialized(ls: DbhealServer, params: lsp.InitializedParams) -> None:
    try:
        await workspace.initialized(ls)
    except Exception:
        logger.exception("dbheal: start-up failed")


def _shutdown(ls: DbhealServer, params: None) -> None:
    _guard("shutdown", ls.on_shutdown)


def _did_open(ls: DbhealServer, params: lsp.DidOpenTextDocumentParams) -> None:
    _guard("didOpen", lambda: documents.open_document(ls, params.text_document))


def _did_change(ls: DbhealServer, params: lsp.DidChangeTextDocumentParams) -> None:
    _guard("didChange", lambda: documents.change_document(ls, params.text_document.uri))


def _did_save(ls: DbhealServer, params: lsp.DidSaveTextDocumentParams) -> None:
    _guard("didSave", lambda: workspace.document_saved(ls, params.text_document.uri))


def _did_close(ls: DbhealServer, params: lsp.DidCloseTextDocumentParams) -> None:
    _guard("didClose", lambda: documents.close_document(ls, params.text_document.uri))


def _did_change_watched_files(ls: DbhealServer, params: lsp.DidChangeWatchedFilesParams) -> None:
    _guard("didChangeWatchedFiles", lambda: workspace.watched_files_changed(ls, params))


async def _did_change_configuration(
    ls: DbhealServer, params: lsp.DidChangeConfigurationParams
) -> None:
    try:
        await workspace.configuration_changed(ls, params)
    except Exception:
        logger.exception("dbheal: reading the settings failed")


async def _did_change_folders(
    ls: DbhealServer, params: lsp.DidChangeWorkspaceFoldersParams
) -> None:
    try:
        await workspace.folders_changed(ls, params)
    except Exception:
        logger.exception("dbheal: changing workspace folders failed")


# --- requests -------------------------------------------------------------------------------------


async def _document_diagnostic(
    ls: DbhealServer, params: lsp.DocumentDiagnosticParams
) -> lsp.DocumentDiagnosticReport:
    return await pull.document_diagnostic(ls, params)


async def _workspace_diagnostic(
    ls: DbhealServer, params: lsp.WorkspaceDiagnosticParams
) -> lsp.WorkspaceDiagnosticReport:
    return await pull.workspace_diagnostic(ls, params)


async def _code_action(
    ls: DbhealServer, params: lsp.CodeActionParams
) -> list[lsp.CodeAction | lsp.Command] | None:
    return await actions.code_actions(ls, params)


async def _code_action_resolve(ls: DbhealServer, params: lsp.CodeAction) -> lsp.CodeAction:
    return await actions.resolve_code_action(ls, params)


async def _hover(ls: DbhealServer, params: lsp.HoverParams) -> lsp.Hover | None:
    return await lookup.hover(ls, params)


async def _completion(ls: DbhealServer, params: lsp.CompletionParams) -> lsp.CompletionList | None:
    return await lookup.completion(ls, params)


def _command_handler(name: str) -> Callable[..., Awaitable[Any]]:
    """The handler of command `name`: `commands.execute` with the command's arguments."""

    # pygls reads a command handler's annotations at run time (to structure its arguments),
    # and DbhealServer is imported here for type checkers only (server.py imports this module).
    async def handler(ls: Any, *args: Any) -> Any:
        return await commands.execute(ls, name, args)

    return handler
