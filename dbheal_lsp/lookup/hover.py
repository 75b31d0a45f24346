"""Markdown for a table or column under the cursor: its definition, indexes, origin and drift."""

from __future__ import annotations

from dbheal_lsp.analysis.schema import Column, Index, Table
from dbheal_lsp.lookup.catalog import Catalog, pending_columns


def _code(name: str) -> str:
    return f"`{name.replace('`', '')}`"


def table_markdown(catalog: Catalog, name: str) -> str | None:
    """Return the hover Markdown of table `name`, or None when no schema knows it."""
    live = catalog.live(name)
    defined = catalog.defined(name)
    table = live or defined
    if table is None:
        return None
    kind = "view" if table.is_view else "table"
    out = [f"**{kind}** {_code(table.name)} — {count_text(len(table.columns), 'column')}", ""]
    origin = catalog.shown(defined.origin if defined is not None else None)
    if live is None:
        out += [f"**Not in the database**: defined in {origin or 'the migrations'}", ""]
    for column in table.columns:
        out.append(
            f"- {_code(column.name)} {_column_text(column)}{_drift_text(catalog, table, column)}"
        )
    for column in pending_columns(live, defined):
        where = catalog.shown(column.origin)
        note = f" — not applied ({where})" if where else " — not applied"
        out.append(f"- {_code(column.name)} {_column_text(column)}{note}")
    indexes = _index_texts(catalog, table.name)
    if indexes:
        out += ["", "Indexes: " + " · ".join(indexes)]
    if live is not None:
        out += ["", *_definition(catalog, live, origin)]
    return "\n".join(out).rstrip() + "\n"


def _definition(catalog: Catalog, live: Table, origin: str | None) -> list[str]:
    """Return where a live table is defined: its migration, else its own CREATE statement."""
    if origin is not None:
        return [f"Defined in {origin}"]
    if live.origin is not None:
        return [f"Defined in {catalog.shown(live.origin)}"]  # DDL found in the code
    if live.sql:
        return ["Defined in the database:", "```sql", live.sql.strip(), "```"]
    return []


def _column_text(column: Column) -> str:
    parts = [column.declared_type or "(untyped)"]
    if column.primary_key:
        parts.append("PRIMARY KEY")
    if column.not_null:
        parts.append("NOT NULL")
    if column.default is not None:
        parts.append(f"DEFAULT {column.default}")
    if column.is_generated:
        parts.append("GENERATED")
    return " ".join(parts)


def _drift_text(catalog: Catalog, table: Table, column: Column) -> str:
    drift = catalog.drift.types.get((table.name.lower(), column.name.lower()))
    if drift is None:
        return ""
    return f" — drift: the migrations declare {drift.expected_type or '(untyped)'}"


def _indexes_of(catalog: Catalog, table: str) -> list[tuple[Index, bool]]:
    """Return the table's indexes with whether each is only in the migrations (not applied)."""
    key = table.lower()
    found = [(index, False) for index in catalog.live_indexes.get(key, ())]
    if catalog.expected is not None and catalog.expected is not catalog.schema:
        names = {index.name.lower() for index, _ in found}
        found.extend(
            (index, True)
            for index in catalog.defined_indexes.get(key, ())
            if index.name.lower() not in names and index.sql is not None
        )
    return found


def _index_texts(catalog: Catalog, table: str) -> list[str]:
    texts = []
    for index, pending in _indexes_of(catalog, table):
        label = "automatic" if index.is_automatic else _code(index.name)
        unique = " UNIQUE" if index.unique else ""
        partial = " partial" if index.partial else ""
        note = " — not applied" if pending else ""
        texts.append(f"{label}{unique}{partial} ({', '.join(index.columns)}){note}")
    return texts


def column_markdown(catalog: Catalog, table_name: str, name: str) -> str | None:
    """Return the hover Markdown of column `name` of `table_name`, or None when unknown."""
    live_table = catalog.live(table_name)
    defined_table = catalog.defined(table_name)
    live = live_table.column(name) if live_table is not None else None
    defined = defined_table.column(name) if defined_table is not None else None
    column = live or defined
    table = live_table if live is not None else defined_table
    if column is None or table is None:
        return None
    declared = column.declared_type or "(untyped)"
    out = [
        f"**column** {_code(f'{table.name}.{column.name}')} — {declared}, affinity {column.affinity}",
        "",
    ]
    facts = []
    if table.rowid_alias == column.name:
        facts.append("PRIMARY KEY (the rowid: never NULL)")
    else:
        if column.primary_key:
            facts.append("PRIMARY KEY")
        facts.append("NOT NULL" if column.not_null else "nullable")
    if column.default is not None:
        facts.append(f"DEFAULT {column.default}")
    if column.is_generated:
        facts.append("GENERATED")
    out += [" · ".join(facts), ""]
    where = _column_origin(catalog, table.name, column)
    if live is None:
        out += [f"**Not in the database**: defined in {where or 'the migrations'}", ""]
    covering = _covering(catalog, table.name, column.name)
    out.append("Indexes: " + ("; ".join(covering) if covering else "none"))
    drift = catalog.drift.types.get((table.name.lower(), column.name.lower()))
    if drift is not None:
        out += [
            "",
            f"**Drift**: the database declares {drift.db_type or '(untyped)'}, the migrations "
            f"{drift.expected_type or '(untyped)'}"
            + (f" ({catalog.shown(drift.origin)})" if drift.origin is not None else ""),
        ]
    if where is not None and live is not None:
        out += ["", f"Defined in {where}"]
    return "\n".join(out).rstrip() + "\n"


def _column_origin(catalog: Catalog, table: str, column: Column) -> str | None:
    """Return where the migrations define the column ("path:line"), else its own origin."""
    defined_table = catalog.defined(table)
    defined = defined_table.column(column.name) if defined_table is not None else None
    if defined is not None and defined.origin is not None:
        return catalog.shown(defined.origin)
    if catalog.migrations is not None:
        statement = catalog.migrations.column_statement(table, column.name)
        if statement is not None:
            return catalog.shown(statement.origin)
    return catalog.shown(column.origin)


def _covering(catalog: Catalog, table: str, column: str) -> list[str]:
    key = column.lower()
    texts = []
    found = catalog.table(table)
    if found is not None and found.rowid_alias is not None and found.rowid_alias.lower() == key:
        texts.append("the table's own b-tree (rowid)")
    for index, pending in _indexes_of(catalog, table):
        parts = [c.lower() for c in index.columns]
        if key not in parts:
            continue
        position = parts.index(key)
        label = "automatic" if index.is_automatic else _code(index.name)
        where = "leading" if position == 0 else f"not leading: position {position + 1}"
        extra = (" UNIQUE" if index.unique else "") + (" partial" if index.partial else "")
        note = ", not applied" if pending else ""
        texts.append(f"{label}{extra} ({', '.join(index.columns)}; {where}{note})")
    return texts


def count_text(n: int, noun: str) -> str:
    """Return "1 column", "6 columns"."""
    return f"{n} {noun}{'' if n == 1 else 's'}"
