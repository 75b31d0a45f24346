"""The PostgreSQL judge without a server: pglast (libpg_query, PostgreSQL's own parser) gives
the syntax verdict and its position, and the migrations' schema (offline_schema.py) the names.

A statement the parser rejects is a syntax finding at the character the parser names, as the
server would report it. One it accepts is checked for names the way the server resolves them,
but only where that is certain: a table (outside a CTE's name) the schema lacks; a column
qualified by a table or alias of the schema, or in INSERT's column list or UPDATE's SET,
that the table lacks; an unqualified column no table of the statement has, when every source
of the statement is a table of the schema (a function, a subquery or a view of unknown
columns in FROM could bring it). Types, plans and the script's DDL need the server: not judged.
"""

from __future__ import annotations

import re
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any

from dbheal_lsp.analysis.oracle import Verdict
from dbheal_lsp.analysis.placeholders import Placeholder
from dbheal_lsp.analysis.schema import Schema, Table
from dbheal_lsp.databases.database import Ran
from dbheal_lsp.databases.postgres.params import Dollared, dollar_text

__all__ = ["OfflineJudge", "offline_verdict"]

_NEAR = re.compile(r'at or near "((?:[^"]|"")*)"')
_CHECKED = frozenset({"SelectStmt", "InsertStmt", "UpdateStmt", "DeleteStmt"})
# Sources whose columns are not known without the server.
_OPAQUE = frozenset({"RangeFunction", "RangeSubselect", "RangeTableFunc", "RangeTableSample"})


@dataclass
class _Seen:
    """What a statement names, gathered in one walk of its tree."""

    ctes: set[str] = field(default_factory=set)
    relations: list[Any] = field(default_factory=list)  # RangeVar nodes
    columns: list[Any] = field(default_factory=list)  # ColumnRef nodes
    output_names: set[str] = field(default_factory=set)  # `AS x` of select lists
    opaque: bool = False


def offline_verdict(text: str, schema: Schema) -> Verdict:
    """Return the verdict on `text` (placeholders in any driver's spelling) without a server."""
    from pglast import parse_sql
    from pglast.parser import ParseError

    if not text.strip():
        return Verdict("ok")
    sent = dollar_text(text)
    try:
        parsed = parse_sql(sent.text)
    except ParseError as exc:
        message = str(exc.args[0])
        location = int(exc.args[1]) if len(exc.args) > 1 else None
        near = m.group(1).replace('""', '"') if (m := _NEAR.search(message)) else None
        offset = sent.original_offset(location) if location is not None else None
        return Verdict("syntax", message, near, None, offset)
    if len(parsed) != 1 or type(parsed[0].stmt).__name__ not in _CHECKED:
        return Verdict("ok")
    if schema.is_empty:
        return Verdict("ok", "not judged: no schema")
    return _names(parsed[0].stmt, schema, sent)


def _walk(statement: Any) -> _Seen:
    from pglast.visitors import Visitor

    seen = _Seen()

    class _Collect(Visitor):
        def visit(self, ancestors: Any, node: Any) -> None:
            kind = type(node).__name__
            if kind == "CommonTableExpr":
                seen.ctes.add(node.ctename.lower())
            elif kind == "RangeVar":
                seen.relations.append(node)
            elif kind == "ColumnRef":
                seen.columns.append(node)
            elif kind == "ResTarget" and node.name:
                seen.output_names.add(node.name.lower())
            elif kind in _OPAQUE:
                seen.opaque = True

    _Collect()(statement)
    return seen


def _names(statement: Any, schema: Schema, sent: Dollared) -> Verdict:
    """Return a verdict on the names `statement` uses (see module docstring)."""
    seen = _walk(statement)
    aliases: dict[str, Table | None] = {}
    for relation in sorted(seen.relations, key=lambda r: r.location or 0):
        name = relation.relname.lower()
        if name in seen.ctes and relation.schemaname is None:
            aliases[name] = None
            seen.opaque = True
            continue
        if relation.schemaname not in (None, "public"):
            seen.opaque = True
            continue
        table = schema.table(name)
        if table is None:
            message = f'relation "{relation.relname}" does not exist'
            offset = sent.original_offset(relation.location or 0)
            return Verdict("no_table", message, relation.relname, None, offset)
        if table.is_view:
            seen.opaque = True
        alias = relation.alias.aliasname.lower() if relation.alias else name
        aliases[alias] = None if table.is_view else table
    target = _target_table(statement, schema)
    if target is not None and (missing := _missing_target_column(statement, target, sent)):
        return missing
    return _missing_column(seen, aliases, sent) or Verdict("ok")


def _target_table(statement: Any, schema: Schema) -> Table | None:
    relation = getattr(statement, "relation", None)
    if relation is None or type(statement).__name__ not in ("InsertStmt", "UpdateStmt"):
        return None
    return schema.table(relation.relname.lower())


def _missing_target_column(statement: Any, table: Table, sent: Dollared) -> Verdict | None:
    """Return the verdict on an INSERT column list or UPDATE SET naming a column not there."""
    targets = statement.cols if type(statement).__name__ == "InsertStmt" else statement.targetList
    for target in targets or ():
        if target.name and table.column(target.name) is None:
            message = f'column "{target.name}" of relation "{table.name}" does not exist'
            offset = sent.original_offset(target.location or 0)
            return Verdict("no_column", message, target.name, table.name, offset)
    return None


def _missing_column(
    seen: _Seen, aliases: dict[str, Table | None], sent: Dollared
) -> Verdict | None:
    """Return the verdict on the first column reference no table of the statement has."""
    known = [t for t in aliases.values() if t is not None]
    everywhere = {c.name.lower() for t in known for c in t.columns}
    for ref in sorted(seen.columns, key=lambda r: r.location or 0):
        parts = [getattr(f, "sval", None) for f in ref.fields]
        if None in parts or len(parts) > 2:
            continue  # `t.*`, `schema.table.column`: not judged offline
        offset = sent.original_offset(ref.location or 0)
        if len(parts) == 2:
            qualifier, name = parts
            table = aliases.get(str(qualifier).lower())
            if table is not None and table.column(str(name)) is None:
                message = f"column {qualifier}.{name} does not exist"
                return Verdict("no_column", message, name, qualifier, offset)
            continue
        name = str(parts[0])
        lowered = name.lower()
        if seen.opaque or not known or lowered in everywhere or lowered in seen.output_names:
            continue
        return Verdict("no_column", f'column "{name}" does not exist', name, None, offset)
    return None


class OfflineJudge:
    """The seam's `Judge` without a server (see module docstring): nothing to prepare on,
    nothing to plan, no DDL run."""

    dialect = "postgres"

    def __init__(self, schema: Schema) -> None:
        self._schema = schema

    def verdict(self, text: str) -> Verdict:
        """Return pglast's verdict on `text` against the migrations' schema."""
        return offline_verdict(text, self._schema)

    def plan(self, text: str, placeholders: tuple[Placeholder, ...]) -> list[str]:
        """No plan without a server."""
        return []

    def plan_with_index(
        self,
        text: str,
        placeholders: tuple[Placeholder, ...],
        table: str,
        columns: tuple[str, ...],
        name: str,
    ) -> tuple[str, ...]:
        """No plan without a server."""
        return ()

    def run(self, sql: str) -> Ran:
        """A script's DDL is not run without a server."""
        return Ran("refused", "no PostgreSQL server to run it on")

    def undone(self, name: str) -> AbstractContextManager[None]:
        """Nothing is changed, so nothing is undone."""
        return nullcontext()

    @property
    def in_transaction(self) -> bool:
        """Never: nothing runs."""
        return False

    def schema(self, source: str) -> Schema:
        """Return the migrations' schema."""
        return self._schema

    def has_objects(self) -> bool:
        """Return whether the migrations' schema has a table or view."""
        return not self._schema.is_empty

    def close(self) -> None:
        """Nothing to free."""
