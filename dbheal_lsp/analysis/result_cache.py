"""The results of earlier checks, kept per file in the user's cache folder.

`ResultCache` answers an unchanged file from its last check: keyed by the file's content hash
and valid for one schema and configuration key, so a warm `dbheal check` of an unchanged tree
reads no schema and checks nothing. `PerFileCache` keeps one JSON value per file by a key of its
content: what each file gave the constants pre-pass, its DDL, its hashes by its stat. Both live in the user's cache directory, never in the project: a cache
committed into a repository by someone else must never be believed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dbheal_lsp import __version__
from dbheal_lsp.analysis.file_result import FileResult
from dbheal_lsp.analysis.migration_files import migration_files
from dbheal_lsp.config import Config
from dbheal_lsp.databases.database import Database
from dbheal_lsp.files import MB, atomic_write, project_cache_dir, read_regular_file, text_hash
from dbheal_lsp.model import FileNote, Issue

__all__ = [
    "CACHE_FORMAT",
    "MAX_CACHE_BYTES",
    "PerFileCache",
    "ResultCache",
    "files_key",
    "quick_key",
]

# 16: the names a membership test lets a method's SQL text hold (guarded_names);
# 15: SQL text that project methods write, a class property's text per class;
# 14: a prepared query's later runs, number parameters; 13: statements at helpers' call sites,
# JS/TS; 12: transparent decorators are no entry point; 11: migration issues fingerprinted by
# relative path; 8: where arguments come from; 7: which calls fit which signature;
# 5: PARAMETER_MISMATCH
CACHE_FORMAT = 16
MAX_CACHE_BYTES = 512 * MB
MAX_MIGRATION_BYTES = 50 * MB  # seed data makes migrations larger than code files


class ResultCache:
    """Results per file keyed by content hash, valid for one schema and configuration key.

    It lives in the user's cache directory (`for_project`), never in the project: a cache
    committed into a repository by someone else must never be believed.
    """

    def __init__(self, folder: Path | None, key: str) -> None:
        """Read the cache of `folder` (None: no cache, results are only not remembered)."""
        self.folder = folder
        self.file = folder / "check.json" if folder is not None else None
        self.key = f"{CACHE_FORMAT}:{__version__}:{key}"
        self._entries: dict[str, dict[str, Any]] = {}
        self._dirty = False
        if self.file is None:
            return
        try:
            data = json.loads(read_regular_file(self.file, max_bytes=MAX_CACHE_BYTES))
            if data.get("key") == self.key and isinstance(data.get("files"), dict):
                self._entries = data["files"]
        except (OSError, ValueError, AttributeError):
            self._entries = {}

    @classmethod
    def for_project(cls, root: Path, key: str) -> ResultCache:
        """Return the cache of the project at `root` in the user's cache directory
        (`project_cache_dir`); without one (no home, read-only), a cache that keeps nothing."""
        try:
            folder: Path | None = project_cache_dir(root)
        except OSError:
            folder = None
        return cls(folder, key)

    def get(self, rel: str, digest: str) -> FileResult | None:
        """Return the cached result of `rel` if its content hash is `digest`."""
        entry = self._entries.get(rel)
        if not entry or entry.get("hash") != digest:
            return None
        try:
            return FileResult(
                rel,
                tuple(Issue.from_json(i) for i in entry["issues"]),
                tuple(FileNote(rel, n[0], n[1]) for n in entry["notes"]),
                int(entry["statements"]),
                partly=int(entry.get("partly", 0)),
            )
        except (KeyError, ValueError, TypeError, IndexError):
            return None

    def put(self, rel: str, digest: str, result: FileResult) -> None:
        """Remember the result of `rel` for content hash `digest` (unless it is incomplete)."""
        if result.over_budget:
            # Stopped by its time budget on a busy machine: the next run may finish it.
            if self._entries.pop(rel, None) is not None:
                self._dirty = True
            return
        self._entries[rel] = {
            "hash": digest,
            "issues": [_cached_issue(i) for i in result.issues],
            "notes": [[n.message, n.line] for n in result.notes],
            "statements": result.statements,
            "partly": result.partly,
        }
        self._dirty = True

    def save(self, root: Path) -> None:
        """Write the cache (atomically), dropping the entries of files that no longer exist.

        Entries of files outside this run are kept: checking one file must not make the next
        full check start cold.
        """
        stale = {
            rel for rel in self._entries if not rel.startswith("::") and not (root / rel).is_file()
        }
        _write_cache(self.file, self.key, self._entries, stale, self._dirty)


class PerFileCache:
    """One JSON value per file (its constants, its DDL, its hashes), valid for one key of its
    content, in the user's cache folder (like ResultCache: never in the project, whose cache a
    stranger could have written)."""

    def __init__(self, file: Path | None) -> None:
        self.file = file
        self.key = f"{CACHE_FORMAT}:{__version__}:{file.name if file else ''}"
        self._entries: dict[str, Any] = {}
        self._dirty = False
        if file is None:
            return
        try:
            data = json.loads(read_regular_file(file, max_bytes=MAX_CACHE_BYTES))
            if data.get("key") == self.key and isinstance(data.get("files"), dict):
                self._entries = data["files"]
        except (OSError, ValueError, AttributeError):
            self._entries = {}

    @classmethod
    def for_project(cls, root: Path, name: str = "constants.json") -> PerFileCache:
        """Return the cache `name` of the project at `root` (one that keeps nothing when there
        is no user cache folder)."""
        try:
            return cls(project_cache_dir(root) / name)
        except OSError:
            return cls(None)

    @classmethod
    def merged_for_project(cls, root: Path) -> PerFileCache:
        """Return the small cache of the merged constants' digest, under the key "merged" by
        the digest of every file's content (read without the per-file cache's size)."""
        return cls.for_project(root, "constants-merged.json")

    def get(self, rel: str, digest: str) -> Any:
        """Return the cached value of `rel` if its content key is `digest`, else None."""
        entry = self._entries.get(rel)
        if isinstance(entry, dict) and entry.get("hash") == digest:
            return entry.get("constants")
        return None

    def put(self, rel: str, digest: str, constants: Any) -> None:
        """Remember the value of `rel` for content key `digest`."""
        self._entries[rel] = {"hash": digest, "constants": constants}
        self._dirty = True

    def forget(self, rel: str) -> None:
        """Drop what is remembered of `rel`."""
        if self._entries.pop(rel, None) is not None:
            self._dirty = True

    def save(self, present: set[str]) -> None:
        """Write the cache (atomically), keeping only the files of this pass."""
        _write_cache(self.file, self.key, self._entries, set(self._entries) - present, self._dirty)

    def save_existing(self, root: Path) -> None:
        """Write the cache (atomically), keeping the files under `root` that still exist (a
        check of some files keeps what is known of the others)."""
        stale = {rel for rel in self._entries if not (root / rel).is_file()}
        _write_cache(self.file, self.key, self._entries, stale, self._dirty)


def _write_cache(
    file: Path | None, key: str, entries: dict[str, Any], stale: set[str], dirty: bool
) -> None:
    """Write a cache file (atomically) without its `stale` entries, when anything changed."""
    if file is None or (not dirty and not stale):
        return
    for rel in stale:
        del entries[rel]
    try:
        text = json.dumps({"key": key, "files": entries})
        atomic_write(file, text.encode("utf-8"))
    except OSError:
        pass  # a read-only cache still gives results, only not remembered


def _cached_issue(issue: Issue) -> dict[str, object]:
    data = issue.to_json()
    if issue.statement_span is not None:
        s = issue.statement_span
        data["statement_span"] = [s.line, s.column, s.end_line, s.end_column]
    if issue.call_span is not None:
        s = issue.call_span
        data["call_span"] = [s.line, s.column, s.end_line, s.end_column]
    data["sql"] = issue.sql
    return data


def files_key(read: Mapping[str, str]) -> str:
    """Return a digest of which files were read with which content."""
    text = "\n".join(f"{rel}\x00{digest}" for rel, digest in sorted(read.items()))
    return text_hash(text)


def quick_key(config: Config, database: Database, databases_key: str) -> str | None:
    """Return a key that changes with the schemas, read without building the schemas; None when
    the database or a migration cannot be read so (the full read then says what is wrong).

    A hash of the live database's schema content (`Database.live_key`: for SQLite, the type,
    name, table and SQL of every object of `sqlite_master`) and of every migration file's name
    and content: the schema's content, not its counters or file times, so a database rebuilt differently after as many schema changes
    (same `schema_version`, maybe the same inode) never gets the old results. Both are
    small: reading them is cheap next to checking. `databases_key` is the other databases'
    (`OtherDatabases.key`).
    """
    digest = hashlib.blake2b(digest_size=20)
    digest.update(config.fingerprint().encode())
    digest.update(databases_key.encode())
    live = database.live_key()
    if live is None:
        return None  # let the full read raise its clear error
    if live:
        digest.update(b"\x00db\x00" + live.encode())
    if config.migrations is not None:
        try:
            for file in migration_files(config.migrations):
                data = read_regular_file(file, max_bytes=MAX_MIGRATION_BYTES)
                name = config.relative(file).encode("utf-8", "surrogatepass")
                digest.update(b"\x00m\x00" + name + b"\x00")
                digest.update(hashlib.blake2b(data, digest_size=20).digest())
        except OSError:
            return None  # the replay reports what is wrong with it
    return digest.hexdigest()
