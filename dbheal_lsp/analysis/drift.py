"""Drift between the live database and its migrations, and the issues it raises on migrations.

The database "drifts" when it lacks a table, column or index a migration defines (a migration
not applied) or when a column's declared type differs from the migrations' (a hand-made change).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from dbheal_lsp.analysis.schema import Schema
from dbheal_lsp.model import Issue, IssueType, Origin, Span
from dbheal_lsp.rules import DEFAULT_SEVERITIES


@dataclass(frozen=True)
class MissingObject:
    """A table, column or index the migrations define and the database lacks."""

    kind: str  # "table", "column", "index" or "trigger"
    table: str
    name: str
    origin: Origin | None


@dataclass(frozen=True)
class TypeDrift:
    """A column whose declared type differs between the database and the migrations."""

    table: str
    column: str
    db_type: str
    expected_type: str
    origin: Origin | None


@dataclass(frozen=True)
class Drift:
    """Every difference between the database and what its migrations define."""

    missing: tuple[MissingObject, ...] = ()
    types: Mapping[tuple[str, str], TypeDrift] = field(default_factory=dict)

    @property
    def is_empty(self) -> bool:
        """Return whether the database matches its migrations."""
        return not self.missing and not self.types


def _normal_type(declared: str) -> str:
    return " ".join(declared.upper().replace(" (", "(").split())


def compute_drift(
    database: Schema, expected: Schema, trigger_origins: Mapping[str, Origin] | None = None
) -> Drift:
    """Return what `database` lacks of `expected`, and the columns whose types differ.

    `trigger_origins` maps a lower-case trigger name to the migration line that creates it.
    """
    missing: list[MissingObject] = []
    types: dict[tuple[str, str], TypeDrift] = {}
    for key, table in expected.tables.items():
        live = database.tables.get(key)
        if live is None:
            missing.append(MissingObject("table", table.name, table.name, table.origin))
            continue
        if live.is_view != table.is_view:
            continue
        for column in table.columns:
            live_col = live.column(column.name)
            if live_col is None:
                missing.append(MissingObject("column", table.name, column.name, column.origin))
            elif _normal_type(live_col.declared_type) != _normal_type(column.declared_type):
                types[(key, column.name.lower())] = TypeDrift(
                    table.name,
                    column.name,
                    live_col.declared_type,
                    column.declared_type,
                    column.origin,
                )
    for key, index in expected.indexes.items():
        if index.sql is None or key in database.indexes:
            continue
        if database.tables.get(index.table.lower()) is None:
            continue  # the whole table is missing: reported once, as the table
        missing.append(MissingObject("index", index.table, index.name, index.origin))
    for key, trigger in expected.triggers.items():
        if key in database.triggers or database.tables.get(trigger.table.lower()) is None:
            continue
        origin = (trigger_origins or {}).get(key)
        missing.append(MissingObject("trigger", trigger.table, trigger.name, origin))
    return Drift(tuple(missing), types)


_TRIGGER_NAME = re.compile(
    r"CREATE\s+(?:TEMP\w*\s+)?TRIGGER\s+(?:IF\s+NOT\s+EXISTS\s+)?([^\s(]+)", re.IGNORECASE
)


def trigger_origins(statements: Sequence[tuple[str, Origin]]) -> dict[str, Origin]:
    """Return lower-case trigger name -> origin for the CREATE TRIGGER statements given."""
    found: dict[str, Origin] = {}
    for sql, origin in statements:
        m = _TRIGGER_NAME.match(sql.lstrip())
        if m:
            found[m.group(1).strip('"`[]').lower()] = origin
    return found


def drift_issues(drift: Drift, read_lines: Mapping[str, Sequence[str]]) -> list[Issue]:
    """Return SCHEMA_DRIFT issues placed on the migration lines that define what drifted.

    `read_lines` maps a migration path (as in the origins) to its lines, to place each issue on
    the defining name rather than the whole line.
    """
    issues: list[Issue] = []
    for obj in drift.missing:
        if obj.origin is None:
            continue
        what = obj.kind
        shown = obj.name if obj.kind != "column" else f"{obj.table}.{obj.name}"
        message = (
            f"the database has no {what} {shown}: this migration defines it but has not been "
            "applied"
        )
        issues.append(
            _issue(
                obj.origin,
                obj.name,
                message,
                read_lines,
                obj.table,
                obj.name if obj.kind == "column" else None,
                None,
            )
        )
    for diff in drift.types.values():
        if diff.origin is None:
            continue
        message = (
            f"{diff.table}.{diff.column} is {diff.expected_type or 'untyped'} here but "
            f"{diff.db_type or 'untyped'} in the database: the database has drifted from its "
            "migrations"
        )
        issues.append(
            _issue(
                diff.origin, diff.column, message, read_lines, diff.table, diff.column, diff.db_type
            )
        )
    return issues


def _issue(
    origin: Origin,
    name: str,
    message: str,
    read_lines: Mapping[str, Sequence[str]],
    table: str,
    column: str | None,
    db_type: str | None,
) -> Issue:
    lines = read_lines.get(origin.path, ())
    text = lines[origin.line - 1] if 0 < origin.line <= len(lines) else ""
    m = re.search(rf"(?<![\w]){re.escape(name)}(?!\w)", text, re.IGNORECASE)
    if m:
        span = Span(origin.line, m.start() + 1, origin.line, m.end() + 1)
    else:
        stripped = text.rstrip("\r\n")
        indent = len(stripped) - len(stripped.lstrip())
        span = Span(origin.line, indent + 1, origin.line, max(len(stripped), indent) + 1)
    return Issue(
        type=IssueType.SCHEMA_DRIFT,
        severity=DEFAULT_SEVERITIES[IssueType.SCHEMA_DRIFT],
        path=origin.path,
        span=span,
        message=message,
        table=table,
        column_name=column,
        db_type=db_type,
        origin=origin,
        fingerprint=drift_fingerprint(origin.path, table, column, message),
    )


def drift_fingerprint(path: str, table: str, column: str | None, message: str) -> str:
    """Return the fingerprint of a drift issue on the migration at `path`: the same wherever
    the project is, when `path` is relative to its root."""
    key = f"SCHEMA_DRIFT|{path}|{table}|{column}|{message}"
    return hashlib.sha1(key.encode()).hexdigest()[:16]
