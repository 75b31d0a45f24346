"""The worker processes of a large check: files checked, or their constants read, in parallel.

Below `PARALLEL_THRESHOLD` files everything runs in the calling process. Above it the files are
dealt out to one process per worker; each worker builds its own project once (with `build`,
given the parent's code schema and constants, so nothing is learned twice) and checks its share.
A worker that dies (killed, out of memory) breaks the pool: the caller checks what is missing
itself, so one file's crash never loses another file's result.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing.context import BaseContext
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from dbheal_lsp.analysis.constants import FileConstants
from dbheal_lsp.analysis.file_constants import file_constants
from dbheal_lsp.analysis.file_scan import MAX_FILE_BYTES
from dbheal_lsp.analysis.pysource import parse_module
from dbheal_lsp.files import FileRefused, python_source, read_regular_file

if TYPE_CHECKING:
    from dbheal_lsp.analysis.file_result import FileResult
    from dbheal_lsp.analysis.project import SchemaState

__all__ = [
    "PARALLEL_THRESHOLD",
    "WorkerProject",
    "check_in_processes",
    "constants_of_files",
    "read_constants",
]

PARALLEL_THRESHOLD = 48

#: A file to work on: its path and how results name it (relative to the project root).
FileJob = tuple[Path, str]


class WorkerProject(Protocol):
    """What a worker process needs of its project (`analysis.project.Project` is one)."""

    def schema_state(self) -> SchemaState:
        """Return the schemas to check against."""
        ...

    def check_file(self, file: Path, rel: str, state: SchemaState) -> FileResult:
        """Read and check one file; never raise."""
        ...


class _Worker:
    # Each worker process builds its own project once; this holder is process-local by design.
    project: WorkerProject | None = None


def _context() -> BaseContext:
    return multiprocessing.get_context("fork" if hasattr(os, "fork") else "spawn")


def check_in_processes(
    build: Callable[[], WorkerProject],
    files: list[FileJob],
    workers: int,
    done: Callable[[int], None] | None = None,
) -> dict[str, FileResult]:
    """Check `files` in `workers` processes, each with the project `build` returns (it must
    pickle: a module-level function or a partial of one); call `done` with the number of files
    of each share as it finishes. Return the results by relative path: those of a share whose
    worker died are missing, for the caller to check itself."""
    chunks = [files[i::workers] for i in range(workers)]
    results: dict[str, FileResult] = {}
    try:
        with ProcessPoolExecutor(
            max_workers=workers, mp_context=_context(), initializer=_init_worker, initargs=(build,)
        ) as pool:
            for chunk_result in pool.map(_check_chunk, chunks):
                for result in chunk_result:
                    results[result.path] = result
                if done:
                    done(len(chunk_result))
    except BrokenProcessPool:
        pass  # a worker died (killed, out of memory): its files are missing from the results
    return results


def _init_worker(build: Callable[[], WorkerProject]) -> None:
    _Worker.project = build()


def _check_chunk(files: list[FileJob]) -> list[FileResult]:
    """Check a worker's share of the files; each file's failure stays that file's note."""
    project = _Worker.project
    assert project is not None
    state = project.schema_state()
    return [project.check_file(file, rel, state) for file, rel in files]


def read_constants(files: list[FileJob], workers: int) -> list[tuple[str, FileConstants | None]]:
    """Return each file's constants (None: it cannot be parsed), in `workers` processes when
    there are many: parsing is most of a cold check's pre-pass."""
    if workers <= 1 or len(files) < PARALLEL_THRESHOLD:
        return constants_of_files(files)
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=_context()) as pool:
            chunks = [files[i::workers] for i in range(workers)]
            return [item for chunk in pool.map(constants_of_files, chunks) for item in chunk]
    except BrokenProcessPool:
        return constants_of_files(files)  # a worker died: read them here


def constants_of_files(files: list[FileJob]) -> list[tuple[str, FileConstants | None]]:
    """Read, parse and learn the constants of `files` (a worker's share, or all of them)."""
    out: list[tuple[str, FileConstants | None]] = []
    for file, rel in files:
        try:
            source = python_source(read_regular_file(file, max_bytes=MAX_FILE_BYTES))
            out.append((rel, file_constants(parse_module(source, str(file)))))
        except (FileRefused, OSError, SyntaxError, ValueError, RecursionError):
            out.append((rel, None))
    return out
