"""The source languages dbheal reads: each turns a file into `Statement`s and a fix into edits.

This registry is the one place that names them; everything else reaches a language through
the seam (`languages/language.py`). Adding one is a module implementing `Language` and its
line in `LANGUAGES` (docs/architecture.md, "The seams", has the checklist).
"""

from __future__ import annotations

from collections.abc import Sequence

from dbheal_lsp.languages.javascript.language import JavaScriptLanguage
from dbheal_lsp.languages.language import Language
from dbheal_lsp.languages.python.language import PythonLanguage

__all__ = ["LANGUAGES", "SOURCE_EXTENSIONS", "extensions_of", "language_for"]

#: Every language dbheal reads; the first also reads a text whose name has no known extension
#: (an editor's unsaved buffer, a `<string>`).
LANGUAGES: tuple[Language, ...] = (PythonLanguage(), JavaScriptLanguage())


def extensions_of(languages: Sequence[Language]) -> tuple[str, ...]:
    """Return the file name endings of `languages`, in their order."""
    return tuple(dict.fromkeys(e for language in languages for e in language.extensions))


#: The file name endings of the files a check reads.
SOURCE_EXTENSIONS = extensions_of(LANGUAGES)


def language_for(path: str, languages: Sequence[Language] = LANGUAGES) -> Language | None:
    """Return the language of the file named `path` among `languages`, by its ending."""
    return next((lang for lang in languages if path.endswith(lang.extensions)), None)
