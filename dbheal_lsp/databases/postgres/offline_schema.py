"""The schema PostgreSQL migrations define, read without a server by pglast (libpg_query).

When no server can be reached, each migration statement (split by statements.py) is parsed by
PostgreSQL's own parser and applied to a schema in memory: CREATE TABLE (columns, types, NOT
NULL, defaults, primary keys, foreign keys), ALTER TABLE ADD/DROP/RENAME COLUMN, RENAME TO,
DROP TABLE/VIEW/INDEX, CREATE INDEX and CREATE VIEW (its columns by name where the select
list names them). A statement pglast rejects is noted at its line. Nothing else (functions,
triggers, grants) changes what the rules read. pglast is imported here only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from dbheal_lsp.analysis.migrations import (
    MigrationError,
    MigrationResult,
    MigrationStatement,
    StatementKind,
)
from dbheal_lsp.analysis.schema import Column, ForeignKey, Index, Schema, Table, schema_version
from dbheal_lsp.databases.postgres.catalog import affinity
from dbheal_lsp.databases.postgres.statements import migration_statements
from dbheal_lsp.model import Origin

__all__ = ["offline_migrations", "offline_schema_from_ddl", "type_name"]

# pglast prints a type as written (`int4`, `varchar(40)`); the server's own spelling is kept
# so a schema read offline reads like the catalog's.
_TYPE_NAMES = MappingProxyType(
    {
        "int": "integer",
        "int4": "integer",
        "serial": "integer",
        "serial4": "integer",
        "int8": "bigint",
        "bigserial": "bigint",
        "serial8": "bigint",
        "int2": "smallint",
        "smallserial": "smallint",
        "bool": "boolean",
        "varchar": "character varying",
        "float8": "double precision",
        "float4": "real",
        "timestamptz": "timestamp with time zone",
        "timestamp": "timestamp without time zone",
        "decimal": "numeric",
    }
)


def type_name(node: Any) -> str:
    """Return the catalog's spelling of a pglast TypeName node (`character varying(40)`)."""
    from pglast.stream import RawStream

    text = str(RawStream()(node)).strip()
    base, paren, rest = text.partition("(")
    base = base.strip()
    if base.lower().startswith("pg_catalog."):
        base = base[len("pg_catalog.") :]
    size = (paren + rest).replace(", ", ",") if paren else ""
    return _TYPE_NAMES.get(base.lower(), base) + size


@dataclass
class _Building:
    """The schema as the statements so far leave it (mutable while the files are read)."""

    tables: dict[str, Table] = field(default_factory=dict)
    indexes: dict[str, Index] = field(default_factory=dict)
    ddl: list[str] = field(default_factory=list)


def offline_migrations(folder: Path, root: Path | None) -> MigrationResult:
    """Return the schema the migration files of `folder` define, read by pglast alone."""
    from pglast import parse_sql
    from pglast.parser import ParseError

    files, statements, errors = migration_statements(folder, root)
    building = _Building()
    ran: list[MigrationStatement] = []
    for sql, origin in statements:
        shown, line = origin.path, origin.line
        try:
            parsed = parse_sql(sql)
        except ParseError as exc:
            errors.append(MigrationError(shown, line, str(exc.args[0])))
            continue
        for raw in parsed:
            kind, table, column = _apply(building, raw.stmt, sql, origin)
            ran.append(MigrationStatement(shown, line, sql, kind, table, column))
    schema = Schema(
        MappingProxyType(building.tables),
        MappingProxyType(building.indexes),
        MappingProxyType({}),
        tuple(building.ddl),
        "migrations",
        schema_version(tuple(building.ddl), "migrations", {}),
    )
    by_table: dict[str, list[MigrationStatement]] = {}
    for statement in ran:
        if statement.table is not None:
            by_table.setdefault(statement.table.lower(), []).append(statement)
    return MigrationResult(
        schema,
        tuple(errors),
        files,
        tuple(ran),
        MappingProxyType({name: tuple(found) for name, found in by_table.items()}),
        MappingProxyType(
            {(s.table.lower(), s.column.lower()): s for s in ran if s.table and s.column}
        ),
    )


def _apply(
    building: _Building, node: Any, sql: str, origin: Origin
) -> tuple[StatementKind, str | None, str | None]:
    """Apply one parsed statement to `building`; return its kind, table and column."""
    kind = type(node).__name__
    if kind == "CreateStmt":
        table = _create_table(node, sql, origin)
        building.tables[table.name.lower()] = table
        building.ddl.append(sql)
        return "create_table", table.name, None
    if kind == "ViewStmt":
        name = node.view.relname
        building.tables[name.lower()] = Table(
            name, _view_columns(node.query), sql, origin, is_view=True
        )
        building.ddl.append(sql)
        return "create_view", name, None
    if kind == "IndexStmt" and node.idxname:
        table = node.relation.relname
        columns = tuple(p.name for p in node.indexParams or () if p.name)
        partial = node.whereClause is not None
        index = Index(node.idxname, table, columns, bool(node.unique), partial, sql, origin)
        building.indexes[node.idxname.lower()] = index
        building.ddl.append(sql)
        return "create_index", table, None
    if kind == "AlterTableStmt":
        return _alter_table(building, node, sql, origin)
    if kind == "RenameStmt":
        return _rename(building, node, sql)
    if kind == "DropStmt":
        _drop(building, node)
        building.ddl.append(sql)
    return "other", None, None


def _create_table(node: Any, sql: str, origin: Origin) -> Table:
    """Return the table a CREATE TABLE node makes (its columns with their lines)."""
    columns: list[Column] = []
    key: tuple[str, ...] = ()
    keys: list[ForeignKey] = []
    name = node.relation.relname
    for element in node.tableElts or ():
        if type(element).__name__ == "ColumnDef":
            column, primary, reference = _column(element, sql, origin, name)
            columns.append(column)
            key = (column.name,) if primary else key
            keys.extend(reference)
        elif type(element).__name__ == "Constraint":
            if element.contype.name == "CONSTR_PRIMARY":
                key = tuple(k.sval for k in element.keys or ())
            elif element.contype.name == "CONSTR_FOREIGN":
                keys.append(_foreign_key(element, name, tuple(a.sval for a in element.fk_attrs)))
    columns = [
        replace(c, primary_key=key.index(c.name) + 1, not_null=True) if c.name in key else c
        for c in columns
    ]
    return Table(name, tuple(columns), sql, origin, foreign_keys=tuple(keys))


def _column(
    element: Any, sql: str, origin: Origin, table: str
) -> tuple[Column, bool, list[ForeignKey]]:
    """Return a column definition's Column, whether it is the primary key, its references."""
    from pglast.stream import RawStream

    declared = type_name(element.typeName)
    not_null = primary = False
    default: str | None = None
    references: list[ForeignKey] = []
    if declared.split("(")[0] in ("integer", "bigint", "smallint") and str(
        RawStream()(element.typeName)
    ).lower().endswith("serial"):
        default = "nextval(...)"
    for constraint in element.constraints or ():
        contype = constraint.contype.name
        if contype in ("CONSTR_NOTNULL", "CONSTR_PRIMARY"):
            not_null = True
        primary = primary or contype == "CONSTR_PRIMARY"
        if contype == "CONSTR_DEFAULT" and constraint.raw_expr is not None:
            default = str(RawStream()(constraint.raw_expr))
        if contype == "CONSTR_FOREIGN":
            references.append(_foreign_key(constraint, table, (element.colname,)))
    line = origin.line + sql[: max(element.location or 0, 0)].count("\n")
    column = Column(
        element.colname,
        declared,
        affinity(declared),
        not_null,
        default,
        0,
        origin=Origin(origin.path, line),
    )
    return column, primary, references


def _foreign_key(constraint: Any, table: str, columns: tuple[str, ...]) -> ForeignKey:
    actions = {"a": "NO ACTION", "r": "RESTRICT", "c": "CASCADE", "n": "SET NULL"}
    return ForeignKey(
        table,
        columns,
        constraint.pktable.relname,
        tuple(a.sval for a in constraint.pk_attrs or ()),
        actions.get(constraint.fk_upd_action, "NO ACTION"),
        actions.get(constraint.fk_del_action, "NO ACTION"),
    )


def _view_columns(query: Any) -> tuple[Column, ...]:
    """Return a view's columns as its select list names them (`AS x`, or `t.x`)."""
    names: list[str] = []
    for target in getattr(query, "targetList", None) or ():
        if target.name:
            names.append(target.name)
        elif type(target.val).__name__ == "ColumnRef":
            last = target.val.fields[-1]
            if type(last).__name__ == "String":
                names.append(last.sval)
    return tuple(Column(n, "", "", False, None, 0) for n in names)


def _alter_table(
    building: _Building, node: Any, sql: str, origin: Origin
) -> tuple[StatementKind, str | None, str | None]:
    """Apply ALTER TABLE ... ADD/DROP COLUMN, SET/DROP NOT NULL, TYPE to `building`."""
    name = node.relation.relname
    table = building.tables.get(name.lower())
    building.ddl.append(sql)
    if table is None:
        return "other", name, None
    added = None
    columns = list(table.columns)
    for cmd in node.cmds or ():
        subtype = cmd.subtype.name
        if subtype == "AT_AddColumn":
            column, _primary, keys = _column(cmd.def_, sql, origin, table.name)
            columns.append(column)
            table = replace(table, foreign_keys=table.foreign_keys + tuple(keys))
            added = column.name
        elif subtype == "AT_DropColumn":
            columns = [c for c in columns if c.name.lower() != (cmd.name or "").lower()]
        elif subtype in ("AT_SetNotNull", "AT_DropNotNull"):
            not_null = subtype == "AT_SetNotNull"
            columns = [replace(c, not_null=not_null) if c.name == cmd.name else c for c in columns]
        elif subtype == "AT_AlterColumnType":
            declared = type_name(cmd.def_.typeName)
            columns = [
                replace(c, declared_type=declared, affinity=affinity(declared))
                if c.name == cmd.name
                else c
                for c in columns
            ]
    building.tables[name.lower()] = replace(table, columns=tuple(columns))
    return ("add_column" if added else "other"), table.name, added


def _rename(
    building: _Building, node: Any, sql: str
) -> tuple[StatementKind, str | None, str | None]:
    """Apply ALTER TABLE ... RENAME [COLUMN] to `building`."""
    relation = getattr(node, "relation", None)
    table = building.tables.get(relation.relname.lower()) if relation is not None else None
    if table is None:
        return "other", None, None
    building.ddl.append(sql)
    if node.renameType.name == "OBJECT_COLUMN":
        columns = tuple(
            replace(c, name=node.newname) if c.name == node.subname else c for c in table.columns
        )
        building.tables[table.name.lower()] = replace(table, columns=columns)
        return "other", table.name, None
    if node.renameType.name in ("OBJECT_TABLE", "OBJECT_VIEW"):
        del building.tables[table.name.lower()]
        building.tables[node.newname.lower()] = replace(table, name=node.newname)
        return "other", node.newname, None
    return "other", table.name, None


def _drop(building: _Building, node: Any) -> None:
    """Apply DROP TABLE / VIEW / INDEX to `building`."""
    what = node.removeType.name
    for names in node.objects or ():
        parts = names if isinstance(names, tuple) else (names,)
        name = getattr(parts[-1], "sval", "").lower()
        if what in ("OBJECT_TABLE", "OBJECT_VIEW", "OBJECT_MATVIEW"):
            building.tables.pop(name, None)
            for key in [k for k, i in building.indexes.items() if i.table.lower() == name]:
                del building.indexes[key]
        elif what == "OBJECT_INDEX":
            building.indexes.pop(name, None)


def offline_schema_from_ddl(statements: Sequence[tuple[str, Origin]]) -> Schema:
    """Return the schema (source "code") that DDL found in code builds, read by pglast."""
    from pglast import parse_sql
    from pglast.parser import ParseError

    building = _Building()
    for sql, origin in statements:
        try:
            parsed = parse_sql(sql)
        except ParseError:
            continue
        for raw in parsed:
            _apply(building, raw.stmt, sql, origin)
    ddl = tuple(building.ddl)
    return Schema(
        MappingProxyType(building.tables),
        MappingProxyType(building.indexes),
        MappingProxyType({}),
        ddl,
        "code",
        schema_version(ddl, "code", {}),
    )
