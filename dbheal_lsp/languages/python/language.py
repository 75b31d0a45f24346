"""Python, the first source language: `ast` finds the statements, libcst rewrites the code.

Only the registry (`dbheal_lsp/languages/__init__.py`) names this module; the engine reaches it
through the `Language` protocol. What it needs is imported when used, so that the registry stays
cheap to import.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dbheal_lsp.files import python_encoding, python_source

if TYPE_CHECKING:
    from dbheal_lsp.analysis.project import Project
    from dbheal_lsp.config import Config
    from dbheal_lsp.languages.language import SourceSyntaxError
    from dbheal_lsp.languages.python.analyzer import PythonAnalyzer
    from dbheal_lsp.model import CodeFix, Issue

__all__ = ["PYTHON_EXTENSIONS", "PythonLanguage"]

#: The endings of the files read as Python.
PYTHON_EXTENSIONS: tuple[str, ...] = (".py",)


class PythonLanguage:
    """Python source files (`*.py`)."""

    name = "python"
    extensions = PYTHON_EXTENSIONS

    def decode(self, data: bytes) -> str:
        """The text as Python decodes it: a BOM, else a coding line, else UTF-8."""
        return python_source(data)

    def encoding(self, data: bytes) -> str:
        """The encoding Python reads the file in: "utf-8-sig" for a BOM, a coding line's, else
        UTF-8."""
        return python_encoding(data)

    def syntax_problem(self, text: str) -> SourceSyntaxError | None:
        """Why `text` is not Python (the parser's message and line), or None."""
        from dbheal_lsp.languages.python.pysource import parse_module, source_syntax_error

        try:
            parse_module(text, "<fixed>")
        except (SyntaxError, ValueError) as exc:
            return source_syntax_error(exc)
        return None

    def analyzer(self, config: Config) -> PythonAnalyzer:
        """A new reading of the project's Python files (analyzer.py)."""
        from dbheal_lsp.languages.python.analyzer import PythonAnalyzer

        return PythonAnalyzer(config)

    def code_fixes(
        self, source: str, issue: Issue, project: Project | None = None
    ) -> tuple[CodeFix, ...]:
        """The checked libcst fixes of `issue` (codefix/)."""
        from dbheal_lsp.languages.python.codefix import code_fixes

        return code_fixes(source, issue, project)

    def __repr__(self) -> str:
        return "PythonLanguage()"
