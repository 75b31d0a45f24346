"""The engine's front: check one source text or a whole tree against the project's schema.

`Project` holds everything that outlives one check — the configuration, the database back end
(databases/database.py: the live schema, the replayed migrations, the judge's copy of the
schema), parsed-statement caches — so that the CLI, the language server, the git hook and the admin page all call the
same two methods: `check_source` and `check_paths`. What it delegates lives beside it: finding
the files (file_scan.py), the results of earlier runs (result_cache.py), the worker processes of
a large check (workers.py) and, through the language seam (languages/language.py), everything a
source language does: decoding and parsing a file, finding its statements, its project pre-pass
and the DDL in its code. A Project reads the registered languages unless it is given others.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property, partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dbheal_lsp.analysis.drift import Drift, compute_drift, trigger_origins
from dbheal_lsp.analysis.file_budget import budget_or_default, file_budget
from dbheal_lsp.analysis.file_result import FileResult, unique_issues, why_failed
from dbheal_lsp.analysis.file_scan import MAX_FILE_BYTES, scan_files, source_files
from dbheal_lsp.analysis.file_texts import FileTexts
from dbheal_lsp.analysis.migration_check import migrations_result
from dbheal_lsp.analysis.migrations import MigrationResult
from dbheal_lsp.analysis.result_cache import ResultCache, quick_key
from dbheal_lsp.analysis.schema import Schema
from dbheal_lsp.analysis.workers import (
    PARALLEL_THRESHOLD,
    Learned,
    WorkerPool,
    fewer_collections,
)
from dbheal_lsp.config import Config
from dbheal_lsp.databases import open_database
from dbheal_lsp.databases.database import SchemaError
from dbheal_lsp.files import FileRefused, SourceNotText, read_regular_file
from dbheal_lsp.languages import LANGUAGES, extensions_of
from dbheal_lsp.languages import language_for as registered_language
from dbheal_lsp.languages.language import Analyzer, Language, Run, SourceSyntaxError
from dbheal_lsp.model import CheckResult, FileNote, Issue, Origin

if TYPE_CHECKING:
    # Imported where used: a re-check served from the cache never needs the checks.
    from dbheal_lsp.analysis.checker import StatementChecker
    from dbheal_lsp.analysis.databases import OtherDatabases
    from dbheal_lsp.analysis.statement import Statement


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
    """One project root: its configuration, schema sources and caches, and the languages it
    reads (the registered ones unless `languages` are given: the first also reads a text whose
    name has none of their extensions)."""

    def __init__(self, config: Config, languages: Sequence[Language] = LANGUAGES) -> None:
        self.config = config
        self.languages = tuple(languages)
        # The database back end (databases/database.py): the live schema, the migrations'
        # schema, the judge statements are prepared against.
        self.database = open_database(config)
        self._code_schema: Schema | None = None
        self._code_ddl: list[tuple[str, Origin]] = []  # what `_code_schema` was built from
        self._checker: StatementChecker | None = None
        self._checker_key = ""
        # Each language's reading of the project, with what it keeps between checks.
        self.analyzers: Mapping[str, Analyzer] = {
            language.name: language.analyzer(config) for language in self.languages
        }
        # While `check_paths` runs: its files, which their checks take instead of reading.
        self._texts: FileTexts | None = None

    def language_for(self, path: str) -> Language:
        """The language that reads the file named `path`."""
        return registered_language(path, self.languages) or self.languages[0]

    def analyzer_for(self, path: str) -> Analyzer:
        """The analyzer of the language that reads the file named `path`."""
        return self.analyzers[self.language_for(path).name]

    def _by_language(self, files: Iterable[Path]) -> dict[str, list[Path]]:
        """`files` by the name of the language that reads each, in the languages' order."""
        mine: dict[str, list[Path]] = {language.name: [] for language in self.languages}
        for file in files:
            mine[self.language_for(file.name).name].append(file)
        return mine

    def keep_run(self, texts: FileTexts, code_ddl: Sequence[tuple[str, Origin]]) -> None:
        """Check the next files with the texts and trees earlier passes of this run read, and
        the schema `code_ddl` builds when it comes from the code (what a worker process keeps
        between the passes of its parent's run: analysis/workers.py)."""
        self._texts = texts
        if list(code_ddl) != self._code_ddl:
            self.set_code_schema(code_ddl)

    def learn(self, files: Iterable[Path], *, use_cache: bool = False) -> None:
        """Run each language's project pre-pass over its files among `files` (Python: what
        every file assigns and passes, languages/python/learned_constants.py); with
        `use_cache`, unchanged files are answered from the user's cache folder."""
        run = Run(
            FileTexts(self.config.root, use_cache=use_cache, languages=self.languages), use_cache
        )
        self._learn(files, run)

    def _learn(self, files: Iterable[Path], run: Run) -> None:
        for name, mine in self._by_language(files).items():
            self.analyzers[name].learn(mine, run)

    def learned(self) -> Learned:
        """What each language's pre-pass read, by language (what a worker process is given)."""
        return {name: analyzer.learned() for name, analyzer in self.analyzers.items()}

    def _learned_digest(self) -> str:
        return "".join(analyzer.digest() for analyzer in self.analyzers.values())

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
        """Return the SQL statements of `source`, the text of the file named `path`; raise
        SourceSyntaxError (a ValueError) if its language cannot read it."""
        analyzer = self.analyzer_for(path)
        if not analyzer.might_contain_sql(source):
            return ()
        return analyzer.statements(analyzer.parse(path, source))

    def repaired_statements(self, path: str, source: str, line: int) -> tuple[Statement, ...]:
        """Return the statements around `line` of a repaired copy of `source`, a file being
        typed that cannot be parsed as it is (its language's repairs); () when none helps."""
        return self.analyzer_for(path).repaired_statements(path, source, line)

    def check_source(
        self,
        path: str,
        source: str,
        state: SchemaState | None = None,
        *,
        budget: float | None = None,
    ) -> FileResult:
        """Return the issues of one source file whose text is `source`; never raise for the text.

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
        analyzer = self.analyzer_for(path)
        try:
            if not analyzer.might_contain_sql(source):
                return FileResult(path)
            parsed = analyzer.parse(path, source, self._texts)
        except SourceSyntaxError as exc:
            note = FileNote(path, f"not checked: {exc.message}", exc.line)
            return FileResult(path, (), (note,), 0)
        except ValueError as exc:
            return FileResult(path, (), (FileNote(path, f"not checked: {exc}"),), 0)
        analyzer.note(parsed)  # before the check: it may change what the check reads with
        state = state or self.schema_state()
        # Each statement against the database its connection opens (analysis/databases.py).
        checker = self.other_databases.router(self.checker(state), path)
        checked = analyzer.check(parsed, checker, state.key, deadline)
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

    # --- a tree -------------------------------------------------------------------------------

    def _covers_root(self, paths: Sequence[Path]) -> bool:
        root = self.config.root.resolve()
        return any(Path(p).resolve() == root for p in paths)

    def source_files(self, paths: Iterable[Path]) -> list[Path]:
        """Return the files of the project's languages under `paths`, skipping .venv, .git,
        node_modules, excludes."""
        return source_files(self.config, paths, extensions_of(self.languages))

    def scan_files(self, paths: Iterable[Path]) -> tuple[list[Path], list[FileNote]]:
        """Return the files of the project's languages under `paths` and a note for each left
        out (see analysis/file_scan.py)."""
        return scan_files(self.config, paths, extensions_of(self.languages))

    def check_paths(
        self,
        paths: Sequence[Path],
        *,
        use_cache: bool | None = None,
        jobs: int | None = None,
        progress: Progress | None = None,
    ) -> CheckResult:
        """Return the issues of every source file under `paths` (and of the migrations there).

        Each file is read and parsed at most once (analysis/file_texts.py); with the cache, a
        file whose stat is unchanged is not read at all.
        """
        use_cache = self.config.cache if use_cache is None else use_cache
        files, notes = self.scan_files(paths)
        workers = jobs or self.config.jobs or (os.cpu_count() or 1)
        self._texts = FileTexts(self.config.root, use_cache=use_cache, languages=self.languages)
        try:
            with fewer_collections():
                return self._check_tree_in(paths, files, notes, use_cache, workers, progress)
        finally:
            self._texts = None
            for analyzer in self.analyzers.values():
                analyzer.end_run()

    def _check_tree_in(
        self,
        paths: Sequence[Path],
        files: list[Path],
        notes: list[FileNote],
        use_cache: bool,
        workers: int,
        progress: Progress | None,
    ) -> CheckResult:
        """Check the tree in this process, or in `workers` worker processes when it is large."""
        assert self._texts is not None
        if workers <= 1 or len(files) < PARALLEL_THRESHOLD:
            run = Run(self._texts, use_cache, jobs=workers)
            return self._check_tree(paths, files, notes, run, progress)
        with WorkerPool(partial(Project, self.config, self.languages), workers) as pool:
            run = Run(self._texts, use_cache, pool)
            return self._check_tree(paths, files, notes, run, progress)

    def _check_tree(
        self,
        paths: Sequence[Path],
        files: list[Path],
        notes: list[FileNote],
        run: Run,
        progress: Progress | None,
    ) -> CheckResult:
        texts, use_cache, pool = run.texts, run.use_cache, run.pool
        # Every file of the project, not only those checked, may pass a function its literals.
        everything = self._covers_root(paths)
        self._learn(files if everything else self.source_files([self.config.root]), run)
        state: SchemaState | None = None
        if self.needs_code_schema():
            ddl: list[tuple[str, Origin]] = []
            for name, mine in self._by_language(files).items():
                ddl.extend(self.analyzers[name].code_ddl(mine, run))
            self.set_code_schema(ddl)
            state = self.schema_state()
        cache = None
        if use_cache:
            # Keyed without reading the schemas: an unchanged tree is answered from the cache.
            key = state.key if state is not None else self.quick_key()
            cache = ResultCache.for_project(self.config.root, key + self._learned_digest())
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

        results = pool.check(files, self.learned(), self._code_ddl, done)
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
            source = self.language_for(rel).decode(data)  # Python's: BOM, coding line, UTF-8
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
