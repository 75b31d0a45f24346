"""The tables and columns a statement names, with offsets, and how a column resolves.

A column name is judged against the tables in scope (`Source`s: a schema table, a CTE, a
derived table, or something whose columns are unknown, such as an attached database's table or
a table-valued function). Only a name that no known source has is "missing"; a name that an
unknown source might have is "unknown", never an alarm. Offsets are positions in the caller's
text (`SqlglotText.original`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from dbheal_lsp.analysis.placeholders import SqlglotText
from dbheal_lsp.analysis.schema import Table

Status = Literal["ok", "missing", "unknown"]

#: The names of SQLite's implicit row id: every ordinary table has one.
_ROWID = ("rowid", "oid", "_rowid_")


@dataclass(frozen=True)
class TableRef:
    """A table named in the statement, resolved against the schema (None when missing)."""

    name: str
    start: int
    end: int
    table: Table | None
    is_cte: bool = False
    attached: bool = False  # in another database (`other.t`): not this schema's to judge

    @property
    def missing(self) -> bool:
        """Return whether this names a table the schema lacks (not a CTE, not attached)."""
        return self.table is None and not self.is_cte and not self.attached


@dataclass(frozen=True)
class ColumnRef:
    """A column named in the statement and the table it resolved to."""

    name: str
    start: int
    end: int
    qualifier: str | None
    table: Table | None
    status: Status
    candidates: tuple[str, ...] = ()


@dataclass
class Source:
    """A table in scope under some alias or name."""

    table: Table | None  # a schema table, or None for a derived table / CTE / missing table
    outputs: tuple[str, ...] | None  # column names a derived table or CTE yields
    real_name: str


def offsets(st: SqlglotText, node: Any) -> tuple[int, int] | None:
    """Return where sqlglot's `node` is in the caller's text, or None when sqlglot did not say."""
    meta = getattr(node, "meta", None) or {}
    if "start" not in meta:
        return None
    return st.original(meta["start"]), st.original(meta["end"] + 1)


def source_columns(source: Source) -> tuple[str, ...]:
    """Return the column names `source` is known to have (none when they are unknown)."""
    if source.table is not None:
        return tuple(c.name for c in source.table.columns)
    return source.outputs or ()


def _lookup_source(chain: list[dict[str, Source]], qualifier: str) -> Source | None:
    for sources in chain:
        found = sources.get(qualifier.lower())
        if found is not None:
            return found
    return None


def resolve(
    st: SqlglotText, column: Any, chain: list[dict[str, Source]], aliases: set[str]
) -> ColumnRef | None:
    """Resolve sqlglot's `column` against the scopes of `chain`, innermost first.

    None for what is not a column to judge: a `*`, a select-list alias, a column of a trigger's
    `new`/`old` or an upsert's `excluded`, or one sqlglot gave no position for.
    """
    from sqlglot import exp

    if isinstance(column.this, exp.Star):
        return None
    found = offsets(st, column.this)
    if found is None:
        return None
    name = column.name
    qualifier = column.table or None
    if qualifier:
        source = _lookup_source(chain, qualifier)
        if source is None:
            if qualifier.lower() in ("excluded", "new", "old"):
                return None
            return ColumnRef(name, found[0], found[1], qualifier, None, "unknown")
        return against(name, found, qualifier, source)
    if name in aliases:
        return None
    return _unqualified(name, found, chain)


def _unqualified(name: str, found: tuple[int, int], chain: list[dict[str, Source]]) -> ColumnRef:
    unknown = False
    candidates: list[str] = []
    for sources in chain:
        for source in sources.values():
            if source.table is None and source.outputs is None:
                unknown = True
                continue
            if source.table is not None and source.table.column(name) is not None:
                return ColumnRef(name, found[0], found[1], None, source.table, "ok")
            if source.table is None and name.lower() in (o.lower() for o in source.outputs or ()):
                return ColumnRef(name, found[0], found[1], None, None, "ok")
            if source.table is not None and name.lower() in _ROWID:
                return ColumnRef(name, found[0], found[1], None, source.table, "ok")
            candidates.extend(source_columns(source))
        if unknown:
            break
    if unknown or not any(chain):
        return ColumnRef(name, found[0], found[1], None, None, "unknown")
    first = next((s.table for s in chain[0].values() if s.table is not None), None)
    return ColumnRef(name, found[0], found[1], None, first, "missing", tuple(candidates))


def against(name: str, found: tuple[int, int], qualifier: str, source: Source) -> ColumnRef:
    """Resolve the column `name`, at offsets `found`, against the one table `source`."""
    if source.table is not None:
        if source.table.column(name) is not None or name.lower() in _ROWID:
            return ColumnRef(name, found[0], found[1], qualifier, source.table, "ok")
        return ColumnRef(
            name,
            found[0],
            found[1],
            qualifier,
            source.table,
            "missing",
            tuple(c.name for c in source.table.columns),
        )
    if source.outputs is None:
        return ColumnRef(name, found[0], found[1], qualifier, None, "unknown")
    if name.lower() in (o.lower() for o in source.outputs):
        return ColumnRef(name, found[0], found[1], qualifier, None, "ok")
    return ColumnRef(name, found[0], found[1], qualifier, None, "missing", source.outputs)
