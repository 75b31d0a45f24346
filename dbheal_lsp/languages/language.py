"""The language seam: what a source language gives the engine, and the neutral values it gives.

A source language turns a file into `Statement`s (text pieces mapped to positions, slots,
parameters, helper calls) and turns a fix request into text edits. Everything after the
`Statement` (rules, checks, reports, the editor's features) does not know which language a
statement came from. A `Language` is the stateless part (its name, extensions, decoding, code
fixes); each `Project` makes its own `Analyzer` of every language it reads, which holds what
that language keeps between checks (Python: the constants every file passes, the issues of
unchanged blocks, the statement finder).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from dbheal_lsp.model import FileNote, Issue

if TYPE_CHECKING:
    from dbheal_lsp.analysis.checker import StatementChecker
    from dbheal_lsp.analysis.databases import DatabaseRouter
    from dbheal_lsp.analysis.file_texts import FileTexts
    from dbheal_lsp.analysis.project import Project
    from dbheal_lsp.analysis.statement import Statement
    from dbheal_lsp.analysis.workers import WorkerPool
    from dbheal_lsp.config import Config
    from dbheal_lsp.model import CodeFix, Origin

__all__ = [
    "Analyzer",
    "CallNotRead",
    "CheckedStatements",
    "Language",
    "Run",
    "SourceFile",
    "SourceSyntaxError",
]


class SourceSyntaxError(ValueError):
    """A text its language cannot read: `message` says why in a note's words ("Python syntax
    error: ... (line 3)"), `line` where (None: the whole text)."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


@dataclass(frozen=True, eq=False)
class SourceFile:
    """One file's text as its language parsed it; `tree` is the language's own and only the
    language reads it (compared by identity: a tree is the one parse of one text)."""

    path: str
    text: str
    tree: object


@dataclass(frozen=True)
class CheckedStatements:
    """What checking one file's statements gave."""

    issues: tuple[Issue, ...]
    notes: tuple[FileNote, ...]  # statements that failed
    count: int  # statements checked (or answered from what an earlier check kept)
    total: int | None  # statements found (None: the budget ran out before all were found)
    stopped_at: int | None  # the line of the first statement left unchecked by the budget
    partly: int = 0  # of those checked, the statements only partly checked


@dataclass(frozen=True)
class Run:
    """The passes of one `check_paths` a language's project-wide passes take part in: the run's
    files (each read and parsed once), whether the user's cache folder answers unchanged files,
    and the worker processes of a large check (None: all in this process; `jobs` then says
    whether a pass may start processes of its own: 1 keeps it in this one, 0 lets it decide)."""

    texts: FileTexts
    use_cache: bool
    pool: WorkerPool | None = None
    jobs: int = 0


@dataclass(frozen=True)
class CallNotRead:
    """A call, not among the call names a language reads, given a SQL-looking string."""

    name: str
    line: int


class Analyzer(Protocol):
    """One language's reading of one project's files, with what it keeps between checks."""

    def might_contain_sql(self, text: str) -> bool:
        """Whether `text` may hold a statement at all (a cheap pre-filter: False skips it)."""
        ...

    def parse(self, path: str, text: str, texts: FileTexts | None = None) -> SourceFile:
        """Parse `text` (the tree this run's `texts` parsed already, if any); raise
        SourceSyntaxError when the language cannot read it."""
        ...

    def statements(self, source: SourceFile) -> tuple[Statement, ...]:
        """Return every statement of the parsed file."""
        ...

    def repaired_statements(self, path: str, text: str, line: int) -> tuple[Statement, ...]:
        """Return the statements around `line` of a repaired copy of `text`, a file being typed
        that cannot be parsed as it is; () when no repair helps."""
        ...

    def check(
        self,
        source: SourceFile,
        checker: StatementChecker | DatabaseRouter,
        state_key: str,
        deadline: float,
    ) -> CheckedStatements:
        """Check the statements of `source` against the schema `state_key` names, checking
        none past `deadline` (time.monotonic)."""
        ...

    def learn(self, files: Sequence[Path], run: Run) -> None:
        """The project pre-pass: read what the files (every file of the project in this
        language) tell about each other, before any of them is checked."""
        ...

    def note(self, source: SourceFile) -> None:
        """Keep what `learn` read current with the text of a file being checked."""
        ...

    def digest(self) -> str:
        """A digest of what `learn` read ("" when nothing): a check's cached results are
        valid for one digest only."""
        ...

    def learned(self) -> object:
        """What `learn` read, to give to a worker process (picklable)."""
        ...

    def use(self, learned: object) -> None:
        """Take what the parent process's `learned` gave, instead of learning it again."""
        ...

    def code_ddl(self, files: Sequence[Path], run: Run) -> list[tuple[str, Origin]]:
        """The CREATE statements the code of `files` runs, in their order (the schema of a
        project that has neither a database nor migrations)."""
        ...

    def end_run(self) -> None:
        """Forget what the passes of one run kept for its later passes."""
        ...

    def unread_calls(
        self, source: SourceFile, statements: Sequence[Statement]
    ) -> tuple[CallNotRead, ...]:
        """The calls of `source` that are given SQL but are not read as statements."""
        ...

    def reads_calls(self) -> frozenset[str]:
        """The call names read as statements (as the project's settings extend them)."""
        ...


class Language(Protocol):
    """A source language: how its files are named, decoded, read and fixed."""

    @property
    def name(self) -> str:
        """A short name ("python"), unique among the languages."""
        ...

    @property
    def extensions(self) -> tuple[str, ...]:
        """The file name endings of its files (".py")."""
        ...

    def decode(self, data: bytes) -> str:
        """Return the text of a file's bytes as the language reads them; raise SourceNotText
        (dbheal_lsp/files.py) when they are not text."""
        ...

    def encoding(self, data: bytes) -> str:
        """Return the encoding a rewrite of the file whose bytes are `data` must write it in (a
        coding line's, a BOM's, else the language's default)."""
        ...

    def syntax_problem(self, text: str) -> SourceSyntaxError | None:
        """Return why `text` is not valid in the language, or None when it is (a code fix's
        result is checked with it before it is written)."""
        ...

    def analyzer(self, config: Config) -> Analyzer:
        """Return a new analyzer for the project configured by `config`."""
        ...

    def code_fixes(
        self, source: str, issue: Issue, project: Project | None = None
    ) -> tuple[CodeFix, ...]:
        """Return every checked code fix of `issue` in the file whose text is `source`."""
        ...
