"""The worker processes of a large check: each file read, parsed and checked in one of them.

Below `PARALLEL_THRESHOLD` files everything runs in the calling process. Above it, a
`WorkerPool` of one process per worker takes a check's passes in turn (every file's
constants, the DDL of the schema from code, the checks) and deals the files out by their path,
so a file goes to the same process in every pass: that process keeps its text, tree and
statements from one pass to the next and parses it once. The passes before the checks are each
language's (`Analyzer.learn`, `Analyzer.code_ddl`), which run their own work with `run`. A
worker that dies (killed, out of memory) leaves its files' answers missing: the caller does what is missing itself, so one
file's crash never loses another file's result.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from multiprocessing.context import BaseContext
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from dbheal_lsp.analysis.file_texts import FileTexts

if TYPE_CHECKING:
    from dbheal_lsp.analysis.file_result import FileResult
    from dbheal_lsp.analysis.project import SchemaState
    from dbheal_lsp.languages.language import Analyzer, Language
    from dbheal_lsp.model import Origin

__all__ = [
    "PARALLEL_THRESHOLD",
    "Learned",
    "WorkerPool",
    "WorkerProject",
    "fewer_collections",
    "worker_project",
    "worker_texts",
]

PARALLEL_THRESHOLD = 48
#: The cyclic garbage collector's thresholds while a check runs (see `fewer_collections`).
CHECK_GC_THRESHOLDS = (100_000, 50, 1_000)

#: A file to work on: its path and how results name it (relative to the project root).
FileJob = tuple[Path, str]
#: What each language's project pre-pass read, by language name (`Analyzer.learned`).
Learned = dict[str, object]
_T = TypeVar("_T")


class WorkerProject(Protocol):
    """What a worker process needs of its project (`analysis.project.Project` is one)."""

    @property
    def languages(self) -> tuple[Language, ...]:
        """The languages it reads."""
        ...

    @property
    def analyzers(self) -> Mapping[str, Analyzer]:
        """Each language's analyzer, by language name."""
        ...

    def keep_run(self, texts: FileTexts, code_ddl: Sequence[tuple[str, Origin]]) -> None:
        """Check the next files with what earlier passes read, and the schema from code that
        `code_ddl` builds."""
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


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Run the block with the cyclic garbage collector's thresholds raised, then restore them.

    A check keeps every file's tree from one pass to the next: with Python's default
    thresholds (700, 10, 10) the collector walks those millions of live nodes again and again,
    a fifth of a cold check's CPU. Young objects are still collected, only less often; forked
    worker processes inherit the thresholds.
    """
    before = gc.get_threshold()
    gc.set_threshold(*CHECK_GC_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*before)


def _context() -> BaseContext:
    return multiprocessing.get_context("fork" if hasattr(os, "fork") else "spawn")


class WorkerPool:
    """`workers` processes, each with the project `build` returns (it must pickle: a
    module-level function or a partial of one; None: a pool for a language's pre-pass only), that
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
        self._told: set[str] = set()  # the languages whose pre-pass the workers have

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        for pool in self._pools:
            pool.shutdown(wait=True, cancel_futures=True)

    def learned(self, name: str, learned: object) -> object | None:
        """What a pass gives the workers of language `name`'s pre-pass (`learned`): all of it
        the first time, None once they have it (they keep it for the run's later passes)."""
        if name in self._told:
            return None
        self._told.add(name)
        return learned

    def check(
        self,
        files: list[FileJob],
        learned: Learned,
        code_ddl: Sequence[tuple[str, Origin]],
        done: Callable[[int], None] | None = None,
    ) -> dict[str, FileResult]:
        """Check `files` (against the schema `code_ddl` builds, when it comes from the code);
        call `done` with the number of files of each share as it finishes. Return the results
        by relative path: those of a dead worker's share are missing."""
        given = {name: self.learned(name, value) for name, value in learned.items()}
        return self.run(_check_share, files, (given, code_ddl), done)

    def run(
        self,
        work: Callable[..., list[tuple[str, _T]]],
        files: Sequence[FileJob],
        args: tuple[Any, ...],
        done: Callable[[int], None] | None = None,
    ) -> dict[str, _T]:
        """Run `work(share, *args)` in each worker (a module-level function: it is pickled by
        name) on its share of `files`; return what the shares give, by relative path (a dead
        worker's are missing). A share's work reads the worker's project and texts with
        `worker_project` and `worker_texts`."""
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
    gc.set_threshold(*CHECK_GC_THRESHOLDS)  # a spawned worker does not inherit them
    project = _Worker.project = build() if build is not None else None
    if project is not None:
        _Worker.texts = FileTexts(Path(), use_cache=False, languages=project.languages)
    else:
        _Worker.texts = FileTexts(Path(), use_cache=False)


def worker_project() -> WorkerProject:
    """The project of this worker process (in a share's work only)."""
    project = _Worker.project
    assert project is not None
    return project


def worker_texts() -> FileTexts:
    """The files this worker process read in the run's passes (in a share's work only)."""
    return _Worker.texts


def _check_share(
    files: list[FileJob], learned: dict[str, object | None], code_ddl: Sequence[tuple[str, Origin]]
) -> list[tuple[str, FileResult]]:
    """Check a worker's share of the files; each file's failure stays that file's note."""
    project = worker_project()
    for name, value in learned.items():
        if value is not None:
            project.analyzers[name].use(value)
    project.keep_run(_Worker.texts, code_ddl)
    state = project.schema_state()
    return [(rel, project.check_file(file, rel, state)) for file, rel in files]
