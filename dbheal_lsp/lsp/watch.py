"""The language server's file watcher: source files, migrations and the live database.

A `Watcher` runs a watchdog observer over the workspace and hands the server one `ChangeSet` per
burst of changes: the source files written, created, deleted or moved, whether a migration file
changed, and whether the live database's *schema* changed. It imports nothing of pygls or
lsprotocol; the server decides what to re-check.

What is watched, and why, is `watch_paths.py`'s: the workspace's folders but the skipped ones,
the migrations folder and the database's files. A write to the database's files means a
connection wrote: `PRAGMA schema_version` (`db_state.py`, read-only) then tells a
schema change, reported, from the application's ordinary data writes, not reported.

Events are coalesced: a change set is delivered once no event came for `debounce` seconds (or
at the latest a second or so after the first one, so that a long burst cannot hold it back),
on the watcher's own thread; an exception from the callback is logged and the watcher goes on.
`ignore_writes` hides the server's own writes (a fix's edits, a new migration file, the database
during a migration) for a while, so that applying a fix never triggers another check of its own
making, let alone a loop.

Watched folders may be deleted, re-created or replaced at any time: once a second (and at once
on a folder event at the top level) the watches are reconciled with the folders that exist, and
the source files of a folder that appeared are reported as changed. `stop()` joins every thread
the watcher and its observer started.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from watchdog.events import (
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver, ObservedWatch

from dbheal_lsp.lsp.db_state import LOCKED, DbState, read_db_state
from dbheal_lsp.lsp.watch_paths import SKIP_DIRS, WatchedPaths, folder_identity

__all__ = ["ChangeSet", "Watcher"]

logger = logging.getLogger(__name__)

# Only what changes content or names. Not opened/closed events: reads cause them, and a
# read-only SQLite connection opens the -wal file for writing, so that closing it is a "closed
# after write" event even though nothing was written (every write is a modified event anyway).
_EVENT_FILTER: tuple[type[FileSystemEvent], ...] = (
    FileCreatedEvent,
    FileModifiedEvent,
    FileDeletedEvent,
    FileMovedEvent,
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
)
_CONTENT_EVENTS = frozenset({"created", "modified", "deleted", "moved"})

REFRESH_INTERVAL = 1.0  # seconds between reconciliations of the watches with the folders
DB_RETRY_FIRST = 0.25  # then, while the database stays locked, try again after this long,
DB_RETRY_MAX = 5.0  # doubling each time up to this
MAX_DELAY = 1.0  # a burst of events is delivered at most max(this, 5 x debounce) after it began


@dataclass(frozen=True)
class ChangeSet:
    """What changed in one debounce window.

    `source_files` are absolute paths of source files (`.py`, `.ts`, ...) written, created, deleted or moved (both
    the old and the new name of a move); `migrations_changed` says a `.sql` file (or a folder)
    of the migrations folder changed, appeared or went; `database_changed` says the live
    database's schema changed (or the file appeared, went or was replaced).
    """

    source_files: frozenset[Path] = frozenset()
    migrations_changed: bool = False
    database_changed: bool = False


@dataclass
class _Watch:
    watch: ObservedWatch
    recursive: bool
    identity: tuple[int, int]  # (st_dev, st_ino) of the folder when it was scheduled


class _Handler(FileSystemEventHandler):
    """Passes every event to the watcher; runs on the observer's thread and must be quick."""

    def __init__(self, watcher: Watcher) -> None:
        self._watcher = watcher

    def dispatch(self, event: FileSystemEvent) -> None:
        try:
            self._watcher._on_event(event)
        except Exception:  # never let a bad event stop the observer's thread
            logger.exception("dbheal watcher: cannot handle %r", event)


class Watcher:
    """Watch a workspace and report its changes, coalesced, to `on_change`.

    `root` is the workspace folder, `migrations` the migrations folder and `database` the live
    SQLite file (either may be None, or may not exist yet). `on_change` is called on the
    watcher's thread with one `ChangeSet` per debounce window. Call `start()` to begin and
    `stop()` to end (the watcher is also a context manager); `ignore_writes()` before writing
    files the change of which nobody should hear about.
    """

    def __init__(
        self,
        root: Path,
        *,
        migrations: Path | None,
        database: Path | None,
        on_change: Callable[[ChangeSet], None],
        debounce: float = 0.2,
        skip_dirs: Iterable[str] = SKIP_DIRS,
    ) -> None:
        self.root = Path(root).resolve()
        self.migrations = self._absolute(migrations) if migrations is not None else None
        self.database = self._absolute(database) if database is not None else None
        self.debounce = max(float(debounce), 0.0)
        self._max_delay = max(MAX_DELAY, 5 * self.debounce)
        self._on_change = on_change
        self._paths = WatchedPaths.of(self.root, self.migrations, self.database, skip_dirs)
        self._handler = _Handler(self)
        self._start_lock = threading.Lock()
        self._local = threading.local()  # .worker is set on the worker thread
        # Shared between the observer's thread, the worker and callers; guarded by _cond.
        self._cond = threading.Condition()
        self._stopping = False
        self._sources: set[Path] = set()
        self._migrations_dirty = False
        self._db_dirty = False
        self._first_event = 0.0
        self._last_event = 0.0
        self._refresh_requested = False
        self._ignored: dict[str, float] = {}  # path -> monotonic deadline
        self._db_resync_at: float | None = None
        # Used by the worker thread only (and by start/stop while it is not running).
        self._observer: BaseObserver | None = None
        self._worker: threading.Thread | None = None
        self._watches: dict[str, _Watch] = {}
        self._warned: set[str] = set()
        self._db_state: DbState | None = None
        self._db_retries = 0
        self._next_refresh = 0.0

    def _absolute(self, path: Path) -> Path:
        path = Path(path)
        return (path if path.is_absolute() else self.root / path).resolve()

    # --- public -------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """Whether the watcher has been started and not stopped."""
        return self._worker is not None

    def start(self) -> None:
        """Start watching (a second call does nothing). Folders that do not exist yet are
        watched once they appear."""
        with self._start_lock:
            if self._worker is not None:
                return
            with self._cond:
                self._stopping = False
                self._clear_pending()
            observer = Observer()
            observer.start()
            self._observer = observer
            self._db_state = self._read_db_state() if self.database is not None else None
            self._refresh(initial=True)
            self._next_refresh = time.monotonic() + REFRESH_INTERVAL
            worker = threading.Thread(target=self._run, name="dbheal-watcher", daemon=True)
            self._worker = worker
            worker.start()

    def stop(self) -> None:
        """Stop watching and join the watcher's threads; changes not yet delivered are dropped.

        Called from the callback itself, it cannot join the thread it runs on: that thread ends
        as soon as the callback returns.
        """
        if getattr(self._local, "worker", False):
            # From the callback: another thread may be stopping the watcher right now, holding
            # the lock while it waits for this very thread; then leave the work to it.
            while not self._start_lock.acquire(timeout=0.05):
                with self._cond:
                    if self._stopping:
                        return
        else:
            self._start_lock.acquire()
        try:
            self._stop_locked()
        finally:
            self._start_lock.release()

    def _stop_locked(self) -> None:
        worker, observer = self._worker, self._observer
        self._worker = None
        self._observer = None
        with self._cond:
            self._stopping = True
            self._clear_pending()
            self._cond.notify_all()
        current = threading.current_thread()
        if worker is not None and worker is not current:
            worker.join()
        if observer is not None:
            observer.stop()  # unschedules every watch and joins the emitters' threads
            if observer is not current:
                observer.join()
        self._watches.clear()

    def ignore_writes(self, paths: Iterable[Path], seconds: float = 2.0) -> None:
        """Report no change of `paths` (files, or folders and everything under them) for the
        next `seconds` seconds: the server is about to write them itself.

        For the database, its `-wal` and `-journal` are ignored too, and the schema version the
        watcher compares with is read again once the time is up, so that the server's own
        migration is not reported later either.
        """
        deadline = time.monotonic() + max(float(seconds), 0.0)
        with self._cond:
            for path in paths:
                key = str(self._absolute(Path(path)))
                keys = [key]
                if key in self._paths.db_files:
                    keys = sorted(self._paths.db_files)
                    self._db_resync_at = max(self._db_resync_at or 0.0, deadline)
                for k in keys:
                    self._ignored[k] = max(self._ignored.get(k, 0.0), deadline)
            self._cond.notify_all()

    def __enter__(self) -> Watcher:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # --- events (observer thread) -------------------------------------------------------------

    def _on_event(self, event: FileSystemEvent) -> None:
        if event.event_type not in _CONTENT_EVENTS:
            return
        if event.is_directory and event.event_type == "modified":
            return
        paths = [os.fsdecode(event.src_path)]
        if event.event_type == "moved" and event.dest_path:
            paths.append(os.fsdecode(event.dest_path))
        now = time.monotonic()
        with self._cond:
            if self._stopping:
                return
            had_pending = self._has_pending()
            pending = False
            wake = False
            for path in paths:
                ignored_until = self._ignored_until(path, now)
                if ignored_until is not None:
                    if path in self._paths.db_files:
                        # Take the schema as the server leaves it once its time is up.
                        self._db_resync_at = max(self._db_resync_at or 0.0, ignored_until)
                    continue
                if event.is_directory:
                    if self._paths.is_structural(path):
                        self._refresh_requested = True
                        wake = True
                    if self._paths.in_migrations(path):
                        self._migrations_dirty = True
                        pending = True
                elif self._note_file(path):
                    pending = True
            if pending:
                if not had_pending:
                    self._first_event = now
                self._last_event = now
            if pending or wake:
                self._cond.notify_all()

    def _note_file(self, path: str) -> bool:
        """Record a change of the file `path`; return whether it is one to report."""
        kind = self._paths.file_kind(path)
        if kind == "database":
            self._db_dirty = True
        elif kind == "migration":
            self._migrations_dirty = True
        elif kind == "source":
            self._sources.add(Path(path))
        return kind is not None

    def _ignored_until(self, path: str, now: float) -> float | None:
        """Return until when changes of `path` are ignored, or None if they are not."""
        if not self._ignored:
            return None
        until: float | None = None
        for key, deadline in list(self._ignored.items()):
            if deadline <= now:
                del self._ignored[key]
            elif path == key or path.startswith(key + os.sep):
                until = max(until or 0.0, deadline)
        return until

    # Pending changes, guarded by _cond.

    def _has_pending(self) -> bool:
        return bool(self._sources) or self._migrations_dirty or self._db_dirty

    def _clear_pending(self) -> None:
        self._sources = set()
        self._migrations_dirty = False
        self._db_dirty = False
        self._first_event = 0.0
        self._last_event = 0.0

    # --- the worker thread --------------------------------------------------------------------

    def _run(self) -> None:
        self._local.worker = True
        while True:
            with self._cond:
                taken = self._wait()
                if taken is None:
                    return
                refresh, resync, batch = taken
            try:
                if refresh:
                    self._refresh(initial=False)
                if resync:
                    state = self._read_db_state()
                    if state != LOCKED:
                        self._db_state = state
                if batch is not None:
                    self._deliver(*batch)
            except Exception:  # the watcher must outlive any one bad moment
                logger.exception("dbheal watcher: unexpected error; watching goes on")

    def _wait(
        self,
    ) -> tuple[bool, bool, tuple[frozenset[Path], bool, bool] | None] | None:
        """Wait (holding _cond) until there is work; return it, or None when stopping."""
        while True:
            if self._stopping:
                return None
            now = time.monotonic()
            wait = self._next_refresh - now
            if self._refresh_requested:
                wait = 0.0
            if self._has_pending():
                due = min(self._last_event + self.debounce, self._first_event + self._max_delay)
                wait = min(wait, due - now)
            if self._db_resync_at is not None:
                wait = min(wait, self._db_resync_at - now)
            if wait <= 0:
                break
            self._cond.wait(wait)
        now = time.monotonic()
        refresh = self._refresh_requested or now >= self._next_refresh
        if refresh:
            self._refresh_requested = False
            self._next_refresh = now + REFRESH_INTERVAL
        resync = False
        if self._db_resync_at is not None and now >= self._db_resync_at:
            self._db_resync_at = None
            # A write of the application after the ignored time is pending already: compare
            # with the old version then, rather than miss its change.
            resync = not self._db_dirty
        batch = None
        if self._has_pending():
            due = min(self._last_event + self.debounce, self._first_event + self._max_delay)
            if now >= due:
                batch = (frozenset(self._sources), self._migrations_dirty, self._db_dirty)
                self._clear_pending()
        return refresh, resync, batch

    def _deliver(self, sources: frozenset[Path], migrations: bool, db_dirty: bool) -> None:
        database_changed = False
        if db_dirty:
            state = self._read_db_state()
            if state == LOCKED:
                # A writer holds the lock: look again later, less and less often while it does.
                self._db_retries += 1
                delay = min(DB_RETRY_FIRST * 2 ** (self._db_retries - 1), DB_RETRY_MAX)
                with self._cond:
                    at = time.monotonic() + delay
                    if not self._has_pending():
                        self._first_event = at - self._max_delay
                        self._last_event = at - self.debounce
                    self._db_dirty = True
            else:
                self._db_retries = 0
                if state != self._db_state:
                    database_changed = True
                    self._db_state = state
        if not (sources or migrations or database_changed):
            return
        with self._cond:
            if self._stopping:
                return
        change = ChangeSet(sources, migrations, database_changed)
        try:
            self._on_change(change)
        except Exception:
            logger.exception("dbheal watcher: the change callback failed on %r", change)

    def _read_db_state(self) -> DbState:
        assert self.database is not None
        return read_db_state(self.database)

    # --- watches (worker thread, or start() before the worker runs) ---------------------------

    def _refresh(self, *, initial: bool) -> None:
        """Reconcile the watches with the folders that exist now."""
        observer = self._observer
        if observer is None:
            return
        desired = self._paths.desired()
        alive = {e.watch for e in list(observer.emitters) if e.is_alive()}
        for key, current in list(self._watches.items()):
            if (
                desired.get(key) != current.recursive
                or current.watch not in alive
                or folder_identity(key) != current.identity
            ):
                del self._watches[key]
                with contextlib.suppress(KeyError, RuntimeError):
                    observer.unschedule(current.watch)
        for key, recursive in desired.items():
            if key in self._watches:
                continue
            identity = folder_identity(key)
            if identity is None:
                continue
            try:
                watch = observer.schedule(
                    self._handler, key, recursive=recursive, event_filter=list(_EVENT_FILTER)
                )
            except OSError as exc:
                if key not in self._warned:
                    self._warned.add(key)
                    logger.warning("dbheal watcher: cannot watch %s: %s", key, exc)
                continue
            self._warned.discard(key)
            self._watches[key] = _Watch(watch, recursive, identity)
            if not initial:
                self._report_new_folder(key, recursive)

    def _report_new_folder(self, folder: str, recursive: bool) -> None:
        """Report what a folder that just became watched holds: its events came too early."""
        found = self._paths.contents(folder, recursive)
        if not found:
            return
        now = time.monotonic()
        with self._cond:
            if not self._has_pending():
                self._first_event = now
            self._last_event = now
            self._sources.update(found.source_files)
            self._migrations_dirty |= found.migrations
            self._db_dirty |= found.database
