"""The worker processes of a large check: each file read, parsed and checked in one of them.

Below `PARALLEL_THRESHOLD` files everything runs in the calling process. Above it, a
`WorkerPool` of one process per worker takes a check's passes in turn (every file's
constants, the DDL of the schema from code, the checks) and deals the files out by their path,
so a file goes to the same process in every pass: that process keeps its text, tree and
statements from one pass to the next and parses it once. A worker that dies (killed, out of
memory) leaves its files' answers missing: the caller does what is missing itself, so one
file's crash never loses another file's result.
"""

from __future__ import annotations

import multiprocessing
import os
import zlib
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from multiprocessing.context import BaseContext
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from dbheal_lsp.analysis.file_texts import FileTexts
from dbheal_lsp.languages.python.code_ddl import FoundStatements, ddl_of
from dbheal_lsp.languages.python.constants import FileConstants
from dbheal_lsp.languages.python.file_constants import file_constants

if TYPE_CHECKING:
    from dbheal_lsp.analysis.file_result import FileResult
    from dbheal_lsp.analysis.project import SchemaState
    from dbheal_lsp.languages.python.extract import Extractor
    from dbheal_lsp.model import Origin

__all__ = [
    "PARALLEL_THRESHOLD",
    "Constants",
    "WorkerPool",
    "WorkerProject",
    "constants_of",
]

PARALLEL_THRESHOLD = 48

#: A file to work on: its path and how results name it (relative to the project root).
FileJob = tuple[Path, str]
#: Every file's constants and the digest of the text each was read from (`LearnedConstants`).
Constants = tuple[dict[str, FileConstants], dict[str, str]]
_T = TypeVar("_T")


class WorkerProject(Protocol):
    """What a worker process needs of its project (`analysis.project.Project` is one)."""

    @property
    def extractor(self) -> Extractor:
        """The statement finder, with the project's constants."""
        ...

    def use_constants(self, constants: Constants) -> None:
        """Take every file's constants as the parent learned them."""
        ...

    def keep_run(
        self, texts: FileTexts, found: FoundStatements, code_ddl: Sequence[tuple[str, Origin]]
    ) -> None:
        """Check the next files with what earlier passes read and found, and the schema from
        code that `code_ddl` builds."""
        ...

    def schema_state(self) -> SchemaState:
        """Return the schemas to check against."""
        ...

    def check_file(self, file: Path, rel: str, state: SchemaState) -> FileResult:
        """Read and check one file; never raise."""
        ...


class _Worker:
    # Each worker process builds its own project once, and keeps what it read and found from
    # one pass to the next; this holder is process-local by design.
    project: WorkerProject | None = None
    texts: FileTexts
    found: FoundStatements


def _context() -> BaseContext:
    return multiprocessing.get_context("fork" if hasattr(os, "fork") else "spawn")


class WorkerPool:
    """`workers` processes, each with the project `build` returns (it must pickle: a
    module-level function or a partial of one; None: a pool for the constants pass only), that
    keep what they read between passes."""

    def __init__(self, build: Callable[[], WorkerProject] | None, workers: int) -> None:
        # One single-process pool each, so that a file's share goes to the same process in
        # every pass; no process starts before the first pass that has work.
        self._pools = [
            ProcessPoolExecutor(
                max_workers=1, mp_context=_context(), initializer=_init_worker, initargs=(build,)
            )
            for _ in range(workers)
        ]
        self._told = False  # whether the workers have the constants

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        for pool in self._pools:
            pool.shutdown(wait=True, cancel_futures=True)

    def constants(self, files: list[FileJob]) -> dict[str, FileConstants | None]:
        """Each file's constants (None: it cannot be parsed); missing for a dead worker's."""
        return self._run(_constants_share, files, ())

    def ddl(
        self, files: list[FileJob], constants: Constants
    ) -> dict[str, list[tuple[str, int]] | None]:
        """Each file's DDL statements (`code_ddl.ddl_of`: None for a file that cannot be read),
        its statements kept for its check; missing for a dead worker's."""
        return self._run(_ddl_share, files, (self._constants(constants),))

    def check(
        self,
        files: list[FileJob],
        constants: Constants,
        code_ddl: Sequence[tuple[str, Origin]],
        done: Callable[[int], None] | None = None,
    ) -> dict[str, FileResult]:
        """Check `files` (against the schema `code_ddl` builds, when it comes from the code);
        call `done` with the number of files of each share as it finishes. Return the results
        by relative path: those of a dead worker's share are missing."""
        return self._run(_check_share, files, (self._constants(constants), code_ddl), done)

    def _constants(self, constants: Constants) -> Constants | None:
        told, self._told = self._told, True
        return None if told else constants

    def _run(
        self,
        work: Callable[..., list[tuple[str, _T]]],
        files: Sequence[FileJob],
        args: tuple[Any, ...],
        done: Callable[[int], None] | None = None,
    ) -> dict[str, _T]:
        shares: list[list[FileJob]] = [[] for _ in self._pools]
        for job in files:
            shares[zlib.crc32(job[1].encode("utf-8", "surrogatepass")) % len(shares)].append(job)
        futures: dict[Future[list[tuple[str, _T]]], int] = {}
        for pool, share in zip(self._pools, shares, strict=True):
            try:
                futures[pool.submit(work, share, *args)] = len(share)
            except (BrokenProcessPool, RuntimeError):
                continue  # a worker died in an earlier pass: the caller does its files
        results: dict[str, _T] = {}
        for future in as_completed(futures):
            try:
                results.update(future.result())
            except BrokenProcessPool:
                continue  # killed, out of memory: its files are missing from the results
            if done:
                done(futures[future])
        return results


def _init_worker(build: Callable[[], WorkerProject] | None) -> None:
    _Worker.project = build() if build is not None else None
    _Worker.texts = FileTexts(Path(), use_cache=False)
    _Worker.found = {}


def _project(constants: Constants | None) -> WorkerProject:
    project = _Worker.project
    assert project is not None
    if constants is not None:
        project.use_constants(constants)
    return project


def _constants_share(files: list[FileJob]) -> list[tuple[str, FileConstants | None]]:
    """A worker's share of the constants pass: its files read and parsed, and kept."""
    return [(rel, constants_of(_Worker.texts, file, rel)) for file, rel in files]


def _ddl_share(
    files: list[FileJob], constants: Constants | None
) -> list[tuple[str, list[tuple[str, int]] | None]]:
    """A worker's share of the DDL pass; the statements found are kept for the checks."""
    extractor = _project(constants).extractor
    return [
        (rel, ddl_of(file, rel, _Worker.texts, extractor, _Worker.found)) for file, rel in files
    ]


def _check_share(
    files: list[FileJob], constants: Constants | None, code_ddl: Sequence[tuple[str, Origin]]
) -> list[tuple[str, FileResult]]:
    """Check a worker's share of the files; each file's failure stays that file's note."""
    project = _project(constants)
    project.keep_run(_Worker.texts, _Worker.found, code_ddl)
    state = project.schema_state()
    return [(rel, project.check_file(file, rel, state)) for file, rel in files]


def constants_of(texts: FileTexts, file: Path, rel: str) -> FileConstants | None:
    """Return the constants of one file (None: it cannot be parsed), its tree kept in `texts`
    for the passes after this one."""
    try:
        return file_constants(texts.tree(file, rel))
    except (OSError, SyntaxError, ValueError, RecursionError):
        return None
