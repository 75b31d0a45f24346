"""The issues of a project's migration files: how the live database drifts from them, and the
migrations that fail when replayed.

`dbheal check` reports them when the migrations folder is among the paths it checks (one result
under the `MIGRATIONS_ENTRY` name of the result cache); the admin page asks for them directly.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from dbheal_lsp.analysis.drift import drift_fingerprint, drift_issues
from dbheal_lsp.analysis.file_result import FileResult
from dbheal_lsp.analysis.result_cache import ResultCache
from dbheal_lsp.config import Config
from dbheal_lsp.model import Issue, IssueType, Origin, Span
from dbheal_lsp.rules import DEFAULT_SEVERITIES

if TYPE_CHECKING:
    from dbheal_lsp.analysis.project import SchemaState

__all__ = ["MIGRATIONS_ENTRY", "migration_issues", "migrations_result"]

#: The result cache's name for the migrations' issues (no file is named so).
MIGRATIONS_ENTRY = "::migrations"


def migrations_result(
    config: Config,
    paths: Sequence[Path],
    state: Callable[[], SchemaState],
    cache: ResultCache | None,
) -> FileResult:
    """The issues of the migration files when `paths` cover them (else none); `statements`
    counts the files. `state` gives the schemas, called only when the cache cannot answer."""
    folder = config.migrations
    if folder is None:
        return FileResult(MIGRATIONS_ENTRY)
    resolved = folder.resolve()
    if not any(resolved == p.resolve() or p.resolve() in resolved.parents for p in paths):
        return FileResult(MIGRATIONS_ENTRY)
    cached = cache.get(MIGRATIONS_ENTRY, "") if cache is not None else None
    if cached is not None:
        return cached
    schemas = state()
    issues = migration_issues(config, schemas)
    files = len(schemas.migrations.files) if schemas.migrations else 0
    result = FileResult(MIGRATIONS_ENTRY, tuple(issues), (), files)
    if cache is not None:
        cache.put(MIGRATIONS_ENTRY, "", result)
    return result


def migration_issues(config: Config, state: SchemaState) -> list[Issue]:
    """Return the SCHEMA_DRIFT issues and the broken statements of the migrations in `state`,
    paths relative to the project root and severities as `config` sets them."""
    if state.migrations is None:
        return []
    lines: dict[str, list[str]] = {}
    for file in state.migrations.files:
        try:
            lines[str(file)] = Path(file).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError):
            continue
    issues = [_relative_issue(config, i) for i in drift_issues(state.drift, lines)]
    for error in state.migrations.errors:
        path = config.relative(Path(error.path))
        # Keyed by the path in the project, so that a clone elsewhere gives the same one.
        key = f"SQL_SYNTAX|{path}|{error.line}|{error.message}"
        issues.append(
            Issue(
                type=IssueType.SQL_SYNTAX,
                severity=config.severity.get(
                    IssueType.SQL_SYNTAX, DEFAULT_SEVERITIES[IssueType.SQL_SYNTAX]
                ),
                path=path,
                span=Span(max(error.line, 1), 1, max(error.line, 1), 2),
                message=f"this migration fails: {error.message}",
                fingerprint=hashlib.sha1(key.encode()).hexdigest()[:16],
            )
        )
    return [replace(i, severity=config.severity.get(i.type, i.severity)) for i in issues]


def _relative_issue(config: Config, issue: Issue) -> Issue:
    """`issue` (a drift issue, built on the migration's absolute path) with its paths relative
    to the project root, and its fingerprint made from them."""
    origin = issue.origin
    if origin is not None:
        origin = Origin(config.relative(Path(origin.path)), origin.line)
    path = config.relative(Path(issue.path))
    fingerprint = drift_fingerprint(path, issue.table or "", issue.column_name, issue.message)
    return replace(issue, path=path, origin=origin, fingerprint=fingerprint)
