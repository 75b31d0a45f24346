"""JavaScript and TypeScript (`JavaScriptLanguage`): tree-sitter finds the statements.

Only the registry (`dbheal_lsp/languages/__init__.py`) names this module; the engine reaches it
through the `Language` protocol. tree-sitter is imported when the first JS/TS file is read, so
that a Python project does not load it. Code fixes are byte-range edits of the tree
(codefix.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dbheal_lsp.files import SourceNotText

if TYPE_CHECKING:
    from dbheal_lsp.analysis.project import Project
    from dbheal_lsp.config import Config
    from dbheal_lsp.languages.javascript.analyzer import JavaScriptAnalyzer
    from dbheal_lsp.languages.language import SourceSyntaxError
    from dbheal_lsp.model import CodeFix, Issue

__all__ = ["JAVASCRIPT_EXTENSIONS", "JavaScriptLanguage"]

#: The endings of the files read as JavaScript or TypeScript.
JAVASCRIPT_EXTENSIONS: tuple[str, ...] = (
    ".js",
    ".mjs",
    ".cjs",
    ".jsx",
    ".ts",
    ".mts",
    ".cts",
    ".tsx",
)
_BOM = b"\xef\xbb\xbf"


class JavaScriptLanguage:
    """JavaScript and TypeScript source files (and their JSX and module variants)."""

    name = "javascript"
    extensions = JAVASCRIPT_EXTENSIONS

    def decode(self, data: bytes) -> str:
        """The text as Node and TypeScript read it: UTF-8, a BOM dropped."""
        try:
            return data.decode("utf-8").removeprefix("\ufeff")
        except UnicodeDecodeError as exc:
            raise SourceNotText(f"not UTF-8 text (byte {exc.start})") from None

    def encoding(self, data: bytes) -> str:
        """UTF-8, with its BOM ("utf-8-sig") when the file has one."""
        return "utf-8-sig" if data.startswith(_BOM) else "utf-8"

    def syntax_problem(self, text: str) -> SourceSyntaxError | None:
        """Why `text` reads as none of JavaScript, TypeScript and TSX (JavaScript's first
        error), or None. The file's name is not given: a `.ts` file's text must pass too."""
        from dbheal_lsp.languages.javascript.parse import Parsers, syntax_error

        parsers = Parsers()
        first = syntax_error(parsers.tree("<fixed>.js", text))
        if first is None:
            return None
        for name in ("<fixed>.ts", "<fixed>.tsx"):
            if syntax_error(parsers.tree(name, text)) is None:
                return None
        return first

    def analyzer(self, config: Config) -> JavaScriptAnalyzer:
        """A new reading of the project's JS/TS files (analyzer.py)."""
        from dbheal_lsp.languages.javascript.analyzer import JavaScriptAnalyzer

        return JavaScriptAnalyzer(config)

    def code_fixes(
        self, source: str, issue: Issue, project: Project | None = None
    ) -> tuple[CodeFix, ...]:
        """The checked fixes of `issue`: remove a cast, parameterize, rename (codefix.py)."""
        from dbheal_lsp.languages.javascript.codefix import code_fixes

        return code_fixes(source, issue, project)

    def __repr__(self) -> str:
        return "JavaScriptLanguage()"
