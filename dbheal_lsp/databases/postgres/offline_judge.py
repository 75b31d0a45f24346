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

import json
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
    """What a statement names, gathered in one walk of its parse tree (libpg_query's JSON)."""

    ctes: set[str] = field(default_factory=set)
    relations: list[dict[str, Any]] = field(default_factory=list)  # RangeVar nodes
    columns: list[dict[str, Any]] = field(default_factory=list)  # ColumnRef nodes
    output_names: set[str] = field(default_factory=set)  # `AS x` of select lists
    opaque: bool = False


def offline_verdict(text: str, schema: Schema) -> Verdict:
    """Return the verdict on `text` (placeholders in any driver's spelling) without a server."""
    from pglast.parser import ParseError, parse_sql_json

    if not text.strip():
        return Verdict("ok")
    sent = dollar_text(text)
    try:
        # The JSON tree: libpg_query's parse without building Python objects for every node
        # (a tenth of the time; bench/pglast_speed.py).
        tree = json.loads(parse_sql_json(sent.text))
    except ParseError as exc:
        message = str(exc.args[0])
        location = int(exc.args[1]) if len(exc.args) > 1 else None
        near = m.group(1).replace('""', '"') if (m := _NEAR.search(message)) else None
        offset = sent.original_offset(location) if location is not None else None
        return Verdict("syntax", message, near, None, offset)
    statements = tree.get("stmts", [])
    if len(statements) != 1:
        return Verdict("ok")
    ((kind, statement),) = statements[0].get("stmt", {"": {}}).items()
    if kind not in _CHECKED:
        return Verdict("ok")
    if schema.is_empty:
        return Verdict("ok", "not judged: no schema")
    return _names(kind, statement, schema, _Places(sent))


class _Places:
    """Turns the tree's byte offsets into the caller's character offsets."""

    def __init__(self, sent: Dollared) -> None:
        self.sent = sent
        self.encoded = None if sent.text.isascii() else sent.text.encode("utf-8")

    def offset(self, node: dict[str, Any]) -> int:
        location = max(int(node.get("location", 0)), 0)
        if self.encoded is not None:
            location = len(self.encoded[:location].decode("utf-8", "ignore"))
        return self.sent.original_offset(location)


def _walk(node: Any, seen: _Seen) -> None:
    """Gather into `seen` what the tree under `node` names (every wrapped node visited)."""
    if isinstance(node, list):
        for item in node:
            _walk(item, seen)
        return
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        if key == "CommonTableExpr":
            seen.ctes.add(str(value.get("ctename", "")).lower())
        elif key == "RangeVar":
            seen.relations.append(value)
        elif key == "ColumnRef":
            seen.columns.append(value)
        elif key == "ResTarget" and value.get("name"):
            seen.output_names.add(str(value["name"]).lower())
        elif key in _OPAQUE:
            seen.opaque = True
        if isinstance(value, dict | list):
            _walk(value, seen)


def _names(kind: str, statement: dict[str, Any], schema: Schema, places: _Places) -> Verdict:
    """Return a verdict on the names `statement` uses (see module docstring)."""
    seen = _Seen()
    _walk(statement, seen)
    if "relation" in statement:  # INSERT, UPDATE, DELETE: their table is not a wrapped node
        seen.relations.append(statement["relation"])
    aliases: dict[str, Table | None] = {}
    for relation in sorted(seen.relations, key=lambda r: int(r.get("location", 0))):
        name = str(relation.get("relname", "")).lower()
        if name in seen.ctes and "schemaname" not in relation:
            aliases[name] = None
            seen.opaque = True
            continue
        if relation.get("schemaname", "public") != "public":
            seen.opaque = True
            continue
        table = schema.table(name)
        if table is None:
            shown = relation.get("relname", "")
            message = f'relation "{shown}" does not exist'
            return Verdict("no_table", message, shown, None, places.offset(relation))
        if table.is_view:
            seen.opaque = True
        alias = str(relation.get("alias", {}).get("aliasname", name)).lower()
        aliases[alias] = None if table.is_view else table
    target = schema.table(str(statement.get("relation", {}).get("relname", "")).lower())
    if target is not None and kind in ("InsertStmt", "UpdateStmt"):
        key = "cols" if kind == "InsertStmt" else "targetList"
        targets = [t.get("ResTarget", {}) for t in statement.get(key, [])]
        if missing := _missing_target_column(targets, target, places):
            return missing
    return _missing_column(seen, aliases, places) or Verdict("ok")


def _missing_target_column(
    targets: list[dict[str, Any]], table: Table, places: _Places
) -> Verdict | None:
    """Return the verdict on an INSERT column list or UPDATE SET naming a column not there."""
    for target in targets:
        name = target.get("name")
        if name and table.column(name) is None:
            message = f'column "{name}" of relation "{table.name}" does not exist'
            return Verdict("no_column", message, name, table.name, places.offset(target))
    return None


def _missing_column(
    seen: _Seen, aliases: dict[str, Table | None], places: _Places
) -> Verdict | None:
    """Return the verdict on the first column reference no table of the statement has."""
    known = [t for t in aliases.values() if t is not None]
    everywhere = {c.name.lower() for t in known for c in t.columns}
    for ref in sorted(seen.columns, key=lambda r: int(r.get("location", 0))):
        parts = [f.get("String", {}).get("sval") for f in ref.get("fields", [])]
        if None in parts or len(parts) > 2:
            continue  # `t.*`, `schema.table.column`: not judged offline
        if len(parts) == 2:
            qualifier, name = str(parts[0]), str(parts[1])
            table = aliases.get(qualifier.lower())
            if table is not None and table.column(name) is None:
                message = f"column {qualifier}.{name} does not exist"
                return Verdict("no_column", message, name, qualifier, places.offset(ref))
            continue
        name = str(parts[0])
        lowered = name.lower()
        if seen.opaque or not known or lowered in everywhere or lowered in seen.output_names:
            continue
        message = f'column "{name}" does not exist'
        return Verdict("no_column", message, name, None, places.offset(ref))
    return None


class OfflineJudge:
    """The seam's `Judge` without a server (see module docstring): nothing to prepare on,
    nothing to plan, no DDL run."""

    dialect = "postgres"
    engine = "PostgreSQL"

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
