"""The checks before a command changes the database: refuse, with one line and nothing
changed, what would make the change fail half-way (a read-only folder, too little space, a
corrupt file, a lock held too long). On a PostgreSQL server: a lock another session holds on
its tables, named with the session, said before the fix starts."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from dbheal_lsp.cli import UsageError
from dbheal_lsp.cli.output import shown_path
from dbheal_lsp.databases import DatabaseError, SchemaError

if TYPE_CHECKING:
    from dbheal_lsp.analysis.project import Project

# What a change needs free on the database's device beyond twice its size (the backup, the
# rollback journal): SQLite's own pages, the state file, a migration file.
_SPACE_MARGIN = 256 * 1024


def preflight(project: Project, lock_timeout: float, tables: Sequence[str] | None = None) -> None:
    """Refuse, before anything is changed, what would make a change to the database fail:
    a read-only folder, too little space, a corrupt file, a lock another connection holds
    for longer than `lock_timeout` seconds (on a server: on the `tables` the change touches,
    when they are known). Raise UsageError with one line."""
    if project.config.database_url is not None:
        _server_preflight(project, lock_timeout, tables)
        return
    database = project.config.database
    if database is None or not database.is_file():
        return  # the engine says so in its own words
    shown = shown_path(database)
    for folder in dict.fromkeys((project.config.root, database.parent)):
        # SQLite writes its journal next to the database, dbheal its backups under the root.
        if not os.access(folder, os.W_OK):
            raise UsageError(
                f"cannot write in {shown_path(folder) or '.'} (read-only file system or no "
                f"permission): nothing changed in {shown}"
            )
    size = database.stat().st_size
    free = shutil.disk_usage(database.parent).free
    if free < 2 * size + _SPACE_MARGIN:
        raise UsageError(
            f"not enough free space to change {shown} safely: {free // 1024} KiB free, "
            f"{(2 * size + _SPACE_MARGIN) // 1024} KiB needed (a backup and a journal): "
            "nothing changed"
        )
    try:
        free = project.database.write_lock_free(wait=0)
        if not free:
            # Said once: then the database's own busy handler waits for the rest of the time.
            print(
                f"dbheal: waiting for the lock held by another connection on {shown} "
                f"(up to {lock_timeout:g} s, see --lock-timeout)",
                file=sys.stderr,
                flush=True,
            )
            free = project.database.write_lock_free(wait=lock_timeout)
    except SchemaError as exc:
        raise UsageError(f"cannot open {shown}: {exc}") from None
    except DatabaseError as exc:
        raise _refused(exc, shown) from None
    if not free:
        raise UsageError(
            f"{shown} is locked by another connection (waited {lock_timeout:g} s): "
            "nothing changed; try again when it is done, or wait longer with "
            "--lock-timeout SECONDS"
        )


@runtime_checkable
class _Held(Protocol):
    """A lock another session holds (databases/postgres/preflight.py's LockHolder)."""

    @property
    def table(self) -> str: ...


@runtime_checkable
class _Server(Protocol):
    """A server's back end (databases/postgres/database.py), as far as the preflight asks."""

    @property
    def label(self) -> str: ...

    @property
    def offline(self) -> bool: ...

    def lock_holders(self, tables: Sequence[str] | None = None) -> Sequence[_Held]: ...

    def write_lock_free(self, *, wait: float, tables: Sequence[str] | None = None) -> bool: ...


def _server_preflight(project: Project, lock_timeout: float, tables: Sequence[str] | None) -> None:
    """Say which of `tables` (all the schema's when None) another session holds a lock on,
    wait up to `lock_timeout` seconds for them to go, and refuse (nothing changed) if they
    do not: a lock on a table the change does not touch stops nothing."""
    database = project.database
    if not isinstance(database, _Server) or database.offline:
        return  # not reachable: the fix says so in its own words
    shown = database.label
    try:
        held = database.lock_holders(tables)
        if not held:
            return
        print(
            f"dbheal: another session holds a lock on {_tables(held)} on {shown}; "
            f"waiting up to {lock_timeout:g} s for it to end (see --lock-timeout)",
            file=sys.stderr,
            flush=True,
        )
        if database.write_lock_free(wait=lock_timeout, tables=tables):
            return
        held = database.lock_holders(tables) or held
    except SchemaError as exc:
        raise UsageError(str(exc)) from None
    raise UsageError(
        f"{shown}: another session holds a lock on {_tables(held)} (waited "
        f"{lock_timeout:g} s): nothing changed; try again when its transaction is done, "
        "or wait longer with --lock-timeout SECONDS"
    )


def _tables(held: Sequence[_Held]) -> str:
    """The tables locked, each with the first session holding it: `accounts (...)`."""
    first: dict[str, _Held] = {}
    for holder in held:
        first.setdefault(holder.table, holder)
    return ", ".join(str(h) for h in first.values())


def _refused(exc: Exception, shown: str) -> UsageError:
    """The one line saying why the database refused the write lock."""
    text = str(exc).lower()
    if "malformed" in text or "not a database" in text or "corrupt" in text:
        return UsageError(f"{shown} is corrupt ({exc}): nothing changed")
    if "readonly" in text or "read-only" in text:
        return UsageError(f"{shown} is read-only ({exc}): nothing changed")
    return UsageError(f"cannot change {shown}: {exc}")
