"""Open documents: open, change, save, close, and the worker that checks each one.

The event loop never runs analysis. A document has one worker task at a time: it waits for the
debounce, takes a snapshot of the text, runs the check in the analysis pool, and publishes the
result only if the document is still open and unchanged since the snapshot; a request made
meanwhile makes it run again on the newest text. So a result for an older version is never
published, a result that finishes after the document closed is dropped, and a burst of saves
costs at most one check in flight per document.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING
from urllib.parse import unquote

from lsprotocol import types as lsp
from pygls.uris import to_fs_path

from dbheal_lsp.analysis.positions import LineIndex
from dbheal_lsp.databases.database import SchemaError
from dbheal_lsp.files import read_source, read_text, text_hash
from dbheal_lsp.languages import SOURCE_EXTENSIONS
from dbheal_lsp.lsp import convert
from dbheal_lsp.lsp.folders import Folder, checked, folder_for
from dbheal_lsp.model import CodeFix, Issue, Origin

if TYPE_CHECKING:
    from dbheal_lsp.lsp.server import DbhealServer

logger = logging.getLogger("dbheal_lsp.lsp")

# Seconds an open document may take in the fast lane before it moves to the slow lane, and in
# the slow lane: there it holds up only other slow documents, so a big file of one's own (a
# megabyte takes seconds, more while a scan shares the CPU) gets the time to be checked whole.
FAST_BUDGET = 1.0
SLOW_BUDGET = 60.0


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
    kind: str  # "source" (code of a language dbheal reads) | "sql" | "other"
    generation: int = 0  # bumped by every change: results of older generations are stale
    pending: bool = False  # a check was asked for and has not started yet
    due: float = 0.0  # loop time at which the pending check may start
    worker: asyncio.Task[None] | None = None
    slow: bool = False  # its last check ran past FAST_BUDGET: checked in the slow lane
    result: Analysed | None = None
    waiters: list[asyncio.Future[Analysed | None]] = field(default_factory=list)
    fix_cache: dict[tuple[str, str], tuple[CodeFix, ...]] = field(default_factory=dict)


#: The language ids (as clients name them) of the code dbheal reads, each with the ending that
#: makes the engine read an unsaved buffer in that language.
LANGUAGE_ENDINGS: Mapping[str, str] = MappingProxyType(
    {
        "python": ".py",
        "javascript": ".js",
        "javascriptreact": ".jsx",
        "typescript": ".ts",
        "typescriptreact": ".tsx",
    }
)

#: The endings of each language id's files, where there is more than the one above.
LANGUAGE_SUFFIXES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "python": (".py", ".pyi"),
        "javascript": (".js", ".mjs", ".cjs"),
        "typescript": (".ts", ".mts", ".cts"),
    }
)

#: The endings of the files a document is checked in: the registered languages' and Python stubs.
CODE_SUFFIXES: tuple[str, ...] = (*SOURCE_EXTENSIONS, ".pyi")


# --- what the client does with a document ---------------------------------------------------------


def open_document(server: DbhealServer, item: lsp.TextDocumentItem) -> None:
    """Take a document the client opened, and check it (push clients)."""
    fs = to_fs_path(item.uri)
    untitled = fs is None and item.uri.startswith("untitled:")
    if fs is None and not untitled:
        return  # git:, output: ... nothing of ours
    if untitled:
        # A buffer not saved yet: checked with the first workspace folder's settings, as
        # if it were a file at its root named after the buffer (it has no path to exclude).
        folder = _untitled_folder(server)
        name = unquote(item.uri.removeprefix("untitled:")).strip("/").replace("/", "_")
        path = folder.root / (name or "untitled")
        rel = folder.config.relative(path)
    else:
        path = Path(str(fs))
        folder = folder_for(server, path)
        rel = folder.config.relative(path)
    if untitled and not rel.endswith(CODE_SUFFIXES):
        # The engine picks a file's language by its name: an unsaved buffer gets the ending
        # of the language the client says it is in.
        ending = LANGUAGE_ENDINGS.get(item.language_id, "")
        path, rel = path.with_name(path.name + ending), rel + ending
    kind = "other"
    if item.language_id == "python" or path.name.endswith(CODE_SUFFIXES):
        kind = "source"
    elif path.suffix.lower() == ".sql":
        kind = "sql"
    if kind == "source" and not untitled and not checked(folder.config, rel):
        kind = "other"  # excluded by [tool.dbheal] exclude/include, as `dbheal check` does
    doc = Document(item.uri, path, folder, rel, kind)
    old = server.documents.get(item.uri)
    if old is not None:
        forget(old)
    server.documents[item.uri] = doc
    if kind == "other":
        return
    if not server.caps.pull_diagnostics:
        request_check(server, doc, 0.0)


def _untitled_folder(server: DbhealServer) -> Folder:
    """The folder whose settings an untitled buffer is checked with."""
    for folder in server.folders.values():
        if not folder.implicit:
            return folder
    return folder_for(server, Path.cwd())


def change_document(server: DbhealServer, uri: str) -> None:
    """The document's text changed: forget its analysis; check it if the settings say so."""
    doc = server.documents.get(uri)
    if doc is None:
        # Never opened (see DbhealProtocol): the changed text is the document's opening.
        snapshot = server.workspace.get_text_document(uri)
        logger.info("dbheal: %s changed without being opened: opening it", uri)
        open_document(
            server,
            lsp.TextDocumentItem(
                uri=uri,
                language_id=language_of(uri),
                version=snapshot.version or 0,
                text=snapshot.source,
            ),
        )
        return
    doc.generation += 1
    doc.result = None
    doc.fix_cache.clear()
    if doc.kind == "other" or server.caps.pull_diagnostics:
        return
    settings = doc.folder.settings.diagnostics
    if settings.check_on == "change":
        request_check(server, doc, settings.debounce_ms / 1000.0)


def save_document(server: DbhealServer, uri: str) -> None:
    """The document was saved: check it (push clients; see workspace.document_saved)."""
    doc = server.documents.get(uri)
    if doc is None or doc.kind == "other" or server.caps.pull_diagnostics:
        return
    request_check(server, doc, 0.0)


def close_document(server: DbhealServer, uri: str) -> None:
    """The client closed the document: stop its check and clear what was pushed for it."""
    doc = server.documents.pop(uri, None)
    if doc is None:
        return
    forget(doc)
    if not server.caps.pull_diagnostics:
        push(server, uri, [], None)
        server.pushed.pop(uri, None)  # the next workspace scan shows its file's issues again


def forget(doc: Document) -> None:
    """Stop the document's worker and answer whoever waits for its analysis (with None)."""
    if doc.worker is not None and not doc.worker.done():
        doc.worker.cancel()
    for waiter in doc.waiters:
        if not waiter.done():
            waiter.set_result(None)
    doc.waiters.clear()


def recheck_open(server: DbhealServer, folder: Folder, kind: str) -> None:
    """What the open documents of `kind` show came from a scan that changed: check again."""
    for doc in list(server.documents.values()):
        if doc.folder is folder and doc.kind == kind:
            doc.result = None
            if not server.caps.pull_diagnostics:
                request_check(server, doc, 0.0)


# --- checking documents ---------------------------------------------------------------------------


def request_check(server: DbhealServer, doc: Document, delay: float) -> None:
    """Check `doc` after `delay` seconds (a later request moves the time)."""
    if server.shutting_down:
        return
    loop = asyncio.get_running_loop()
    doc.pending = True
    doc.due = loop.time() + max(delay, 0.0)
    if doc.worker is None or doc.worker.done():
        doc.worker = server.spawn(_document_worker(server, doc), f"check {doc.rel}")


async def _document_worker(server: DbhealServer, doc: Document) -> None:
    """Check `doc` until no check is pending: one worker per document, newest text wins.

    Two lanes keep a slow document from holding up the others: a document is checked in
    the fast lane (`analysis_pool`, the folder's `project`) on a budget of FAST_BUDGET
    seconds; one that runs past it is checked again, and from then on, in the slow lane
    (`slow_pool`, its own `slow_project`) on SLOW_BUDGET, one at a time. A slow document
    that becomes quick again returns to the fast lane.
    """
    loop = asyncio.get_running_loop()
    while server.documents.get(doc.uri) is doc and (doc.pending or doc.waiters):
        wait = doc.due - loop.time()
        if doc.pending and wait > 0:
            await asyncio.sleep(wait)
            continue
        doc.pending = False
        generation = doc.generation
        snapshot = server.workspace.get_text_document(doc.uri)
        text, version = snapshot.source, snapshot.version
        slow = doc.slow and doc.kind == "source"
        pool = server.slow_pool if slow else server.analysis_pool
        try:
            analysed = await server.run_in(
                pool, _analyse, server, doc, text, version, generation, slow
            )
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if isinstance(exc, SchemaError):
                folder_error(server, doc.folder, str(exc))
            else:
                logger.exception("dbheal: checking %s failed", doc.rel)
            _resolve(doc, None)  # a request in flight gets an answer, not a retry loop
            continue
        if server.documents.get(doc.uri) is not doc:
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
        _resolve(doc, analysed)
        if not server.caps.pull_diagnostics:
            push(server, doc.uri, list(analysed.diagnostics), analysed.version)


def _resolve(doc: Document, result: Analysed | None) -> None:
    waiters, doc.waiters = doc.waiters, []
    for waiter in waiters:
        if not waiter.done():
            waiter.set_result(result)


async def analysed(server: DbhealServer, doc: Document) -> Analysed | None:
    """Return the analysis of the document's current text (checking it if needed)."""
    if doc.result is not None and doc.result.generation == doc.generation:
        return doc.result
    future: asyncio.Future[Analysed | None] = asyncio.get_running_loop().create_future()
    doc.waiters.append(future)
    request_check(server, doc, 0.0)
    return await future


def _analyse(
    server: DbhealServer,
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
    digest = text_hash(text)
    key = ""
    over_budget = False
    if doc.kind == "source":
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
    lines = LineIndex(text)
    diagnostics = tuple(diagnostic(server, folder, issue, lines) for issue in issues)
    rid = convert.result_id(digest, key, *(i.fingerprint for i in issues))
    seconds = time.monotonic() - started
    return Analysed(
        version, generation, tuple(issues), diagnostics, rid, digest, over_budget, seconds
    )


# --- what is sent ---------------------------------------------------------------------------------


def diagnostic(
    server: DbhealServer, folder: Folder, issue: Issue, lines: LineIndex
) -> lsp.Diagnostic:
    """Return the diagnostic of `issue` in a file of `folder` whose text is `lines`."""
    origin = _origin_location(server, folder, issue.origin) if issue.origin else None
    return convert.issue_to_diagnostic(issue, lines, server.caps, origin)


def _origin_location(server: DbhealServer, folder: Folder, origin: Origin) -> lsp.Location | None:
    file = folder.file_of(origin.path)
    try:
        # Only a regular file of the project: a FIFO or a device must not hang the server.
        text = read_source(file, root=folder.root)
    except OSError:
        return None
    line_text = LineIndex(text).line(origin.line)
    return convert.origin_location(
        folder.uri_of(origin.path), line_text, origin.line, server.caps.encoding
    )


def folder_error(server: DbhealServer, folder: Folder, text: str) -> None:
    """Warn that `folder` cannot be checked, unless that was the last thing said of it."""
    if text != folder.last_error:
        folder.last_error = text
        server.message(f"dbheal cannot check {folder.root.name}: {text}", lsp.MessageType.Warning)


def push(
    server: DbhealServer, uri: str, diagnostics: list[lsp.Diagnostic], version: int | None
) -> None:
    """Publish the diagnostics of `uri` (only clearing ones while shutting down)."""
    if server.shutting_down and diagnostics:
        return
    server.text_document_publish_diagnostics(
        lsp.PublishDiagnosticsParams(uri=uri, diagnostics=diagnostics, version=version)
    )


def language_of(uri: str) -> str:
    """The language id a client would give the document at `uri`, from its name."""
    name = Path(unquote(uri)).name
    if name.lower().endswith(".sql"):
        return "sql"
    for language_id, ending in LANGUAGE_ENDINGS.items():
        if name.endswith(LANGUAGE_SUFFIXES.get(language_id, (ending,))):
            return language_id
    return "plaintext"


def disk_text(uri: str) -> str:
    """The text of the file at `uri` on disk ("" when there is none or it cannot be read)."""
    fs = to_fs_path(uri)
    if fs is None:
        return ""
    try:
        # A regular file only, size-checked: a FIFO named like a source must not hang us.
        return read_text(fs)
    except OSError:
        return ""
