"""THE process-wide state of the runtime wrapper: the one sanctioned module-level mutable state.

Everything else in dbheal is handed its state by its caller (the server object, the CLI's
run). The runtime wrapper cannot be: it lives inside the user's application, behind the
`sqlite3.connect` signature, and the application opens connections from any thread, any module
and any library (SQLAlchemy's pool) without passing anything along. What must hold across
those connections therefore lives here, in one object per process:

- a heal lock per database, so two threads that hit the same missing table heal it once;
- the recent heals, for the loop window (`HEAL_WINDOW_SECONDS`);
- one state store per project and the projects it could not record in (warned once);
- one replay cache of the migrations;
- the classes combined with an application's factories, and the engines already installed;
- the errors already handled (a wrapped connection inside a proxy sees each error once) and
  the thread-local flag that keeps the wrapper's own queries from being healed.

Locks another thread held when the process forked stay held in the child, so the child starts
with new ones (`os.register_at_fork`). Importing this module imports only the standard library.
"""

from __future__ import annotations

import os
import threading
import time
import weakref
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    import logging

    from dbheal_lsp.analysis.migrations import MigrationResult
    from dbheal_lsp.fixes.state import StateStore

__all__ = ["LOGGER", "ProcessState", "log", "state"]

#: The logger the runtime's messages go to (docs/runtime.md names it).
LOGGER = "dbheal_lsp.runtime"


def log() -> logging.Logger:
    """Return the runtime's logger."""
    # logging is imported on the first message, not with this module (it costs an application's
    # start-up about 5 ms when nothing else imported it).
    import logging

    return logging.getLogger(LOGGER)


class ProcessState:
    """What every connection of the process shares (see the module)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.heal_locks: dict[str, threading.Lock] = {}
        self.recent: dict[tuple[str, str], float] = {}  # (database, target) -> monotonic time
        self.stores: dict[Path, StateStore] = {}
        self.store_lock = threading.Lock()  # opening a state file can wait for another process
        self.unwritable: set[Path] = set()
        self.migration_cache: Any = None
        self.class_lock = threading.Lock()
        self.composed: dict[type, type] = {}  # an application's class -> it combined with ours
        self.installed: weakref.WeakSet[Any] = weakref.WeakSet()  # SQLAlchemy engines
        self.seen: weakref.WeakSet[BaseException] = weakref.WeakSet()  # errors handled
        self.local = threading.local()  # .busy: this thread is healing

    def heal_lock(self, key: str) -> threading.Lock:
        """Return the lock of the database `key` (its file, or one private connection)."""
        with self.lock:
            lock = self.heal_locks.get(key)
            if lock is None:
                lock = self.heal_locks[key] = threading.Lock()
            return lock

    def migrations(self, folder: Path) -> MigrationResult:
        """Return the replay of the migrations in `folder` (again only when a file changed)."""
        with self.lock:
            if self.migration_cache is None:
                from dbheal_lsp.databases.sqlite.migration_cache import MigrationCache

                self.migration_cache = MigrationCache()
            cache = self.migration_cache
        return cast("MigrationResult", cache.get(folder))

    def healed_at(self, database: str, target: str) -> float | None:
        """Return when (monotonic) this process last healed `target` in `database`."""
        with self.lock:
            return self.recent.get((database, target))

    def mark_healed(self, database: str, target: str) -> None:
        """Remember that `target` of `database` was healed now."""
        with self.lock:
            self.recent[(database, target)] = time.monotonic()

    def store(self, root: Path) -> StateStore | None:
        """Return the state store of the project `root`, or None if it cannot be opened."""
        from dbheal_lsp.fixes.state import StateError, StateStore

        with self.store_lock:
            store = self.stores.get(root)
            if store is not None:
                return store
            try:
                store = StateStore(root)
            except (StateError, OSError) as exc:
                self._cannot_record(root, exc)
                return None
            self.stores[root] = store
            return store

    def _cannot_record(self, root: Path, exc: BaseException) -> None:
        # Warned once per project and process: an app that keeps failing must not flood its log.
        if root not in self.unwritable:
            self.unwritable.add(root)
            log().warning("dbheal: cannot record runtime events in %s: %s", root, exc)
        else:
            log().debug("dbheal: cannot record runtime events in %s: %s", root, exc)

    def record(self, root: Path, **event: Any) -> None:
        """Store an event in the state file of `root`; any failure is logged, never raised."""
        try:
            store = self.store(root)
            if store is not None:
                store.record_event(**event)
        except Exception as exc:
            with self.store_lock:
                self._cannot_record(root, exc)

    def after_fork_in_child(self) -> None:
        """Start the forked child with new locks (one another thread held stays held)."""
        self.lock = threading.Lock()
        self.store_lock = threading.Lock()
        self.class_lock = threading.Lock()
        self.heal_locks = {}


state = ProcessState()

if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=state.after_fork_in_child)
