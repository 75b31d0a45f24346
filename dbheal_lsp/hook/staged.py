"""Checking what a commit would contain: the index, never the working tree.

The staged source files (Python, JavaScript, TypeScript) are read from the index and checked
with `Project.check_source`, against the schema that the index's migrations define. The
migrations folder is materialized from the index into a temporary folder (staged versions where
staged, committed ones otherwise) and the project is pointed at it, so a query on a table that
only an unstaged migration creates fails as the commit would. When the project has migrations, the live
database is not consulted: it is local state, not part of the commit (`against="database"`
checks against it as `dbheal check` does).
"""

from __future__ import annotations

import os
import posixpath
import tempfile
from collections.abc import Callable, Iterable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Literal

from dbheal_lsp.config import Config, find_root, included, load_config
from dbheal_lsp.files import SourceNotText
from dbheal_lsp.hook.git import (
    Git,
    HookError,
    IndexEntry,
    index_entries,
    read_blobs,
    repository,
    staged_deletions,
    staged_paths,
    tree_entries,
)
from dbheal_lsp.languages import LANGUAGES, SOURCE_EXTENSIONS, language_for
from dbheal_lsp.model import CheckResult, FileNote, Issue, Origin, Severity

if TYPE_CHECKING:
    from dbheal_lsp.analysis.project import Project, SchemaState

AGAINST = ("auto", "migrations", "database")
BYPASS = "git commit --no-verify"

_MAX_FILE_BYTES = 5_000_000

Against = Literal["auto", "migrations", "database"]

# --- checking the staged content ------------------------------------------------------------


@dataclass(frozen=True)
class HookReport:
    """What the staged content holds: the issues (paths from the top of the working tree),
    those that block the commit, and each checked project's `fail-on`."""

    result: CheckResult
    blocking: tuple[Issue, ...]
    fail_on: tuple[Severity, ...]
    top: Path
    rechecked: int = 0  # committed code files checked again against staged migrations

    @property
    def checked(self) -> bool:
        """Return whether any staged file was a source or migration file."""
        return self.result.files_checked > 0 or bool(self.result.notes)


@dataclass
class _Found:
    issues: list[Issue] = field(default_factory=list)
    notes: list[FileNote] = field(default_factory=list)
    files: int = 0
    statements: int = 0
    blocking: list[Issue] = field(default_factory=list)
    rechecked: int = 0


def check_staged(
    cwd: Path,
    files: Sequence[str] | None = None,
    *,
    fail_on: str | None = None,
    against: Against = "auto",
) -> HookReport:
    """Check what the index holds for the staged source and migration files under `cwd`'s repo.

    With `files` (paths relative to `cwd`, as the pre-commit framework passes them), those
    files' index versions are checked instead, staged or not. Each file is judged by its
    project's configuration (from the working tree) with `fail_on` overriding `fail-on`.
    `against`: `migrations` checks against the schema the index's migrations build, `database`
    against the live database as `dbheal check` does, `auto` the first when the project has
    migrations in the index. Raises HookError, ConfigError or SchemaError.
    """
    if against not in AGAINST:
        raise HookError(f"against must be one of {', '.join(AGAINST)}, not {against!r}")
    git = repository(cwd)
    found = _Found()
    paths = _repo_paths(cwd, git, files, found.notes) if files else staged_paths(git)
    entries = index_entries(git, paths) if paths else {}
    groups: dict[Path, list[IndexEntry]] = {}
    roots: dict[str, Path] = {}
    # A deleted migration changes the schema the committed code runs against, as an edited
    # one does: its project is checked too (with nothing of its own to read).
    deleted: dict[Path, list[str]] = {}
    for path in [] if files else staged_deletions(git):
        if path.lower().endswith(".sql"):
            parent = posixpath.dirname(path)
            if parent not in roots:
                roots[parent] = find_root(git.cwd / parent if parent else git.cwd)
            deleted.setdefault(roots[parent], []).append(path)
            groups.setdefault(roots[parent], [])
    for path in paths:
        if not (path.endswith(SOURCE_EXTENSIONS) or path.lower().endswith(".sql")):
            continue
        entry = entries.get(path)
        if entry is None:
            found.notes.append(FileNote(path, "skipped: not in the index (untracked?)"))
            continue
        parent = posixpath.dirname(path)
        if parent not in roots:
            roots[parent] = find_root(git.cwd / parent if parent else git.cwd)
        groups.setdefault(roots[parent], []).append(entry)
    thresholds: list[Severity] = []
    with ExitStack() as stack:
        for root, group in groups.items():
            config = load_config(root, {"fail-on": fail_on})
            checker = _ProjectCheck(git, config, stack, against)
            if checker.check(group, found, deleted.get(root, [])):
                thresholds.append(config.fail_on)
    result = CheckResult(
        issues=tuple(sorted(found.issues, key=_order)),
        notes=tuple(found.notes),
        files_checked=found.files,
        statements_checked=found.statements,
    )
    return HookReport(
        result,
        tuple(sorted(found.blocking, key=_order)),
        tuple(thresholds),
        git.cwd,
        found.rechecked,
    )


def _repo_paths(cwd: Path, git: Git, files: Sequence[str], notes: list[FileNote]) -> list[str]:
    """Return `files` (relative to `cwd`, or absolute) as paths from the top of the repo."""
    prefix = os.fsdecode(Git(cwd).run("rev-parse", "--show-prefix").rstrip(b"\n"))
    top = os.path.realpath(git.cwd)
    paths: list[str] = []
    for name in files:
        if os.path.isabs(name):
            rel = os.path.relpath(os.path.realpath(name), top).replace(os.sep, "/")
        else:
            rel = posixpath.normpath(prefix + name.replace(os.sep, "/"))
        if rel == ".." or rel.startswith("../"):
            notes.append(FileNote(os.path.abspath(cwd / name), "skipped: outside the repository"))
        elif rel not in paths:
            paths.append(rel)
    return paths


class _ProjectCheck:
    """The staged files of one project, checked against the schema the commit defines."""

    def __init__(self, git: Git, config: Config, stack: ExitStack, against: Against) -> None:
        self.git = git
        self.config = config
        self.stack = stack
        self.against = against
        root_rel = _relative(config.root, git.cwd)
        if root_rel is None:
            raise HookError(f"the project {config.root} is outside the repository {git.cwd}")
        self.root_rel = root_rel
        self.migrations_rel = (
            _relative(config.migrations, git.cwd) if config.migrations is not None else None
        )

    def check(self, entries: list[IndexEntry], found: _Found, deleted: Sequence[str] = ()) -> bool:
        """Check `entries` (files of this project) and, when the commit changes or deletes a
        migration, the project's other source files against the migrations it commits;
        return whether anything was checked."""
        code = [e for e in entries if self._is_code(e.path)]
        migrations = [e for e in entries if self._is_migration(e.path)]
        removed = [p for p in deleted if self._is_migration(p)]
        if not code and not migrations and not removed:
            return False
        project, folder = self._project()
        state = project.schema_state()
        texts = read_blobs(self.git, [e.blob for e in code if e.regular])
        for entry in code:
            text = _text(entry, texts.get(entry.blob), found.notes)
            if text is None:
                continue
            result = project.check_source(self._rel(entry.path), text, state)
            found.files += 1
            found.statements += result.statements
            self._add(found, result.issues, result.notes, folder)
        if migrations:
            found.files += len(migrations)
            staged = {self._rel(e.path) for e in migrations}
            if folder is not None and project.config.migrations is not None:
                checked = project.check_paths([project.config.migrations], use_cache=False)
                issues = [self._from_temp(i, folder) for i in checked.issues]
                self._add(found, [i for i in issues if i.path in staged], (), None)
        if (migrations or removed) and self.against != "database":
            found.files += len(removed)
            self._recheck_code(project, state, {e.path for e in code}, found, folder)
        return True

    def _recheck_code(
        self,
        project: Project,
        state: SchemaState,
        staged: set[str],
        found: _Found,
        folder: Path | None,
    ) -> None:
        """Check the project's committed source files (those not staged) against the staged
        migrations; report what they would break that the last commit's migrations did not."""
        entries = index_entries(self.git, [self.root_rel])
        code = [
            e
            for e in entries.values()
            if e.regular and e.path not in staged and self._is_code(e.path)
        ]
        if not code:
            return
        baseline = self._head_project()
        base_state = baseline.schema_state() if baseline is not None else None
        texts = read_blobs(self.git, [e.blob for e in code])
        quiet: list[FileNote] = []  # notes on files nobody staged are not this commit's news
        for entry in code:
            text = _text(entry, texts.get(entry.blob), quiet)
            if text is None:
                continue
            rel = self._rel(entry.path)
            checked = project.check_source(rel, text, state)
            found.rechecked += 1
            found.statements += checked.statements
            if not checked.issues:
                continue
            before: set[tuple[object, ...]] = set()
            if baseline is not None and base_state is not None:
                before = {_key(i) for i in baseline.check_source(rel, text, base_state).issues}
            self._add(found, [i for i in checked.issues if _key(i) not in before], (), folder)

    def _head_project(self) -> Project | None:
        """Return the project as the last commit's migrations define it (None without one)."""
        from dbheal_lsp.analysis.project import Project

        if self.migrations_rel is None:
            return None
        files = tree_entries(self.git, "HEAD", self.migrations_rel)
        if files is None:
            return None
        files = [e for e in files if e.regular]
        # No live database (a PostgreSQL server's neither): the commit's migrations decide.
        config = replace(self.config, database=None, database_url=None, migrations=None)
        if files:
            config = replace(config, migrations=self._materialize(files))
        project = Project(config)
        if project.needs_code_schema():
            project.set_code_schema(self._ddl_in_index(project))
        return project

    def _project(self) -> tuple[Project, Path | None]:
        """Return the project to check with, and the temporary migrations folder if any."""
        from dbheal_lsp.analysis.project import Project

        config = self.config
        folder: Path | None = None
        if self.migrations_rel is not None:
            entries = index_entries(self.git, [self.migrations_rel])
            files = [e for e in entries.values() if e.regular]
            if files:
                folder = self._materialize(files)
                config = replace(config, migrations=folder)
            else:
                config = replace(config, migrations=None)  # the commit has none
        elif config.migrations is not None:
            # Outside the repository: the commit cannot change it, the working tree is right.
            folder = None
        if self.against == "migrations" and config.migrations is None:
            raise HookError(
                f"--against migrations: the project {config.root} has no migrations in the index"
            )
        if self.against != "database" and config.migrations is not None:
            config = replace(config, database=None, database_url=None)
        project = Project(config)
        if project.needs_code_schema():
            project.set_code_schema(self._ddl_in_index(project))
        return project, folder

    def _materialize(self, files: list[IndexEntry]) -> Path:
        """Write the index's migrations folder into a temporary folder and return its copy."""
        assert self.migrations_rel is not None
        temp = Path(self.stack.enter_context(tempfile.TemporaryDirectory(prefix="dbheal-hook-")))
        name = PurePosixPath(self.migrations_rel).name or "migrations"
        folder = temp.resolve() / name
        folder.mkdir()
        blobs = read_blobs(self.git, [e.blob for e in files])
        base = self.migrations_rel.rstrip("/") + "/" if self.migrations_rel != "." else ""
        for entry in files:
            target = folder.joinpath(*entry.path[len(base) :].split("/"))
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(blobs.get(entry.blob, b""))
        return folder

    def _ddl_in_index(self, project: Project) -> list[tuple[str, Origin]]:
        """The CREATE statements in the index versions of the project's source files."""
        entries = index_entries(self.git, [self.root_rel])
        code = [e for e in entries.values() if e.regular and self._is_code(e.path)]
        blobs = read_blobs(self.git, [e.blob for e in code])
        ddl: list[tuple[str, Origin]] = []
        for entry in code:
            try:
                source = project.language_for(entry.path).decode(blobs.get(entry.blob, b""))
                statements = project.statements(source, entry.path)
            except (SourceNotText, SyntaxError, ValueError, RecursionError, MemoryError):
                continue
            for statement in statements:
                text = statement.literal_text
                if text.lstrip().upper().startswith("CREATE") or (
                    statement.is_script and "CREATE" in text.upper()
                ):
                    ddl.append((text, Origin(self._rel(entry.path), statement.span.line)))
        return ddl

    def _add(
        self,
        found: _Found,
        issues: Iterable[Issue],
        notes: Iterable[FileNote],
        folder: Path | None,
    ) -> None:
        """Add issues and notes, from paths relative to the root to paths from the top."""
        for issue in issues:
            if folder is not None:
                issue = self._from_temp(issue, folder)
            issue = _rebase(issue, lambda p: _join(self.root_rel, p))
            found.issues.append(issue)
            if issue.severity.at_least(self.config.fail_on):
                found.blocking.append(issue)
        for note in notes:
            found.notes.append(replace(note, path=_join(self.root_rel, note.path)))

    def _from_temp(self, issue: Issue, folder: Path) -> Issue:
        """Name the project's migrations folder where the issue names its temporary copy."""
        assert self.config.migrations is not None
        temp, real = str(folder), self.config.relative(self.config.migrations)

        def path(p: str) -> str:
            if p == temp or p.startswith(temp + os.sep) or p.startswith(temp + "/"):
                rest = p[len(temp) :].replace(os.sep, "/").lstrip("/")
                return posixpath.normpath(posixpath.join(real, rest))
            return p

        issue = _rebase(issue, path)
        return replace(issue, message=issue.message.replace(temp, real))

    def _rel(self, path: str) -> str:
        """Return a path from the top as a path from the project root."""
        if self.root_rel == ".":
            return path
        return posixpath.relpath(path, self.root_rel)

    def _is_code(self, path: str) -> bool:
        """Return whether `path` is a source file of a language dbheal reads, checked here."""
        return path.endswith(SOURCE_EXTENSIONS) and self._included(path)

    def _included(self, path: str) -> bool:
        rel = self._rel(path)
        if rel.startswith("../"):
            return False
        return included(tuple(rel.split("/")), self.config.include, self.config.exclude)

    def _is_migration(self, path: str) -> bool:
        if self.migrations_rel is None or not path.lower().endswith(".sql"):
            return False
        if path.lower().endswith(".down.sql"):
            return False
        return self.migrations_rel == "." or path.startswith(self.migrations_rel + "/")


def _text(entry: IndexEntry, data: bytes | None, notes: list[FileNote]) -> str | None:
    """Return the staged text of a source file, or None with a note saying why it is skipped."""
    if not entry.regular:
        notes.append(FileNote(entry.path, "skipped: not a regular file in the index"))
        return None
    if data is None:
        notes.append(FileNote(entry.path, "skipped: its staged content cannot be read"))
        return None
    if len(data) > _MAX_FILE_BYTES:
        notes.append(FileNote(entry.path, "skipped: larger than 5 MB"))
        return None
    if b"\x00" in data[:8192]:
        notes.append(FileNote(entry.path, "skipped: binary file"))
        return None
    try:
        # As its language reads it (Python: BOM, coding line, else UTF-8).
        return (language_for(entry.path) or LANGUAGES[0]).decode(data)
    except SourceNotText as exc:
        notes.append(FileNote(entry.path, f"skipped: {exc.reason}"))
        return None


def _rebase(issue: Issue, path: Callable[[str], str]) -> Issue:
    """Return `issue` with its path and its origin's (in the message too) passed through `path`."""
    origin = issue.origin
    message = issue.message
    if origin is not None:
        moved = Origin(path(origin.path), origin.line)
        message = message.replace(str(origin), str(moved))
        origin = moved
    return replace(issue, path=path(issue.path), origin=origin, message=message)


def _join(root_rel: str, path: str) -> str:
    if root_rel == "." or posixpath.isabs(path) or os.path.isabs(path):
        return path
    return posixpath.join(root_rel, path)


def _relative(path: Path, top: Path) -> str | None:
    """Return `path` from the top of the working tree (forward slashes), None if outside."""
    try:
        rel = Path(os.path.realpath(path)).relative_to(os.path.realpath(top))
    except ValueError:
        return None
    return rel.as_posix()


def _key(issue: Issue) -> tuple[object, ...]:
    """What an issue is, whichever migrations line its message cites."""
    return (
        issue.type,
        issue.span.line,
        issue.span.column,
        (issue.table or "").lower(),
        (issue.column_name or "").lower(),
    )


def _order(issue: Issue) -> tuple[str, int, int, str]:
    return (issue.path, issue.span.line, issue.span.column, issue.type.value)
