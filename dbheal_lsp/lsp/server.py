"""The dbheal language server: the engine behind an editor, over LSP (pygls 2).

`DbhealServer` holds every piece of mutable state of a session — the open documents and their
analyses, one `Folder` per workspace folder (its settings, its `Project`s, its `FixEngine`, its
file watcher and periodic task), the thread pools — and the module-level handlers only pass
requests on to it. `convert.py` turns engine values into LSP values; nothing else here builds
positions.

How work is scheduled:

- The event loop never runs analysis. A document has one worker task at a time: it waits for
  the debounce, takes a snapshot of the text, runs the check in the analysis pool, and publishes
  the result only if the document is still open and unchanged since the snapshot; a request made
  meanwhile makes it run again on the newest text. So a result for an older version is never
  published, a result that finishes after the document closed is dropped, and a burst of saves
  costs at most one check in flight per document.
- Each folder has three `Project`s, each behind its own lock: one checks the open documents,
  one serves code actions, hover, completion and the fix engine, one scans the workspace. A long
  scan or the check of a huge file never makes a hover or a quick fix wait.
- Workspace scans check files one process at a time (no fork of a multi-threaded server); the
  engine's result cache in `.dbheal/cache/` makes every scan after the first cheap.

Diagnostics go to the client by push (`textDocument/publishDiagnostics`) unless the client can
pull them (`textDocument/diagnostic`): a client that pulls gets no pushes at all, so that it never
shows the same finding twice (Neovim 0.10+ and vscode-languageclient keep pushed and pulled
diagnostics apart); it is told to pull again (`workspace/diagnostic/refresh`) when the schema
changed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import hashlib
import itertools
import logging
import os
import sys
import threading
import time
from collections.abc import (
    Awaitable,
    Callable,
    Coroutine,
    Generator,
    Iterable,
    Mapping,
    Sequence,
)
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, NoReturn, TypeVar
from urllib.parse import unquote

from lsprotocol import types as lsp
from pygls.exceptions import FeatureRequestError, JsonRpcMethodNotFound
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.language_server import lsp_method
from pygls.uris import from_fs_path, to_fs_path

from dbheal_lsp import __version__
from dbheal_lsp.analysis.health import health_check, runtime_event_issues
from dbheal_lsp.analysis.live_db import SchemaError
from dbheal_lsp.analysis.project import Project
from dbheal_lsp.codec import from_dict, to_dict
from dbheal_lsp.config import (
    Config,
    ConfigError,
    discover_database,
    discover_migrations,
    find_root,
    included,
    load_config,
    read_pyproject,
    split_pattern_warnings,
)
from dbheal_lsp.files import read_source, read_text
from dbheal_lsp.fixes.orchestrator import FixEngine, FixError, FixOutcome
from dbheal_lsp.fixes.state import StateError
from dbheal_lsp.liblogs import quiet_library_logs
from dbheal_lsp.lookup import completions, hover_markdown, token_at
from dbheal_lsp.lsp import convert
from dbheal_lsp.lsp.convert import ClientFeatures, Lines
from dbheal_lsp.lsp.settings import (
    Settings,
    merge_raw,
    parse_settings,
    section_of,
)
from dbheal_lsp.lsp.watch import ChangeSet, Watcher
from dbheal_lsp.model import (
    CodeFix,
    Issue,
    IssueType,
    LossyReport,
    MigrationPlan,
    Origin,
    Severity,
    TextEdit,
    VerifyReport,
)
from dbheal_lsp.records import FixRecord, QueueEntry

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = ["COMMANDS", "DbhealServer", "create_server", "main", "serve"]

logger = logging.getLogger("dbheal_lsp.lsp")

T = TypeVar("T")
# Seconds an open document may take in the fast lane before it moves to the slow lane, and in
# the slow lane: there it holds up only other slow documents, so a big file of one's own (a
# megabyte takes seconds, more while a scan shares the CPU) gets the time to be checked whole.
FAST_BUDGET = 1.0
SLOW_BUDGET = 60.0

CMD_SCAN = "dbheal.scanWorkspace"
CMD_QUEUE = "dbheal.queueMigration"
CMD_APPLY = "dbheal.applyMigration"
CMD_APPLY_FIX = "dbheal.applyFix"
CMD_ROLLBACK = "dbheal.rollback"
CMD_HISTORY = "dbheal.showHistory"
CMD_LIST_QUEUE = "dbheal.listQueue"
COMMANDS = (
    CMD_SCAN,
    CMD_QUEUE,
    CMD_APPLY,
    CMD_APPLY_FIX,
    CMD_ROLLBACK,
    CMD_HISTORY,
    CMD_LIST_QUEUE,
)
FIX_ALL_KIND = "source.fixAll.dbheal"
APPLY = "Apply"
CANCEL = "Cancel"
TRIGGER_CHARACTERS = [" ", ".", "(", ","]
# Code fixes that "fix all" applies: a rename guesses at a typo, a person confirms it.
SAFE_CODE_FIXES = frozenset({"remove_cast", "parameterize"})
CLIENT_TIMEOUT = 30.0  # seconds to wait for the client's answer to a request of ours
WATCH_DEBOUNCE = 0.3
CLIENT_POLL = 3.0  # seconds between two looks at whether the client's process is still there
_FOLDER_EXCLUDES = frozenset({".dbheal"})


# --- state ----------------------------------------------------------------------------------


@dataclass
class Folder:
    """One workspace folder: its own root, settings, projects, fix engine and watcher."""

    uri: str
    path: Path  # as the client named it (what URIs of its files are built from)
    root: Path  # resolved
    settings: Settings
    config: Config
    project: Project  # checks of open documents: behind `lock`
    tools_project: Project  # code actions, hover, completion and the fix engine: `tools_lock`
    scan_project: Project  # workspace scans: behind `scan_lock`
    engine: FixEngine  # on `tools_project`
    # Documents too slow for `project` (see DbhealServer._document_worker): behind `slow_lock`.
    slow_project: Project | None = None
    implicit: bool = False  # made for a file outside every workspace folder
    # The workspace folder the client named, when it lies inside the project `root` (its root
    # hid the real project): scans check only it, as `dbheal check` run there does.
    scope: Path | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    slow_lock: threading.Lock = field(default_factory=threading.Lock)
    tools_lock: threading.Lock = field(default_factory=threading.Lock)
    scan_lock: threading.Lock = field(default_factory=threading.Lock)
    code_issues: dict[str, tuple[Issue, ...]] = field(default_factory=dict)
    migration_issues: dict[str, tuple[Issue, ...]] = field(default_factory=dict)
    runtime_issues: dict[str, tuple[Issue, ...]] = field(default_factory=dict)
    scanned: bool = False
    watcher: Watcher | None = None
    periodic: asyncio.Task[None] | None = None
    plan_cache: dict[tuple[str, str], tuple[MigrationPlan, ...]] = field(default_factory=dict)
    last_health: str = ""
    last_error: str = ""
    publish_seq: int = 0

    @property
    def key(self) -> str:
        return str(self.scope or self.root)

    def uri_of(self, rel: str) -> str:
        """Return the URI of the project file `rel` (relative to the root)."""
        path = Path(rel)
        if not path.is_absolute():
            path = self.path / rel
        return from_fs_path(str(path)) or path.as_uri()

    def file_of(self, rel: str) -> Path:
        path = Path(rel)
        return path if path.is_absolute() else self.root / rel

    def workspace_issues(self) -> dict[str, tuple[Issue, ...]]:
        """Return every file's issues of the last scan, health check and runtime events."""
        out: dict[str, list[Issue]] = {}
        for source in (self.code_issues, self.migration_issues, self.runtime_issues):
            for rel, issues in source.items():
                out.setdefault(rel, []).extend(issues)
        return {rel: tuple(issues) for rel, issues in out.items()}


@dataclass(frozen=True)
class Analysed:
    """One check of one document version, ready to send."""

    version: int | None
    generation: int
    issues: tuple[Issue, ...]
    diagnostics: tuple[lsp.Diagnostic, ...]
    result_id: str
    text_hash: str
    over_budget: bool = False  # the check stopped at its budget (see _document_worker)
    seconds: float = 0.0  # how long the check took


@dataclass
class Document:
    """An open document: what the client last sent, and its analysis."""

    uri: str
    path: Path
    folder: Folder
    rel: str
    kind: str  # "python" | "sql" | "other"
    generation: int = 0  # bumped by every change: results of older generations are stale
    pending: bool = False  # a check was asked for and has not started yet
    due: float = 0.0  # loop time at which the pending check may start
    worker: asyncio.Task[None] | None = None
    slow: bool = False  # its last check ran past FAST_BUDGET: checked in the slow lane
    result: Analysed | None = None
    waiters: list[asyncio.Future[Analysed | None]] = field(default_factory=list)
    fix_cache: dict[tuple[str, str], tuple[CodeFix, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class FixTarget:
    """What a schema command works on: a plan, and the issue and document it came from."""

    folder: Folder
    plan: MigrationPlan
    issue: Issue | None = None
    uri: str | None = None
    queue_id: int | None = None
    with_cast_fix: bool = False


# --- the server -------------------------------------------------------------------------------


# What a `shutdown` without an id is read as (see DbhealProtocol.structure_message).
_SHUTDOWN_NOTIFICATION = "$/dbheal/shutdownWithoutId"


class DbhealProtocol(LanguageServerProtocol):
    """pygls' protocol, advertising pull diagnostics only to a client that will pull them, and
    taking a change of a document never opened as its opening."""

    def structure_message(self, data: dict[str, Any]) -> Any:
        """Read a message; a `shutdown` sent without an id (Kate 22.12) is the shutdown it
        means, not a malformed request (pygls would log a traceback and exit with 1)."""
        if data.get("method") == lsp.SHUTDOWN and "id" not in data:
            data = {**data, "method": _SHUTDOWN_NOTIFICATION, "params": data.get("params")}
        return super().structure_message(data)

    @lsp_method(_SHUTDOWN_NOTIFICATION)
    def lsp_shutdown_notification(self, params: Any = None) -> None:
        """Shut down as for the `shutdown` request, with no answer to send."""
        self._shutdown = True

    @lsp_method(lsp.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(
        self, params: lsp.DidChangeTextDocumentParams
    ) -> Generator[Any, Any, None]:
        uri = params.text_document.uri
        if unquote(uri) not in self.workspace.text_documents:
            # Neovim 0.7 after `:saveas` changes a URI it never opened: the changes apply to
            # the file as it is on disk (a whole-text change replaces it), and the server's
            # handler then opens the document (DbhealServer.change_document).
            self.workspace.put_text_document(
                lsp.TextDocumentItem(
                    uri=uri,
                    language_id=_language_of(uri),
                    version=params.text_document.version,
                    text=_disk_text(uri),
                )
            )
        yield from super().lsp_text_document__did_change(params)

    @lsp_method(lsp.INITIALIZE)
    def lsp_initialize(
        self, params: lsp.InitializeParams
    ) -> Generator[Any, Any, lsp.InitializeResult]:
        # A client that counts columns in bytes but cannot offer UTF-8 (ALE 3.3 sends no
        # `general.positionEncodings`) names it in its initializationOptions: taken as its offer,
        # so pygls agrees on it, documents apply changes in it, and the result says so.
        wanted = section_of(params.initialization_options).get("positionEncoding")
        if isinstance(wanted, str) and wanted in {kind.value for kind in lsp.PositionEncodingKind}:
            general = params.capabilities.general or lsp.GeneralClientCapabilities()
            general.position_encodings = [lsp.PositionEncodingKind(wanted)]
            params.capabilities.general = general
        result: lsp.InitializeResult = yield from super().lsp_initialize(params)
        server = self._server
        if isinstance(server, DbhealServer) and not server.caps.pull_diagnostics:
            # A client that can pull but cannot be told to pull again (no refresh support:
            # Neovim 0.10 and 0.11) gets pushes; advertised, it would pull as well and show
            # every finding twice. The handlers still answer whoever asks.
            result.capabilities.diagnostic_provider = None
        return result


class DbhealServer(LanguageServer):
    """The dbheal language server; one instance per editor session."""

    def __init__(self) -> None:
        super().__init__(
            "dbheal",
            __version__,
            text_document_sync_kind=lsp.TextDocumentSyncKind.Incremental,
            protocol_cls=DbhealProtocol,
        )
        self.caps = ClientFeatures()
        self.folders: dict[str, Folder] = {}
        self.documents: dict[str, Document] = {}
        self.init_raw: dict[str, Any] = {}
        self.pushed_raw: dict[str, Any] = {}
        self.folder_raw: dict[str, dict[str, Any]] = {}
        self.is_initialized = False
        self.shutting_down = False
        self.loop: asyncio.AbstractEventLoop | None = None
        self.analysis_pool = ThreadPoolExecutor(2, thread_name_prefix="dbheal-analysis")
        # One thread for documents that ran past FAST_BUDGET: however many there are, they
        # take turns here and never hold up the others' checks in `analysis_pool`.
        self.slow_pool = ThreadPoolExecutor(1, thread_name_prefix="dbheal-slow-analysis")
        self.interactive_pool = ThreadPoolExecutor(2, thread_name_prefix="dbheal-interactive")
        self.background_pool = ThreadPoolExecutor(2, thread_name_prefix="dbheal-background")
        self.tasks: set[asyncio.Task[Any]] = set()
        self.pushed: dict[str, str] = {}  # workspace URI -> result id of what was pushed
        self.last_warning = ""
        self.shown_errors: set[str] = set()
        self.progress_tokens = itertools.count(1)
        self.startup: asyncio.Task[None] | None = None
        self.hidden_noted: set[tuple[Path, Path]] = set()

    # --- plumbing -------------------------------------------------------------------------

    def spawn(self, coro: Coroutine[Any, Any, T], name: str) -> asyncio.Task[T]:
        """Run `coro` in the background, logging (never raising) what it raises."""
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self.tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self.tasks.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            logger.error("dbheal: %s failed", task.get_name(), exc_info=exc)

    async def run_in(self, pool: ThreadPoolExecutor, func: Callable[..., T], *args: Any) -> T:
        """Run `func(*args)` in `pool` and return its result without blocking the loop."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(pool, func, *args)

    async def ask_client(self, request: Awaitable[T], what: str) -> T | None:
        """Await a request we sent the client; None if it fails or takes too long."""
        try:
            return await asyncio.wait_for(request, CLIENT_TIMEOUT)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            logger.info("dbheal: %s got no answer from the client: %s", what, exc)
            return None

    def message(self, text: str, kind: lsp.MessageType = lsp.MessageType.Info) -> None:
        """Show `text` to the user (window/showMessage) and log it."""
        log = (
            logger.warning
            if kind in (lsp.MessageType.Error, lsp.MessageType.Warning)
            else logger.info
        )
        log("%s", text)
        with contextlib.suppress(Exception):
            self.window_show_message(lsp.ShowMessageParams(type=kind, message=text))

    def warn_once(self, text: str) -> None:
        """Show a warning, unless it is the same as the last one shown."""
        if text and text != self.last_warning:
            self.last_warning = text
            self.message(text, lsp.MessageType.Warning)

    def report_server_error(self, error: Exception, source: Any) -> None:
        """Log what pygls caught; show the user each distinct error once."""
        if isinstance(error, JsonRpcMethodNotFound):
            # A request for what dbheal does not offer (Kate asks every server for document
            # symbols on each edit): "method not found" is its answer, nothing went wrong.
            logger.debug("dbheal: %s", error)
            return
        logger.error("dbheal: internal error (%s): %s", getattr(source, "__name__", source), error)
        if source is FeatureRequestError:
            return  # the client got the error as the request's answer
        text = f"dbheal: internal error: {error}"
        if text not in self.shown_errors and len(self.shown_errors) < 20:
            self.shown_errors.add(text)
            with contextlib.suppress(Exception):
                self.window_show_message(
                    lsp.ShowMessageParams(type=lsp.MessageType.Error, message=text)
                )

    # --- initialization -------------------------------------------------------------------

    def on_initialize(self, params: lsp.InitializeParams) -> None:
        self.loop = asyncio.get_running_loop()
        encoding = self.workspace.position_encoding
        self.caps = ClientFeatures.of(params.capabilities, encoding)
        self.init_raw = section_of(params.initialization_options)
        problems: list[str] = []
        for uri in self._client_folders(params):
            folder = self._make_folder(uri, problems)
            if folder is not None:
                self.folders[folder.key] = folder
        self._show_problems(problems)
        if params.process_id is not None and params.process_id != os.getpid():
            threading.Thread(
                target=self._watch_client,
                args=(params.process_id,),
                name="dbheal-client-watch",
                daemon=True,
            ).start()
        logger.info(
            "dbheal %s: %d workspace folder(s), positions in %s, diagnostics by %s",
            __version__,
            len(self.folders),
            self.caps.encoding,
            "pull" if self.caps.pull_diagnostics else "push",
        )

    def _watch_client(self, pid: int) -> None:
        """Exit once the client's process is gone (its own thread; the spec's `processId`).

        An editor that dies without closing our stdin (killed, crashed) would otherwise leave
        the server running forever. A fix under way still finishes first (see `finish`).
        """
        while _alive(pid):
            time.sleep(CLIENT_POLL)
        logger.warning("dbheal: the client's process %d is gone: exiting", pid)
        loop = self.loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self.on_shutdown)
        finish(self)

    def _client_folders(self, params: lsp.InitializeParams) -> list[str]:
        if params.workspace_folders:
            return [f.uri for f in params.workspace_folders]
        root = params.root_uri or (from_fs_path(params.root_path) if params.root_path else None)
        return [root] if root else []

    async def on_initialized(self) -> None:
        self.is_initialized = True
        await self.reload_settings(force=True)
        self.startup = self.spawn(self._startup(), "startup scan")

    async def _startup(self) -> None:
        for folder in list(self.folders.values()):
            await self._start_watcher(folder)
        await self.scan_workspace("startup", progress=True)
        for folder in list(self.folders.values()):
            await self._health(folder, quiet_when_ok=True)
            self._restart_periodic(folder)
        # What the start-up built (schemas, parsed statements, caches) lives as long as the
        # server: keep it out of the collector's generations, so that a save's check is not
        # paused by a full collection walking it (the p95 of save -> diagnostics).
        gc.collect()
        gc.freeze()

    # --- settings and folders -------------------------------------------------------------

    def _settings_for(self, folder_uri: str) -> tuple[Settings, tuple[str, ...]]:
        raw = merge_raw(self.init_raw, self.pushed_raw, self.folder_raw.get(folder_uri, {}))
        parsed = parse_settings(raw)
        return parsed.settings, parsed.problems

    def _make_folder(
        self,
        uri: str,
        problems: list[str],
        *,
        implicit: bool = False,
        root: Path | None = None,
        scope: Path | None = None,
    ) -> Folder | None:
        if root is None:
            fs = to_fs_path(uri)
            if fs is None:
                return None
            path = Path(fs)
            project = find_root(path)
            if project != path.resolve() and _declares_project(project):
                # The client's root lies inside the real project (an editor's root marker or
                # version-control root picked a subfolder): the project is the one above, as
                # `dbheal check` run there finds it; scans stay inside the client's folder.
                scope = path.resolve()
                self.note_hidden(scope, project)
                path = _ancestor(path, len(scope.parts) - len(project.parts))
        else:
            path = root
        settings, found = self._settings_for(uri)
        problems.extend(found)
        config = self._config(path.resolve(), settings, problems)
        tools = Project(config)
        return Folder(
            uri=uri,
            path=path,
            root=config.root,
            settings=settings,
            config=config,
            project=Project(config),
            tools_project=tools,
            scan_project=Project(config),
            engine=FixEngine(tools),
            slow_project=Project(config),
            implicit=implicit,
            scope=scope,
        )

    def _config(self, root: Path, settings: Settings, problems: list[str]) -> Config:
        """Return the folder's configuration: [tool.dbheal] with the editor's settings over it."""
        try:
            file_severity = read_pyproject(root).get("severity")
        except ConfigError:
            file_severity = None
        try:
            return load_config(root, settings.project.overrides(file_severity))
        except ConfigError as exc:
            problems.append(f"dbheal settings of {root.name}: {exc}; the editor's are ignored")
        try:
            return load_config(root)
        except ConfigError as exc:
            problems.append(f"dbheal: {exc}; using the defaults")
        return Config(
            root=root, database=discover_database(root), migrations=discover_migrations(root)
        )

    def _show_problems(self, problems: Sequence[str]) -> None:
        unique = list(dict.fromkeys(problems))
        if unique:
            self.warn_once("Invalid dbheal settings: " + "; ".join(unique))
        elif self.last_warning.startswith("Invalid dbheal settings"):
            self.last_warning = ""  # fixed: the same mistake made again is shown again

    async def reload_settings(self, *, force: bool = False) -> None:
        """Pull the "dbheal" section of every folder and apply what changed."""
        folders = [f for f in self.folders.values() if not f.implicit]
        if self.caps.configuration and folders:
            items = [lsp.ConfigurationItem(scope_uri=f.uri, section="dbheal") for f in folders]
            answer = await self.ask_client(
                self.workspace_configuration_async(lsp.ConfigurationParams(items=items)),
                "workspace/configuration",
            )
            if answer is not None:
                for folder, raw in zip(folders, answer, strict=False):
                    self.folder_raw[folder.uri] = section_of(raw) if raw is not None else {}
        problems: list[str] = []
        for folder in list(self.folders.values()):
            settings, found = self._settings_for(folder.uri)
            problems.extend(found)
            if settings == folder.settings and not force:
                continue
            if settings.project == folder.settings.project and not force:
                folder.settings = settings
                logger.info("dbheal: settings of %s: %s", folder.root.name, settings)
                self._restart_periodic(folder)
                continue
            fresh = self._make_folder(
                folder.uri, problems, implicit=folder.implicit, root=folder.path, scope=folder.scope
            )
            if fresh is None:
                continue
            if fresh.config == folder.config:
                scan_changed = settings.scan != folder.settings.scan
                folder.settings = settings
                if scan_changed and self.startup is not None:
                    self._restart_periodic(folder)
                continue
            await self._replace_folder(folder, fresh)
        self._show_problems(problems)

    async def _replace_folder(self, old: Folder, new: Folder) -> None:
        logger.info("dbheal: settings of %s changed", old.root)
        if old.periodic is not None:
            old.periodic.cancel()
        watcher, old.watcher = old.watcher, None
        if watcher is not None:
            await self.run_in(self.background_pool, watcher.stop)
        self.folders.pop(old.key, None)
        self.folders[new.key] = new
        for doc in self.documents.values():
            if doc.folder is old:
                doc.folder = new
                doc.fix_cache.clear()
                doc.result = None
        if self.startup is not None and not self.shutting_down:
            await self._start_watcher(new)
            self._restart_periodic(new)
            await self.schema_changed(new, trigger="manual")

    def _deepest(self, path: Path, *, implicit: bool) -> Folder | None:
        """Return the deepest folder holding `path` (implicit ones too if `implicit`)."""
        resolved = path.resolve()
        best: Folder | None = None
        for folder in self.folders.values():
            if folder.implicit and not implicit:
                continue
            inside = resolved == folder.root or folder.root in resolved.parents
            if inside and (best is None or len(folder.root.parts) > len(best.root.parts)):
                best = folder
        return best

    def folder_for(self, path: Path) -> Folder:
        """Return the folder of the project of `path`, found from the file as `dbheal check`
        finds it: the deepest workspace folder holding it, unless the file belongs to another
        project (a [tool.dbheal] section between the file and the workspace root, or above a
        workspace root that finds no database nor migrations of its own); one folder, and so
        one set of `Project`s, per project root, made on the fly."""
        resolved = path.resolve()
        root = find_root(resolved)
        best = self._deepest(path, implicit=False)
        if best is not None and not self._elsewhere(best, root):
            return best
        existing = self.folders.get(str(root))
        if existing is not None:
            return existing
        if best is not None and best.root in root.parents:
            pass  # a project of its own inside the workspace folder: nothing hidden
        elif best is not None:
            self.note_hidden(best.root, root)
        problems: list[str] = []
        uri = from_fs_path(str(root)) or root.as_uri()
        made = self._make_folder(uri, problems, implicit=True, root=root)
        assert made is not None
        self._show_problems(problems)
        self.folders[made.key] = made
        return made

    def _elsewhere(self, folder: Folder, root: Path) -> bool:
        """Whether a file whose project root is `root` belongs to a project other than `folder`."""
        if root == folder.root:
            return False
        if _declares_project(root):
            return True
        # A marker without [tool.dbheal] (a pyproject.toml, .git) above a workspace folder that
        # finds neither a database nor migrations: the project above is all there is to check.
        config = folder.config
        return config.database is None and config.migrations is None and root in folder.root.parents

    def note_hidden(self, workspace: Path, project: Path) -> None:
        """Log once (window/logMessage, Info) that a workspace root hides the project above it."""
        if (workspace, project) in self.hidden_noted:
            return
        self.hidden_noted.add((workspace, project))
        logger.info(
            "dbheal: the workspace root %s hides the project at %s (its pyproject.toml); "
            "files under it are checked as part of %s, as `dbheal check` does",
            workspace,
            project,
            project,
        )

    async def folders_changed(self, params: lsp.DidChangeWorkspaceFoldersParams) -> None:
        for removed in params.event.removed:
            fs = to_fs_path(removed.uri)
            key = str(Path(fs).resolve()) if fs else None
            folder = self.folders.pop(key, None) if key else None
            if folder is None:
                continue
            if folder.periodic is not None:
                folder.periodic.cancel()
            if folder.watcher is not None:
                await self.run_in(self.background_pool, folder.watcher.stop)
            for uri in [u for u in self.pushed if self._folder_of_uri(u) is None]:
                del self.pushed[uri]
                self._push(uri, [], None)
            for doc in list(self.documents.values()):
                if doc.folder is folder:  # now in another folder, or a project of its own
                    doc.folder = self.folder_for(doc.path)
                    doc.rel = doc.folder.config.relative(doc.path)
                    doc.result = None
                    doc.fix_cache.clear()
                    if doc.kind != "other" and not self.caps.pull_diagnostics:
                        self.request_check(doc, 0.0)
        problems: list[str] = []
        for added in params.event.added:
            folder = self._make_folder(added.uri, problems)
            if folder is not None:
                self.folders[folder.key] = folder
                await self._start_watcher(folder)
                self._restart_periodic(folder)
                self.spawn(self._scan_folder_and_publish(folder, "startup"), "folder scan")
        self._show_problems(problems)

    def _folder_of_uri(self, uri: str) -> Folder | None:
        fs = to_fs_path(uri)
        return self._deepest(Path(fs), implicit=True) if fs is not None else None

    # --- documents ------------------------------------------------------------------------

    def open_document(self, item: lsp.TextDocumentItem) -> None:
        fs = to_fs_path(item.uri)
        untitled = fs is None and item.uri.startswith("untitled:")
        if fs is None and not untitled:
            return  # git:, output: ... nothing of ours
        if untitled:
            # A buffer not saved yet: checked with the first workspace folder's settings, as
            # if it were a file at its root named after the buffer (it has no path to exclude).
            folder = self._untitled_folder()
            name = unquote(item.uri.removeprefix("untitled:")).strip("/").replace("/", "_")
            path = folder.root / (name or "untitled")
            rel = folder.config.relative(path)
        else:
            path = Path(str(fs))
            folder = self.folder_for(path)
            rel = folder.config.relative(path)
        kind = "other"
        if item.language_id == "python" or path.suffix in (".py", ".pyi"):
            kind = "python"
        elif path.suffix.lower() == ".sql":
            kind = "sql"
        if kind == "python" and not untitled and not _checked(folder.config, rel):
            kind = "other"  # excluded by [tool.dbheal] exclude/include, as `dbheal check` does
        doc = Document(item.uri, path, folder, rel, kind)
        old = self.documents.get(item.uri)
        if old is not None:
            self._forget(old)
        self.documents[item.uri] = doc
        if kind == "other":
            return
        if not self.caps.pull_diagnostics:
            self.request_check(doc, 0.0)

    def _untitled_folder(self) -> Folder:
        """The folder whose settings an untitled buffer is checked with."""
        for folder in self.folders.values():
            if not folder.implicit:
                return folder
        return self.folder_for(Path.cwd())

    def change_document(self, uri: str) -> None:
        doc = self.documents.get(uri)
        if doc is None:
            # Never opened (see DbhealProtocol): the changed text is the document's opening.
            snapshot = self.workspace.get_text_document(uri)
            logger.info("dbheal: %s changed without being opened: opening it", uri)
            self.open_document(
                lsp.TextDocumentItem(
                    uri=uri,
                    language_id=_language_of(uri),
                    version=snapshot.version or 0,
                    text=snapshot.source,
                )
            )
            return
        doc.generation += 1
        doc.result = None
        doc.fix_cache.clear()
        if doc.kind == "other" or self.caps.pull_diagnostics:
            return
        settings = doc.folder.settings.diagnostics
        if settings.check_on == "change":
            self.request_check(doc, settings.debounce_ms / 1000.0)

    def save_document(self, uri: str) -> None:
        doc = self.documents.get(uri)
        if doc is None:
            return
        if doc.path.name == "pyproject.toml":
            self.spawn(self.reload_settings(force=True), "reload pyproject")
            return
        if (
            doc.kind == "sql"
            and doc.folder.watcher is None
            and self._in_migrations(doc.folder, doc.path)
        ):
            # (With a watcher running, it reports the saved migration itself.)
            self.spawn(self.schema_changed(doc.folder, trigger="save"), "migration saved")
        if doc.kind == "other" or self.caps.pull_diagnostics:
            return
        self.request_check(doc, 0.0)

    def close_document(self, uri: str) -> None:
        doc = self.documents.pop(uri, None)
        if doc is None:
            return
        self._forget(doc)
        if not self.caps.pull_diagnostics:
            self._push(uri, [], None)
            self.pushed.pop(uri, None)  # the next workspace scan shows its file's issues again

    def _forget(self, doc: Document) -> None:
        if doc.worker is not None and not doc.worker.done():
            doc.worker.cancel()
        for waiter in doc.waiters:
            if not waiter.done():
                waiter.set_result(None)
        doc.waiters.clear()

    def _in_migrations(self, folder: Folder, path: Path) -> bool:
        migrations = folder.config.migrations
        if migrations is None:
            return False
        resolved = path.resolve()
        return migrations.resolve() in resolved.parents

    # --- checking documents -----------------------------------------------------------------

    def request_check(self, doc: Document, delay: float) -> None:
        """Check `doc` after `delay` seconds (a later request moves the time)."""
        if self.shutting_down:
            return
        loop = asyncio.get_running_loop()
        doc.pending = True
        doc.due = loop.time() + max(delay, 0.0)
        if doc.worker is None or doc.worker.done():
            doc.worker = self.spawn(self._document_worker(doc), f"check {doc.rel}")

    async def _document_worker(self, doc: Document) -> None:
        """Check `doc` until no check is pending: one worker per document, newest text wins.

        Two lanes keep a slow document from holding up the others: a document is checked in
        the fast lane (`analysis_pool`, the folder's `project`) on a budget of FAST_BUDGET
        seconds; one that runs past it is checked again, and from then on, in the slow lane
        (`slow_pool`, its own `slow_project`) on SLOW_BUDGET, one at a time. A slow document
        that becomes quick again returns to the fast lane.
        """
        loop = asyncio.get_running_loop()
        while self.documents.get(doc.uri) is doc and (doc.pending or doc.waiters):
            wait = doc.due - loop.time()
            if doc.pending and wait > 0:
                await asyncio.sleep(wait)
                continue
            doc.pending = False
            generation = doc.generation
            snapshot = self.workspace.get_text_document(doc.uri)
            text, version = snapshot.source, snapshot.version
            slow = doc.slow and doc.kind == "python"
            pool = self.slow_pool if slow else self.analysis_pool
            try:
                analysed = await self.run_in(
                    pool, self._analyse, doc, text, version, generation, slow
                )
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if isinstance(exc, SchemaError):
                    self._folder_error(doc.folder, str(exc))
                else:
                    logger.exception("dbheal: checking %s failed", doc.rel)
                self._resolve(doc, None)  # a request in flight gets an answer, not a retry loop
                continue
            if self.documents.get(doc.uri) is not doc:
                return  # closed meanwhile: nothing to publish
            if not slow and analysed.over_budget:
                # Too slow for the fast lane: check it again in the slow lane, unless a newer
                # text is already waiting (then that one goes there).
                doc.slow = True
                if generation == doc.generation:
                    doc.pending = True
                    doc.due = loop.time()
                continue
            if slow and analysed.seconds < FAST_BUDGET:
                doc.slow = False
            if generation != doc.generation:
                continue  # stale: checked again on the newest text if someone still waits
            doc.folder.last_error = ""
            doc.result = analysed
            self._resolve(doc, analysed)
            if not self.caps.pull_diagnostics:
                self._push(doc.uri, list(analysed.diagnostics), analysed.version)

    @staticmethod
    def _resolve(doc: Document, result: Analysed | None) -> None:
        waiters, doc.waiters = doc.waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(result)

    async def analysed(self, doc: Document) -> Analysed | None:
        """Return the analysis of the document's current text (checking it if needed)."""
        if doc.result is not None and doc.result.generation == doc.generation:
            return doc.result
        future: asyncio.Future[Analysed | None] = asyncio.get_running_loop().create_future()
        doc.waiters.append(future)
        self.request_check(doc, 0.0)
        return await future

    def _analyse(
        self,
        doc: Document,
        text: str,
        version: int | None,
        generation: int,
        slow: bool = False,
    ) -> Analysed:
        """Check one document's text (analysis pool; `slow`: the slow lane, see _document_worker)."""
        if generation != doc.generation:
            # Edited while this job waited for its lane: the newest text is checked instead.
            return Analysed(version, generation, (), (), "", "", seconds=float("inf"))
        started = time.monotonic()
        folder = doc.folder
        text = text.removeprefix("\ufeff")
        text_hash = hashlib.blake2b(
            text.encode("utf-8", "surrogatepass"), digest_size=16
        ).hexdigest()
        key = ""
        over_budget = False
        if doc.kind == "python":
            project, lock = folder.project, folder.lock
            if slow and folder.slow_project is not None:
                project, lock = folder.slow_project, folder.slow_lock
            with lock:
                state = project.schema_state()
                key = state.key
                result = project.check_source(
                    doc.rel, text, state, budget=SLOW_BUDGET if slow else FAST_BUDGET
                )
            over_budget = result.over_budget
            for note in result.notes:
                if not over_budget or slow:  # a fast-lane cut is not news: the slow lane follows
                    logger.info("dbheal: %s: %s", doc.rel, note.message)
            issues = result.issues + folder.runtime_issues.get(doc.rel, ())
        else:
            issues = folder.migration_issues.get(doc.rel, ())
        lines = Lines(text)
        diagnostics = tuple(self._diagnostic(folder, issue, lines) for issue in issues)
        rid = convert.result_id(text_hash, key, *(i.fingerprint for i in issues))
        seconds = time.monotonic() - started
        return Analysed(
            version, generation, tuple(issues), diagnostics, rid, text_hash, over_budget, seconds
        )

    def _diagnostic(self, folder: Folder, issue: Issue, lines: Lines) -> lsp.Diagnostic:
        origin = self._origin_location(folder, issue.origin) if issue.origin else None
        return convert.issue_to_diagnostic(issue, lines, self.caps, origin)

    def _origin_location(self, folder: Folder, origin: Origin) -> lsp.Location | None:
        file = folder.file_of(origin.path)
        try:
            # Only a regular file of the project: a FIFO or a device must not hang the server.
            text = read_source(file, root=folder.root)
        except OSError:
            return None
        line_text = Lines(text).line(origin.line)
        return convert.origin_location(
            folder.uri_of(origin.path), line_text, origin.line, self.caps.encoding
        )

    def _folder_error(self, folder: Folder, text: str) -> None:
        if text != folder.last_error:
            folder.last_error = text
            self.message(f"dbheal cannot check {folder.root.name}: {text}", lsp.MessageType.Warning)

    def _push(self, uri: str, diagnostics: list[lsp.Diagnostic], version: int | None) -> None:
        if self.shutting_down and diagnostics:
            return
        self.text_document_publish_diagnostics(
            lsp.PublishDiagnosticsParams(uri=uri, diagnostics=diagnostics, version=version)
        )

    # --- workspace scans --------------------------------------------------------------------

    async def scan_workspace(self, trigger: str, *, progress: bool) -> dict[str, Any]:
        """Scan every workspace folder and publish what was found; return a summary."""
        folders = [f for f in self.folders.values() if not f.implicit]
        token = await self._begin_progress("dbheal: checking the workspace") if progress else None
        summary: dict[str, Any] = {"folders": [], "files": 0, "issues": 0}
        try:
            for n, folder in enumerate(folders):
                report = self._progress_reporter(token, folder, n, len(folders))
                found = await self._scan_folder(folder, trigger, report)
                summary["folders"].append({"root": str(folder.root), **found})
                summary["files"] += found.get("files", 0)
                summary["issues"] += found.get("issues", 0)
                await self.publish_workspace(folder)
                if token is not None:
                    self._progress(
                        token,
                        lsp.WorkDoneProgressReport(
                            message=f"{folder.root.name}: {found.get('issues', 0)} issue(s)",
                            percentage=int(100 * (n + 1) / max(len(folders), 1)),
                        ),
                    )
        finally:
            if token is not None:
                self._progress(
                    token,
                    lsp.WorkDoneProgressEnd(
                        message=f"{summary['files']} file(s), {summary['issues']} issue(s)"
                    ),
                )
        if self.caps.pull_diagnostics:
            await self._refresh_pulled()
        return summary

    async def _scan_folder_and_publish(self, folder: Folder, trigger: str) -> None:
        await self._scan_folder(folder, trigger, None)
        await self.publish_workspace(folder)
        if self.caps.pull_diagnostics:
            await self._refresh_pulled()

    async def _scan_folder(
        self,
        folder: Folder,
        trigger: str,
        report: Callable[[int, int], None] | None,
        paths: Sequence[Path] | None = None,
    ) -> dict[str, Any]:
        try:
            result, runtime = await self.run_in(
                self.background_pool, self._scan_job, folder, trigger, report, paths
            )
        except (SchemaError, ConfigError, StateError, OSError) as exc:
            self._folder_error(folder, str(exc))
            return {"error": str(exc)}
        except Exception as exc:
            logger.exception("dbheal: scanning %s failed", folder.root)
            return {"error": str(exc)}
        pattern_warnings = split_pattern_warnings(result.notes)[0]
        if pattern_warnings:  # [tool.dbheal] include/exclude naming nothing, as `dbheal check`
            self.warn_once(f"dbheal ({folder.root.name}): " + "; ".join(pattern_warnings))
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
                self._recheck_open(folder, "sql")
        else:
            for path in paths:
                folder.code_issues.pop(folder.config.relative(path), None)
            folder.code_issues.update({rel: tuple(v) for rel, v in code.items()})
        if runtime is not None:
            grouped: dict[str, list[Issue]] = {}
            for issue in runtime:
                grouped.setdefault(issue.path, []).append(issue)
            events = {rel: tuple(v) for rel, v in grouped.items()}
            if events != folder.runtime_issues:
                folder.runtime_issues = events
                self._recheck_open(folder, "python")
        folder.scanned = True
        folder.last_error = ""
        return {"files": result.files_checked, "issues": len(result.issues)}

    def _scan_job(
        self,
        folder: Folder,
        trigger: str,
        report: Callable[[int, int], None] | None,
        paths: Sequence[Path] | None,
    ) -> tuple[Any, tuple[Issue, ...] | None]:
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

    async def publish_workspace(self, folder: Folder) -> None:
        """Push the issues of the folder's files that are not open (push clients only)."""
        if self.caps.pull_diagnostics or self.shutting_down:
            return
        folder.publish_seq += 1
        seq = folder.publish_seq
        open_uris = {doc.uri for doc in self.documents.values()}
        open_paths = {doc.path.resolve() for doc in self.documents.values()}
        issues = folder.workspace_issues()
        todo: list[tuple[str, str, str, tuple[Issue, ...]]] = []
        for rel, found in sorted(issues.items()):
            uri = folder.uri_of(rel)
            if uri in open_uris or folder.file_of(rel).resolve() in open_paths:
                continue
            rid = _issues_id(found)
            if self.pushed.get(uri) != rid:
                todo.append((uri, rel, rid, found))
        built = await self.run_in(self.interactive_pool, self._build_file_diagnostics, folder, todo)
        if seq != folder.publish_seq or self.shutting_down:
            return  # a newer publication of this folder is on its way
        open_uris = {doc.uri for doc in self.documents.values()}
        for (uri, _, rid, _), diagnostics in zip(todo, built, strict=True):
            if uri in open_uris:
                continue
            self.pushed[uri] = rid
            self._push(uri, diagnostics, None)
        for uri in [u for u in self.pushed if self._folder_of_uri(u) is folder]:
            fs = to_fs_path(uri)
            rel = folder.config.relative(Path(fs)) if fs else ""
            if rel not in issues and uri not in open_uris:
                del self.pushed[uri]
                self._push(uri, [], None)

    def _build_file_diagnostics(
        self, folder: Folder, todo: Sequence[tuple[str, str, str, tuple[Issue, ...]]]
    ) -> list[list[lsp.Diagnostic]]:
        return [self._file_diagnostics(folder, rel, found) for _, rel, _, found in todo]

    def _file_diagnostics(
        self, folder: Folder, rel: str, issues: Sequence[Issue]
    ) -> list[lsp.Diagnostic]:
        try:
            text = read_source(folder.file_of(rel), root=folder.root)
        except OSError:
            text = ""
        lines = Lines(text.removeprefix("\ufeff"))
        return [self._diagnostic(folder, issue, lines) for issue in issues]

    async def _refresh_pulled(self) -> None:
        if self.caps.diagnostic_refresh and not self.shutting_down:
            await self.ask_client(
                self.workspace_diagnostic_refresh_async(None), "workspace/diagnostic/refresh"
            )

    async def _begin_progress(self, title: str) -> str | None:
        if not self.caps.work_done_progress:
            return None
        token = f"dbheal-{os.getpid()}-{next(self.progress_tokens)}"
        created = await self.ask_client(
            self.work_done_progress.create_async(token), "window/workDoneProgress/create"
        )
        if created is None and token not in self.work_done_progress.tokens:
            return None
        self._progress(token, lsp.WorkDoneProgressBegin(title=title, percentage=0))
        return token

    def _progress(
        self,
        token: str,
        value: lsp.WorkDoneProgressBegin | lsp.WorkDoneProgressReport | lsp.WorkDoneProgressEnd,
    ) -> None:
        with contextlib.suppress(Exception):
            if isinstance(value, lsp.WorkDoneProgressBegin):
                self.work_done_progress.begin(token, value)
            elif isinstance(value, lsp.WorkDoneProgressReport):
                self.work_done_progress.report(token, value)
            else:
                self.work_done_progress.end(token, value)

    def _progress_reporter(
        self, token: str | None, folder: Folder, index: int, count: int
    ) -> Callable[[int, int], None] | None:
        if token is None or self.loop is None:
            return None
        loop = self.loop
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
                loop.call_soon_threadsafe(self._progress, token, value)

        return report

    # --- schema changes, watcher, periodic work ----------------------------------------------

    async def schema_changed(self, folder: Folder, *, trigger: str) -> None:
        """The database or the migrations changed: check everything of `folder` again."""
        folder.plan_cache.clear()
        for doc in list(self.documents.values()):
            if doc.folder is not folder or doc.kind == "other":
                continue
            doc.fix_cache.clear()
            doc.result = None
            if not self.caps.pull_diagnostics:
                self.request_check(doc, 0.0)
        await self._scan_folder(folder, trigger if trigger in _TRIGGERS else "watch", None)
        await self.publish_workspace(folder)
        for doc in list(self.documents.values()):
            if doc.folder is folder and doc.kind == "sql" and not self.caps.pull_diagnostics:
                self.request_check(doc, 0.0)
        if self.caps.pull_diagnostics:
            await self._refresh_pulled()

    def _recheck_open(self, folder: Folder, kind: str) -> None:
        """What the open documents of `kind` show came from a scan that changed: check again."""
        for doc in list(self.documents.values()):
            if doc.folder is folder and doc.kind == kind:
                doc.result = None
                if not self.caps.pull_diagnostics:
                    self.request_check(doc, 0.0)

    async def _start_watcher(self, folder: Folder) -> None:
        if folder.implicit or folder.watcher is not None or self.loop is None:
            return
        loop = self.loop
        key = folder.key

        def on_change(changes: ChangeSet) -> None:  # on the watcher's thread
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._on_watch, key, changes)

        watcher = Watcher(
            folder.root,
            migrations=folder.config.migrations,
            database=folder.config.database,
            on_change=on_change,
            debounce=WATCH_DEBOUNCE,
        )
        try:
            await self.run_in(self.background_pool, watcher.start)
        except Exception as exc:
            logger.warning("dbheal: cannot watch %s: %s", folder.root, exc)
            return
        folder.watcher = watcher

    def _on_watch(self, key: str, changes: ChangeSet) -> None:
        folder = self.folders.get(key)
        if folder is None or self.shutting_down:
            return
        # An open document saved by the editor is not news: its own check follows the save.
        open_paths = {doc.path.resolve() for doc in self.documents.values()}
        files = [p for p in changes.python_files if p.resolve() not in open_paths]
        schema = changes.migrations_changed or changes.database_changed
        if not files and not schema:
            return
        logger.info(
            "dbheal: %s changed outside the editor (%d Python file(s)%s%s)",
            folder.root.name,
            len(files),
            ", migrations" if changes.migrations_changed else "",
            ", database schema" if changes.database_changed else "",
        )
        if schema:
            self.spawn(self.schema_changed(folder, trigger="watch"), "schema changed")
        elif files:
            self.spawn(self._files_changed(folder, files), "files changed")

    def watched_files_changed(self, params: lsp.DidChangeWatchedFilesParams) -> None:
        """What the client's file watcher saw (workspace/didChangeWatchedFiles): the same as
        our own watcher's news, for the folders it does not watch (a folder with a watcher of
        ours has heard it already)."""
        changed: dict[str, tuple[set[Path], list[bool]]] = {}
        for event in params.changes:
            fs = to_fs_path(event.uri)
            if fs is None:
                continue
            path = Path(fs)
            if path.name == "pyproject.toml":
                self.spawn(self.reload_settings(force=True), "reload pyproject")
                continue
            for folder in list(self.folders.values()):
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
                elif path.suffix.lower() == ".sql" and self._in_migrations(folder, path):
                    flags[0] = True
                elif path.suffix in (".py", ".pyi") and (
                    resolved == folder.root or folder.root in resolved.parents
                ):
                    files.add(path)
        for key, (files, (migrations, schema)) in changed.items():
            if files or migrations or schema:
                self._on_watch(
                    key,
                    ChangeSet(
                        python_files=frozenset(files),
                        migrations_changed=migrations,
                        database_changed=schema,
                    ),
                )

    async def _files_changed(self, folder: Folder, files: Sequence[Path]) -> None:
        if folder.project.needs_code_schema():
            await self.schema_changed(folder, trigger="watch")  # the schema comes from code
            return
        files = [p for p in files if _checked(folder.config, folder.config.relative(p))]
        existing = [p for p in files if p.is_file()]
        for gone in (p for p in files if not p.is_file()):
            folder.code_issues.pop(folder.config.relative(gone), None)
        if existing:
            await self._scan_folder(folder, "watch", None, existing)
        await self.publish_workspace(folder)
        if self.caps.pull_diagnostics:
            await self._refresh_pulled()

    def _restart_periodic(self, folder: Folder) -> None:
        if folder.periodic is not None:
            folder.periodic.cancel()
            folder.periodic = None
        if folder.implicit or self.shutting_down:
            return
        if folder.settings.scan.periodic_minutes > 0:
            folder.periodic = self.spawn(self._periodic(folder), f"periodic {folder.root.name}")

    async def _periodic(self, folder: Folder) -> None:
        while not self.shutting_down:
            await asyncio.sleep(folder.settings.scan.periodic_minutes * 60)
            if self.folders.get(folder.key) is not folder:
                return
            await self._scan_folder_and_publish(folder, "periodic")
            await self._health(folder, quiet_when_ok=True)
            await self._prune(folder)

    async def _health(self, folder: Folder, *, quiet_when_ok: bool) -> None:
        if folder.implicit or folder.config.database is None:
            return
        try:
            report = await self.run_in(self.background_pool, health_check, folder.scan_project)
        except Exception:
            logger.exception("dbheal: health check of %s failed", folder.root)
            return
        if report.ok:
            logger.info("dbheal: %s", report.message)
            folder.last_health = ""
        elif report.message != folder.last_health:
            folder.last_health = report.message
            self.message(f"dbheal health check: {report.message}", lsp.MessageType.Warning)
        grouped: dict[str, list[Issue]] = {}
        for issue in report.issues:
            grouped.setdefault(issue.path, []).append(issue)
        fresh = {rel: tuple(v) for rel, v in grouped.items()}
        if (report.integrity or report.issues or report.ok) and fresh != folder.migration_issues:
            folder.migration_issues = fresh
            self._recheck_open(folder, "sql")
        await self.publish_workspace(folder)
        if not quiet_when_ok and report.ok:
            self.message(f"dbheal health check: {report.message}")

    async def _prune(self, folder: Folder) -> None:
        try:
            removed = await self.run_in(self.background_pool, folder.engine.prune)
        except Exception as exc:
            logger.info("dbheal: backup cleanup of %s failed: %s", folder.root, exc)
            return
        if removed:
            logger.info("dbheal: removed %d old backup(s) of %s", len(removed), folder.root)

    # --- shutdown -------------------------------------------------------------------------

    def on_shutdown(self) -> None:
        self.shutting_down = True
        for doc in self.documents.values():
            self._forget(doc)
        for task in list(self.tasks):
            task.cancel()
        watchers = [f.watcher for f in self.folders.values() if f.watcher is not None]
        for folder in self.folders.values():
            folder.watcher = None
        if watchers:
            threading.Thread(
                target=_stop_watchers, args=(watchers,), name="dbheal-stop-watchers", daemon=True
            ).start()
        for pool in (
            self.analysis_pool,
            self.slow_pool,
            self.interactive_pool,
            self.background_pool,
        ):
            pool.shutdown(wait=False, cancel_futures=True)

    # --- pull diagnostics -------------------------------------------------------------------

    async def document_diagnostic(
        self, params: lsp.DocumentDiagnosticParams
    ) -> lsp.DocumentDiagnosticReport:
        uri = params.text_document.uri
        doc = self.documents.get(uri)
        if doc is not None and doc.kind != "other":
            analysed = await self.analysed(doc)
            if analysed is None:
                return lsp.RelatedFullDocumentDiagnosticReport(items=[])
            if params.previous_result_id == analysed.result_id:
                return lsp.RelatedUnchangedDocumentDiagnosticReport(result_id=analysed.result_id)
            return lsp.RelatedFullDocumentDiagnosticReport(
                items=list(analysed.diagnostics), result_id=analysed.result_id
            )
        folder = self._folder_of_uri(uri)
        fs = to_fs_path(uri)
        if folder is None or fs is None:
            return lsp.RelatedFullDocumentDiagnosticReport(items=[])
        rel = folder.config.relative(Path(fs))
        found = folder.workspace_issues().get(rel, ())
        rid = _issues_id(found)
        if params.previous_result_id == rid:
            return lsp.RelatedUnchangedDocumentDiagnosticReport(result_id=rid)
        diagnostics = await self.run_in(
            self.interactive_pool, self._file_diagnostics, folder, rel, found
        )
        return lsp.RelatedFullDocumentDiagnosticReport(items=diagnostics, result_id=rid)

    async def workspace_diagnostic(
        self, params: lsp.WorkspaceDiagnosticParams
    ) -> lsp.WorkspaceDiagnosticReport:
        if self.startup is not None and not self.startup.done():
            with contextlib.suppress(Exception):
                await asyncio.shield(self.startup)
        previous = {p.uri: p.value for p in params.previous_result_ids}
        items: list[lsp.WorkspaceDocumentDiagnosticReport] = []
        seen: set[str] = set()
        for doc in list(self.documents.values()):
            if doc.kind == "other":
                continue
            analysed = await self.analysed(doc)
            if analysed is None:
                continue
            seen.add(doc.uri)
            items.append(
                self._workspace_report(
                    doc.uri,
                    analysed.version,
                    analysed.result_id,
                    list(analysed.diagnostics),
                    previous,
                )
            )
        for folder in list(self.folders.values()):
            issues = folder.workspace_issues()
            for rel, found in sorted(issues.items()):
                uri = folder.uri_of(rel)
                if uri in seen:
                    continue
                seen.add(uri)
                rid = _issues_id(found)
                if previous.get(uri) == rid:
                    items.append(
                        lsp.WorkspaceUnchangedDocumentDiagnosticReport(
                            uri=uri, version=None, result_id=rid
                        )
                    )
                    continue
                diagnostics = await self.run_in(
                    self.interactive_pool, self._file_diagnostics, folder, rel, found
                )
                items.append(self._workspace_report(uri, None, rid, diagnostics, previous))
        return lsp.WorkspaceDiagnosticReport(items=items)

    @staticmethod
    def _workspace_report(
        uri: str,
        version: int | None,
        rid: str,
        diagnostics: list[lsp.Diagnostic],
        previous: Mapping[str, str],
    ) -> lsp.WorkspaceDocumentDiagnosticReport:
        if previous.get(uri) == rid:
            return lsp.WorkspaceUnchangedDocumentDiagnosticReport(
                uri=uri, version=version, result_id=rid
            )
        return lsp.WorkspaceFullDocumentDiagnosticReport(
            uri=uri, version=version, items=diagnostics, result_id=rid
        )

    # --- code actions -----------------------------------------------------------------------

    async def code_actions(
        self, params: lsp.CodeActionParams
    ) -> list[lsp.CodeAction | lsp.Command] | None:
        uri = params.text_document.uri
        doc = self.documents.get(uri)
        if doc is None or doc.kind == "other":
            return None
        only = params.context.only
        want_quickfix = _wants(only, lsp.CodeActionKind.QuickFix.value)
        want_fix_all = only is not None and _wants(only, FIX_ALL_KIND)
        snapshot = self.workspace.get_text_document(uri)
        text, version = snapshot.source, snapshot.version
        issues = await self._issues_of(doc, params.range, params.context.diagnostics)
        actions: list[lsp.CodeAction | lsp.Command] = []
        if want_quickfix and issues:
            found = await self.run_in(
                self.interactive_pool, self._fixes_for, doc, text, [i for i, _ in issues]
            )
            for (issue, diagnostic), (fixes, plans) in zip(issues, found, strict=True):
                actions.extend(
                    self._quickfixes(doc, text, version, issue, diagnostic, fixes, plans)
                )
        if want_fix_all and doc.kind == "python" and self._may_fix_all(doc):
            action = lsp.CodeAction(
                title="dbheal: fix all auto-fixable problems",
                kind=FIX_ALL_KIND,
                data={"fixAll": uri, "version": version},
            )
            if not self.caps.resolve_edit:
                action = await self.resolve_code_action(action)
            actions.append(action)
        if not self.caps.code_action_literals:
            return [a.command for a in actions if isinstance(a, lsp.CodeAction) and a.command]
        return actions

    async def _issues_of(
        self, doc: Document, range_: lsp.Range, diagnostics: Sequence[lsp.Diagnostic]
    ) -> list[tuple[Issue, lsp.Diagnostic]]:
        """Return the issues the code action request is about, each with its diagnostic.

        A diagnostic's `data` names its issue. Clients need not keep `data` (ALE and Kate drop
        it, Kate the `source` too), and some send no diagnostics at all when the cursor is on
        the token: then the issues are found again in the document's current analysis, by
        code and range, or by the requested range alone.
        """
        out: list[tuple[Issue, lsp.Diagnostic]] = []
        missing: list[lsp.Diagnostic] = []
        for diagnostic in diagnostics:
            if diagnostic.source not in (convert.SOURCE, None):
                continue
            issue = convert.issue_from_data(diagnostic.data)
            if issue is not None:
                out.append((issue, diagnostic))
            elif isinstance(diagnostic.code, str) and diagnostic.code in _ISSUE_CODES:
                missing.append(diagnostic)
        if out or (diagnostics and not missing):
            return out
        analysed = await self.analysed(doc)
        if analysed is None:
            return out
        pairs = list(zip(analysed.issues, analysed.diagnostics, strict=True))
        if missing:
            for diagnostic in missing:
                same = [
                    (i, d)
                    for i, d in pairs
                    if d.code == diagnostic.code and _touches(d.range, diagnostic.range)
                ]
                # The same message first: two issues of one type may share a range.
                same.sort(key=lambda p: p[1].message != diagnostic.message)
                if same:
                    out.append((same[0][0], diagnostic))
            return out
        return [(i, d) for i, d in pairs if _touches(d.range, range_)]

    def _fixes_for(
        self, doc: Document, text: str, issues: Sequence[Issue]
    ) -> list[tuple[tuple[CodeFix, ...], tuple[MigrationPlan, ...]]]:
        """Return each issue's code fixes and schema plans (interactive pool)."""
        folder = doc.folder
        text_hash = hashlib.blake2b(
            text.encode("utf-8", "surrogatepass"), digest_size=16
        ).hexdigest()
        out = []
        with folder.tools_lock:
            for issue in issues:
                key = (text_hash, issue.fingerprint)
                fixes = doc.fix_cache.get(key)
                if fixes is None:
                    fixes = folder.engine.code_fixes(issue, text) if doc.kind == "python" else ()
                    doc.fix_cache[key] = fixes
                plan_key = (issue.path, issue.fingerprint)
                plans = folder.plan_cache.get(plan_key)
                if plans is None:
                    try:
                        plans = folder.engine.schema_plans(issue)
                    except (SchemaError, FixError, OSError) as exc:
                        logger.info("dbheal: no schema fix for %s: %s", issue.fingerprint, exc)
                        plans = ()
                    folder.plan_cache[plan_key] = plans
                out.append((fixes, plans))
        return out

    def _quickfixes(
        self,
        doc: Document,
        text: str,
        version: int | None,
        issue: Issue,
        diagnostic: lsp.Diagnostic,
        fixes: Sequence[CodeFix],
        plans: Sequence[MigrationPlan],
    ) -> list[lsp.CodeAction]:
        quickfix = lsp.CodeActionKind.QuickFix
        lines = Lines(text)
        actions: list[lsp.CodeAction] = []
        for fix in fixes:
            edit = convert.code_fix_edit(fix, doc.uri, version, lines, self.caps)
            actions.append(
                lsp.CodeAction(
                    title=fix.title,
                    kind=quickfix,
                    diagnostics=[diagnostic],
                    is_preferred=fix.kind != "rename",
                    edit=edit,
                    command=lsp.Command(
                        title=fix.title,
                        command=CMD_APPLY_FIX,
                        arguments=[
                            {"uri": doc.uri, "issue": convert.issue_data(issue), "fix": fix.id}
                        ],
                    )
                    if not self.caps.code_action_literals
                    else None,
                )
            )
        cast = next((f for f in fixes if f.kind == "remove_cast"), None)
        for plan in plans:
            payload = {
                "uri": doc.uri,
                "issue": convert.issue_data(issue),
                "plan": to_dict(plan),
            }
            actions.append(
                lsp.CodeAction(
                    title=f"Queue migration: {plan.title}",
                    kind=quickfix,
                    diagnostics=[diagnostic],
                    command=lsp.Command(
                        title=f"Queue migration: {plan.title}",
                        command=CMD_QUEUE,
                        arguments=[payload],
                    ),
                )
            )
            actions.append(
                lsp.CodeAction(
                    title=f"Apply migration: {plan.title}…",
                    kind=quickfix,
                    diagnostics=[diagnostic],
                    command=lsp.Command(
                        title=f"Apply migration: {plan.title}",
                        command=CMD_APPLY,
                        arguments=[payload],
                    ),
                )
            )
            if (
                issue.type is IssueType.TYPE_MISMATCH
                and plan.kind == "change_type"
                and cast is not None
            ):
                title = f"{plan.title} and remove the {issue.helper or 'redundant'}() cast…"
                actions.append(
                    lsp.CodeAction(
                        title=title,
                        kind=quickfix,
                        diagnostics=[diagnostic],
                        command=lsp.Command(
                            title=title,
                            command=CMD_APPLY,
                            arguments=[{**payload, "withCastFix": True}],
                        ),
                    )
                )
        return actions

    def _may_fix_all(self, doc: Document) -> bool:
        """Whether the document has issues a safe code fix may exist for (cheap guess)."""
        issues = doc.result.issues if doc.result is not None else ()
        return (
            any(
                i.call_span is not None
                and (
                    i.type is IssueType.SQL_INJECTION
                    or (i.type is IssueType.TYPE_MISMATCH and i.helper)
                )
                for i in issues
            )
            or doc.result is None
        )

    async def resolve_code_action(self, action: lsp.CodeAction) -> lsp.CodeAction:
        data = action.data if isinstance(action.data, Mapping) else {}
        uri = data.get("fixAll")
        doc = self.documents.get(uri) if isinstance(uri, str) else None
        if doc is None or action.edit is not None:
            return action
        analysed = await self.analysed(doc)
        if analysed is None:
            return action
        snapshot = self.workspace.get_text_document(doc.uri)
        text, version = snapshot.source, snapshot.version
        found = await self.run_in(
            self.interactive_pool, self._fixes_for, doc, text, list(analysed.issues)
        )
        chosen = _non_overlapping(
            fix for fixes, _ in found for fix in fixes if fix.kind in SAFE_CODE_FIXES
        )
        lines = Lines(text)
        edits = convert.text_edits([e for f in chosen for e in f.edits], lines, self.caps.encoding)
        action.edit = convert.merged_edit(doc.uri, version, edits, self.caps)
        return action

    # --- hover and completion -----------------------------------------------------------------

    async def hover(self, params: lsp.HoverParams) -> lsp.Hover | None:
        doc = self.documents.get(params.text_document.uri)
        if doc is None or doc.kind != "python":
            return None
        text = self.workspace.get_text_document(doc.uri).source
        lines = Lines(text)
        line, column = convert.point_of(params.position, lines, self.caps.encoding)
        found = await self.run_in(self.interactive_pool, self._hover_job, doc, text, line, column)
        if found is None:
            return None
        markdown, span = found
        return convert.hover(markdown, span, lines, self.caps)

    def _hover_job(
        self, doc: Document, text: str, line: int, column: int
    ) -> tuple[str, Any] | None:
        # lookup reads the schemas through caches that are safe to share: no lock to wait for.
        project = doc.folder.tools_project
        token = token_at(project, doc.rel, text, line, column)
        if token is None:
            return None
        markdown = hover_markdown(project, token)
        return (markdown, token.span) if markdown else None

    async def completion(self, params: lsp.CompletionParams) -> lsp.CompletionList | None:
        doc = self.documents.get(params.text_document.uri)
        if doc is None or doc.kind != "python":
            return None
        text = self.workspace.get_text_document(doc.uri).source
        line, column = convert.point_of(params.position, Lines(text), self.caps.encoding)
        proposals = await self.run_in(
            self.interactive_pool, self._completion_job, doc, text, line, column
        )
        if not proposals:
            return None
        return lsp.CompletionList(
            is_incomplete=False, items=convert.completion_items(proposals, self.caps)
        )

    def _completion_job(self, doc: Document, text: str, line: int, column: int) -> tuple[Any, ...]:
        return completions(doc.folder.tools_project, doc.rel, text, line, column)

    # --- commands -------------------------------------------------------------------------

    def _folder_named(self, payload: Mapping[str, Any]) -> Folder:
        uri = payload.get("uri") or payload.get("folder")
        if isinstance(uri, str):
            doc = self.documents.get(uri)
            if doc is not None:
                return doc.folder
            fs = to_fs_path(uri)
            if fs is not None:
                return self.folder_for(Path(fs))
        folders = [f for f in self.folders.values() if not f.implicit] or list(
            self.folders.values()
        )
        if not folders:
            raise FixError("no workspace folder is open")
        return folders[0]

    async def cmd_queue(self, args: Sequence[Any]) -> Any:
        payload = _payload(args)
        if not payload:
            return await self.cmd_list_queue(args)
        target = self._target(payload)
        severity = target.issue.severity if target.issue else Severity.MEDIUM
        entry = await self.run_in(
            self.background_pool,
            _locked,
            target.folder.tools_lock,
            target.folder.engine.enqueue,
            target.plan,
            severity,
        )
        self.message(f"dbheal: queued migration {entry.id}: {entry.title}")
        return _entry_json(entry)

    async def cmd_list_queue(self, args: Sequence[Any]) -> Any:
        payload = _payload(args)
        folder = self._folder_named(payload)
        entries = await self.run_in(self.background_pool, folder.engine.store.queued)
        return [_entry_json(e) for e in entries]

    def _target(self, payload: Mapping[str, Any]) -> FixTarget:
        folder = self._folder_named(payload)
        issue = convert.issue_from_data(payload.get("issue"))
        plan_data = payload.get("plan")
        if plan_data is None:
            raise FixError("no migration plan given")
        try:
            plan = from_dict(MigrationPlan, plan_data)
        except (ValueError, TypeError, KeyError) as exc:
            raise FixError(f"not a migration plan: {exc}") from None
        uri = payload.get("uri") if isinstance(payload.get("uri"), str) else None
        return FixTarget(folder, plan, issue, uri, None, bool(payload.get("withCastFix")))

    async def _queued_target(self, payload: Mapping[str, Any]) -> FixTarget | None:
        folder = self._folder_named(payload)
        queue_id = payload.get("queueId", payload.get("id"))
        if queue_id is None:
            entries = await self.run_in(self.background_pool, folder.engine.store.queued)
            if not entries:
                self.message("dbheal: no migration is queued")
                return None
            shown = entries[:5]
            picked = await self.ask_client(
                self.window_show_message_request_async(
                    lsp.ShowMessageRequestParams(
                        type=lsp.MessageType.Info,
                        message="dbheal: which queued migration?",
                        actions=[lsp.MessageActionItem(title=f"{e.id}: {e.title}") for e in shown],
                    )
                ),
                "window/showMessageRequest",
            )
            if picked is None:
                return None
            queue_id = picked.title.split(":", 1)[0]
        try:
            entry, plan = await self.run_in(
                self.background_pool, folder.engine.queued_plan, int(queue_id)
            )
        except ValueError:
            raise FixError(f"not a queue id: {queue_id!r}") from None
        if entry.status != "queued":
            raise FixError(f"migration {entry.id} is {entry.status}, not queued")
        return FixTarget(folder, plan, None, None, entry.id, False)

    async def cmd_apply(self, args: Sequence[Any]) -> Any:
        payload = _payload(args)
        if "plan" in payload:
            target: FixTarget | None = self._target(payload)
        else:
            target = await self._queued_target(payload)
        if target is None:
            return {"applied": False, "message": "nothing chosen"}
        folder = target.folder
        plan = target.plan
        if target.issue is not None:
            fresh = await self.run_in(
                self.background_pool,
                _locked,
                folder.tools_lock,
                folder.engine.replan,
                plan,
                [target.issue],
            )
            if fresh is None:
                self.message(f"dbheal: nothing to apply, the database has it already: {plan.title}")
                await self.schema_changed(folder, trigger="manual")
                return {"applied": False, "message": "not needed any more"}
            plan = fresh
        # A dry run writes (and rolls back): the watcher must not take it for a change.
        dry_writes = [folder.config.database] if folder.config.database is not None else []
        lossy, verify = await self._while_writing(
            folder,
            dry_writes,
            _locked,
            folder.tools_lock,
            folder.engine.dry_run,
            plan,
            target.issue,
        )
        text = convert.plan_message(plan, lossy, verify, with_cast_fix=target.with_cast_fix)
        logger.info("dbheal: migration plan\n%s", text)
        if not verify.ok or (lossy is not None and not lossy.lossless):
            self.message(
                "dbheal: not applied, its dry run fails.\n\n" + text, lsp.MessageType.Warning
            )
            return {
                "applied": False,
                "message": "the dry run fails",
                **_dry_run_json(lossy, verify),
            }
        answer = await self.ask_client(
            self.window_show_message_request_async(
                lsp.ShowMessageRequestParams(
                    type=lsp.MessageType.Warning,
                    message=text,
                    actions=[
                        lsp.MessageActionItem(title=APPLY),
                        lsp.MessageActionItem(title=CANCEL),
                    ],
                )
            ),
            "window/showMessageRequest",
        )
        if answer is None or answer.title != APPLY:
            self.message(f"dbheal: not applied: {plan.title}")
            return {"applied": False, "message": "cancelled"}
        outcome = await self._apply_target(replace(target, plan=plan))
        kind = lsp.MessageType.Info if outcome.applied else lsp.MessageType.Error
        self.message(f"dbheal: {outcome.message}" + _outcome_detail(outcome), kind)
        await self.schema_changed(folder, trigger="manual")
        return _outcome_json(outcome)

    async def _apply_target(self, target: FixTarget) -> FixOutcome:
        folder = target.folder
        doc = self.documents.get(target.uri) if target.uri else None
        buffer_fix: CodeFix | None = None
        then_code: Callable[[], CodeFix | None] | None = None
        if target.with_cast_fix and target.issue is not None:
            if doc is not None:
                # The editor owns an open file: the cast goes through it (undoable, and the
                # buffer never disagrees with the disk), planned now, while the issue shows.
                text = self.workspace.get_text_document(doc.uri).source
                fixes = await self.run_in(
                    self.background_pool,
                    _locked,
                    folder.tools_lock,
                    folder.engine.code_fixes,
                    target.issue,
                    text,
                )
                buffer_fix = next((f for f in fixes if f.kind == "remove_cast"), None)
            else:
                then_code = await self.run_in(
                    self.background_pool,
                    _locked,
                    folder.tools_lock,
                    folder.engine.cast_fix,
                    target.issue,
                )
        writes = [p for p in (folder.config.database, folder.config.migrations) if p is not None]
        if then_code is not None and target.issue is not None:
            writes.append(folder.file_of(target.issue.path))
        outcome = await self._while_writing(
            folder, writes, self._apply_job, folder, target, then_code
        )
        if outcome.applied and buffer_fix is not None and doc is not None:
            applied = await self._edit_in_editor(doc, buffer_fix)
            if applied:
                outcome = replace(outcome, message=f"{outcome.message}; {buffer_fix.title}")
        return outcome

    def _apply_job(
        self, folder: Folder, target: FixTarget, then_code: Callable[[], CodeFix | None] | None
    ) -> FixOutcome:
        with folder.tools_lock:
            outcome = folder.engine.apply_schema(
                target.plan, issue=target.issue, then_code=then_code
            )
            if target.queue_id is not None:
                folder.engine.store.set_status(
                    target.queue_id, "applied" if outcome.applied else "failed"
                )
        return outcome

    def _ignore_writes(self, folder: Folder, paths: Iterable[Path], seconds: float) -> None:
        """Tell the watcher the server is about to write `paths` itself (no re-check loop)."""
        if folder.watcher is not None:
            folder.watcher.ignore_writes(list(paths), seconds=seconds)

    async def _while_writing(
        self, folder: Folder, paths: Sequence[Path], func: Callable[..., T], *args: Any
    ) -> T:
        """Run `func(*args)` in the background pool, the watcher ignoring `paths` all along.

        However long the work takes (a table rebuild may take minutes), the watcher hears of
        none of it, nor of what it delivers a moment after: a fix never triggers a check loop.
        """
        self._ignore_writes(folder, paths, 5.0)
        future = asyncio.ensure_future(self.run_in(self.background_pool, func, *args))
        try:
            while not future.done():
                await asyncio.wait({future}, timeout=2.0)
                self._ignore_writes(folder, paths, 5.0)
            return future.result()
        finally:
            self._ignore_writes(folder, paths, 3.0)

    async def _edit_in_editor(self, doc: Document, fix: CodeFix) -> bool:
        if not self.caps.apply_edit:
            return False
        snapshot = self.workspace.get_text_document(doc.uri)
        edit = convert.code_fix_edit(
            fix, doc.uri, snapshot.version, Lines(snapshot.source), self.caps
        )
        result = await self.ask_client(
            self.workspace_apply_edit_async(
                lsp.ApplyWorkspaceEditParams(edit=edit, label=f"dbheal: {fix.title}")
            ),
            "workspace/applyEdit",
        )
        return bool(result and result.applied)

    async def cmd_apply_fix(self, args: Sequence[Any]) -> Any:
        payload = _payload(args)
        uri = payload.get("uri")
        issue = convert.issue_from_data(payload.get("issue"))
        if not isinstance(uri, str) or issue is None:
            raise FixError("dbheal.applyFix needs {uri, issue[, fix]}")
        folder = self._folder_named(payload)
        doc = self.documents.get(uri)
        wanted = payload.get("fix")
        if doc is not None:
            text = self.workspace.get_text_document(uri).source
            fixes = await self.run_in(
                self.background_pool,
                _locked,
                folder.tools_lock,
                folder.engine.code_fixes,
                issue,
                text,
            )
        else:
            fixes = await self.run_in(
                self.background_pool, _locked, folder.tools_lock, folder.engine.code_fixes, issue
            )
        fix = next((f for f in fixes if wanted in (None, f.id, f.kind)), None)
        if fix is None:
            self.message(
                "dbheal: this fix no longer applies (the code changed?)", lsp.MessageType.Warning
            )
            return {"applied": False, "message": "no such fix"}
        if doc is not None:
            applied = await self._edit_in_editor(doc, fix)
            return {"applied": applied, "message": fix.title}
        outcome = await self._while_writing(
            folder,
            [folder.file_of(fix.path)],
            _locked,
            folder.tools_lock,
            folder.engine.apply_code,
            fix,
        )
        self.message(f"dbheal: {outcome.message}")
        await self._files_changed(folder, [folder.file_of(fix.path)])
        return _outcome_json(outcome)

    async def cmd_rollback(self, args: Sequence[Any]) -> Any:
        payload = _payload(args)
        fix_id = payload.get("fixId", payload.get("id"))
        if fix_id is None and args and isinstance(args[0], str):
            fix_id = args[0]
        folder = self._folder_named(payload)
        if fix_id is None:
            records = await self.run_in(self.background_pool, folder.engine.store.fixes, 20)
            candidates = [r for r in records if r.can_roll_back][:5]
            if not candidates:
                self.message("dbheal: no fix can be rolled back")
                return {"rolled_back": False, "message": "nothing to roll back"}
            picked = await self.ask_client(
                self.window_show_message_request_async(
                    lsp.ShowMessageRequestParams(
                        type=lsp.MessageType.Warning,
                        message="dbheal: roll back which fix?",
                        actions=[
                            lsp.MessageActionItem(title=f"{r.id}: {r.title}") for r in candidates
                        ],
                    )
                ),
                "window/showMessageRequest",
            )
            if picked is None:
                return {"rolled_back": False, "message": "cancelled"}
            fix_id = picked.title.split(":", 1)[0]
        record = await self.run_in(self.background_pool, folder.engine.store.fix, str(fix_id))
        writes = [folder.file_of(f) for f in record.files] if record is not None else []
        if folder.config.database is not None:
            writes.append(folder.config.database)
        done = await self._while_writing(
            folder, writes, _locked, folder.tools_lock, folder.engine.rollback, str(fix_id)
        )
        self.message(f"dbheal: rolled back fix {fix_id}: {done.message or done.title}")
        await self.schema_changed(folder, trigger="manual")
        return _record_json(done)

    async def cmd_history(self, args: Sequence[Any]) -> Any:
        payload = _payload(args)
        limit = payload.get("limit", 50)
        folders = (
            [self._folder_named(payload)]
            if payload.get("uri") or payload.get("folder")
            else [f for f in self.folders.values() if not f.implicit]
        )
        out: list[dict[str, Any]] = []
        for folder in folders:
            records = await self.run_in(self.background_pool, folder.engine.store.fixes, int(limit))
            out.extend({"folder": str(folder.root), **_record_json(r)} for r in records)
        if payload.get("silent") is not True:
            if not out:
                self.message("dbheal: no fixes recorded yet")
            else:
                lines = [
                    f"{r['id']}  {r['created_at'][:19]}  {r['outcome']}  {r['kind']}  {r['title']}"
                    for r in out[:10]
                ]
                self.message("dbheal history:\n" + "\n".join(lines))
        return out

    async def cmd_scan(self, args: Sequence[Any]) -> Any:
        summary = await self.scan_workspace("manual", progress=True)
        for doc in list(self.documents.values()):
            if doc.kind != "other" and not self.caps.pull_diagnostics:
                self.request_check(doc, 0.0)
        return summary


_TRIGGERS = frozenset({"startup", "periodic", "save", "watch", "manual"})


def _checked(config: Config, rel: str) -> bool:
    """Whether `dbheal check` of the root would check the project file `rel`."""
    return not Path(rel).is_absolute() and included(
        tuple(rel.split("/")), config.include, config.exclude
    )


_ISSUE_CODES = frozenset(t.value for t in IssueType)


def _touches(a: lsp.Range, b: lsp.Range) -> bool:
    """Whether two ranges overlap or touch (a cursor at either end of a range touches it)."""

    def key(p: lsp.Position) -> tuple[int, int]:
        return (p.line, p.character)

    return key(a.start) <= key(b.end) and key(b.start) <= key(a.end)


def _alive(pid: int) -> bool:
    """Whether process `pid` exists (signal 0 checks without sending anything)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process, but there
    except OSError:
        return False
    return True


def _language_of(uri: str) -> str:
    """The language id a client would give the document at `uri`, from its name."""
    suffix = Path(unquote(uri)).suffix.lower()
    return {".py": "python", ".pyi": "python", ".sql": "sql"}.get(suffix, "plaintext")


def _disk_text(uri: str) -> str:
    """The text of the file at `uri` on disk ("" when there is none or it cannot be read)."""
    fs = to_fs_path(uri)
    if fs is None:
        return ""
    try:
        # A regular file only, size-checked: a FIFO named like a source must not hang us.
        return read_text(fs)
    except OSError:
        return ""


def _declares_project(root: Path) -> bool:
    """Whether root/pyproject.toml has a [tool.dbheal] section (as config.find_root decides)."""
    pyproject = root / "pyproject.toml"
    if not pyproject.is_file():
        return False
    try:
        data = tomllib.loads(read_text(pyproject, max_bytes=1 << 20, root=root))
    except (OSError, tomllib.TOMLDecodeError):
        return False
    tool = data.get("tool")
    return isinstance(tool, dict) and "dbheal" in tool


def _ancestor(path: Path, levels: int) -> Path:
    """Return the folder `levels` above `path` as the client spells it (links kept)."""
    for _ in range(max(levels, 0)):
        path = path.parent
    return path


def _stop_watchers(watchers: Sequence[Watcher]) -> None:
    for watcher in watchers:
        with contextlib.suppress(Exception):
            watcher.stop()


def _issues_id(issues: Iterable[Issue]) -> str:
    return convert.result_id(*(f"{i.fingerprint}@{i.span}:{i.severity.value}" for i in issues))


def _locked(lock: threading.Lock, func: Callable[..., T], *args: Any) -> T:
    with lock:
        return func(*args)


def _wants(only: Sequence[str] | None, kind: str) -> bool:
    """Whether a code action of `kind` was asked for (`only` lists kinds and their parents)."""
    if only is None:
        return True
    return any(kind == str(k) or kind.startswith(str(k) + ".") or str(k) == "" for k in only)


def _non_overlapping(fixes: Iterable[CodeFix]) -> list[CodeFix]:
    """Return the fixes whose edits overlap no edit of a fix taken before (and no duplicate)."""
    taken: list[CodeFix] = []
    spans: list[TextEdit] = []
    seen: set[str] = set()
    for fix in fixes:
        if fix.id in seen:
            continue
        if any(_overlap(a, b) for a in fix.edits for b in spans):
            continue
        seen.add(fix.id)
        taken.append(fix)
        spans.extend(fix.edits)
    return taken


def _overlap(a: TextEdit, b: TextEdit) -> bool:
    a_start, a_end = (a.span.line, a.span.column), (a.span.end_line, a.span.end_column)
    b_start, b_end = (b.span.line, b.span.column), (b.span.end_line, b.span.end_column)
    return (a_start < b_end and b_start < a_end) or a_start == b_start


def _payload(args: Sequence[Any]) -> dict[str, Any]:
    if args and isinstance(args[0], Mapping):
        return {str(k): v for k, v in args[0].items()}
    if args and isinstance(args[0], (int, str)):
        return {"id": args[0]}
    return {}


def _entry_json(entry: QueueEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "plan_id": entry.plan_id,
        "kind": entry.kind,
        "title": entry.title,
        "severity": entry.severity.value,
        "status": entry.status,
        "created_at": entry.created_at,
        "database": entry.database,
    }


def _record_json(record: FixRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "created_at": record.created_at,
        "kind": record.kind,
        "title": record.title,
        "outcome": record.outcome,
        "message": record.message,
        "issue_fingerprint": record.issue_fingerprint,
        "database": record.database,
        "files": list(record.files),
        "backup_dir": record.backup_dir,
        "verify": to_dict(record.verify),
        "rolled_back_at": record.rolled_back_at,
        "rollback_of": record.rollback_of,
        "plan": record.plan_text,
    }


def _dry_run_json(lossy: LossyReport | None, verify: VerifyReport) -> dict[str, Any]:
    return {
        "verify": to_dict(verify),
        "lossy_count": lossy.lossy_count if lossy is not None else 0,
    }


def _outcome_json(outcome: FixOutcome) -> dict[str, Any]:
    return {
        "applied": outcome.applied,
        "message": outcome.message,
        "fix_id": outcome.record.id if outcome.record else None,
        "migration_file": outcome.migration_file,
        "verify": to_dict(outcome.verify),
        "diff": outcome.diff,
    }


def _outcome_detail(outcome: FixOutcome) -> str:
    parts = []
    if outcome.migration_file:
        parts.append(f"wrote {outcome.migration_file}")
    failures = outcome.verify.failures()
    if failures:
        parts.append("; ".join(f"{c.name}: {c.detail}" for c in failures))
    return (" (" + "; ".join(parts) + ")") if parts else ""


# --- handlers -----------------------------------------------------------------------------------


def create_server() -> DbhealServer:
    """Return a new server with every feature and command registered."""
    server = DbhealServer()
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
        lsp.TEXT_DOCUMENT_COMPLETION, lsp.CompletionOptions(trigger_characters=TRIGGER_CHARACTERS)
    )(_completion)
    for name, method in _COMMAND_METHODS:
        server.command(name)(_command_handler(name, method))
    return server


def _guard(what: str, func: Callable[[], None]) -> None:
    """Run a notification's work; log (never raise) what goes wrong."""
    try:
        func()
    except Exception:
        logger.exception("dbheal: %s failed", what)


def _initialize(ls: DbhealServer, params: lsp.InitializeParams) -> None:
    _guard("initialize", lambda: ls.on_initialize(params))


async def _initialized(ls: DbhealServer, params: lsp.InitializedParams) -> None:
    try:
        await ls.on_initialized()
    except Exception:
        logger.exception("dbheal: start-up failed")


def _shutdown(ls: DbhealServer, params: None) -> None:
    _guard("shutdown", ls.on_shutdown)


def _did_open(ls: DbhealServer, params: lsp.DidOpenTextDocumentParams) -> None:
    _guard("didOpen", lambda: ls.open_document(params.text_document))


def _did_change(ls: DbhealServer, params: lsp.DidChangeTextDocumentParams) -> None:
    _guard("didChange", lambda: ls.change_document(params.text_document.uri))


def _did_save(ls: DbhealServer, params: lsp.DidSaveTextDocumentParams) -> None:
    _guard("didSave", lambda: ls.save_document(params.text_document.uri))


def _did_close(ls: DbhealServer, params: lsp.DidCloseTextDocumentParams) -> None:
    _guard("didClose", lambda: ls.close_document(params.text_document.uri))


def _did_change_watched_files(ls: DbhealServer, params: lsp.DidChangeWatchedFilesParams) -> None:
    _guard("didChangeWatchedFiles", lambda: ls.watched_files_changed(params))


async def _did_change_configuration(
    ls: DbhealServer, params: lsp.DidChangeConfigurationParams
) -> None:
    try:
        pushed = section_of(params.settings)
        if pushed:
            ls.pushed_raw = pushed
        await ls.reload_settings()
    except Exception:
        logger.exception("dbheal: reading the settings failed")


async def _did_change_folders(
    ls: DbhealServer, params: lsp.DidChangeWorkspaceFoldersParams
) -> None:
    try:
        await ls.folders_changed(params)
    except Exception:
        logger.exception("dbheal: changing workspace folders failed")


async def _document_diagnostic(
    ls: DbhealServer, params: lsp.DocumentDiagnosticParams
) -> lsp.DocumentDiagnosticReport:
    return await ls.document_diagnostic(params)


async def _workspace_diagnostic(
    ls: DbhealServer, params: lsp.WorkspaceDiagnosticParams
) -> lsp.WorkspaceDiagnosticReport:
    return await ls.workspace_diagnostic(params)


async def _code_action(
    ls: DbhealServer, params: lsp.CodeActionParams
) -> list[lsp.CodeAction | lsp.Command] | None:
    return await ls.code_actions(params)


async def _code_action_resolve(ls: DbhealServer, params: lsp.CodeAction) -> lsp.CodeAction:
    return await ls.resolve_code_action(params)


async def _hover(ls: DbhealServer, params: lsp.HoverParams) -> lsp.Hover | None:
    return await ls.hover(params)


async def _completion(ls: DbhealServer, params: lsp.CompletionParams) -> lsp.CompletionList | None:
    return await ls.completion(params)


async def _command(ls: DbhealServer, name: str, run: Callable[[], Awaitable[Any]]) -> Any:
    """Run a command; a FixError or StateError is shown to the user, not raised."""
    try:
        return convert.json_safe(await run())
    except (FixError, StateError, ConfigError, SchemaError, KeyError) as exc:
        ls.message(f"dbheal: {name}: {exc}", lsp.MessageType.Error)
        return {"error": str(exc)}


# Each command and the DbhealServer method that runs it.
_COMMAND_METHODS = (
    (CMD_SCAN, "cmd_scan"),
    (CMD_QUEUE, "cmd_queue"),
    (CMD_APPLY, "cmd_apply"),
    (CMD_APPLY_FIX, "cmd_apply_fix"),
    (CMD_ROLLBACK, "cmd_rollback"),
    (CMD_HISTORY, "cmd_history"),
    (CMD_LIST_QUEUE, "cmd_list_queue"),
)


def _command_handler(name: str, method: str) -> Callable[..., Awaitable[Any]]:
    """The handler of command `name`: the server's `method` with the command's arguments,
    run through `_command`."""

    async def handler(ls: DbhealServer, *args: Any) -> Any:
        return await _command(ls, name, lambda: getattr(ls, method)(args))

    return handler


# --- logging and start ----------------------------------------------------------------------------


class ClientLogHandler(logging.Handler):
    """Sends dbheal's log records to the client's output (window/logMessage)."""

    _TYPES = (
        (logging.ERROR, lsp.MessageType.Error),
        (logging.WARNING, lsp.MessageType.Warning),
        (logging.INFO, lsp.MessageType.Info),
    )

    def __init__(self, server: DbhealServer) -> None:
        super().__init__(logging.DEBUG)  # debug lines (--log-level debug) go as Log
        self.server = server
        self._local = threading.local()

    def emit(self, record: logging.LogRecord) -> None:
        loop = self.server.loop
        if loop is None or loop.is_closed() or getattr(self._local, "busy", False):
            return
        kind = next((t for level, t in self._TYPES if record.levelno >= level), lsp.MessageType.Log)
        try:
            text = self.format(record)
        except Exception:
            return
        params = lsp.LogMessageParams(type=kind, message=text)
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(self._send, params)

    def _send(self, params: lsp.LogMessageParams) -> None:
        self._local.busy = True
        try:
            self.server.window_log_message(params)
        except Exception:
            pass
        finally:
            self._local.busy = False


def _not_sent_to_client(record: logging.LogRecord) -> bool:
    """Whether a record is for stderr: anything but dbheal's below ERROR (the client has those)."""
    return record.levelno >= logging.ERROR or not record.name.startswith("dbheal_lsp")


def _not_an_unknown_method(record: logging.LogRecord) -> bool:
    """Whether a pygls record is worth stderr: not its warning for a request or notification
    dbheal does not handle (a request has "method not found" as its answer; Kate shows stderr
    in its Output pane)."""
    return not (isinstance(record.msg, str) and "unknown method" in record.msg)


def setup_logging(server: DbhealServer, level: str = "info") -> None:
    """Log to stderr and to the client; never to stdout (the stdio transport)."""
    root = logging.getLogger()
    stderr = logging.StreamHandler(sys.stderr)
    stderr.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    # Editors file every stderr line as an error (Neovim's lsp.log says [ERROR]): dbheal's own
    # lines reach the client with their level (window/logMessage), so stderr gets only its
    # errors, and warnings of the libraries.
    stderr.setLevel(logging.WARNING)
    stderr.addFilter(_not_sent_to_client)
    root.handlers[:] = [stderr]
    root.setLevel(logging.WARNING)
    ours = logging.getLogger("dbheal_lsp")
    ours.setLevel(getattr(logging, level.upper(), logging.INFO))
    client = ClientLogHandler(server)
    client.setFormatter(logging.Formatter("%(message)s"))
    ours.addHandler(client)
    # pygls logs every message it sends at INFO: only its problems are worth reading.
    logging.getLogger("pygls").setLevel(logging.WARNING)
    logging.getLogger("pygls.protocol.json_rpc").addFilter(_not_an_unknown_method)
    quiet_library_logs()  # sqlglot's "unsupported syntax" lines are not the user's business


def serve(*, tcp: tuple[str, int] | None = None, log_level: str = "info") -> int:
    """Run the language server on stdio (or TCP) until the client says exit."""
    server = create_server()
    setup_logging(server, log_level)
    # Checks allocate many short-lived objects: collect the young generation less often.
    gc.set_threshold(20_000, 20, 50)
    if tcp is not None:
        server.start_tcp(*tcp)
    else:
        stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
        # Nothing may print to stdout from now on: it carries the protocol.
        sys.stdout = sys.stderr
        exit_seen = threading.Event()

        def _exit(ls: DbhealServer, params: None) -> None:
            exit_seen.set()

        server.feature(lsp.EXIT)(_exit)
        server.start_io(stdin, stdout)
        if not exit_seen.is_set():
            # The loop also ends when stdin closes: the client went away, or the check
            # `python3 -m dbheal_lsp < /dev/null`. Nothing failed: a normal end (0); only
            # `exit` before `shutdown` is the protocol's error exit (1).
            return finish(server, code=0)
    return finish(server)


def finish(server: DbhealServer, code: int | None = None) -> NoReturn:
    """End the process once the client said exit: promptly, but never in the middle of a fix.

    A fix, a rollback or a scan's cache write (the background pool) is waited for; a check
    whose result nobody will read (a megabyte file takes seconds) is not. `code` is the exit
    status; by default 0 after `shutdown`, else 1 (the protocol's rule for `exit`).
    """
    if code is None:
        code = 0 if server.protocol._shutdown else 1
    server.shutting_down = True
    for pool in (server.analysis_pool, server.slow_pool, server.interactive_pool):
        pool.shutdown(wait=False, cancel_futures=True)
    server.background_pool.shutdown(wait=True)
    logging.shutdown()
    with contextlib.suppress(Exception):
        sys.stderr.flush()
    os._exit(code)


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m dbheal_lsp.lsp [--tcp HOST:PORT] [--log-level LEVEL]`: run the server."""
    from dbheal_lsp.lsp.cli import add_serve_arguments, run

    parser = argparse.ArgumentParser(prog="dbheal serve", description="Run the language server.")
    add_serve_arguments(parser)
    return run(parser.parse_args(argv))
