"""Python's reading of one project: the `Analyzer` of the language seam, over the modules that do
the work (the `ast` tree of pysource.py, the statement finder of extract.py, the constants every
file passes of learned_constants.py, the issues of unchanged blocks of blocks.py, the DDL in code
of code_ddl.py).
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from dbheal_lsp.config import Config
from dbheal_lsp.languages.language import (
    CallNotRead,
    CheckedStatements,
    Run,
    SourceFile,
)
from dbheal_lsp.languages.python.blocks import BlockCache
from dbheal_lsp.languages.python.code_ddl import FoundStatements, ddl_in
from dbheal_lsp.languages.python.learned_constants import LearnedConstants
from dbheal_lsp.languages.python.project_constants import ProjectConstants
from dbheal_lsp.languages.python.pysource import parse_module, source_syntax_error

if TYPE_CHECKING:
    from dbheal_lsp.analysis.checker import StatementChecker
    from dbheal_lsp.analysis.databases import DatabaseRouter
    from dbheal_lsp.analysis.file_texts import FileTexts
    from dbheal_lsp.analysis.statement import Statement
    from dbheal_lsp.languages.python.constants import FileConstants
    from dbheal_lsp.languages.python.extract import Extractor
    from dbheal_lsp.model import Origin

__all__ = ["PythonAnalyzer"]


class PythonAnalyzer:
    """One project's Python files: their statements, and what is kept between checks."""

    name = "python"

    def __init__(self, config: Config) -> None:
        self.config = config
        # Issues of unchanged top-level functions, positions relative to their first line.
        self.blocks = BlockCache()
        # What each file assigns to attributes and passes to functions (constants.py).
        self.constants_learned = LearnedConstants(config, self._constants_changed)
        # While a run of `check_paths` goes on: the statements the DDL pass found, by relative
        # path (text, tree, statements), which the checks take instead of searching again.
        self.found: FoundStatements = {}

    @property
    def constants(self) -> ProjectConstants:
        """What the project's names and parameters can hold (constants.py)."""
        return self.constants_learned.merged

    @cached_property
    def extractor(self) -> Extractor:
        """The statement finder, configured with the project's call names and helpers."""
        from dbheal_lsp.languages.python.calls import DEFAULT_CALLS
        from dbheal_lsp.languages.python.extract import Extractor
        from dbheal_lsp.languages.python.filecontext import ExtractOptions

        config = self.config
        return Extractor(
            ExtractOptions(
                calls=DEFAULT_CALLS | frozenset(config.extra_calls),
                identifier_helpers=frozenset(config.identifier_helpers),
                safe_helpers=frozenset(config.safe_helpers),
                shapes=config.calls,
                receivers=tuple((r, d.path) for d in config.databases for r in d.receivers),
                constants=self.constants,
            )
        )

    def _constants_changed(self) -> None:
        self.__dict__.pop("extractor", None)  # rebuilt with them on next use
        self.blocks.clear()
        self.found = {}  # found with the old ones

    # --- one file -----------------------------------------------------------------------------

    def might_contain_sql(self, text: str) -> bool:
        """Whether `text` calls any database call name at all."""
        return self.extractor.might_contain_sql(text)

    def parse(self, path: str, text: str, texts: FileTexts | None = None) -> SourceFile:
        """The tree of `text`: the one this run parsed from it already, else parsed now; raise
        SourceSyntaxError when it is not Python this interpreter reads."""
        found = self.found.get(path)
        if found is not None and found[0] == text:
            return SourceFile(path, text, found[1])
        tree = texts.parsed(path, text) if texts is not None else None
        if isinstance(tree, ast.Module):
            return SourceFile(path, text, tree)
        try:
            return SourceFile(path, text, parse_module(text, path))
        except (SyntaxError, ValueError) as exc:
            raise source_syntax_error(exc) from exc

    def statements(self, source: SourceFile) -> tuple[Statement, ...]:
        """Return every statement of the parsed file."""
        return self.extractor.extract(source.text, _tree(source))

    def repaired_statements(self, path: str, text: str, line: int) -> tuple[Statement, ...]:
        """The statements around `line` of a repaired copy of a file being typed (repairs.py)."""
        from dbheal_lsp.languages.python.repairs import repaired_statements

        return repaired_statements(self.extractor, path, text, line)

    def check(
        self,
        source: SourceFile,
        checker: StatementChecker | DatabaseRouter,
        state_key: str,
        deadline: float,
    ) -> CheckedStatements:
        """Check the file block by block, reusing the issues of unchanged blocks (blocks.py),
        with the statements the DDL pass of this run found in this very tree if it did."""
        tree = _tree(source)
        found = self.found.pop(source.path, None)
        statements = found[2] if found is not None and found[1] is tree else None
        return self.blocks.check(
            self.extractor, checker, source.path, source.text, tree, state_key, deadline, statements
        )

    def unread_calls(
        self, source: SourceFile, statements: Sequence[Statement]
    ) -> tuple[CallNotRead, ...]:
        """The calls given SQL-looking strings that are not read as statements (unread.py)."""
        from dbheal_lsp.languages.python.unread import unread_calls

        return unread_calls(_tree(source), statements, self.reads_calls())

    def reads_calls(self) -> frozenset[str]:
        """The call names read as statements."""
        return self.extractor.options.calls

    # --- the project ----------------------------------------------------------------------------

    def learn(self, files: Sequence[Path], run: Run) -> None:
        """Read what every file assigns and passes (learned_constants.py)."""
        self.constants_learned.learn(
            files, use_cache=run.use_cache, texts=run.texts, pool=run.pool, jobs=run.jobs
        )

    def note(self, source: SourceFile) -> None:
        """Keep the constants current with the text of a file being checked."""
        self.constants_learned.note(source.path, source.text, _tree(source))

    def digest(self) -> str:
        """The digest of the project's constants."""
        return self.constants_learned.digest()

    def learned(self) -> object:
        """Every file's constants and the digest of the text each was read from."""
        return self.constants_learned.per_file

    def use(self, learned: object) -> None:
        """Take every file's constants as the parent process learned them."""
        files, read = _per_file(learned)
        self.constants_learned.use(files, read)

    def code_ddl(self, files: Sequence[Path], run: Run) -> list[tuple[str, Origin]]:
        """The DDL the code of `files` runs (code_ddl.py); the statements found are kept for
        the checks of this run."""
        found = ddl_in(self.config, files, run, self)
        self.found = found.statements
        return found.ddl

    def end_run(self) -> None:
        """Forget the statements the run's DDL pass found."""
        self.found = {}


def _tree(source: SourceFile) -> ast.Module:
    tree = source.tree
    if not isinstance(tree, ast.Module):
        raise TypeError(f"not a Python tree: {source.path}")
    return tree


def _per_file(learned: object) -> tuple[dict[str, FileConstants], dict[str, str]]:
    """What `PythonAnalyzer.learned` gave, checked to be so."""
    if not (isinstance(learned, tuple) and len(learned) == 2):
        raise TypeError("not the constants of a Python project")
    files, read = learned
    if not (isinstance(files, dict) and isinstance(read, dict)):
        raise TypeError("not the constants of a Python project")
    return files, read
