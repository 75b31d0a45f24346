"""The DDL a project's code runs (`CREATE` statements sent by its database calls): the schema of
a project that has neither a database nor migrations.

Finding it means finding every file's statements, as its check does; so the statements found
are handed to the checks (`FoundDdl.statements`), which neither parse nor search those files
again. Each file's DDL is kept in the user's cache folder by the hash of its text and of the
project's constants: a warm check rebuilds the schema without reading an unchanged file.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeGuard

from dbheal_lsp.analysis.file_texts import FileTexts
from dbheal_lsp.analysis.result_cache import PerFileCache
from dbheal_lsp.config import Config
from dbheal_lsp.languages.python.pysource import parse_module
from dbheal_lsp.model import Origin

if TYPE_CHECKING:
    from dbheal_lsp.analysis.statement import Statement
    from dbheal_lsp.languages.language import Run
    from dbheal_lsp.languages.python.analyzer import PythonAnalyzer
    from dbheal_lsp.languages.python.extract import Extractor

__all__ = ["FoundDdl", "FoundStatements", "ddl_in", "ddl_of"]

#: By relative path: the text, its tree and the statements the extractor found in it.
FoundStatements = dict[str, tuple[str, ast.Module, tuple["Statement", ...]]]


@dataclass(frozen=True)
class FoundDdl:
    """The DDL of a project's files, and the statements of those that were searched."""

    ddl: list[tuple[str, Origin]]  # SQL of one call, where it is
    statements: FoundStatements


def ddl_in(config: Config, files: Sequence[Path], run: Run, analyzer: PythonAnalyzer) -> FoundDdl:
    """Return the DDL in the code of `files`, in their order: from the user's cache for a file
    whose text and project constants are unchanged, else found with the file's statements by
    `analyzer` (in the run's worker processes, which keep them for the checks, when there are
    some). The analyzer's statement finder and constants are built only when a file must be
    searched."""
    texts, use_cache, pool = run.texts, run.use_cache, run.pool
    store = PerFileCache.for_project(config.root, "ddl.json") if use_cache else None
    context = f"{config.fingerprint()}:{analyzer.digest()}"
    keys: dict[str, str] = {}
    order: list[str] = []
    known: dict[str, list[tuple[str, int]] | None] = {}
    todo: list[tuple[Path, str]] = []
    for file in files:
        rel = config.relative(file)
        try:
            digest = texts.digests(file, rel).text
        except OSError:
            continue
        if digest is None:
            continue
        order.append(rel)
        if store is not None:
            keys[rel] = f"{digest}:{context}"
            mine = store.get(rel, keys[rel])
            if _is_ddl_list(mine):
                known[rel] = mine
                continue
        todo.append((file, rel))
    found: FoundStatements = {}
    if pool is not None and todo:
        learned = pool.learned(analyzer.name, analyzer.learned())
        known.update(pool.run(_ddl_share, todo, (learned,)))
    for file, rel in todo:
        if rel not in known:  # no pool, or its worker died
            known[rel] = ddl_of(file, rel, texts, analyzer.extractor, found)
        mine = known[rel]
        if store is not None and mine is not None:
            store.put(rel, keys[rel], mine)
    ddl = [(text, Origin(rel, line)) for rel in order for text, line in known[rel] or ()]
    if store is not None:
        store.save_existing(config.root)
    return FoundDdl(ddl, found)


def ddl_of(
    file: Path, rel: str, texts: FileTexts, extractor: Extractor, found: FoundStatements
) -> list[tuple[str, int]] | None:
    """Return the DDL statements of one file (text, first line), keeping its statements in
    `found`; None when it cannot be read."""
    try:
        source = texts.source(file, rel)
        if not extractor.might_contain_sql(source):
            return []
        tree = texts.tree(file, rel, parse_module)
        statements = extractor.extract(source, tree)
    except (OSError, UnicodeDecodeError, SyntaxError, ValueError):
        return None
    found[rel] = (source, tree, statements)
    return [(s.literal_text, s.span.line) for s in statements if _is_ddl(s)]


def _ddl_share(
    files: list[tuple[Path, str]], learned: object | None
) -> list[tuple[str, list[tuple[str, int]] | None]]:
    """A worker's share of the DDL pass; the statements found are kept for the checks."""
    from dbheal_lsp.analysis.workers import worker_project, worker_texts
    from dbheal_lsp.languages.python.analyzer import PythonAnalyzer

    analyzer = worker_project().analyzers[PythonAnalyzer.name]
    assert isinstance(analyzer, PythonAnalyzer)
    if learned is not None:
        analyzer.use(learned)
    texts, found = worker_texts(), analyzer.found
    return [(rel, ddl_of(file, rel, texts, analyzer.extractor, found)) for file, rel in files]


def _is_ddl(statement: Statement) -> bool:
    text = statement.literal_text
    return text.lstrip().upper().startswith("CREATE") or (
        statement.is_script and "CREATE" in text.upper()
    )


def _is_ddl_list(value: object) -> TypeGuard[list[tuple[str, int]]]:
    """Whether a cached value is a file's DDL as `_ddl_of` gives it (JSON makes pairs lists)."""
    return isinstance(value, list) and all(
        isinstance(i, list) and len(i) == 2 and isinstance(i[0], str) and isinstance(i[1], int)
        for i in value
    )
