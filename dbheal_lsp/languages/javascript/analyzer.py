"""JavaScript's and TypeScript's reading of one project: the `Analyzer` of the language seam.

Nothing is learned across files yet: each file's statements come from its own text (names are
followed within the file, statements.py). The parsers and the statement finder are kept
between checks.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING

from dbheal_lsp.analysis.file_result import why_failed
from dbheal_lsp.config import Config
from dbheal_lsp.databases.database import SchemaError
from dbheal_lsp.languages.javascript.parse import JsSource, Parsers
from dbheal_lsp.languages.javascript.statements import FindOptions, StatementFinder
from dbheal_lsp.languages.javascript.values import Helpers
from dbheal_lsp.languages.language import CallNotRead, CheckedStatements, Run, SourceFile
from dbheal_lsp.model import FileNote, Issue, Origin

if TYPE_CHECKING:
    from dbheal_lsp.analysis.checker import StatementChecker
    from dbheal_lsp.analysis.databases import DatabaseRouter
    from dbheal_lsp.analysis.file_texts import FileTexts
    from dbheal_lsp.analysis.statement import Statement

__all__ = ["JavaScriptAnalyzer"]


class JavaScriptAnalyzer:
    """One project's JavaScript and TypeScript files: their statements."""

    name = "javascript"

    def __init__(self, config: Config) -> None:
        self.config = config
        self.parsers = Parsers()

    @cached_property
    def finder(self) -> StatementFinder:
        """The statement finder, with the project's call names and helpers."""
        from dbheal_lsp.languages.javascript.calls import DEFAULT_CALLS

        config = self.config
        helpers = Helpers(frozenset(config.identifier_helpers), frozenset(config.safe_helpers))
        options = FindOptions(
            DEFAULT_CALLS | frozenset(config.extra_calls),
            helpers,
            MappingProxyType({shape.name: shape for shape in config.calls}),
            tuple((r, d.path) for d in config.databases for r in d.receivers),
        )
        return StatementFinder(options)

    def might_contain_sql(self, text: str) -> bool:
        """Whether `text` names a SQL word and calls a call name that sends SQL."""
        return self.finder.might_contain_sql(text)

    def parse(self, path: str, text: str, texts: FileTexts | None = None) -> SourceFile:
        """The tree of `text` (this run's, if a pass parsed it already); SourceSyntaxError
        when it does not read."""
        tree = texts.parsed(path, text) if texts is not None else None
        if isinstance(tree, JsSource):
            return SourceFile(path, text, tree)
        return SourceFile(path, text, self.parsers.parse(path, text))

    def statements(self, source: SourceFile) -> tuple[Statement, ...]:
        """Return every statement of the parsed file."""
        return self.finder.statements(_source(source))

    def repaired_statements(self, path: str, text: str, line: int) -> tuple[Statement, ...]:
        """No repairs of a half-typed JS/TS file yet: ()."""
        return ()

    def check(
        self,
        source: SourceFile,
        checker: StatementChecker | DatabaseRouter,
        state_key: str,
        deadline: float,
    ) -> CheckedStatements:
        """Check each statement of `source`; one that fails is a note, and none is checked
        past `deadline`."""
        from dbheal_lsp.analysis.databases import DatabaseRouter
        from dbheal_lsp.analysis.statement import unknown_slots

        statements = self.statements(source)
        if isinstance(checker, DatabaseRouter):
            checker.expect(statements)
        issues: list[Issue] = []
        notes: list[FileNote] = []
        count = partly = 0
        for statement in statements:
            if time.monotonic() >= deadline:
                stopped = statement.span.line
                return CheckedStatements(
                    tuple(issues), tuple(notes), count, len(statements), stopped, partly
                )
            try:
                issues.extend(checker.check(statement, source.path))
            except SchemaError:
                raise
            except Exception as exc:  # one statement's failure, as for Python (blocks.py)
                line = statement.span.line
                why = f"not checked: the statement at line {line}: {why_failed(exc)}"
                notes.append(FileNote(source.path, why, line))
                continue
            count += 1
            partly += 1 if unknown_slots(statement) else 0
        return CheckedStatements(tuple(issues), tuple(notes), count, len(statements), None, partly)

    def learn(self, files: Sequence[Path], run: Run) -> None:
        """Nothing is read across files yet."""

    def note(self, source: SourceFile) -> None:
        """Nothing is kept of a file being checked."""

    def digest(self) -> str:
        """Nothing learned: ""."""
        return ""

    def learned(self) -> object:
        """Nothing learned: None."""
        return None

    def use(self, learned: object) -> None:
        """Nothing to take from the parent process."""

    def code_ddl(self, files: Sequence[Path], run: Run) -> list[tuple[str, Origin]]:
        """The CREATE statements the code of `files` sends (a file that cannot be read or
        parsed gives none); each tree is kept for the check of this run."""
        ddl: list[tuple[str, Origin]] = []
        for file in files:
            rel = self.config.relative(file)
            try:
                text = run.texts.source(file, rel)
                if not self.might_contain_sql(text):
                    continue
                parsed = run.texts.tree(file, rel, self.parsers.parse_named)
            except (OSError, ValueError):
                continue
            for statement in self.finder.statements(parsed):
                sql = statement.literal_text
                if sql.lstrip().upper().startswith("CREATE") or (
                    statement.is_script and "CREATE" in sql.upper()
                ):
                    ddl.append((sql, Origin(rel, statement.span.line)))
        return ddl

    def end_run(self) -> None:
        """Nothing kept for a run."""

    def unread_calls(
        self, source: SourceFile, statements: Sequence[Statement]
    ) -> tuple[CallNotRead, ...]:
        """Not read for JS/TS yet: ()."""
        return ()

    def reads_calls(self) -> frozenset[str]:
        """The call names read as statements."""
        return self.finder.options.calls


def _source(source: SourceFile) -> JsSource:
    tree = source.tree
    if not isinstance(tree, JsSource):
        raise TypeError(f"not a JavaScript tree: {source.path}")
    return tree
