"""The dbheal language server: the engine behind an editor, over LSP (pygls 2).

`DbhealServer` holds every piece of mutable state of a session: the open documents and their
analyses, one `Folder` per project (its settings, its `Project`s, its fix engine, its file
watcher and periodic task), the thread pools. The features are module functions that take the
server (`handlers.py` registers them): `workspace.py` (initialize, settings, folders),
`documents.py` (open documents and their checks), `scan.py`, `pull.py`, `refresh.py`,
`actions.py`, `commands.py` with `fixing.py`, and `lookup.py`; `convert.py` turns engine values
into LSP values. This module holds the server itself, its start and its end.

Each folder has three `Project`s, each behind its own lock: one checks the open documents, one
serves code actions, hover, completion and the fix engine, one scans the workspace. A long scan
or the check of a huge file never makes a hover or a quick fix wait.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import itertools
import logging
import os
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine, Generator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, NoReturn, TypeVar
from urllib.parse import unquote

from lsprotocol import types as lsp
from pygls.exceptions import FeatureRequestError, JsonRpcMethodNotFound
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.language_server import lsp_method

from dbheal_lsp import __version__
from dbheal_lsp.liblogs import quiet_library_logs
from dbheal_lsp.lsp import handlers
from dbheal_lsp.lsp.capabilities import ClientFeatures
from dbheal_lsp.lsp.documents import Document, disk_text, forget, language_of
from dbheal_lsp.lsp.folders import Folder
from dbheal_lsp.lsp.settings import section_of
from dbheal_lsp.lsp.watch import Watcher

__all__ = ["DbhealServer", "create_server", "finish", "serve"]

logger = logging.getLogger("dbheal_lsp.lsp")

T = TypeVar("T")
CLIENT_TIMEOUT = 30.0  # seconds to wait for the client's answer to a request of ours
CLIENT_POLL = 3.0  # seconds between two looks at whether the client's process is still there


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
            # handler then opens the document (documents.change_document).
            self.workspace.put_text_document(
                lsp.TextDocumentItem(
                    uri=uri,
                    language_id=language_of(uri),
                    version=params.text_document.version,
                    text=disk_text(uri),
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

    async def ask_user(
        self, text: str, titles: Sequence[str], kind: lsp.MessageType = lsp.MessageType.Info
    ) -> str | None:
        """Ask the user to pick one of `titles` (window/showMessageRequest): the title picked,
        or None if the question was dismissed or went unanswered."""
        picked = await self.ask_client(
            self.window_show_message_request_async(
                lsp.ShowMessageRequestParams(
                    type=kind,
                    message=text,
                    actions=[lsp.MessageActionItem(title=title) for title in titles],
                )
            ),
            "window/showMessageRequest",
        )
        return picked.title if picked is not None else None

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

    # --- the end -------------------------------------------------------------------------------

    def watch_client(self, pid: int) -> None:
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

    def on_shutdown(self) -> None:
        """Stop all work: cancel checks and tasks, stop the watchers, close the pools."""
        self.shutting_down = True
        for doc in self.documents.values():
            forget(doc)
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


def _stop_watchers(watchers: Sequence[Watcher]) -> None:
    for watcher in watchers:
        with contextlib.suppress(Exception):
            watcher.stop()


def create_server() -> DbhealServer:
    """Return a new server with every feature and command registered."""
    server = DbhealServer()
    handlers.register(server)
    return server


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
        # pygls 2 (2.1) has no public way to ask whether `shutdown` came: its protocol keeps
        # it in `_shutdown`, as its own `exit` handler reads it (and DbhealProtocol sets it).
        code = 0 if server.protocol._shutdown else 1
    server.shutting_down = True
    for pool in (server.analysis_pool, server.slow_pool, server.interactive_pool):
        pool.shutdown(wait=False, cancel_futures=True)
    server.background_pool.shutdown(wait=True)
    logging.shutdown()
    with contextlib.suppress(Exception):
        sys.stderr.flush()
    os._exit(code)
