"""The engine's front: check one source text or a whole tree against the project's schema.

`Project` holds everything that outlives one check — the configuration, the database back end
(databases/database.py: the live schema, the replayed migrations, the judge's copy of the
schema), parsed-statement caches — so that the CLI, the language server, the git hook and the admin page all call the
same two methods: `check_source` and `check_paths`. What it delegates lives beside it: finding
the files (file_scan.py), the constants of every file (learned_constants.py), reusing unchanged
blocks (blocks.py), the results of earlier runs (result_cache.py) and the worker processes of a
large check (workers.py).
"""

from __future__ import annotations

import ast
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property, partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dbheal_lsp.analysis.drift import Drift, compute_drift, trigger_origins
from dbheal_lsp.analysis.file_budget import budget_or_default, file_budget
from dbheal_lsp.analysis.file_result import FileResult, unique_issues
from dbheal_lsp.analysis.file_scan import MAX_FILE_BYTES, python_files, scan_files
from dbheal_lsp.analysis.file_texts import FileTexts
from dbheal_lsp.analysis.migration_check import migrations_result
from dbheal_lsp.analysis.migrations import MigrationResult
from dbheal_lsp.analysis.result_cache import ResultCache, quick_key
from dbheal_lsp.analysis.schema import Schema
from dbheal_lsp.analysis.workers import PARALLEL_THRESHOLD, Constants, WorkerPool
from dbheal_lsp.config import Config
from dbheal_lsp.databases import open_database
from dbheal_lsp.databases.database import SchemaError
from dbheal_lsp.files import (
    FileRefused,
    SourceNotText,
    python_source,
    read_regular_file,
)
from dbheal_lsp.languages.python.blocks import BlockCache, why_failed
from dbheal_lsp.languages.python.code_ddl import FoundStatements, ddl_in
from dbheal_lsp.languages.python.learned_constants import LearnedConstants
from dbheal_lsp.languages.python.project_constants import ProjectConstants
from dbheal_lsp.languages.python.pysource import parse_module
from dbheal_lsp.model import CheckResult, FileNote, Issue, Origin

if TYPE_CHECKING:
    # Imported where used: a re-check served from the cache never needs the checks.
    from dbheal_lsp.analysis.checker import StatementChecker
    from dbheal_lsp.analysis.databases import OtherDatabases
    from dbheal_lsp.analysis.statement import Statement
    from dbheal_lsp.languages.python.extract import Extractor


Progress = Callable[[int, int], None]


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
        # The database back end (databases/database.py): the live schema, the migrations'
        # schema, the judge statements are prepared against.
        self.database = open_database(config)
        self._code_schema: Schema | None = None
        self._code_ddl: list[tuple[str, Origin]] = []  # what `_code_schema` was built from
        self._checker: StatementChecker | None = None
        self._checker_key = ""
        # Issues of unchanged top-level functions, positions relative to their first line.
        self.blocks = BlockCache()
        # What each file assigns to attributes and passes to functions (languages/python/constants.py).
        self.learned = LearnedConstants(config, self._constants_changed)
        # While `check_paths` runs: its files, and the statements found in them for the schema
        # from code (source, tree, statements), which their checks take instead of parsing.
        self._texts: FileTexts | None = None
        self._extracted: FoundStatements = {}

    def use_constants(self, constants: Constants) -> None:
        """Take every file's constants as given (a worker process is given its parent's, so
        nothing is learned twice: analysis/workers.py)."""
        self.learned.use(*constants)

    def keep_run(
        self, texts: FileTexts, found: FoundStatements, code_ddl: Sequence[tuple[str, Origin]]
    ) -> None:
        """Check the next files with the texts, trees and statements earlier passes of this run
        read and found, and the schema `code_ddl` builds when it comes from the code (what a
        worker process keeps between the passes of its parent's run: analysis/workers.py)."""
        self._texts, self._extracted = texts, found
        if list(code_ddl) != self._code_ddl:
            self.set_code_schema(code_ddl)

    @property
    def constants(self) -> ProjectConstants:
        """What the project's names and parameters can hold (languages/python/constants.py)."""
        return self.learned.merged

    @cached_property
    def extractor(self) -> Extractor:
        """The statement finder, configured with the project's call names and helpers."""
        from dbheal_lsp.languages.python.calls import DEFAULT_CALLS
        from dbheal_lsp.languages.python.extract import Extractor
        from dbheal_lsp.languages.python.filecontext import ExtractOptions

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
        """Read what every file in `files` assigns and passes (see languages/python/learned_constants.py);
        with `use_cache`, unchanged files are answered from the user's cache folder."""
        self.learned.learn(files, use_cache=use_cache)

    def _constants_changed(self) -> None:
        self.__dict__.pop("extractor", None)  # rebuilt with them on next use
        self.blocks.clear()
        self._extracted = {}  # found with the old ones

    @cached_property
    def other_databases(self) -> OtherDatabases:
        """The databases besides the main one that statements run on (issue 11, pattern 5)."""
        from dbheal_lsp.analysis.databases import OtherDatabases

        return OtherDatabases(self.config, self.database)

    # --- schema -------------------------------------------------------------------------------

    def schema_state(self) -> SchemaState:
        """Return the current schemas; raise SchemaError when the database cannot be read."""
        migrations = (
            self.database.migrations(self.config.migrations) if self.config.migrations else None
        )
        expected = migrations.schema if migrations and not migrations.schema.is_empty else None
        if self.database.has_live:
            schema = self.database.live_schema()
        elif expected is not None:
            schema = expected
        else:
            schema = self._code_schema or Schema.empty()
        drift = Drift()
        if expected is not None and migrations is not None and self.database.has_live:
            triggers = trigger_origins(
                [(m.sql, m.origin) for m in migrations.statements if m.kind == "create_trigger"]
            )
            drift = compute_drift(schema, expected, triggers)
        key = f"{schema.version}:{expected.version if expected else ''}:{self.config.fingerprint()}"
        key += f":{self.other_databases.key()}"
        return SchemaState(schema, expected, drift, migrations, key)

    def set_code_schema(self, ddl: Sequence[tuple[str, Origin]]) -> None:
        """Use the DDL found in code as the schema when there is no database nor migrations."""
        self._code_schema = self.database.schema_from_ddl(ddl) if ddl else None
        self._code_ddl = list(ddl)
        self._checker = None

    def needs_code_schema(self) -> bool:
        """Return whether the schema must come from DDL in the code."""
        return not self.database.has_live and self.config.migrations is None

    def checker(self, state: SchemaState) -> StatementChecker:
        """Return the statement checker for `state`, rebuilt only when the schema changed."""
        if self._checker is None or self._checker_key != state.key:
            from dbheal_lsp.analysis.checker import CheckSettings, StatementChecker

            judge = self.database.judge(state.schema)
            settings = CheckSettings(
                severities=dict(self.config.severity),
                root=self.config.root.resolve(),
                dialect=self.config.dialect,
            )
            self._checker = StatementChecker(
                state.schema, state.expected, state.drift, judge, settings
            )
            self._checker_key = state.key
        return self._checker

    # --- one file -----------------------------------------------------------------------------

    def statements(self, source: str, path: str = "<string>") -> tuple[Statement, ...]:
        """Return the SQL statements of `source`; raise SyntaxError if it is not valid Python."""
        if not self.extractor.might_contain_sql(source):
            return ()
        return self.extractor.extract(source, parse_module(source, path))

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
        seconds = budget if budget is not None else budget_or_default()
        deadline = time.monotonic() + seconds
        try:
            return self._check_text(path, source, state, deadline, seconds)
        except SchemaError:
            raise
        except Exception as exc:  # any failure on a stranger's text: see the docstring
            return FileResult(path, (), (FileNote(path, f"not checked: {why_failed(exc)}"),), 0)

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
            tree = self._tree_of(path, source)
        except SyntaxError as exc:
            line = exc.lineno or 1
            note = FileNote(
                path, f"not checked: Python syntax error: {exc.msg} (line {line})", line
            )
            return FileResult(path, (), (note,), 0)
        except ValueError as exc:
            return FileResult(path, (), (FileNote(path, f"not checked: {exc}"),), 0)
        self.learned.note(path, source, tree)
        found = self._extracted.pop(path, None)  # after `note`: it may change the constants
        statements = found[2] if found is not None and found[1] is tree else None
        state = state or self.schema_state()
        # Each statement against the database its connection opens (analysis/databases.py).
        checker = self.other_databases.router(self.checker(state), path)
        checked = self.blocks.check(
            self.extractor, checker, path, source, tree, state.key, deadline, statements
        )
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
        issues = unique_issues(checked.issues)
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

    def _tree_of(self, path: str, source: str) -> ast.Module:
        """The tree of `source`: the one this run parsed from it already, else parsed now."""
        found = self._extracted.get(path)
        if found is not None and found[0] == source:
            return found[1]
        tree = self._texts.parsed(path, source) if self._texts is not None else None
        return tree if tree is not None else parse_module(source, path)

    # --- a tree -------------------------------------------------------------------------------

    def _covers_root(self, paths: Sequence[Path]) -> bool:
        root = self.config.root.resolve()
        return any(Path(p).resolve() == root for p in paths)

    def python_files(self, paths: Iterable[Path]) -> list[Path]:
        """Return the Python files under `paths`, skipping .venv, .git, node_modules, excludes."""
        return python_files(self.config, paths)

    def scan_files(self, paths: Iterable[Path]) -> tuple[list[Path], list[FileNote]]:
        """Return the Python files under `paths` and a note for each left out (see
        analysis/file_scan.py)."""
        return scan_files(self.config, paths)

    def check_paths(
        self,
        paths: Sequence[Path],
        *,
        use_cache: bool | None = None,
        jobs: int | None = None,
        progress: Progress | None = None,
    ) -> CheckResult:
        """Return the issues of every Python file under `paths` (and of the migrations there).

        Each file is read and parsed at most once (analysis/file_texts.py); with the cache, a
        file whose stat is unchanged is not read at all.
        """
        use_cache = self.config.cache if use_cache is None else use_cache
        files, notes = self.scan_files(paths)
        workers = jobs or self.config.jobs or (os.cpu_count() or 1)
        self._texts = FileTexts(self.config.root, use_cache=use_cache)
        try:
            if workers <= 1 or len(files) < PARALLEL_THRESHOLD:
                return self._check_tree(paths, files, notes, use_cache, None, progress)
            with WorkerPool(partial(Project, self.config), workers) as pool:
                return self._check_tree(paths, files, notes, use_cache, pool, progress)
        finally:
            self._texts = None
            self._extracted = {}

    def _check_tree(
        self,
        paths: Sequence[Path],
        files: list[Path],
        notes: list[FileNote],
        use_cache: bool,
        pool: WorkerPool | None,
        progress: Progress | None,
    ) -> CheckResult:
        texts = self._texts or FileTexts(self.config.root, use_cache=use_cache)
        # Every file of the project, not only those checked, may pass a function its literals.
        everything = self._covers_root(paths)
        self.learned.learn(
            files if everything else self.python_files([self.config.root]),
            use_cache=use_cache,
            texts=texts,
            pool=pool,
        )
        state: SchemaState | None = None
        if self.needs_code_schema():
            constants = (self.learned.digest(), lambda: self.learned.per_file)
            found = ddl_in(
                self.config, files, texts, lambda: self.extractor, constants, use_cache, pool
            )
            self.set_code_schema(found.ddl)
            self._extracted = found.statements
            state = self.schema_state()
        cache = None
        if use_cache:
            # Keyed without reading the schemas: an unchanged tree is answered from the cache.
            key = state.key if state is not None else self.quick_key()
            cache = ResultCache.for_project(self.config.root, key + self.learned.digest())
        results: dict[str, FileResult] = {}
        todo: list[tuple[Path, str, str]] = []  # (file, relative path, content hash)
        for file in files:
            rel = self.config.relative(file)
            try:
                digest = texts.digests(file, rel).data
            except FileRefused as exc:
                notes.append(FileNote(rel, f"skipped: {exc.reason}"))
                continue
            except OSError as exc:
                notes.append(FileNote(rel, f"skipped: cannot read ({exc.strerror or exc})"))
                continue
            cached = cache.get(rel, digest) if cache else None
            if cached is not None:
                results[rel] = cached
            else:
                todo.append((file, rel, digest))
        cached_count = len(results)
        if todo:
            state = state or self.schema_state()
            fresh = self._check_files(
                [(f, r) for f, r, _ in todo], state, pool, progress, len(files)
            )
            for (_, rel, digest), result in zip(todo, fresh, strict=True):
                results[rel] = result
                if cache is not None and not result.over_budget:  # a cut check is not the answer
                    cache.put(rel, digest, result)
        migrations = migrations_result(
            self.config, paths, lambda: state or self.schema_state(), cache
        )
        if cache is not None:
            cache.save(self.config.root)
        texts.save()
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
        pool: WorkerPool | None,
        progress: Progress | None,
        total: int,
    ) -> list[FileResult]:
        """Check `files`, each on its own budget; one file's failure is a note on that file."""
        file_budget()  # a bad $DBHEAL_FILE_BUDGET is the user's one-line error, before any work
        done_before = total - len(files)
        if pool is None or len(files) < PARALLEL_THRESHOLD:
            out = []
            for i, (file, rel) in enumerate(files):
                out.append(self.check_file(file, rel, state))
                if progress:
                    progress(done_before + i + 1, total)
            return out
        count = done_before

        def done(checked: int) -> None:
            nonlocal count
            count += checked
            if progress:
                progress(count, total)

        results = pool.check(files, self.learned.per_file, self._code_ddl, done)
        return [results.get(rel) or self.check_file(file, rel, state) for file, rel in files]

    def check_file(self, file: Path, rel: str, state: SchemaState) -> FileResult:
        """Read and check one file; what cannot be read or checked is a note, never a raise."""
        source = self._texts.read_source(rel) if self._texts is not None else None
        if source is not None:  # read by this run already
            return self.check_source(rel, source, state)
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

    def quick_key(self) -> str:
        """Return a key that changes with the schemas, read without building the schemas
        (`result_cache.quick_key`); when they cannot be read that way, the full key."""
        key = quick_key(self.config, self.database, self.other_databases.key())
        return key if key is not None else self.schema_state().key


def _issue_order(issue: Issue) -> tuple[Any, ...]:
    return (issue.path, issue.span.line, issue.span.column, issue.type.value)


def load_project(root: Path, overrides: dict[str, Any] | None = None) -> Project:
    """Return the Project for `root` with its configuration loaded (ConfigError if invalid)."""
    from dbheal_lsp.config import load_config

    return Project(load_config(root, overrides))


__all__ = ["Project", "SchemaState", "load_project"]
