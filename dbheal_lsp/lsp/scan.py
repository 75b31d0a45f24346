"""Workspace scans: checking every file of a folder, its progress, and publishing what was found.

Scans check files one process at a time (no fork of a multi-threaded server) in the folder's
`scan_project`, so a long scan never makes a hover or a quick fix wait; the engine's result cache
in `.dbheal/cache/` makes every scan after the first cheap. A push client gets the issues of the
files it has not opened (`publish_workspace`); a pulling client is told to pull again.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types as lsp
from pygls.uris import to_fs_path

from dbheal_lsp.analysis.health import runtime_event_issues
from dbheal_lsp.analysis.positions import LineIndex
from dbheal_lsp.config import ConfigError, split_pattern_warnings
from dbheal_lsp.databases.database import SchemaError
from dbheal_lsp.files import read_source
from dbheal_lsp.fixes.state import StateError
from dbheal_lsp.lsp import convert
from dbheal_lsp.lsp.documents import diagnostic, folder_error, push, recheck_open
from dbheal_lsp.lsp.folders import Folder, folder_of_uri
from dbheal_lsp.model import CheckResult, Issue

if TYPE_CHECKING:
    from dbheal_lsp.lsp.server import DbhealServer

logger = logging.getLogger("dbheal_lsp.lsp")

# What a scan is recorded as in the state file (anything else is "watch").
TRIGGERS = frozenset({"startup", "periodic", "save", "watch", "manual"})

ProgressValue = lsp.WorkDoneProgressBegin | lsp.WorkDoneProgressReport | lsp.WorkDoneProgressEnd


async def scan_workspace(server: DbhealServer, trigger: str, *, progress: bool) -> dict[str, Any]:
    """Scan every workspace folder and publish what was found; return a summary."""
    folders = [f for f in server.folders.values() if not f.implicit]
    token = await _begin_progress(server, "dbheal: checking the workspace") if progress else None
    summary: dict[str, Any] = {"folders": [], "files": 0, "issues": 0}
    try:
        for n, folder in enumerate(folders):
            report = _progress_reporter(server, token, folder, n, len(folders))
            found = await scan_folder(server, folder, trigger, report)
            summary["folders"].append({"root": str(folder.root), **found})
            summary["files"] += found.get("files", 0)
            summary["issues"] += found.get("issues", 0)
            await publish_workspace(server, folder)
            if token is not None:
                _progress(
                    server,
                    token,
                    lsp.WorkDoneProgressReport(
                        message=f"{folder.root.name}: {found.get('issues', 0)} issue(s)",
                        percentage=int(100 * (n + 1) / max(len(folders), 1)),
                    ),
                )
    finally:
        if token is not None:
            _progress(
                server,
                token,
                lsp.WorkDoneProgressEnd(
                    message=f"{summary['files']} file(s), {summary['issues']} issue(s)"
                ),
            )
    if server.caps.pull_diagnostics:
        await refresh_pulled(server)
    return summary


async def scan_folder_and_publish(server: DbhealServer, folder: Folder, trigger: str) -> None:
    """Scan one folder, then publish its issues (or have them pulled again)."""
    await scan_folder(server, folder, trigger, None)
    await publish_workspace(server, folder)
    if server.caps.pull_diagnostics:
        await refresh_pulled(server)


async def scan_folder(
    server: DbhealServer,
    folder: Folder,
    trigger: str,
    report: Callable[[int, int], None] | None,
    paths: Sequence[Path] | None = None,
) -> dict[str, Any]:
    """Check the folder's files (or only `paths`) and keep their issues; return a summary."""
    try:
        result, runtime = await server.run_in(
            server.background_pool, _scan_job, folder, trigger, report, paths
        )
    except (SchemaError, ConfigError, StateError, OSError) as exc:
        folder_error(server, folder, str(exc))
        return {"error": str(exc)}
    except Exception as exc:
        logger.exception("dbheal: scanning %s failed", folder.root)
        return {"error": str(exc)}
    pattern_warnings = split_pattern_warnings(result.notes)[0]
    if pattern_warnings:  # [tool.dbheal] include/exclude naming nothing, as `dbheal check`
        server.warn_once(f"dbheal ({folder.root.name}): " + "; ".join(pattern_warnings))
    code: dict[str, list[Issue]] = {}
    migrations: dict[str, list[Issue]] = {}
    for issue in result.issues:
        target = migrations if issue.path.lower().endswith(".sql") else code
        target.setdefault(issue.path, []).append(issue)
    if paths is None:
        folder.code_issues = {rel: tuple(v) for rel, v in code.items()}
        fresh = {rel: tuple(v) for rel, v in migrations.items()}
        if fresh != folder.migration_issues:
            folder.migration_issues = fresh
            recheck_open(server, folder, "sql")
    else:
        for path in paths:
            folder.code_issues.pop(folder.config.relative(path), None)
        folder.code_issues.update({rel: tuple(v) for rel, v in code.items()})
    if runtime is not None:
        events = by_file(runtime)
        if events != folder.runtime_issues:
            folder.runtime_issues = events
            recheck_open(server, folder, "source")
    folder.scanned = True
    folder.last_error = ""
    return {"files": result.files_checked, "issues": len(result.issues)}


def _scan_job(
    folder: Folder,
    trigger: str,
    report: Callable[[int, int], None] | None,
    paths: Sequence[Path] | None,
) -> tuple[CheckResult, tuple[Issue, ...] | None]:
    """Check the folder's files (background pool); also read its runtime events."""
    started = time.monotonic()
    with folder.scan_lock:
        targets = list(paths) if paths is not None else [folder.scope or folder.root]
        result = folder.scan_project.check_paths(targets, jobs=1, progress=report)
    runtime: tuple[Issue, ...] | None = None
    if paths is None:
        try:
            store = folder.engine.store
            runtime = runtime_event_issues(folder.scan_project, store)
            by_severity: dict[str, int] = {}
            by_type: dict[str, int] = {}
            for issue in result.issues:
                by_severity[issue.severity.value] = by_severity.get(issue.severity.value, 0) + 1
                by_type[issue.type.value] = by_type.get(issue.type.value, 0) + 1
            store.record_scan(
                trigger,
                result.files_checked,
                result.statements_checked,
                by_severity,
                by_type,
                (time.monotonic() - started) * 1000,
            )
        except (StateError, OSError, ValueError) as exc:
            logger.info("dbheal: the state file of %s is not usable: %s", folder.root, exc)
    return result, runtime


def by_file(issues: Iterable[Issue]) -> dict[str, tuple[Issue, ...]]:
    """Return `issues` grouped by the file they are in, in their order."""
    grouped: dict[str, list[Issue]] = {}
    for issue in issues:
        grouped.setdefault(issue.path, []).append(issue)
    return {rel: tuple(v) for rel, v in grouped.items()}


# --- publishing -----------------------------------------------------------------------------------


async def publish_workspace(server: DbhealServer, folder: Folder) -> None:
    """Push the issues of the folder's files that are not open (push clients only)."""
    if server.caps.pull_diagnostics or server.shutting_down:
        return
    folder.publish_seq += 1
    seq = folder.publish_seq
    open_uris = {doc.uri for doc in server.documents.values()}
    open_paths = {doc.path.resolve() for doc in server.documents.values()}
    issues = folder.workspace_issues()
    todo: list[tuple[str, str, str, tuple[Issue, ...]]] = []
    for rel, found in sorted(issues.items()):
        uri = folder.uri_of(rel)
        if uri in open_uris or folder.file_of(rel).resolve() in open_paths:
            continue
        rid = issues_id(found)
        if server.pushed.get(uri) != rid:
            todo.append((uri, rel, rid, found))
    built = await server.run_in(
        server.interactive_pool, _build_file_diagnostics, server, folder, todo
    )
    if seq != folder.publish_seq or server.shutting_down:
        return  # a newer publication of this folder is on its way
    open_uris = {doc.uri for doc in server.documents.values()}
    for (uri, _, rid, _), diagnostics in zip(todo, built, strict=True):
        if uri in open_uris:
            continue
        server.pushed[uri] = rid
        push(server, uri, diagnostics, None)
    for uri in [u for u in server.pushed if folder_of_uri(server, u) is folder]:
        fs = to_fs_path(uri)
        rel = folder.config.relative(Path(fs)) if fs else ""
        if rel not in issues and uri not in open_uris:
            del server.pushed[uri]
            push(server, uri, [], None)


def _build_file_diagnostics(
    server: DbhealServer,
    folder: Folder,
    todo: Sequence[tuple[str, str, str, tuple[Issue, ...]]],
) -> list[list[lsp.Diagnostic]]:
    return [file_diagnostics(server, folder, rel, found) for _, rel, _, found in todo]


def file_diagnostics(
    server: DbhealServer, folder: Folder, rel: str, issues: Sequence[Issue]
) -> list[lsp.Diagnostic]:
    """Return the diagnostics of a file not open, positioned in its text on disk."""
    try:
        text = read_source(folder.file_of(rel), root=folder.root)
    except OSError:
        text = ""
    lines = LineIndex(text.removeprefix("\ufeff"))
    return [diagnostic(server, folder, issue, lines) for issue in issues]


def issues_id(issues: Iterable[Issue]) -> str:
    """Return the result id of a file's issues not open in the editor."""
    return convert.result_id(*(f"{i.fingerprint}@{i.span}:{i.severity.value}" for i in issues))


async def refresh_pulled(server: DbhealServer) -> None:
    """Tell a pulling client to pull again (workspace/diagnostic/refresh)."""
    if server.caps.diagnostic_refresh and not server.shutting_down:
        await server.ask_client(
            server.workspace_diagnostic_refresh_async(None), "workspace/diagnostic/refresh"
        )


# --- progress -------------------------------------------------------------------------------------


async def _begin_progress(server: DbhealServer, title: str) -> str | None:
    if not server.caps.work_done_progress:
        return None
    token = f"dbheal-{os.getpid()}-{next(server.progress_tokens)}"
    created = await server.ask_client(
        server.work_done_progress.create_async(token), "window/workDoneProgress/create"
    )
    if created is None and token not in server.work_done_progress.tokens:
        return None
    _progress(server, token, lsp.WorkDoneProgressBegin(title=title, percentage=0))
    return token


def _progress(server: DbhealServer, token: str, value: ProgressValue) -> None:
    with contextlib.suppress(Exception):
        if isinstance(value, lsp.WorkDoneProgressBegin):
            server.work_done_progress.begin(token, value)
        elif isinstance(value, lsp.WorkDoneProgressReport):
            server.work_done_progress.report(token, value)
        else:
            server.work_done_progress.end(token, value)


def _progress_reporter(
    server: DbhealServer, token: str | None, folder: Folder, index: int, count: int
) -> Callable[[int, int], None] | None:
    if token is None or server.loop is None:
        return None
    loop = server.loop
    last = [0.0]

    def report(done: int, total: int) -> None:  # on the scan's thread
        now = time.monotonic()
        if now - last[0] < 0.2 and done < total:
            return
        last[0] = now
        share = (index + done / max(total, 1)) / max(count, 1)
        value = lsp.WorkDoneProgressReport(
            message=f"{folder.root.name}: {done}/{total} files", percentage=int(100 * share)
        )
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(_progress, server, token, value)

    return report
