"""What every file of a project assigns and passes, learned once before the first check and
kept current as files change (the values themselves are `languages/python/constants.py`'s).

A query often takes a table name or a literal from another file (`TABLE = "users"`, a function
called with a string). `LearnedConstants` reads every Python file of the project once, merges
what each gives into one `ProjectConstants`, and updates it per file as the editor checks new
texts. With the user's cache it answers an unchanged tree without parsing any file.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Callable, Iterable
from pathlib import Path

from dbheal_lsp.analysis.file_scan import source_files
from dbheal_lsp.analysis.file_texts import FileTexts
from dbheal_lsp.analysis.result_cache import PerFileCache, files_key
from dbheal_lsp.analysis.workers import PARALLEL_THRESHOLD, WorkerPool, worker_texts
from dbheal_lsp.config import Config
from dbheal_lsp.files import text_hash
from dbheal_lsp.languages.python.call_sites import with_helpers
from dbheal_lsp.languages.python.constants import FileConstants
from dbheal_lsp.languages.python.constants_json import constants_from_json, constants_to_json
from dbheal_lsp.languages.python.file_constants import file_constants
from dbheal_lsp.languages.python.language import PYTHON_EXTENSIONS
from dbheal_lsp.languages.python.project_constants import (
    ProjectConstants,
    classes_of_test_code,
    project_constants,
)
from dbheal_lsp.languages.python.pysource import parse_module

__all__ = ["LearnedConstants", "constants_of"]


class LearnedConstants:
    """The merged constants of one project's files, and which text of each file they are from.

    `changed` is called whenever the merged constants change: what was built from them (the
    statement finder, the issues of unchanged blocks) must then be built again.
    """

    def __init__(self, config: Config, changed: Callable[[], None]) -> None:
        self.config = config
        self._changed = changed
        # What each file assigns to attributes and passes to functions; read from every file
        # of the project before the first check.
        self._files: dict[str, FileConstants] | None = None
        # The digest of the text each file's constants were read from: a file checked
        # unchanged since (every file of `dbheal check`) is not walked again.
        self._read: dict[str, str] = {}
        self._merged = ProjectConstants()
        # A warm `dbheal check` of unchanged files knows the merged constants' digest from the
        # cache and merges them only if a file must be checked again (see `learn`).
        self._digest: str | None = None
        self._pending: Callable[[], None] | None = None

    @property
    def merged(self) -> ProjectConstants:
        """What the project's names and parameters can hold (merged now if a warm pass left
        them to merge)."""
        pending, self._pending = self._pending, None
        if pending is not None:
            pending()
        return self._merged

    def digest(self) -> str:
        """Return the digest of `merged` (known without merging them on a warm check)."""
        if self._pending is not None and self._digest is not None:
            return self._digest
        return self.merged.digest()

    @property
    def per_file(self) -> tuple[dict[str, FileConstants], dict[str, str]]:
        """Every file's constants and the digest of the text each was read from (what a worker
        process is given, to learn nothing twice)."""
        self.merged  # noqa: B018 - merged now: the workers are given every file's
        return self._files or {}, self._read

    def learn(
        self,
        files: Iterable[Path],
        *,
        use_cache: bool = False,
        texts: FileTexts | None = None,
        pool: WorkerPool | None = None,
        jobs: int = 0,
    ) -> None:
        """Read what every file in `files` assigns and passes.

        With `use_cache`, a file whose content is unchanged since the last check is answered
        from the user's cache folder: a warm `dbheal check` parses no file at all. `texts` are
        the files of the caller's run and `pool` its worker processes (what is read and parsed
        here, in them or in this process, serves the run's later passes); without `pool`, `jobs`
        processes of its own at most (0: the configured number, else one per core), so that a
        run kept in one process (`--jobs 1`) parses its files in that process, once.
        """
        texts = texts or FileTexts(self.config.root, use_cache=use_cache)
        paths: dict[str, Path] = {}
        read: dict[str, str] = {}
        for file in files:
            rel = self.config.relative(file)
            try:
                digest = texts.digests(file, rel).text
            except OSError:
                continue  # such a file gives a note when it is checked
            if digest is not None:  # else not Python text: a note when it is checked
                paths[rel], read[rel] = file, digest
        merged = PerFileCache.merged_for_project(self.config.root) if use_cache else None
        key = files_key(read)
        known = merged.get("merged", key) if merged is not None else None
        if isinstance(known, str):
            # Nothing changed since the last pass: the per-file cache is read, and the
            # constants merged, only if a file must be checked.
            self._read = read
            self._digest = known
            self._pending = lambda: self._learned(paths, read, use_cache, texts, None, jobs)
            return
        self._learned(paths, read, use_cache, texts, pool, jobs)
        if merged is not None:  # the digest of what was merged, for the next warm pass
            merged.put("merged", key, self._merged.digest())
            merged.save({"merged"})

    def _learned(
        self,
        paths: dict[str, Path],
        read: dict[str, str],
        use_cache: bool,
        texts: FileTexts,
        pool: WorkerPool | None = None,
        jobs: int = 0,
    ) -> None:
        """Learn the constants of the files `paths` (whose texts have the digests `read`):
        from the per-file cache where it has them, else by reading the files."""
        store = PerFileCache.for_project(self.config.root) if use_cache else None
        found: dict[str, FileConstants] = {}
        todo: list[tuple[Path, str]] = []
        for rel, file in paths.items():
            cached = store.get(rel, read[rel]) if store is not None else None
            try:
                if cached is not None:
                    found[rel] = constants_from_json(cached)
                    continue
            except ValueError:
                pass  # not what this version writes: read the file again
            todo.append((file, rel))
        workers = jobs or self.config.jobs or (os.cpu_count() or 1)
        elsewhere: dict[str, FileConstants | None] = {}
        if pool is not None and todo:
            elsewhere = pool.run(_constants_share, todo, ())
        elif workers > 1 and len(todo) >= PARALLEL_THRESHOLD:
            with WorkerPool(None, workers) as own:  # parsing is most of a cold pre-pass
                elsewhere = own.run(_constants_share, todo, ())
        for file, rel in todo:
            # Missing: its worker died, it is read here.
            constants = elsewhere[rel] if rel in elsewhere else constants_of(texts, file, rel)
            if constants is None:
                read.pop(rel, None)  # not Python: it gives a note when it is checked
                continue
            found[rel] = constants
            if store is not None:
                store.put(rel, read[rel], constants_to_json(constants))
        if store is not None:
            store.save(set(found))
        self.use(found, read)

    def use(self, found: dict[str, FileConstants], read: dict[str, str]) -> None:
        """Take `found` as every file's constants, read from the texts whose digests are
        `read`, and merge them."""
        merged = project_constants(found.values(), classes_of_test_code(found))
        merged = with_helpers(merged, found, self.config)
        self._files = found
        self._read = read
        self._pending = self._digest = None
        if merged.digest() != self._merged.digest():
            self._merged = merged
            self._changed()

    def note(self, path: str, source: str, tree: ast.Module) -> None:
        """Keep the constants up to date with the text `source` of `path` being checked."""
        self.merged  # noqa: B018 - merged now if a warm pass left them to merge
        if self._files is None:
            self.learn(source_files(self.config, [self.config.root], PYTHON_EXTENSIONS))
        assert self._files is not None
        digest = text_hash(source)
        if self._read.get(path) == digest:
            return  # read from this very text already
        mine = file_constants(tree)
        read = {**self._read, path: digest}
        if self._files.get(path) != mine:
            self.use({**self._files, path: mine}, read)
        else:
            self._read = read


def constants_of(texts: FileTexts, file: Path, rel: str) -> FileConstants | None:
    """Return the constants of one file (None: it cannot be parsed), its tree kept in `texts`
    for the passes after this one."""
    try:
        return file_constants(texts.tree(file, rel, parse_module))
    except (OSError, SyntaxError, ValueError, RecursionError):
        return None


def _constants_share(files: list[tuple[Path, str]]) -> list[tuple[str, FileConstants | None]]:
    """A worker's share of the constants pass: its files read and parsed, and kept."""
    texts = worker_texts()
    return [(rel, constants_of(texts, file, rel)) for file, rel in files]
