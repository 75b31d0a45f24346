"""The engine's front: check one source text or a whole tree against the project's schema.

`Project` holds everything that outlives one check — the configuration, the read-only live
database, the replayed migrations, SQLite's in-memory copy of the schema, parsed-statement
caches — so that the CLI, the language server, the git hook and the admin page all call the
same two methods: `check_source` and `check_paths`.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import sqlite3
import stat
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dbheal_lsp import __version__
from dbheal_lsp.analysis.constants import FileConstants
from dbheal_lsp.analysis.drift import Drift, compute_drift, drift_issues, trigger_origins
from dbheal_lsp.analysis.file_constants import file_constants
from dbheal_lsp.analysis.migrations import (
    MigrationCache,
    MigrationResult,
    migration_files,
    schema_from_ddl,
)
from dbheal_lsp.analysis.project_constants import (
    ProjectConstants,
    classes_of_test_code,
    project_constants,
)
from dbheal_lsp.analysis.schema import (
    LiveDatabase,
    Schema,
    SchemaError,
    master_digest,
    open_read_only,
    oracle_connection,
)
from dbheal_lsp.config import DEFAULT_EXCLUDE, Config, ConfigError, unmatched_pattern_note
from dbheal_lsp.files import (
    MB,
    FileRefused,
    SourceNotText,
    atomic_write,
    is_inside,
    project_cache_dir,
    python_source,
    read_regular_file,
    text_hash,
)
from dbheal_lsp.globs import GlobSet
from dbheal_lsp.model import CheckResult, FileNote, Issue, IssueType, Origin, Span

if TYPE_CHECKING:
    # Imported where used: a re-check served from the cache never needs the checks.
    from dbheal_lsp.analysis.checks import StatementChecker
    from dbheal_lsp.analysis.databases import DatabaseRouter, OtherDatabases
    from dbheal_lsp.analysis.extract import Extractor
    from dbheal_lsp.analysis.statement import Statement

# 8: where arguments come from; 7: which calls fit which signature; 5: PARAMETER_MISMATCH
CACHE_FORMAT = 10
_MIGRATIONS_ENTRY = "::migrations"
MAX_FILE_BYTES = 5 * MB
MAX_MIGRATION_BYTES = 50 * MB  # seed data makes migrations larger than code files
MAX_CACHE_BYTES = 512 * MB
PARALLEL_THRESHOLD = 48
# Each file's own time budget (seconds, checked between statements); the variable overrides it.
DEFAULT_FILE_BUDGET = 10.0
FILE_BUDGET_VARIABLE = "DBHEAL_FILE_BUDGET"

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class FileResult:
    """What checking one file found."""

    path: str
    issues: tuple[Issue, ...] = ()
    notes: tuple[FileNote, ...] = ()
    statements: int = 0
    over_budget: bool = False  # stopped at the per-file budget: not to be cached
    partly: int = 0  # of the statements, those only partly checked (an unknown name or SQL)


@dataclass(frozen=True)
class _Checked:
    """What checking a module's blocks gave (see `Project._block_issues`)."""

    issues: tuple[Issue, ...]
    notes: tuple[FileNote, ...]  # statements that failed
    count: int  # statements checked (or answered from unchanged blocks)
    total: int | None  # statements found (None: the budget ran out before all were found)
    stopped_at: int | None  # the line of the first statement left unchecked by the budget
    partly: int = 0  # of those checked, the statements only partly checked


@dataclass(frozen=True)
class SchemaState:
    """The schemas a check runs against, and how they differ."""

    schema: Schema  # what the code runs against: the live database, else migrations, else code
    expected: Schema | None  # what the migrations define
    drift: Drift
    migrations: MigrationResult | None
    key: str  # changes whenever any of the above changes


class Project:
    """One project root: its configuration, schema sources and caches."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.live = LiveDatabase(config.database) if config.database else None
        # Migration files may not link out of the project, unless the user's own settings put
        # the folder itself outside it.
        confined = config.migrations is None or is_inside(config.migrations, config.root)
        self.migration_cache = MigrationCache(config.root if confined else None)
        self._code_schema: Schema | None = None
        self._checker: StatementChecker | None = None
        self._checker_key = ""
        # Issues of unchanged top-level functions, positions relative to their first line.
        self._blocks: dict[str, tuple[tuple[Issue, ...], int, int]] = {}
        # What each file assigns to attributes and passes to functions (analysis/constants.py);
        # read from every file of the project before the first check.
        self._file_constants: dict[str, FileConstants] | None = None
        # The digest of the text each file's constants were read from: a file checked
        # unchanged since (every file of `dbheal check`) is not walked again.
        self._constants_read: dict[str, str] = {}
        self._constants = ProjectConstants()
        # A warm `dbheal check` of unchanged files knows the merged constants' digest from the
        # cache and merges them only if a file must be checked again (see learn_constants).
        self._constants_digest: str | None = None
        self._pending_constants: Callable[[], None] | None = None

    @property
    def constants(self) -> ProjectConstants:
        """What the project's names and parameters can hold (analysis/constants.py)."""
        pending, self._pending_constants = self._pending_constants, None
        if pending is not None:
            pending()
        return self._constants

    def constants_digest(self) -> str:
        """Return the digest of `constants` (known without merging them on a warm check)."""
        if self._pending_constants is not None and self._constants_digest is not None:
            return self._constants_digest
        return self.constants.digest()

    @cached_property
    def extractor(self) -> Extractor:
        """The statement finder, configured with the project's call names and helpers."""
        from dbheal_lsp.analysis.calls import DEFAULT_CALLS
        from dbheal_lsp.analysis.extract import Extractor
        from dbheal_lsp.analysis.filecontext import ExtractOptions

        return Extractor(
            ExtractOptions(
                calls=DEFAULT_CALLS | frozenset(self.config.extra_calls),
                identifier_helpers=frozenset(self.config.identifier_helpers),
                safe_helpers=frozenset(self.config.safe_helpers),
                shapes=self.config.calls,
                receivers=tuple((r, d.path) for d in self.config.databases for r in d.receivers),
                constants=self.constants,
            )
        )

    def learn_constants(self, files: Iterable[Path], *, use_cache: bool = False) -> None:
        """Read what every file in `files` assigns and passes (see analysis/constants.py).

        With `use_cache`, a file whose content is unchanged since the last check is answered
        from the user's cache folder: a warm `dbheal check` parses no file at all.
        """
        from dbheal_lsp.files import FileRefused, read_regular_file

        paths: dict[str, Path] = {}
        read: dict[str, str] = {}
        for file in files:
            rel = self.config.relative(file)
            try:
                source = python_source(read_regular_file(file, max_bytes=MAX_FILE_BYTES))
            except (FileRefused, OSError, ValueError):
                continue  # such a file gives a note when it is checked
            paths[rel], read[rel] = file, text_hash(source)
        merged = _ConstantsCache.merged_for_project(self.config.root) if use_cache else None
        files_key = _files_key(read)
        known = merged.get("merged", files_key) if merged is not None else None
        if isinstance(known, str):
            # Nothing changed since the last pass: the per-file cache is read, and the
            # constants merged, only if a file must be checked.
            self._constants_read = read
            self._constants_digest = known
            self._pending_constants = lambda: self._learned(paths, read, use_cache)
            return
        self._learned(paths, read, use_cache)
        if merged is not None:  # the digest of what was merged, for the next warm pass
            merged.put("merged", files_key, self._constants.digest())
            merged.save({"merged"})

    def _learned(
        self,
        paths: dict[str, Path],
        read: dict[str, str],
        use_cache: bool,
    ) -> None:
        """Learn the constants of the files `paths` (whose texts have the digests `read`):
        from the per-file cache where it has them, else by reading the files."""
        from dbheal_lsp.analysis.constants_json import constants_from_json, constants_to_json

        store = _ConstantsCache.for_project(self.config.root) if use_cache else None
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
        for rel, constants in self._read_constants(todo):
            if constants is None:
                read.pop(rel, None)  # not Python: it gives a note when it is checked
                continue
            found[rel] = constants
            if store is not None:
                store.put(rel, read[rel], constants_to_json(constants))
        if store is not None:
            store.save(set(found))
        self._use_constants(found, read)

    def _read_constants(
        self, files: list[tuple[Path, str]]
    ) -> Iterable[tuple[str, FileConstants | None]]:
        """Yield each file's constants (None: it cannot be parsed), in worker processes when
        there are many: parsing is most of a cold check's pre-pass."""
        workers = self.config.jobs or (os.cpu_count() or 1)
        if workers <= 1 or len(files) < PARALLEL_THRESHOLD:
            return _constants_of_chunk(files)
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor
        from concurrent.futures.process import BrokenProcessPool

        context = multiprocessing.get_context("fork" if hasattr(os, "fork") else "spawn")
        try:
            with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
                chunks = [files[i::workers] for i in range(workers)]
                return [item for chunk in pool.map(_constants_of_chunk, chunks) for item in chunk]
        except BrokenProcessPool:
            return _constants_of_chunk(files)  # a worker died: read them here

    def _use_constants(self, found: dict[str, FileConstants], read: dict[str, str]) -> None:
        merged = project_constants(found.values(), classes_of_test_code(found))
        self._file_constants = found
        self._constants_read = read
        self._pending_constants = self._constants_digest = None
        if merged.digest() != self._constants.digest():
            self._constants = merged
            self.__dict__.pop("extractor", None)  # rebuilt with them on next use
            self._blocks.clear()

    def _note_constants(self, path: str, source: str, tree: ast.Module) -> None:
        """Keep the project's constants up to date with the text of `path` being checked."""
        self.constants  # noqa: B018 - merged now if a warm pass left them to merge
        if self._file_constants is None:
            self.learn_constants(self.python_files([self.config.root]))
        assert self._file_constants is not None
        digest = text_hash(source)
        if self._constants_read.get(path) == digest:
            return  # read from this very text already
        mine = file_constants(tree)
        read = {**self._constants_read, path: digest}
        if self._file_constants.get(path) != mine:
            self._use_constants({**self._file_constants, path: mine}, read)
        else:
            self._constants_read = read

    @cached_property
    def other_databases(self) -> OtherDatabases:
        """The databases besides the main one that statements run on (issue 11, pattern 5)."""
        from dbheal_lsp.analysis.databases import OtherDatabases

        return OtherDatabases(self.config)

    # --- schema -------------------------------------------------------------------------------

    def schema_state(self) -> SchemaState:
        """Return the current schemas; raise SchemaError when the database cannot be read."""
        migrations = (
            self.migration_cache.get(self.config.migrations) if self.config.migrations else None
        )
        expected = migrations.schema if migrations and not migrations.schema.is_empty else None
        if self.live is not None:
            schema = self.live.schema()
        elif expected is not None:
            schema = expected
        else:
            schema = self._code_schema or Schema.empty()
        drift = Drift()
        if expected is not None and migrations is not None and self.live is not None:
            triggers = trigger_origins(
                [(m.sql, m.origin) for m in migrations.statements if m.kind == "create_trigger"]
            )
            drift = compute_drift(schema, expected, triggers)
        key = f"{schema.version}:{expected.version if expected else ''}:{self.config.fingerprint()}"
        key += f":{self.other_databases.key()}"
        return SchemaState(schema, expected, drift, migrations, key)

    def set_code_schema(self, ddl: Sequence[tuple[str, Origin]]) -> None:
        """Use the DDL found in code as the schema when there is no database nor migrations."""
        self._code_schema = schema_from_ddl(ddl) if ddl else None
        self._checker = None

    def needs_code_schema(self) -> bool:
        """Return whether the schema must come from DDL in the code."""
        return self.live is None and self.config.migrations is None

    def checker(self, state: SchemaState) -> StatementChecker:
        """Return the statement checker for `state`, rebuilt only when the schema changed."""
        if self._checker is None or self._checker_key != state.key:
            from dbheal_lsp.analysis.checks import CheckSettings, StatementChecker

            oracle = oracle_connection(state.schema, check_same_thread=False)
            settings = CheckSettings(
                severities=dict(self.config.severity),
                root=self.config.root.resolve(),
                dialect=self.config.dialect,
            )
            self._checker = StatementChecker(
                state.schema, state.expected, state.drift, oracle, settings
            )
            self._checker_key = state.key
        return self._checker

    # --- one file -----------------------------------------------------------------------------

    def statements(self, source: str, path: str = "<string>") -> tuple[Statement, ...]:
        """Return the SQL statements of `source`; raise SyntaxError if it is not valid Python."""
        if not self.extractor.might_contain_sql(source):
            return ()
        return self.extractor.extract(source, _parse_python(source, path))

    def check_source(
        self,
        path: str,
        source: str,
        state: SchemaState | None = None,
        *,
        budget: float | None = None,
    ) -> FileResult:
        """Return the issues of one Python file whose text is `source`; never raise for the text.

        `path` is how issues name the file (relative to the root for files of the project).
        A syntax error gives a note, not an exception: the editor's half-typed file is normal.
        So does any other failure on a stranger's text, and running past `budget` seconds
        (default: `file_budget()`, checked between statements): the statements checked so far
        keep their issues and the note says where checking stopped. Only a schema that cannot
        be read (SchemaError) is raised: it is the project's problem, not this file's.
        """
        seconds = budget if budget is not None else _budget_or_default()
        deadline = time.monotonic() + seconds
        try:
            return self._check_text(path, source, state, deadline, seconds)
        except SchemaError:
            raise
        except Exception as exc:  # any failure on a stranger's text: see the docstring
            return FileResult(path, (), (FileNote(path, f"not checked: {_failure(exc)}"),), 0)

    def _check_text(
        self,
        path: str,
        source: str,
        state: SchemaState | None,
        deadline: float,
        seconds: float,
    ) -> FileResult:
        try:
            if not self.extractor.might_contain_sql(source):
                return FileResult(path)
            tree = _parse_python(source, path)
        except SyntaxError as exc:
            line = exc.lineno or 1
            note = FileNote(
                path, f"not checked: Python syntax error: {exc.msg} (line {line})", line
            )
            return FileResult(path, (), (note,), 0)
        except ValueError as exc:
            return FileResult(path, (), (FileNote(path, f"not checked: {exc}"),), 0)
        self._note_constants(path, source, tree)
        state = state or self.schema_state()
        # Each statement against the database its connection opens (analysis/databases.py).
        checker = self.other_databases.router(self.checker(state), path)
        checked = self._block_issues(path, source, tree, state, checker, deadline)
        notes = list(checked.notes)
        if checked.stopped_at is not None:
            line = checked.stopped_at
            of = f" of {checked.total}" if checked.total is not None else ""
            notes.append(
                FileNote(
                    path,
                    f"not checked: over its {seconds:g} s budget from line {line} on "
                    f"({checked.count}{of} statements checked)",
                    line,
                )
            )
        issues = tuple(_unique_fingerprints(_dedupe(checked.issues)))
        # `# dbheal: ignore[...]` comments, applied here so that every door honours them.
        from dbheal_lsp.suppress import apply_suppressions

        issues, ignore_notes = apply_suppressions(path, source, issues)
        notes.extend(ignore_notes)
        return FileResult(
            path,
            issues,
            tuple(notes),
            checked.count,
            checked.stopped_at is not None,
            checked.partly,
        )

    def _block_issues(
        self,
        path: str,
        source: str,
        tree: ast.Module,
        state: SchemaState,
        checker: StatementChecker | DatabaseRouter,
        deadline: float = float("inf"),
    ) -> _Checked:
        """Check the module's top-level blocks, reusing the results of unchanged functions.

        An editor re-checks a file on every save, and most saves change one function: a
        function or class whose text, module-level context and schema are unchanged keeps its
        issues, moved by as many lines as it moved. Only ast.parse still sees the whole file.

        Past `deadline` (time.monotonic) no further statement is checked; a statement that
        fails gives a note and the others are still checked. Blocks not fully checked are not
        remembered.
        """
        from dbheal_lsp.analysis.positions import source_lines

        lines = source_lines(source)
        context = hashlib.blake2b(digest_size=16)
        context.update(f"{path}\x00{state.key}".encode("utf-8", "surrogatepass"))
        blocks: list[tuple[ast.stmt, int, int]] = []
        for node in tree.body:
            start = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
            end = node.end_lineno or node.lineno
            blocks.append((node, start, end))
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                # Module-level code (constants, queries held in names) is every block's context.
                context.update("".join(lines[start - 1 : end]).encode("utf-8", "surrogatepass"))
        module_key = context.hexdigest()
        issues: list[Issue] = []
        notes: list[FileNote] = []
        count = 0
        partly = 0
        fresh: dict[int, tuple[str, int, int]] = {}  # id(node) -> (cache key, start, end)
        todo: list[ast.stmt] = []
        for node, start, end in blocks:
            key = ""
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                text = "".join(lines[start - 1 : end]).encode("utf-8", "surrogatepass")
                key = module_key + hashlib.blake2b(text, digest_size=16).hexdigest()
                cached = self._blocks.get(key)
                if cached is not None:
                    issues.extend(_shifted(i, start - 1) for i in cached[0])
                    count += cached[1]
                    partly += cached[2]
                    continue
            fresh[id(node)] = (key, start, end)
            todo.append(node)
        from dbheal_lsp.analysis.extract import OutOfTime
        from dbheal_lsp.analysis.statement import unknown_slots

        stopped_at: int | None = None
        try:
            statements = self.extractor.extract(source, tree, todo, lines, deadline) if todo else ()
        except OutOfTime:  # its budget went on reading the file's strings: none was checked
            statements, stopped_at = (), fresh[id(todo[0])][1]
        total = count + len(statements) if stopped_at is None else None
        from dbheal_lsp.analysis.databases import DatabaseRouter

        if isinstance(checker, DatabaseRouter):
            checker.expect(statements)
        found: dict[int, tuple[list[Issue], int, int]] = {id(n): ([], 0, 0) for n in todo}
        spans = [(fresh[id(n)][1], fresh[id(n)][2], id(n)) for n in todo]
        # Blocks with a failed or unchecked statement (all of them when extraction was cut).
        unfinished = {id(n) for n in todo} if stopped_at is not None else set()
        for statement in statements:
            owner = next((k for s, e, k in spans if s <= statement.span.line <= e), None)
            if stopped_at is None and time.monotonic() >= deadline:
                stopped_at = statement.span.line
            if stopped_at is not None:
                if owner is not None:
                    unfinished.add(owner)
                continue
            try:
                result = checker.check(statement, path)
            except SchemaError:
                raise
            except Exception as exc:  # one statement's failure (RecursionError included)
                line = statement.span.line
                why = f"not checked: the statement at line {line}: {_failure(exc)}"
                notes.append(FileNote(path, why, line))
                if owner is not None:
                    unfinished.add(owner)
                continue
            issues.extend(result)
            count += 1
            unknown = 1 if unknown_slots(statement) else 0
            partly += unknown
            if owner is not None:
                mine, n, p = found[owner]
                found[owner] = (mine + result, n + 1, p + unknown)
        if len(self._blocks) > 20_000:
            self._blocks.clear()  # a bound, not an LRU: rebuilding is cheap
        for node in todo:
            key, start, _ = fresh[id(node)]
            if key and id(node) not in unfinished:
                mine, n, p = found[id(node)]
                self._blocks[key] = (tuple(_shifted(i, 1 - start) for i in mine), n, p)
        return _Checked(tuple(issues), tuple(notes), count, total, stopped_at, partly)

    # --- a tree -------------------------------------------------------------------------------

    def _covers_root(self, paths: Sequence[Path]) -> bool:
        root = self.config.root.resolve()
        return any(Path(p).resolve() == root for p in paths)

    def python_files(self, paths: Iterable[Path]) -> list[Path]:
        """Return the Python files under `paths`, skipping .venv, .git, node_modules, excludes."""
        return self.scan_files(paths)[0]

    def scan_files(self, paths: Iterable[Path]) -> tuple[list[Path], list[FileNote]]:
        """Return the Python files under `paths` and a note for each `*.py` left out because it
        is not a regular file (a FIFO, a device) or is a link out of the project.

        `include` and `exclude` are globs of dbheal_lsp/globs.py (exclude wins; an excluded
        folder is not entered). When the walk covers the project root, each pattern that
        matched no file gets a note (`config.unmatched_pattern_note`): front doors show it as
        a warning about the settings. Files named in `paths` are taken whatever the patterns say.

        Links to folders are never followed (`os.walk` with followlinks=False): a repository's
        link to `/` or to the user's home must not turn the scan into a walk of the machine.
        """
        found: list[Path] = []
        notes: list[FileNote] = []
        root = self.config.root
        # One glob dialect for both (dbheal_lsp/globs.py), compiled once for the whole walk.
        include, exclude = GlobSet.of(self.config.include), GlobSet.of(self.config.exclude)
        used: dict[str, set[str]] = {"include": set(), "exclude": set()}
        whole_project = False  # only a walk of the root can tell that a pattern matches nothing
        for given in paths:
            path = Path(os.path.abspath(given))
            if not path.is_dir():
                # A file named by the caller (the CLI, the watcher, the hook): the same rules,
                # so a watched link to a file outside the project is not read either.
                if not os.path.lexists(path):
                    continue
                skipped = _not_scanned(path, root)
                if skipped:
                    notes.append(FileNote(self.config.relative(path), f"skipped: {skipped}"))
                else:
                    found.append(path.resolve())
                continue
            path = path.resolve()
            whole_project = whole_project or path == root
            for folder, dirs, files in os.walk(path, followlinks=False):
                rel_parts = _rel_parts(Path(folder), root)
                if any(part in DEFAULT_EXCLUDE for part in rel_parts):
                    dirs[:] = []  # a walk that starts inside .venv or .git checks nothing
                    continue
                base = "".join(part + "/" for part in rel_parts)
                kept: list[str] = []
                for name in sorted(dirs):
                    # Excluded folders are pruned here, so the walk never enters them.
                    hits = exclude.matching(base + name, is_dir=True)
                    used["exclude"].update(hits)
                    if not hits and name not in DEFAULT_EXCLUDE:
                        kept.append(name)
                dirs[:] = kept
                for name in sorted(files):
                    rel = base + name
                    if not name.endswith(".py"):
                        if len(used["exclude"]) < len(exclude):  # `exclude = ["*.pyc"]` is used
                            used["exclude"].update(exclude.matching(rel))
                        continue
                    hits = exclude.matching(rel)
                    if hits:  # exclude wins over include
                        used["exclude"].update(hits)
                        continue
                    if include:
                        hits = include.matching(rel)
                        if not hits:
                            continue
                        used["include"].update(hits)
                    file = Path(folder) / name
                    skipped = _not_scanned(file, root)
                    if skipped:
                        notes.append(FileNote(self.config.relative(file), f"skipped: {skipped}"))
                    else:
                        found.append(file)
        if whole_project:
            for key, globs in (("include", include), ("exclude", exclude)):
                for pattern in dict.fromkeys(globs.patterns):
                    if pattern not in used[key]:
                        notes.append(unmatched_pattern_note(key, pattern))
        return found, notes

    def check_paths(
        self,
        paths: Sequence[Path],
        *,
        use_cache: bool | None = None,
        jobs: int | None = None,
        progress: Progress | None = None,
    ) -> CheckResult:
        """Return the issues of every Python file under `paths` (and of the migrations there)."""
        files, notes = self.scan_files(paths)
        # Every file of the project, not only those checked, may pass a function its literals.
        everything = self._covers_root(paths)
        use_cache = self.config.cache if use_cache is None else use_cache
        self.learn_constants(
            files if everything else self.python_files([self.config.root]), use_cache=use_cache
        )
        state: SchemaState | None = None
        if self.needs_code_schema():
            self.set_code_schema(self._ddl_in(files))
            state = self.schema_state()
        cache = None
        if use_cache:
            # Keyed without reading the schemas: an unchanged tree is answered from the cache.
            key = state.key if state is not None else self.quick_key()
            cache = ResultCache.for_project(self.config.root, key + self.constants_digest())
        results: dict[str, FileResult] = {}
        todo: list[tuple[Path, str, str]] = []  # (file, relative path, content hash)
        for file in files:
            rel = self.config.relative(file)
            try:
                data = read_regular_file(file, max_bytes=MAX_FILE_BYTES)
            except FileRefused as exc:
                notes.append(FileNote(rel, f"skipped: {exc.reason}"))
                continue
            except OSError as exc:
                notes.append(FileNote(rel, f"skipped: cannot read ({exc.strerror or exc})"))
                continue
            digest = hashlib.blake2b(data, digest_size=16).hexdigest()
            cached = cache.get(rel, digest) if cache else None
            if cached is not None:
                results[rel] = cached
            else:
                todo.append((file, rel, digest))
        cached_count = len(results)
        if todo:
            state = state or self.schema_state()
            fresh = self._check_files(
                [(f, r) for f, r, _ in todo], state, jobs, progress, len(files)
            )
            for (_, rel, digest), result in zip(todo, fresh, strict=True):
                results[rel] = result
                if cache is not None and not result.over_budget:  # a cut check is not the answer
                    cache.put(rel, digest, result)
        migrations = self._migrations_result(paths, state, cache)
        if cache is not None:
            cache.save(self.config.root)
        issues = [i for r in results.values() for i in r.issues]
        notes.extend(n for r in results.values() for n in r.notes)
        issues.extend(migrations.issues)
        migration_files = migrations.statements if migrations.issues else 0
        return CheckResult(
            issues=tuple(sorted(issues, key=_issue_order)),
            notes=tuple(notes),
            files_checked=len(files) + migration_files,
            statements_checked=sum(r.statements for r in results.values()),
            statements_partly=sum(r.partly for r in results.values()),
            cached_files=cached_count,
        )

    def _check_files(
        self,
        files: list[tuple[Path, str]],
        state: SchemaState,
        jobs: int | None,
        progress: Progress | None,
        total: int,
    ) -> list[FileResult]:
        """Check `files`, each on its own budget; one file's failure is a note on that file."""
        file_budget()  # a bad $DBHEAL_FILE_BUDGET is the user's one-line error, before any work
        workers = jobs or self.config.jobs or (os.cpu_count() or 1)
        done_before = total - len(files)
        if workers <= 1 or len(files) < PARALLEL_THRESHOLD:
            out = []
            for i, (file, rel) in enumerate(files):
                out.append(self._check_file(file, rel, state))
                if progress:
                    progress(done_before + i + 1, total)
            return out
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor
        from concurrent.futures.process import BrokenProcessPool

        chunks = [files[i::workers] for i in range(workers)]
        results: dict[str, FileResult] = {}

        context = multiprocessing.get_context("fork" if hasattr(os, "fork") else "spawn")
        self.constants  # noqa: B018 - merged now: the workers are given every file's
        try:
            with ProcessPoolExecutor(
                max_workers=workers,
                mp_context=context,
                initializer=_init_worker,
                initargs=(
                    self.config,
                    self._code_schema,
                    self._file_constants or {},
                    self._constants_read,
                ),
            ) as pool:
                count = done_before
                for chunk_result in pool.map(_check_chunk, chunks):
                    for result in chunk_result:
                        results[result.path] = result
                    count += len(chunk_result)
                    if progress:
                        progress(count, total)
        except BrokenProcessPool:
            pass  # a worker died (killed, out of memory): its files are checked here, one by one
        return [results.get(rel) or self._check_file(file, rel, state) for file, rel in files]

    def _check_file(self, file: Path, rel: str, state: SchemaState) -> FileResult:
        """Read and check one file; what cannot be read or checked is a note, never a raise."""
        try:
            data = read_regular_file(file, max_bytes=MAX_FILE_BYTES)
        except FileRefused as exc:
            return FileResult(rel, (), (FileNote(rel, f"skipped: {exc.reason}"),))
        except OSError as exc:
            return FileResult(rel, (), (FileNote(rel, f"skipped: cannot read ({exc.strerror})"),))
        if b"\x00" in data[:8192]:
            return FileResult(rel, (), (FileNote(rel, "skipped: binary file"),))
        try:
            source = python_source(data)  # as Python decodes it: BOM, coding line, else UTF-8
        except SourceNotText as exc:
            return FileResult(rel, (), (FileNote(rel, f"skipped: {exc.reason}"),))
        return self.check_source(rel, source, state)

    def _ddl_in(self, files: Sequence[Path]) -> list[tuple[str, Origin]]:
        ddl: list[tuple[str, Origin]] = []
        for file in files:
            try:
                source = python_source(read_regular_file(file, max_bytes=MAX_FILE_BYTES))
                statements = self.statements(source, str(file))
            except (OSError, UnicodeDecodeError, SyntaxError, ValueError):
                continue
            for statement in statements:
                text = statement.literal_text
                if text.lstrip().upper().startswith("CREATE") or (
                    statement.is_script and "CREATE" in text.upper()
                ):
                    ddl.append((text, Origin(self.config.relative(file), statement.span.line)))
        return ddl

    def _migrations_result(
        self, paths: Sequence[Path], state: SchemaState | None, cache: ResultCache | None
    ) -> FileResult:
        """The issues of the migration files when they are checked; `statements` counts files."""
        folder = self.config.migrations
        if folder is None:
            return FileResult(_MIGRATIONS_ENTRY)
        resolved = folder.resolve()
        if not any(resolved == p.resolve() or p.resolve() in resolved.parents for p in paths):
            return FileResult(_MIGRATIONS_ENTRY)
        cached = cache.get(_MIGRATIONS_ENTRY, "") if cache is not None else None
        if cached is not None:
            return cached
        state = state or self.schema_state()
        issues = self._migration_issues(state)
        files = len(state.migrations.files) if state.migrations else 0
        result = FileResult(_MIGRATIONS_ENTRY, tuple(issues), (), files)
        if cache is not None:
            cache.put(_MIGRATIONS_ENTRY, "", result)
        return result

    def quick_key(self) -> str:
        """Return a key that changes with the schemas, read without building the schemas.

        A hash of the live database's `sqlite_master` (type, name, table and SQL of every
        object) and of every migration file's name and content: the schema's content, not its
        counters or file times, so a database rebuilt differently after as many schema changes
        (same `schema_version`, maybe the same inode) never gets the old results. Both are
        small: reading them is cheap next to checking.
        """
        digest = hashlib.blake2b(digest_size=20)
        digest.update(self.config.fingerprint().encode())
        digest.update(self.other_databases.key().encode())
        if self.live is not None:
            try:
                conn = open_read_only(self.live.path)
                try:
                    digest.update(b"\x00db\x00" + master_digest(conn).encode())
                finally:
                    conn.close()
            except (OSError, sqlite3.Error, SchemaError):
                return self.schema_state().key  # let the full read raise its clear error
        if self.config.migrations is not None:
            try:
                for file in migration_files(self.config.migrations):
                    data = read_regular_file(file, max_bytes=MAX_MIGRATION_BYTES)
                    name = self.config.relative(file).encode("utf-8", "surrogatepass")
                    digest.update(b"\x00m\x00" + name + b"\x00")
                    digest.update(hashlib.blake2b(data, digest_size=20).digest())
            except OSError:
                return self.schema_state().key  # the replay reports what is wrong with it
        return digest.hexdigest()

    def _migration_issues(self, state: SchemaState) -> list[Issue]:
        """SCHEMA_DRIFT and broken statements of the migrations."""
        if state.migrations is None:
            return []
        lines: dict[str, list[str]] = {}
        for file in state.migrations.files:
            try:
                lines[str(file)] = Path(file).read_text(encoding="utf-8").splitlines()
            except (OSError, UnicodeDecodeError):
                continue
        issues = [self._relative_issue(i) for i in drift_issues(state.drift, lines)]
        for error in state.migrations.errors:
            issues.append(
                Issue(
                    type=IssueType.SQL_SYNTAX,
                    severity=self.config.severity.get(
                        IssueType.SQL_SYNTAX, IssueType.SQL_SYNTAX.default_severity
                    ),
                    path=self.config.relative(Path(error.path)),
                    span=Span(max(error.line, 1), 1, max(error.line, 1), 2),
                    message=f"this migration fails: {error.message}",
                    fingerprint=hashlib.sha1(str(error).encode()).hexdigest()[:16],
                )
            )
        return [replace(i, severity=self.config.severity.get(i.type, i.severity)) for i in issues]

    def _relative_issue(self, issue: Issue) -> Issue:
        origin = issue.origin
        if origin is not None:
            origin = Origin(self.config.relative(Path(origin.path)), origin.line)
        return replace(issue, path=self.config.relative(Path(issue.path)), origin=origin)


def _parse_python(source: str, path: str) -> ast.Module:
    """Return the module's tree; SyntaxError, or ValueError for what Python cannot parse at all.

    A 10,000-term `+` chain or thousands of nested brackets exhaust the parser's recursion
    (RecursionError, MemoryError): for dbheal that is one more file it cannot read.
    """
    from dbheal_lsp.analysis.pysource import parse_module

    return parse_module(source, path)


def file_budget() -> float:
    """Return the seconds one file may take to check: $DBHEAL_FILE_BUDGET, else 10.

    Raise ConfigError when the variable is set to anything but a number of seconds >= 0.
    """
    raw = os.environ.get(FILE_BUDGET_VARIABLE, "").strip()
    if not raw:
        return DEFAULT_FILE_BUDGET
    try:
        seconds = float(raw)
    except ValueError:
        seconds = -1.0
    if not seconds >= 0:  # also refuses nan
        raise ConfigError(f"{FILE_BUDGET_VARIABLE} must be a number of seconds, not {raw!r}")
    return seconds


def _budget_or_default() -> float:
    try:
        return file_budget()
    except ConfigError:
        # The editor's entry never fails on a setting; `check_paths` reports it.
        return DEFAULT_FILE_BUDGET


def _failure(exc: BaseException) -> str:
    """One line saying why a file or statement could not be checked."""
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    if isinstance(exc, MemoryError):
        return "out of memory"
    if isinstance(exc, UnicodeError):
        return "text that is not valid Unicode"
    detail = " ".join(str(exc).split())[:200]
    return f"internal error ({type(exc).__name__}: {detail})" if detail else type(exc).__name__


def _shifted(issue: Issue, delta: int) -> Issue:
    """Return `issue` moved `delta` lines down (its spans and its statement's)."""
    if delta == 0:
        return issue

    def move(span: Span | None) -> Span | None:
        if span is None:
            return None
        return Span(span.line + delta, span.column, span.end_line + delta, span.end_column)

    return replace(
        issue,
        span=move(issue.span) or issue.span,
        statement_span=move(issue.statement_span),
        call_span=move(issue.call_span),
    )


def _not_scanned(file: Path, root: Path) -> str:
    """Return why the scan leaves `file` out ("" if it does not): a link whose target is
    outside `root`, or anything but a regular file. Costs one lstat (two for a link)."""
    try:
        info = os.lstat(file)
        if stat.S_ISLNK(info.st_mode):
            if not is_inside(file, root):
                return "links out of the project"
            info = os.stat(file)
    except OSError as exc:
        return f"cannot read ({exc.strerror or exc})"
    return "" if stat.S_ISREG(info.st_mode) else "not a regular file"


def _rel_parts(folder: Path, root: Path) -> tuple[str, ...]:
    try:
        return folder.resolve().relative_to(root.resolve()).parts
    except ValueError:
        return folder.parts[-1:]


def _issue_order(issue: Issue) -> tuple[Any, ...]:
    return (issue.path, issue.span.line, issue.span.column, issue.type.value)


def _dedupe(issues: Iterable[Issue]) -> Iterator[Issue]:
    seen: set[tuple[Any, ...]] = set()
    for issue in issues:
        key = (issue.type, issue.span, issue.message)
        if key not in seen:
            seen.add(key)
            yield issue


def _unique_fingerprints(issues: Iterable[Issue]) -> Iterator[Issue]:
    """Number repeated fingerprints (the same finding twice in one file) in source order."""
    counts: dict[str, int] = {}
    for issue in issues:
        n = counts.get(issue.fingerprint, 0)
        counts[issue.fingerprint] = n + 1
        yield issue if n == 0 else replace(issue, fingerprint=f"{issue.fingerprint}-{n}")


# --- worker processes ---------------------------------------------------------------------------
# Each worker process builds its own Project once; this holder is process-local by design.


class _Worker:
    project: Project | None = None


def _init_worker(
    config: Config,
    code_schema: Schema | None,
    constants: dict[str, FileConstants],
    read: dict[str, str],
) -> None:
    project = Project(config)
    project._code_schema = code_schema
    project._use_constants(constants, read)
    _Worker.project = project


def _files_key(read: Mapping[str, str]) -> str:
    """Return a digest of which files were read with which content."""
    text = "\n".join(f"{rel}\x00{digest}" for rel, digest in sorted(read.items()))
    return text_hash(text)


def _constants_of_chunk(files: list[tuple[Path, str]]) -> list[tuple[str, FileConstants | None]]:
    """Read, parse and learn the constants of a worker's share of the files."""
    from dbheal_lsp.files import FileRefused, read_regular_file

    out: list[tuple[str, FileConstants | None]] = []
    for file, rel in files:
        try:
            source = python_source(read_regular_file(file, max_bytes=MAX_FILE_BYTES))
            out.append((rel, file_constants(_parse_python(source, str(file)))))
        except (FileRefused, OSError, SyntaxError, ValueError, RecursionError):
            out.append((rel, None))
    return out


def _check_chunk(files: list[tuple[Path, str]]) -> list[FileResult]:
    """Check a worker's share of the files; each file's failure stays that file's note."""
    project = _Worker.project
    assert project is not None
    state = project.schema_state()
    return [project._check_file(file, rel, state) for file, rel in files]


# --- the result cache ---------------------------------------------------------------------------


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


class _ConstantsCache:
    """What each file gave the constants pre-pass, by content hash, in the user's cache folder
    (like ResultCache: never in the project, whose cache a stranger could have written)."""

    def __init__(self, file: Path | None) -> None:
        self.file = file
        self.key = f"{CACHE_FORMAT}:{__version__}:constants"
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
    def for_project(cls, root: Path, name: str = "constants.json") -> _ConstantsCache:
        """Return the constants cache of the project at `root` (one that keeps nothing when
        there is no user cache folder)."""
        try:
            return cls(project_cache_dir(root) / name)
        except OSError:
            return cls(None)

    @classmethod
    def merged_for_project(cls, root: Path) -> _ConstantsCache:
        """Return the small cache of the merged constants' digest, under the key "merged" by
        the digest of every file's content (read without the per-file cache's size)."""
        return cls.for_project(root, "constants-merged.json")

    def get(self, rel: str, digest: str) -> Any:
        """Return the cached constants of `rel` if its content hash is `digest`, else None."""
        entry = self._entries.get(rel)
        if isinstance(entry, dict) and entry.get("hash") == digest:
            return entry.get("constants")
        return None

    def put(self, rel: str, digest: str, constants: Any) -> None:
        """Remember the constants of `rel` for content hash `digest`."""
        self._entries[rel] = {"hash": digest, "constants": constants}
        self._dirty = True

    def save(self, present: set[str]) -> None:
        """Write the cache (atomically), keeping only the files of this pass."""
        _write_cache(self.file, self.key, self._entries, set(self._entries) - present, self._dirty)


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


def load_project(root: Path, overrides: dict[str, Any] | None = None) -> Project:
    """Return the Project for `root` with its configuration loaded (ConfigError if invalid)."""
    from dbheal_lsp.config import load_config

    return Project(load_config(root, overrides))


__all__ = [
    "FileResult",
    "Project",
    "ResultCache",
    "SchemaError",
    "SchemaState",
    "load_project",
]
