"""The filters of a WHERE or ON clause that an index could serve, for MISSING_INDEX.

Only the AND-ed predicates count (`=`, `<`, `<=`, `>`, `>=`, `IS`, `IN`, `BETWEEN` on a column of
a schema table): an OR, or a column inside a function call, is not one an index serves as is.
Each filter names the alias or table the query plan's SCAN line uses, so the oracle can match
the two.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dbheal_lsp.analysis.columnrefs import ColumnRef, Source, resolve
from dbheal_lsp.analysis.placeholders import SqlglotText
from dbheal_lsp.analysis.schema import Table


@dataclass(frozen=True)
class Filter:
    """A filter on a column that an index could serve (`=`, `IN`, `<`, `BETWEEN`, `IS`)."""

    column: ColumnRef
    source: str  # the alias or name the planner's SCAN line uses for its table


def index_filters(st: SqlglotText, node: Any, chain: list[dict[str, Source]]) -> list[Filter]:
    """Return the AND-ed predicates of the condition `node` that an index could serve."""
    from sqlglot import exp

    if isinstance(node, exp.Paren):
        return index_filters(st, node.this, chain)
    if isinstance(node, exp.And):
        return index_filters(st, node.this, chain) + index_filters(st, node.expression, chain)
    columns: list[Any] = []
    if isinstance(node, (exp.EQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Is)):
        columns = [c for c in (node.this, node.expression) if isinstance(c, exp.Column)]
    elif isinstance(node, (exp.In, exp.Between)) and isinstance(node.this, exp.Column):
        columns = [node.this]
    found: list[Filter] = []
    for column in columns:
        ref = resolve(st, column, chain, set())
        if ref is None or ref.status != "ok" or ref.table is None:
            continue
        source = column.table or _source_alias(chain[0], ref.table)
        if source:
            found.append(Filter(ref, source))
    return found


def _source_alias(sources: dict[str, Source], table: Table) -> str | None:
    for alias, source in sources.items():
        if source.table is table:
            return alias
    return None
