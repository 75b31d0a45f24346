"""Checking again when the project changes: the schema, files written outside the editor, time.

The database or the migrations changed (`schema_changed`): every open document and the folder's
scan are checked again. Our own file watcher (`lsp/watch.py`) or the client's
(workspace/didChangeWatchedFiles) tells us of changes made outside the editor; a periodic task
per folder scans, checks the database's health and prunes old backups.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from lsprotocol import types as lsp
from pygls.uris import to_fs_path

from dbheal_lsp.analysis.health import health_check
from dbheal_lsp.languages import SOURCE_EXTENSIONS
from dbheal_lsp.lsp.documents import recheck_open, request_check
from dbheal_lsp.lsp.folders import Folder, checked, in_migrations
from dbheal_lsp.lsp.scan import (
    TRIGGERS,
    by_file,
    publish_workspace,
    refresh_pulled,
    scan_folder,
    scan_folder_and_publish,
)
from dbheal_lsp.lsp.watch import ChangeSet, Watcher

if TYPE_CHECKING:
    from dbheal_lsp.lsp.server import DbhealServer

logger = logging.getLogger("dbheal_lsp.lsp")

WATCH_DEBOUNCE = 0.3


async def schema_changed(server: DbhealServer, folder: Folder, *, trigger: str) -> None:
    """The database or the migrations changed: check everything of `folder` again."""
    folder.plan_cache.clear()
    for doc in list(server.documents.values()):
        if doc.folder is not folder or doc.kind == "other":
            continue
        doc.fix_cache.clear()
        doc.result = None
        if not server.caps.pull_diagnostics:
            request_check(server, doc, 0.0)
    await scan_folder(server, folder, trigger if trigger in TRIGGERS else "watch", None)
    await publish_workspace(server, folder)
    for doc in list(server.documents.values()):
        if doc.folder is folder and doc.kind == "sql" and not server.caps.pull_diagnostics:
            request_check(server, doc, 0.0)
    if server.caps.pull_diagnostics:
        await refresh_pulled(server)


async def files_changed(server: DbhealServer, folder: Folder, files: Sequence[Path]) -> None:
    """Source files of `folder` changed on disk: check them again (or all, if the schema
    comes from code)."""
    if folder.project.needs_code_schema():
        await schema_changed(server, folder, trigger="watch")  # the schema comes from code
        return
    files = [p for p in files if checked(folder.config, folder.config.relative(p))]
    existing = [p for p in files if p.is_file()]
    for gone in (p for p in files if not p.is_file()):
        folder.code_issues.pop(folder.config.relative(gone), None)
    if existing:
        await scan_folder(server, folder, "watch", None, existing)
    await publish_workspace(server, folder)
    if server.caps.pull_diagnostics:
        await refresh_pulled(server)


# --- watching files -------------------------------------------------------------------------------


async def start_watcher(server: DbhealServer, folder: Folder) -> None:
    """Watch the folder's files, migrations and database (not for an implicit folder)."""
    if folder.implicit or folder.watcher is not None or server.loop is None:
        return
    loop = server.loop
    key = folder.key

    def on_change(changes: ChangeSet) -> None:  # on the watcher's thread
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(_on_watch, server, key, changes)

    watcher = Watcher(
        folder.root,
        migrations=folder.config.migrations,
        database=folder.config.database,
        on_change=on_change,
        debounce=WATCH_DEBOUNCE,
    )
    try:
        await server.run_in(server.background_pool, watcher.start)
    except Exception as exc:
        logger.warning("dbheal: cannot watch %s: %s", folder.root, exc)
        return
    folder.watcher = watcher


def _on_watch(server: DbhealServer, key: str, changes: ChangeSet) -> None:
    folder = server.folders.get(key)
    if folder is None or server.shutting_down:
        return
    # An open document saved by the editor is not news: its own check follows the save.
    open_paths = {doc.path.resolve() for doc in server.documents.values()}
    files = [p for p in changes.source_files if p.resolve() not in open_paths]
    schema = changes.migrations_changed or changes.database_changed
    if not files and not schema:
        return
    logger.info(
        "dbheal: %s changed outside the editor (%d source file(s)%s%s)",
        folder.root.name,
        len(files),
        ", migrations" if changes.migrations_changed else "",
        ", database schema" if changes.database_changed else "",
    )
    if schema:
        server.spawn(schema_changed(server, folder, trigger="watch"), "schema changed")
    elif files:
        server.spawn(files_changed(server, folder, files), "files changed")


def watched_files_changed(server: DbhealServer, params: lsp.DidChangeWatchedFilesParams) -> None:
    """What the client's file watcher saw (workspace/didChangeWatchedFiles): the same as
    our own watcher's news, for the folders it does not watch (a folder with a watcher of
    ours has heard it already). A pyproject.toml is workspace.watched_files_changed's."""
    changed: dict[str, tuple[set[Path], list[bool]]] = {}
    for event in params.changes:
        fs = to_fs_path(event.uri)
        if fs is None:
            continue
        path = Path(fs)
        if path.name in ("pyproject.toml", "dbheal.toml"):
            continue
        for folder in list(server.folders.values()):
            if folder.watcher is not None:
                continue
            files, flags = changed.setdefault(folder.key, (set(), [False, False]))
            resolved = path.resolve()
            database = folder.config.database
            if (
                database is not None
                and resolved.parent == database.resolve().parent
                and (
                    resolved.name.startswith(database.name)  # the file, its -wal and -journal
                )
            ):
                flags[1] = True
            elif path.suffix.lower() == ".sql" and in_migrations(folder, path):
                flags[0] = True
            elif path.name.endswith(SOURCE_EXTENSIONS) and (
                resolved == folder.root or folder.root in resolved.parents
            ):
                files.add(path)
    for key, (files, (migrations, schema)) in changed.items():
        if files or migrations or schema:
            _on_watch(
                server,
                key,
                ChangeSet(
                    source_files=frozenset(files),
                    migrations_changed=migrations,
                    database_changed=schema,
                ),
            )


# --- periodic work --------------------------------------------------------------------------------


def restart_periodic(server: DbhealServer, folder: Folder) -> None:
    """(Re)start the folder's periodic scan, as often as its settings say (never if 0)."""
    if folder.periodic is not None:
        folder.periodic.cancel()
        folder.periodic = None
    if folder.implicit or server.shutting_down:
        return
    if folder.settings.scan.periodic_minutes > 0:
        folder.periodic = server.spawn(_periodic(server, folder), f"periodic {folder.root.name}")


async def _periodic(server: DbhealServer, folder: Folder) -> None:
    while not server.shutting_down:
        await asyncio.sleep(folder.settings.scan.periodic_minutes * 60)
        if server.folders.get(folder.key) is not folder:
            return
        await scan_folder_and_publish(server, folder, "periodic")
        await health(server, folder, quiet_when_ok=True)
        await _prune(server, folder)


async def health(server: DbhealServer, folder: Folder, *, quiet_when_ok: bool) -> None:
    """Check the database's health; warn of what is wrong, show what it found on migrations."""
    if folder.implicit or (folder.config.database is None and folder.config.database_url is None):
        return
    try:
        report = await server.run_in(server.background_pool, health_check, folder.scan_project)
    except Exception:
        logger.exception("dbheal: health check of %s failed", folder.root)
        return
    if report.ok:
        logger.info("dbheal: %s", report.message)
        folder.last_health = ""
    elif report.message != folder.last_health:
        folder.last_health = report.message
        server.message(f"dbheal health check: {report.message}", lsp.MessageType.Warning)
    fresh = by_file(report.issues)
    if (report.integrity or report.issues or report.ok) and fresh != folder.migration_issues:
        folder.migration_issues = fresh
        recheck_open(server, folder, "sql")
    await publish_workspace(server, folder)
    if not quiet_when_ok and report.ok:
        server.message(f"dbheal health check: {report.message}")


async def _prune(server: DbhealServer, folder: Folder) -> None:
    try:
        removed = await server.run_in(server.background_pool, folder.engine.prune)
    except Exception as exc:
        logger.info("dbheal: backup cleanup of %s failed: %s", folder.root, exc)
        return
    if removed:
        logger.info("dbheal: removed %d old backup(s) of %s", len(removed), folder.root)
