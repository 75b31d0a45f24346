"""The DDL a project's code runs (`CREATE` statements sent by its database calls): the schema of
a project that has neither a database nor migrations.

Finding it means finding every file's statements, as its check does; so the statements found
are handed to the checks (`FoundDdl.statements`), which neither parse nor search those files
again. Each file's DDL is kept in the user's cache folder by the hash of its text and of the
project's constants: a warm check rebuilds the schema without reading an unchanged file.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeGuard

from dbheal_lsp.analysis.file_texts import FileTexts
from dbheal_lsp.analysis.result_cache import PerFileCache
from dbheal_lsp.config import Config
from dbheal_lsp.model import Origin

if TYPE_CHECKING:
    from dbheal_lsp.analysis.statement import Statement
    from dbheal_lsp.analysis.workers import Constants, WorkerPool
    from dbheal_lsp.languages.python.extract import Extractor

__all__ = ["FoundDdl", "FoundStatements", "ddl_in", "ddl_of"]

#: By relative path: the text, its tree and the statements the extractor found in it.
FoundStatements = dict[str, tuple[str, ast.Module, tuple["Statement", ...]]]


@dataclass(frozen=True)
class FoundDdl:
    """The DDL of a project's files, and the statements of those that were searched."""

    ddl: list[tuple[str, Origin]]  # SQL of one call, where it is
    statements: FoundStatements


def ddl_in(
    config: Config,
    files: Sequence[Path],
    texts: FileTexts,
    extractor: Callable[[], Extractor],
    constants: tuple[str, Callable[[], Constants]],
    use_cache: bool,
    pool: WorkerPool | None = None,
) -> FoundDdl:
    """Return the DDL in the code of `files`, in their order: from the user's cache for a file
    whose text and project constants are unchanged, else found with the file's statements (in
    the `pool`'s workers, which keep them for the checks, when there is one). `constants` are
    the digest of the project's constants and how to get every file's (as
    `LearnedConstants.per_file`); that and `extractor` are called only when a file must be
    searched."""
    store = PerFileCache.for_project(config.root, "ddl.json") if use_cache else None
    context = f"{config.fingerprint()}:{constants[0]}"
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
        known.update(pool.ddl(todo, constants[1]()))
    for file, rel in todo:
        if rel not in known:  # no pool, or its worker died
            known[rel] = ddl_of(file, rel, texts, extractor(), found)
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
        tree = texts.tree(file, rel)
        statements = extractor.extract(source, tree)
    except (OSError, UnicodeDecodeError, SyntaxError, ValueError):
        return None
    found[rel] = (source, tree, statements)
    return [(s.literal_text, s.span.line) for s in statements if _is_ddl(s)]


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
