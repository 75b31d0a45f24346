"""The session's workspace: initialize and start-up, settings, folders added and removed.

Settings come from the initializationOptions, workspace/didChangeConfiguration, the client's
answer to workspace/configuration, and [tool.dbheal] (a saved or changed pyproject.toml reads
them again); a folder whose project settings changed is made again (`folders.make_folder`), its
watcher and periodic task started again, and everything of it checked again.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from lsprotocol import types as lsp
from pygls.uris import from_fs_path, to_fs_path

from dbheal_lsp import __version__
from dbheal_lsp.lsp.capabilities import ClientFeatures
from dbheal_lsp.lsp.documents import push, request_check, save_document
from dbheal_lsp.lsp.folders import (
    Folder,
    folder_for,
    folder_of_uri,
    in_migrations,
    make_folder,
    settings_for,
    show_problems,
)
from dbheal_lsp.lsp.refresh import (
    health,
    restart_periodic,
    schema_changed,
    start_watcher,
)
from dbheal_lsp.lsp.refresh import (
    watched_files_changed as refresh_watched_files,
)
from dbheal_lsp.lsp.scan import scan_folder_and_publish, scan_workspace
from dbheal_lsp.lsp.settings import section_of

if TYPE_CHECKING:
    from dbheal_lsp.lsp.server import DbhealServer

logger = logging.getLogger("dbheal_lsp.lsp")


# --- start ----------------------------------------------------------------------------------------


def initialize(server: DbhealServer, params: lsp.InitializeParams) -> None:
    """Read what the client can do and make a folder for each of its workspace folders."""
    server.loop = asyncio.get_running_loop()
    encoding = server.workspace.position_encoding
    server.caps = ClientFeatures.of(params.capabilities, encoding)
    server.init_raw = section_of(params.initialization_options)
    problems: list[str] = []
    for uri in _client_folders(params):
        folder = make_folder(server, uri, problems)
        if folder is not None:
            server.folders[folder.key] = folder
    show_problems(server, problems)
    if params.process_id is not None and params.process_id != os.getpid():
        threading.Thread(
            target=server.watch_client,
            args=(params.process_id,),
            name="dbheal-client-watch",
            daemon=True,
        ).start()
    logger.info(
        "dbheal %s: %d workspace folder(s), positions in %s, diagnostics by %s",
        __version__,
        len(server.folders),
        server.caps.encoding,
        "pull" if server.caps.pull_diagnostics else "push",
    )


def _client_folders(params: lsp.InitializeParams) -> list[str]:
    if params.workspace_folders:
        return [f.uri for f in params.workspace_folders]
    root = params.root_uri or (from_fs_path(params.root_path) if params.root_path else None)
    return [root] if root else []


async def initialized(server: DbhealServer) -> None:
    """The client is ready: pull its settings, then start the start-up scan."""
    server.is_initialized = True
    await reload_settings(server, force=True)
    server.startup = server.spawn(_startup(server), "startup scan")


async def _startup(server: DbhealServer) -> None:
    for folder in list(server.folders.values()):
        await start_watcher(server, folder)
    await scan_workspace(server, "startup", progress=True)
    for folder in list(server.folders.values()):
        await health(server, folder, quiet_when_ok=True)
        restart_periodic(server, folder)
    # What the start-up built (schemas, parsed statements, caches) lives as long as the
    # server: keep it out of the collector's generations, so that a save's check is not
    # paused by a full collection walking it (the p95 of save -> diagnostics).
    gc.collect()
    gc.freeze()


# --- settings -------------------------------------------------------------------------------------


async def configuration_changed(
    server: DbhealServer, params: lsp.DidChangeConfigurationParams
) -> None:
    """workspace/didChangeConfiguration: take the settings pushed, pull the rest again."""
    pushed = section_of(params.settings)
    if pushed:
        server.pushed_raw = pushed
    await reload_settings(server)


async def reload_settings(server: DbhealServer, *, force: bool = False) -> None:
    """Pull the "dbheal" section of every folder and apply what changed."""
    folders = [f for f in server.folders.values() if not f.implicit]
    if server.caps.configuration and folders:
        items = [lsp.ConfigurationItem(scope_uri=f.uri, section="dbheal") for f in folders]
        answer = await server.ask_client(
            server.workspace_configuration_async(lsp.ConfigurationParams(items=items)),
            "workspace/configuration",
        )
        if answer is not None:
            for folder, raw in zip(folders, answer, strict=False):
                server.folder_raw[folder.uri] = section_of(raw) if raw is not None else {}
    problems: list[str] = []
    for folder in list(server.folders.values()):
        settings, found = settings_for(server, folder.uri)
        problems.extend(found)
        if settings == folder.settings and not force:
            continue
        if settings.project == folder.settings.project and not force:
            folder.settings = settings
            logger.info("dbheal: settings of %s: %s", folder.root.name, settings)
            restart_periodic(server, folder)
            continue
        fresh = make_folder(
            server,
            folder.uri,
            problems,
            implicit=folder.implicit,
            root=folder.path,
            scope=folder.scope,
        )
        if fresh is None:
            continue
        if fresh.config == folder.config:
            scan_changed = settings.scan != folder.settings.scan
            folder.settings = settings
            if scan_changed and server.startup is not None:
                restart_periodic(server, folder)
            continue
        await _replace_folder(server, folder, fresh)
    show_problems(server, problems)


async def _replace_folder(server: DbhealServer, old: Folder, new: Folder) -> None:
    logger.info("dbheal: settings of %s changed", old.root)
    if old.periodic is not None:
        old.periodic.cancel()
    watcher, old.watcher = old.watcher, None
    if watcher is not None:
        await server.run_in(server.background_pool, watcher.stop)
    server.folders.pop(old.key, None)
    server.folders[new.key] = new
    for doc in server.documents.values():
        if doc.folder is old:
            doc.folder = new
            doc.fix_cache.clear()
            doc.result = None
    if server.startup is not None and not server.shutting_down:
        await start_watcher(server, new)
        restart_periodic(server, new)
        await schema_changed(server, new, trigger="manual")


def document_saved(server: DbhealServer, uri: str) -> None:
    """A document was saved: a pyproject.toml means new settings, a migration a new schema
    (unless a watcher of ours reports it); the document itself is checked again."""
    doc = server.documents.get(uri)
    if doc is None:
        return
    if doc.path.name in ("pyproject.toml", "dbheal.toml"):
        server.spawn(reload_settings(server, force=True), "reload pyproject")
        return
    if doc.kind == "sql" and doc.folder.watcher is None and in_migrations(doc.folder, doc.path):
        # (With a watcher running, it reports the saved migration itself.)
        server.spawn(schema_changed(server, doc.folder, trigger="save"), "migration saved")
    save_document(server, uri)


def watched_files_changed(server: DbhealServer, params: lsp.DidChangeWatchedFilesParams) -> None:
    """workspace/didChangeWatchedFiles: a pyproject.toml means new settings; the other files
    are refresh.watched_files_changed's."""
    for event in params.changes:
        fs = to_fs_path(event.uri)
        if fs is not None and Path(fs).name in ("pyproject.toml", "dbheal.toml"):
            server.spawn(reload_settings(server, force=True), "reload pyproject")
    refresh_watched_files(server, params)


# --- folders --------------------------------------------------------------------------------------


async def folders_changed(
    server: DbhealServer, params: lsp.DidChangeWorkspaceFoldersParams
) -> None:
    """Workspace folders were removed or added: forget the former, scan the latter."""
    for removed in params.event.removed:
        await _remove_folder(server, removed.uri)
    problems: list[str] = []
    for added in params.event.added:
        folder = make_folder(server, added.uri, problems)
        if folder is not None:
            server.folders[folder.key] = folder
            await start_watcher(server, folder)
            restart_periodic(server, folder)
            server.spawn(scan_folder_and_publish(server, folder, "startup"), "folder scan")
    show_problems(server, problems)


async def _remove_folder(server: DbhealServer, uri: str) -> None:
    fs = to_fs_path(uri)
    key = str(Path(fs).resolve()) if fs else None
    folder = server.folders.pop(key, None) if key else None
    if folder is None:
        return
    if folder.periodic is not None:
        folder.periodic.cancel()
    if folder.watcher is not None:
        await server.run_in(server.background_pool, folder.watcher.stop)
    for pushed in [u for u in server.pushed if folder_of_uri(server, u) is None]:
        del server.pushed[pushed]
        push(server, pushed, [], None)
    for doc in list(server.documents.values()):
        if doc.folder is folder:  # now in another folder, or a project of its own
            doc.folder = folder_for(server, doc.path)
            doc.rel = doc.folder.config.relative(doc.path)
            doc.result = None
            doc.fix_cache.clear()
            if doc.kind != "other" and not server.caps.pull_diagnostics:
                request_check(server, doc, 0.0)
